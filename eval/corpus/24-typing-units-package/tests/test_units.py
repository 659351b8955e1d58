import inspect
import typing
import unittest

import units
from units import UNITS, UnknownUnit, convert, dimension_of, to_base, units_for
from units import table


class UnitsTest(unittest.TestCase):
    def test_public_api(self):
        self.assertEqual(sorted(units.__all__), ["UnknownUnit", "convert", "units_for"])
        for name in ("convert", "to_base", "UnknownUnit", "UNITS", "dimension_of", "units_for"):
            self.assertTrue(hasattr(units, name), name)

    def test_table(self):
        self.assertEqual(dimension_of("KM"), "length")
        self.assertEqual(dimension_of("parsec"), "unknown")
        self.assertEqual(units_for("mass"), ["g", "kg", "lb"])
        self.assertEqual(units_for("time"), [])
        self.assertEqual(table.dimensions(), ["length", "mass", "temperature"])
        self.assertEqual(len(UNITS), 11)
        self.assertIs(table.is_convertible("in", "KM"), True)
        self.assertIs(table.is_convertible("in", "kg"), False)
        self.assertIs(table.is_convertible("x", "y"), False)
        self.assertEqual(table.describe_unit("km"), "km: length, x1000")
        self.assertEqual(table.describe_unit("C"), "C: temperature, x1 +273.15")
        self.assertIsNone(table.describe_unit("stone"))

    def test_convert(self):
        self.assertEqual(convert(1, "km", "m"), 1000.0)
        self.assertEqual(convert(12, "in", "ft", 6), 1.0)
        self.assertEqual(convert(100, "C", "F", 2), 212.0)
        self.assertEqual(convert(0, "c", "k"), 273.15)
        self.assertEqual(convert(1.6, "m", "m", 0), 2.0)
        self.assertEqual(convert(1.6, "m", "m"), 1.6)
        self.assertEqual(to_base(2, "g"), 0.002)
        self.assertEqual(units.convert.__module__, "units.conversion")
        with self.assertRaisesRegex(ValueError, "cannot convert kg to m"):
            convert(1, "kg", "m")
        with self.assertRaises(UnknownUnit) as ctx:
            convert(1, "stone", "kg")
        self.assertEqual(str(ctx.exception), "unknown unit: stone")
        self.assertIsInstance(ctx.exception, KeyError)

    def test_parse_and_from_base(self):
        import units.conversion as cm
        self.assertEqual(cm.parse_quantity(" 3.5 km "), (3.5, "km"))
        self.assertIsNone(cm.parse_quantity("3.5"))
        self.assertEqual(cm.from_base(1000.0, "km"), 1.0)

    def test_hints_resolve(self):
        import units.conversion as cm
        for mod in (cm, table):
            for obj in list(vars(mod).values()):
                if getattr(obj, "__module__", None) != mod.__name__:
                    continue
                if inspect.isfunction(obj):
                    typing.get_type_hints(obj)
                elif inspect.isclass(obj):
                    for member in vars(obj).values():
                        if inspect.isfunction(member):
                            typing.get_type_hints(member)


if __name__ == "__main__":
    unittest.main()
