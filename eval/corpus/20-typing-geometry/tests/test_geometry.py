import math
import unittest

import geometry as g
from geometry import Point as P

MODULE = g


class GeometryTest(unittest.TestCase):
    def test_point(self):
        self.assertEqual(P(1, 2) + P(3, 4), P(4, 6))
        self.assertEqual(P(1, 2) - P(3, 4), P(-2, -2))
        self.assertEqual(P(1, 2).scale(2.5), P(2.5, 5.0))
        self.assertEqual(repr(P(1, 2.5)), "Point(1, 2.5)")
        self.assertEqual(P(1, 2).as_tuple(), (1, 2))
        self.assertEqual(len({P(1, 2), P(1, 2)}), 1)
        self.assertNotEqual(P(1, 2), (1, 2))
        with self.assertRaises(AttributeError):
            P(1, 2).z = 3

    def test_metrics(self):
        self.assertEqual(g.distance(P(0, 0), P(3, 4)), 5.0)
        self.assertEqual(g.dot(P(1, 2), P(3, 4)), 11)
        self.assertEqual(g.centroid([P(0, 0), P(2, 4)]), P(1.0, 2.0))
        self.assertIsNone(g.centroid([]))
        self.assertEqual(g.bounding_box([P(1, 5), P(-1, 2)]), (P(-1, 2), P(1, 5)))
        self.assertIsNone(g.bounding_box([]))
        self.assertEqual(g.polygon_area([P(0, 0), P(4, 0), P(4, 3)]), 6.0)
        self.assertEqual(g.polygon_area([]), 0.0)
        self.assertEqual(g.polygon_area([P(0, 0), P(4, 3), P(4, 0)]), 6.0)

    def test_closest_parse(self):
        pts = [P(0, 0), P(5, 5), P(1, 1)]
        self.assertEqual(g.closest(pts, P(2, 2)), P(1, 1))
        self.assertIsNone(g.closest([], P(0, 0)))
        self.assertEqual(g.parse_point("1.5, -2"), P(1.5, -2.0))
        self.assertEqual(g.parse_point("1;2", ";"), P(1.0, 2.0))
        with self.assertRaisesRegex(ValueError, "expected x,y, got '1'"):
            g.parse_point("1")

    def test_translate_dict(self):
        self.assertEqual(g.translate_all([P(1, 1)], P(1, -1)), [P(2, 0)])
        self.assertEqual(g.translate_all([P(1, 1)]), [P(1, 1)])
        self.assertEqual(g.to_dict([P(1, 2)]), {"Point(1, 2)": (1, 2)})
        self.assertTrue(math.isclose(g.distance(P(0, 0), P(1, 1)), math.sqrt(2)))


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
