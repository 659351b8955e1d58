import unittest

import xmlsettings as xs

XML = """<settings>
  <setting name="port" type="int">8080</setting>
  <setting name="debug" type="bool"> Yes </setting>
  <setting name="hosts" type="list">a, b,,c</setting>
  <setting name="title">My app</setting>
  <setting name="empty" type="list"/>
</settings>"""


class XmlSettingsTest(unittest.TestCase):
    def test_parse(self):
        s = xs.parse_settings(XML)
        self.assertEqual(s, {"port": 8080, "debug": True, "hosts": ["a", "b", "c"],
                             "title": "My app", "empty": []})

    def test_convert(self):
        self.assertEqual(xs.convert("0", "bool"), False)
        self.assertEqual(xs.convert(" 7", "int"), 7)
        self.assertEqual(xs.convert(" x ", "other"), " x ")
        self.assertIs(xs.converter("int"), xs.converter("int"))
        self.assertIs(xs.converter("bool"), xs.converter("bool"))

    def test_iter(self):
        s = {"b": 1, "a": 2, "ab": 3}
        self.assertEqual(list(xs.iter_names(s)), ["a", "ab", "b"])
        self.assertEqual(list(xs.iter_items(s, "a")), [("a", 2), ("ab", 3)])
        self.assertEqual(list(xs.iter_items(s, "b")), [("b", 1)])

    def test_dump(self):
        s = xs.parse_settings(XML)
        self.assertEqual(xs.dump(s), "\n".join([
            "debug = True", "empty = []", "hosts = ['a', 'b', 'c']", "port = 8080",
            "title = 'My app'"]))
        self.assertEqual(xs.describe("x", None), "x = None")
        self.assertEqual(xs.to_text(1.5), "1.5")
        self.assertIs(xs.is_legacy_python(), False)
        self.assertEqual(xs.string_types, (str,))


if __name__ == "__main__":
    unittest.main()
