import unittest

import logparse as lp

LINES = [
    "2020-01-01 10:00:01 [info] started\n",
    "2020-01-01 10:00:30 [error] disk full\n",
    "garbage\n",
    "2020-01-01 10:01:02 [warn] slow\n",
    "2020-01-01 10:01:09 [ERROR] disk still full\n",
    "2020-01-01 10:01:59 [debug] tick\n",
]


class LogParseTest(unittest.TestCase):
    def test_parse_line(self):
        e = lp.parse_line(LINES[0])
        self.assertEqual(e, ("2020-01-01", "10:00:01", "INFO", "started"))
        self.assertEqual(e.level, "INFO")
        self.assertIsNone(lp.parse_line("x"))

    def test_parse_levels(self):
        entries = lp.parse(LINES)
        self.assertEqual(len(entries), 5)
        self.assertEqual(lp.levels(entries), {"INFO": 1, "ERROR": 2, "WARN": 1, "DEBUG": 1})
        self.assertEqual(lp.levels([]), {})

    def test_errors(self):
        entries = lp.parse(LINES)
        self.assertEqual(lp.errors(entries), ["disk full", "disk still full"])
        self.assertEqual(lp.errors(entries, "WARN"), ["slow"])

    def test_span_busiest(self):
        entries = lp.parse(LINES)
        self.assertEqual(lp.span(entries), "2020-01-01 10:00:01 - 2020-01-01 10:01:59")
        self.assertIsNone(lp.span([]))
        self.assertEqual(lp.busiest_minute(entries), "2020-01-01 10:01")
        self.assertIsNone(lp.busiest_minute([]))
        tie = lp.parse(["d 10:00:01 [i] a", "d 10:01:00 [i] b"])
        self.assertEqual(lp.busiest_minute(tie), "d 10:00")

    def test_summary(self):
        self.assertEqual(lp.summary(LINES), "5 entries, DEBUG=1, ERROR=2, INFO=1, WARN=1")
        self.assertEqual(lp.summary([]), "0 entries")


if __name__ == "__main__":
    unittest.main()
