import unittest

import calc

MODULE = calc


class CalcTest(unittest.TestCase):
    def test_tokenize(self):
        self.assertEqual(calc.tokenize("1 + 2.5*x"),
                         [("num", 1), ("op", "+"), ("num", 2.5), ("op", "*"), ("name", "x")])
        self.assertEqual(calc.tokenize("2**3  "), [("num", 2), ("op", "**"), ("num", 3)])
        self.assertEqual(calc.tokenize(""), [])
        with self.assertRaisesRegex(SyntaxError, "bad character at 1: '\\$'"):
            calc.tokenize("1$")

    def test_evaluate(self):
        self.assertEqual(calc.evaluate("1 + 2 * 3"), 7)
        self.assertEqual(calc.evaluate("(1 + 2) * 3"), 9)
        self.assertEqual(calc.evaluate("2 ** 3 ** 2"), 512)
        self.assertEqual(calc.evaluate("-2 ** 2"), 4)
        self.assertEqual(calc.evaluate("7 % 4 - 10 / 4"), 0.5)
        self.assertEqual(calc.evaluate("x * y", {"x": 2, "y": 1.5}), 3.0)
        self.assertIsInstance(calc.evaluate("4 / 2"), float)
        self.assertIsInstance(calc.evaluate("4 * 2"), int)

    def test_errors(self):
        with self.assertRaisesRegex(SyntaxError, "unexpected end"):
            calc.evaluate("1 +")
        with self.assertRaisesRegex(SyntaxError, "expected \\), got 2"):
            calc.evaluate("(1 2")
        with self.assertRaisesRegex(SyntaxError, "trailing 3"):
            calc.evaluate("2 3")
        with self.assertRaisesRegex(SyntaxError, "unexpected \\*"):
            calc.evaluate("*")
        with self.assertRaisesRegex(NameError, "unknown variable z"):
            calc.evaluate("z")

    def test_try_and_parser(self):
        self.assertIsNone(calc.try_evaluate("1/0"))
        self.assertIsNone(calc.try_evaluate("q"))
        self.assertEqual(calc.try_evaluate("q", {"q": 4}), 4)
        p = calc.Parser([("num", 1)])
        self.assertEqual(p.variables, {})
        self.assertEqual(p.take(), ("num", 1))
        self.assertIsNone(p.peek())
        with self.assertRaises(AttributeError):
            calc.try_evaluate(None)


class AnnotationsResolveTest(unittest.TestCase):
    """Annotations a tool adds must resolve at runtime (no undefined names)."""

    def test_all_hints_resolve(self):
        import inspect
        import typing

        for obj in list(vars(MODULE).values()):
            if getattr(obj, "__module__", None) != MODULE.__name__:
                continue
            if inspect.isfunction(obj):
                typing.get_type_hints(obj)
            elif inspect.isclass(obj):
                for member in vars(obj).values():
                    if inspect.isfunction(member):
                        typing.get_type_hints(member)


if __name__ == "__main__":
    unittest.main()
