import unittest

import grades as g


class GradesTest(unittest.TestCase):
    def test_parse_average(self):
        self.assertEqual(g.parse_scores("10, 20,,30 , "), [10, 20, 30])
        self.assertEqual(g.average([1, 2]), 1.5)
        self.assertEqual(g.average([]), 0.0)
        self.assertIsInstance(g.average([2, 2]), float)

    def test_passed_letters(self):
        self.assertEqual(g.passed([49, 50, 99]), [50, 99])
        self.assertEqual(g.passed([49, 50], 40), [49, 50])
        self.assertEqual(g.letters([95, 75, 74, 50, 10]), ["A", "B", "C", "C", "F"])
        self.assertEqual(g.letter(89.5), "A")
        self.assertEqual(g.letter(74.5), "C")
        self.assertEqual(g.letter(True), "F")

    def test_book_ranking(self):
        book = g.gradebook(["ann", "bob", "cid"], [[90, 80], [85, 85], [70]])
        self.assertEqual(book, {"ann": 85.0, "bob": 85.0, "cid": 70.0})
        self.assertEqual(g.ranking(book), ["ann", "bob", "cid"])
        self.assertEqual(g.compare_students(("a", 1), ("a", 1)), 0)
        self.assertEqual(g.compare_students(("b", 1), ("a", 1)), 1)

    def test_product_normalize(self):
        self.assertEqual(g.product([2, 3, 4]), 24)
        self.assertEqual(g.product([]), 1)
        self.assertEqual(g.normalize([1, 2, 3]), [0.333, 0.667, 1.0])
        self.assertEqual(g.normalize([0, 0]), [0.0, 0.0])
        self.assertEqual(g.normalize([]), [])

    def test_describe(self):
        self.assertEqual(g.describe([1]), "sequence of 1")
        self.assertEqual(g.describe((1, 2)), "sequence of 2")
        self.assertEqual(g.describe({}), "mapping of 0")
        self.assertEqual(g.describe(3), "int")
        self.assertEqual(g.describe(True), "other")

        class MyList(list):
            pass

        self.assertEqual(g.describe(MyList()), "other")


if __name__ == "__main__":
    unittest.main()
