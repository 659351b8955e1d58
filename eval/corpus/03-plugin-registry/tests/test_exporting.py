import json
import os
import tempfile
import unittest

import exporting
import registry


class ExportingTest(unittest.TestCase):
    def test_formats_registered(self):
        self.assertEqual(exporting.available_formats(), "csv, json, tab, tsv")
        self.assertEqual(registry.names(include_aliases=False), ["csv", "json", "tsv"])
        self.assertEqual(registry.describe(), "\n".join([
            "csv    Comma-separated values, quoted where needed.",
            "json   A JSON list of lists, or of objects when a header is given.",
            "tsv    Tab-separated values."]))

    def test_csv(self):
        rows = [("a", 1), ('say "hi"', "x,y")]
        self.assertEqual(exporting.export(rows), 'a,1\n"say ""hi""","x,y"')
        self.assertEqual(exporting.export(rows, "CSV", sep=";"), 'a;1\n"say ""hi""";x,y')

    def test_tsv_and_alias(self):
        rows = [("a", "b c"), (1, 2)]
        self.assertEqual(exporting.export(rows, "tsv"), "a\tb c\n1\t2")
        self.assertEqual(exporting.export(rows, "TAB"), "a\tb c\n1\t2")

    def test_json(self):
        rows = [(1, "x"), (2, "y")]
        self.assertEqual(exporting.export(rows, "json"), '[[1, "x"], [2, "y"]]')
        self.assertEqual(exporting.export(rows, "json", header=["n", "s"]),
                         '[{"n": 1, "s": "x"}, {"n": 2, "s": "y"}]')

    def test_unknown(self):
        with self.assertRaisesRegex(LookupError, "no exporter named 'xml'"):
            exporting.export([], "xml")

    def test_guess_and_file(self):
        self.assertEqual(exporting.guess_format("a.TAB"), "tsv")
        self.assertEqual(exporting.guess_format("a.json"), "json")
        self.assertIsNone(exporting.guess_format("README"))
        self.assertEqual(exporting.guess_format("a.xml", "csv"), "csv")
        fd, path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        try:
            self.assertEqual(exporting.export_to_file([(1,)], path), 6)
            with open(path) as f:
                self.assertEqual(json.loads(f.read()), [[1]])
            exporting.export_to_file([(1, 2)], path, "tsv")
            with open(path) as f:
                self.assertEqual(f.read(), "1\t2\n")
        finally:
            os.remove(path)

    def test_register_unregister(self):
        with self.assertRaisesRegex(KeyError, "exporter csv registered twice"):
            registry.register("csv")(lambda rows: "")

        @registry.register("upper", aliases=["up", "UP2"])
        def upper(rows):
            return str(rows).upper()

        try:
            self.assertEqual(exporting.export(["a"], "up"), "['A']")
            self.assertIn("upper", registry.names())
        finally:
            self.assertTrue(registry.unregister("upper"))
        self.assertFalse(registry.unregister("upper"))
        self.assertNotIn("up", registry.names())
        self.assertEqual(exporting.available_formats(), "csv, json, tab, tsv")


if __name__ == "__main__":
    unittest.main()
