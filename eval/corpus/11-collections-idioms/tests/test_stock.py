import unittest

import stock

ITEMS = [
    {"sku": "b2", "name": "bolt", "qty": 40, "category": "hw"},
    {"sku": "a1", "name": "anchor", "qty": 2},
    {"sku": "c3", "name": "clamp", "qty": 0, "category": "hw"},
]


class StockTest(unittest.TestCase):
    def test_index(self):
        idx = stock.make_index(ITEMS)
        self.assertEqual(list(idx), ["b2", "a1", "c3"])
        self.assertEqual(stock.skus(ITEMS), ["b2", "a1", "c3"])
        self.assertEqual(stock.categories(ITEMS), {"hw", "misc"})
        self.assertEqual(stock.sorted_names(ITEMS), ["anchor", "bolt", "clamp"])
        self.assertEqual(stock.quantity(idx, "a1"), 2)
        self.assertEqual(stock.quantity(idx, "zz"), 0)

    def test_prices(self):
        self.assertEqual(stock.price_of({"a": 1.5}, "a"), 1.5)
        self.assertIsNone(stock.price_of({"a": 1.5}, "b"))

    def test_low_and_totals(self):
        self.assertEqual(stock.low_stock(ITEMS), ["a1", "c3"])
        self.assertEqual(stock.low_stock(ITEMS, 1), ["c3"])
        self.assertEqual(stock.totals_by_category(ITEMS), {"hw": 40, "misc": 2})
        self.assertEqual(stock.count_nonzero(ITEMS), 2)

    def test_restock(self):
        updated = stock.restock(ITEMS, {"c3": 10, "zz": 1})
        self.assertEqual([i["qty"] for i in updated], [40, 2, 10])
        self.assertEqual(ITEMS[2]["qty"], 0)

    def test_misc(self):
        self.assertEqual(stock.first_sku(ITEMS), "b2")
        with self.assertRaises(IndexError):
            stock.first_sku([])
        self.assertEqual(stock.names_tuple(ITEMS), ("bolt", "anchor", "clamp"))
        self.assertEqual(stock.reversed_skus(ITEMS), ["c3", "b2", "a1"])


if __name__ == "__main__":
    unittest.main()
