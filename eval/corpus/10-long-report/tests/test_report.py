import contextlib
import io
import os
import tempfile
import unittest

import report

LINES = """# date;region;product;qty;price
2021-03-02; north ;widget;3;2.50
2021-03-01;south;gadget;1;10
2021-03-05;north;gadget;2;10
bad line
2021-13-01;north;widget;1;1
2021-03-04;south;widget;x;1
2021-03-04;south;widget;-1;1
2021-03-03;east;bolt;0;5

""".splitlines()


class ReportTest(unittest.TestCase):
    def test_full(self):
        expected = "\n".join([
            "Sales report", "============",
            "Period: 2021-03-01 to 2021-03-05",
            "Records: 4 (skipped 4)", "",
            "By region:",
            "  NORTH       27.50 EUR  73.3%",
            "  SOUTH       10.00 EUR  26.7%", "",
            "Top products:", "  1. gadget (3)", "  2. widget (3)", "  3. bolt (0)", "",
            "Total: 37.50 EUR"])
        self.assertEqual(report.build_report(LINES), expected)

    def test_options(self):
        text = report.build_report(LINES, title="R", currency="USD", top=1, show_empty=True)
        self.assertIn("R\n=\n", text)
        self.assertIn("  EAST         0.00 USD   0.0%", text)
        self.assertIn("Top products:\n  1. gadget (3)\n\nTotal: 37.50 USD", text)

    def test_empty(self):
        self.assertEqual(report.build_report([], top=2), "\n".join([
            "Sales report", "============", "Period: none", "Records: 0 (skipped 0)", "",
            "By region:", "", "Top products:", "  (none)", "", "Total: 0.00 EUR"]))

    def test_main(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(report.main(["report"]), 2)
        self.assertEqual(err.getvalue(), "usage: report FILE\n")
        fd, path = tempfile.mkstemp()
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(LINES))
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                self.assertEqual(report.main(["report", path]), 0)
        finally:
            os.remove(path)
        self.assertTrue(out.getvalue().endswith("Total: 37.50 EUR\n"))


if __name__ == "__main__":
    unittest.main()
