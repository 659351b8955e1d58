import os
import tempfile
import unittest

import csvtools as ct

TEXT = "id,name,city\n1,Ann,Oslo\n2,Bob\n"


class CsvToolsTest(unittest.TestCase):
    def test_read_write(self):
        rows = ct.read_rows(TEXT)
        self.assertEqual([list(r.items()) for r in rows],
                         [[("id", "1"), ("name", "Ann"), ("city", "Oslo")],
                          [("id", "2"), ("name", "Bob"), ("city", None)]])
        self.assertEqual(ct.write_rows(rows), "id,name,city\n1,Ann,Oslo\n2,Bob,\n")
        self.assertEqual(ct.write_rows([]), "")

    def test_misc(self):
        self.assertEqual(ct.checksum("abc"), "900150983cd24fb0d6963f7d28e17f72")
        self.assertEqual(ct.to_bytes("\u00e9"), b"\xc3\xa9")
        self.assertEqual(ct.from_bytes(b"\xc3\xa9"), "\u00e9")
        self.assertEqual(ct.iso_date(2020, 1, 2), "2020-01-02")
        self.assertEqual(list(ct.iteritems({"a": 1})), [("a", 1)])

    def test_columns(self):
        rows = ct.read_rows(TEXT)
        self.assertEqual(ct.column(rows, "name"), ["Ann", "Bob"])
        renamed = ct.rename(rows, {"city": "town"})
        self.assertEqual(list(renamed[0].keys()), ["id", "name", "town"])
        self.assertEqual(ct.describe(rows), "2 rows, columns: id, name, city")
        self.assertEqual(ct.describe([]), "no rows")

    def test_read_file(self):
        fd, path = tempfile.mkstemp()
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("h\u00e9")
        try:
            self.assertEqual(ct.read_file(path), "h\u00e9")
        finally:
            os.remove(path)


if __name__ == "__main__":
    unittest.main()
