import math
import unittest

import shapes


class ShapesTest(unittest.TestCase):
    def test_areas(self):
        self.assertEqual(shapes.Rectangle(2, 3).area(), 6)
        self.assertEqual(shapes.Square(4).area(), 16)
        self.assertAlmostEqual(shapes.Circle(1).area(), math.pi)
        with self.assertRaisesRegex(NotImplementedError, "area of Shape"):
            shapes.Shape("x").area()

    def test_describe(self):
        self.assertEqual(shapes.Rectangle(2, 3).describe(), "rectangle with area 6.00")
        self.assertEqual(shapes.Square(2).describe(), "square with area 4.00 (side 2)")
        self.assertEqual(shapes.Rectangle(1, 1, name="tile").name, "tile")

    def test_registry_and_bool(self):
        shapes.Circle(2)
        shapes.Square(1)
        self.assertIs(shapes.Shape.registry["circle"], shapes.Circle)
        self.assertIs(shapes.Shape.registry["square"], shapes.Square)
        self.assertFalse(shapes.Rectangle(0, 5))
        self.assertTrue(shapes.Circle(0.1))

    def test_scaled_and_helpers(self):
        s = shapes.Scaled(shapes.Rectangle(1, 2), 3)
        self.assertEqual(s.area(), 18)
        self.assertEqual(s.width, 1)
        items = [shapes.Square(2), shapes.Circle(1), shapes.Rectangle(1, 5)]
        self.assertIs(largest(items), items[2])
        self.assertIsNone(largest([]))
        self.assertAlmostEqual(shapes.total_area(items), 9 + math.pi)
        self.assertEqual(shapes.total_area([]), 0)

    def test_sorting(self):
        items = [shapes.Square(3), shapes.Square(1), shapes.Rectangle(2, 2)]
        self.assertEqual([s.area() for s in sorted(items)], [1, 4, 9])


largest = shapes.largest

if __name__ == "__main__":
    unittest.main()
