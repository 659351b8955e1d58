import unittest

import rules as r


class RulesTest(unittest.TestCase):
    def test_shipping(self):
        self.assertEqual(r.shipping_rate(1, "DE"), 4.5)
        self.assertEqual(r.shipping_rate(2, "DE", True), 9.0)
        self.assertEqual(r.shipping_rate(3, "DE"), 6.9)
        self.assertEqual(r.shipping_rate(3, "FR", True), 19.8)
        self.assertEqual(r.shipping_rate(30, "US", True), 19.9)
        self.assertEqual(r.shipping_rate(29, "US", True), 39.8)

    def test_can_edit(self):
        admin = {"active": True, "role": "admin", "name": "a"}
        self.assertTrue(r.can_edit(admin, {"owner": "b", "locked": True}))
        self.assertFalse(r.can_edit(dict(admin, active=False), {"owner": "b"}))
        self.assertTrue(r.can_edit({"name": "b"}, {"owner": "b"}))
        self.assertFalse(r.can_edit({"name": "b"}, {"owner": "b", "locked": 1}))
        self.assertFalse(r.can_edit({"name": "c"}, {"owner": "b"}))

    def test_invoices(self):
        invs = [{"due": 5, "paid": True}, {"due": 9, "paid": False}]
        self.assertIs(r.has_overdue(invs, 10), True)
        self.assertIs(r.has_overdue(invs, 9), False)
        self.assertIs(r.all_paid(invs), False)
        self.assertIs(r.all_paid(invs[:1]), True)
        self.assertIs(r.all_paid([]), True)

    def test_label_discount(self):
        self.assertEqual(r.label(1), "1 item")
        self.assertEqual(r.label(0), "0 items")
        self.assertEqual(r.discount(1000, True), 100.0)
        self.assertEqual(r.discount(200, True), 10.0)
        self.assertEqual(r.discount(100, True), 0)
        self.assertEqual(r.discount(1000, False), 0)

    def test_first_match_classify(self):
        self.assertEqual(r.first_match(["ab", "ac", "b"], "a"), "ab")
        self.assertIsNone(r.first_match(["b"], "a"))
        self.assertEqual([r.classify(t) for t in (-1, 0, 14, 15, 24, 25)],
                         ["freezing", "cold", "cold", "mild", "mild", "hot"])


if __name__ == "__main__":
    unittest.main()
