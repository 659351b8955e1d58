import os
import shutil
import tempfile
import unittest

import fileutil as fu


class FileUtilTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "a.txt")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_roundtrip(self):
        self.assertEqual(fu.write_text(self.path, "h\u00e9\r\nx\n"), 6)
        self.assertEqual(fu.read_text(self.path), "h\u00e9\nx\n")
        self.assertEqual(fu.read_lines(self.path), ["h\u00e9", "x"])
        fu.write_text(self.path, "  a \n\tb\n")
        self.assertEqual(fu.read_lines(self.path), ["  a ", "\tb"])
        fu.write_text(self.path, "h\u00e9\r\nx\n")
        self.assertEqual(fu.append_line(self.path, "last"), "last")
        self.assertEqual(fu.file_size(self.path), len("h\u00e9\nx\nlast\n".encode()) + 1)

    def test_dirs(self):
        sub = os.path.join(self.dir, "x", "y")
        self.assertIs(fu.ensure_dir(sub), True)
        self.assertIs(fu.ensure_dir(sub), False)
        open(self.path, "w").close()
        with self.assertRaises(OSError):
            fu.ensure_dir(os.path.join(self.path, "z"))
        self.assertEqual(fu.file_size(os.path.join(self.dir, "none")), -1)

    def test_port(self):
        self.assertIs(fu.is_port_open("127.0.0.1", 1), False)

    def test_strings(self):
        self.assertEqual(fu.label(3), "file: 3")
        self.assertIs(type(fu.label("a")), str)
        self.assertEqual(fu.empty_string(), "")
        self.assertIs(fu.text_type, str)


if __name__ == "__main__":
    unittest.main()
