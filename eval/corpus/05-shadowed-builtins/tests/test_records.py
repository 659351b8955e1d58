import unittest

import records

TEXT = "1, fee, 2.5\n2, sale, 10\n\n3, fee, 1.25\n"


class RecordsTest(unittest.TestCase):
    def test_parse(self):
        rs = records.parse(TEXT)
        self.assertEqual(rs[0], {"id": 1, "type": "fee", "amount": 2.5})
        self.assertEqual(len(rs), 3)

    def test_index_by(self):
        rs = records.parse(TEXT)
        self.assertEqual(sorted(records.index_by(rs, "id")), [1, 2, 3])
        with self.assertRaisesRegex(ValueError, "duplicate type: 'fee'"):
            records.index_by(rs, "type")

    def test_filter_total(self):
        rs = records.parse(TEXT)
        self.assertEqual([r["id"] for r in records.filter_type(rs, "fee")], [1, 3])
        self.assertEqual(records.total(rs), 13.75)
        self.assertEqual(records.total(rs, "missing"), 0)

    def test_max_and_format(self):
        rs = records.parse(TEXT)
        self.assertEqual(records.max_by(rs, "amount")["id"], 2)
        self.assertEqual(records.max_by(rs, "id")["id"], 3)
        self.assertIsNone(records.max_by([], "id"))
        self.assertEqual(records.format(rs[2]), "#3 fee 1.25")

    def test_summary(self):
        self.assertEqual(records.summary(TEXT), "fee: 3.75\nsale: 10.00\nlargest: #2 sale 10.00")
        self.assertEqual(records.summary(""), "")
        tie = "1, a, 5\n2, b, 5\n"
        self.assertEqual(records.summary(tie).splitlines()[-1], "largest: #1 a 5.00")


if __name__ == "__main__":
    unittest.main()
