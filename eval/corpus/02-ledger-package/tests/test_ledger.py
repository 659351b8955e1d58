import unittest

import ledger
from ledger import (ZERO, Account, Money, format_amount, format_statement, open_account,
                    parse_money, transfer)


class PublicApiTest(unittest.TestCase):
    def test_reexports(self):
        for name in ["Money", "parse_money", "ZERO", "Account", "open_account", "transfer",
                     "format_amount", "format_statement", "__version__"]:
            self.assertTrue(hasattr(ledger, name), name)
        self.assertEqual(sorted(ledger.__all__), ["Account", "Money", "parse_money", "transfer"])
        self.assertEqual(ledger.__version__, "1.4")
        ns = {}
        exec("from ledger import *", ns)
        self.assertIn("transfer", ns)
        self.assertNotIn("open_account", ns)


class MoneyTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_money("12.5"), Money(1250))
        self.assertEqual(parse_money(" -3 "), Money(-300))
        self.assertEqual(parse_money("0.07", "USD"), Money(7, "USD"))
        with self.assertRaises(ValueError):
            parse_money("12.345")

    def test_arith(self):
        self.assertEqual(Money(5) + Money(7), Money(12))
        self.assertEqual(Money(5) - Money(7), Money(-2))
        self.assertTrue(Money(-1).is_negative())
        self.assertIs(Money(0).is_negative(), False)
        self.assertEqual(ZERO, Money(0))
        self.assertEqual(repr(Money(3, "USD")), "Money(3, 'USD')")
        self.assertEqual(len({Money(1), Money(1)}), 1)
        self.assertNotEqual(Money(1), 1)
        with self.assertRaisesRegex(ValueError, "currency mismatch: EUR != USD"):
            Money(1) + Money(1, "USD")
        with self.assertRaisesRegex(TypeError, "cents must be an int, not float"):
            Money(1.5)
        with self.assertRaises(TypeError):
            Money(True)


class AccountTest(unittest.TestCase):
    def test_open_and_transfer(self):
        a = open_account("alice", Money(1000))
        b = open_account("bob")
        self.assertEqual(b.balance, ZERO)
        self.assertTrue(transfer(a, b, Money(400)))
        self.assertFalse(transfer(a, b, Money(601)))
        self.assertEqual(a.balance, Money(600))
        self.assertEqual(b.balance, Money(400))
        with self.assertRaisesRegex(ValueError, "negative deposit"):
            a.deposit(Money(-1))
        with self.assertRaisesRegex(ValueError, "insufficient funds in bob"):
            b.withdraw(Money(401))

    def test_history_not_shared(self):
        a = Account("a")
        b = Account("b")
        a.deposit(Money(1))
        self.assertEqual(len(a.history), 1)
        self.assertEqual(b.history, [])

    def test_statement(self):
        a = open_account("carol", Money(250))
        a.withdraw(Money(5))
        self.assertEqual(format_amount(Money(-1205, "USD")), "-12.05 USD")
        self.assertEqual(
            format_statement(a),
            "Statement for carol\n  1 deposit  2.50 EUR\n  2 withdraw 0.05 EUR\nBalance: 2.45 EUR",
        )


if __name__ == "__main__":
    unittest.main()
