import decimal
import unittest

import cart as c

D = decimal.Decimal


class CartTest(unittest.TestCase):
    def setUp(self):
        c.Cart.coupons.clear()

    def test_coupon(self):
        pct = c.Coupon("ten", percent=10, min_total=D("50"))
        self.assertEqual(pct.code, "TEN")
        self.assertIs(pct.applies(D("49.99")), False)
        self.assertIs(pct.applies(D("50")), True)
        self.assertEqual(pct.discount(D("49")), D("0"))
        self.assertEqual(pct.discount(D("55.55")), D("5.56"))
        flat = c.Coupon("five", amount="5")
        self.assertIs(flat.applies(D("0")), True)
        self.assertEqual(flat.discount(D("3")), D("3"))
        self.assertEqual(flat.discount(D("30")), D("5"))

    def test_add_remove(self):
        cart = c.Cart()
        cart.add("apple", 0.5, 3)
        cart.add("apple", 99, 2)
        self.assertEqual(cart.items["apple"], (D("0.5"), 5))
        self.assertEqual(cart.subtotal(), D("2.5"))
        with self.assertRaisesRegex(ValueError, "quantity must be positive"):
            cart.add("pear", 1, 0)
        self.assertTrue(cart.remove("apple"))
        self.assertFalse(cart.remove("apple"))
        self.assertEqual(c.Cart().items, {})
        self.assertEqual(c.Cart(items={"x": (D("1"), 1)}).subtotal(), D("1"))

    def test_coupons_registry(self):
        self.assertTrue(c.register_coupon(c.Coupon("save", amount="2")))
        self.assertFalse(c.register_coupon(c.Coupon("SAVE", amount="3")))
        cart = c.Cart()
        self.assertTrue(cart.use_coupon("save"))
        self.assertFalse(cart.use_coupon("other"))
        self.assertEqual(cart.coupon.amount, "2")
        with self.assertRaisesRegex(ValueError, "invalid coupon code 'NO-WAY'"):
            cart.use_coupon("no-way")

    def test_checkout(self):
        c.register_coupon(c.Coupon("half", percent=50))
        cart = c.Cart("ann")
        cart.add("widget", "19.99", 2)
        cart.add("bolt", "0.10", 10)
        cart.use_coupon("HALF")
        self.assertEqual(cart.checkout(), (
            "Customer: ann\n"
            "bolt        10 x     0.10 =      1.00\n"
            "widget       2 x    19.99 =     39.98\n"
            "coupon HALF: -20.49\n"
            "tax: 3.89\n"
            "total: 24.38\n"))
        plain = c.Cart()
        plain.add("x", "1", 1)
        self.assertEqual(plain.checkout(), "x            1 x        1 =      1.00\ntax: 0.19\ntotal: 1.19\n")


if __name__ == "__main__":
    unittest.main()
