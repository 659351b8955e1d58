import os
import tempfile
import unittest

import config_loader as cl


class ParseValueTest(unittest.TestCase):
    def test_values(self):
        self.assertIsNone(cl.parse_value("   "))
        self.assertIs(cl.parse_value("Yes"), True)
        self.assertIs(cl.parse_value("off"), False)
        self.assertEqual(cl.parse_value(" 42 "), 42)
        self.assertIsInstance(cl.parse_value("42"), int)
        self.assertEqual(cl.parse_value("2.5"), 2.5)
        self.assertEqual(cl.parse_value("abc"), "abc")

    def test_has_key(self):
        self.assertIs(cl.has_key({"a": 1}, "a"), True)
        self.assertIs(cl.has_key({"a": 1}, "b"), False)


class ParseLinesTest(unittest.TestCase):
    def test_sections(self):
        text = "# c\n; c\n[main]\nHost = example.org\nport=9000\n\n[ main ]\ndebug = yes\n[x]\n"
        result = cl.parse_lines(text.splitlines())
        self.assertEqual(result, {"main": {"host": "example.org", "port": 9000, "debug": True},
                                  "x": {}})

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "line 1: option outside"):
            cl.parse_lines(["a = b"])
        with self.assertRaisesRegex(ValueError, "line 3: expected key = value"):
            cl.parse_lines(["[s]", "", "novalue"])

    def test_value_with_equals(self):
        self.assertEqual(cl.parse_lines(["[s]", "url = a=b"]), {"s": {"url": "a=b"}})


class LoadTest(unittest.TestCase):
    def setUp(self):
        fd, self.path = tempfile.mkstemp(suffix=".ini")
        with os.fdopen(fd, "w") as f:
            f.write("[server]\nport = 81\n")

    def tearDown(self):
        os.remove(self.path)

    def test_load_and_get(self):
        sections = cl.load(self.path)
        self.assertEqual(cl.get(sections, "server", "port"), 81)
        self.assertEqual(cl.get(sections, "server", "host"), "localhost")
        self.assertEqual(cl.get(sections, "server", "debug"), False)
        self.assertEqual(cl.get(sections, "other", "x", 5), 5)
        self.assertIsNone(cl.get(sections, "other", "x"))
        self.assertEqual(cl.get(sections, "server", "host", "h"), "h")

    def test_safe_load(self):
        self.assertEqual(cl.safe_load(self.path), {"server": {"port": 81}})
        self.assertEqual(cl.safe_load(self.path + ".missing"), {})

    def test_load_missing_raises(self):
        with self.assertRaises(OSError):
            cl.load(self.path + ".missing")


if __name__ == "__main__":
    unittest.main()
