import unittest

import validators as v


class ValidatorsTest(unittest.TestCase):
    def test_blank(self):
        self.assertIs(v.is_blank(None), True)
        self.assertIs(v.is_blank("  "), True)
        self.assertIs(v.is_blank("x"), False)

    def test_email(self):
        self.assertIs(v.is_email("a@b.org"), True)
        self.assertIs(v.is_email("A@B.ORG"), True)
        self.assertIs(v.is_email("a@b"), False)
        self.assertIs(v.is_email(None), False)
        self.assertIs(v.is_email(""), False)

    def test_int_port(self):
        self.assertIs(v.is_int("12"), True)
        self.assertIs(v.is_int(None), False)
        self.assertIs(v.is_int("x"), False)
        self.assertIs(v.is_port("80"), True)
        self.assertIs(v.is_port(65535), True)
        self.assertIs(v.is_port(65536), False)
        self.assertIs(v.is_port("0"), False)
        self.assertIs(v.is_port("http"), False)

    def test_enabled(self):
        self.assertIs(v.is_enabled(True), True)
        self.assertIs(v.is_enabled(1), True)
        self.assertIs(v.is_enabled("yes"), False)
        self.assertIs(v.is_enabled(False), False)

    def test_types(self):
        self.assertIs(v.is_number(1), True)
        self.assertIs(v.is_number(1.5), True)
        self.assertIs(v.is_number(True), False)
        self.assertIs(v.is_number("1"), False)
        self.assertIs(v.is_list_of_str(["a", "b"]), True)
        self.assertIs(v.is_list_of_str([]), True)
        self.assertIs(v.is_list_of_str(("a",)), False)
        self.assertIs(v.is_list_of_str(["a", 1]), False)

    def test_color(self):
        self.assertIs(v.is_hex_color("#a0b1c2"), True)
        self.assertIs(v.is_hex_color("#a0b1cg"), False)
        self.assertIs(v.is_hex_color("a0b1c2f"), False)
        self.assertIs(v.is_hex_color("#fff"), False)
        self.assertIs(v.is_hex_color(None), False)

    def test_check_user(self):
        self.assertIsNone(v.check_user({"name": "a", "email": "a@b.io", "port": "22"}))
        self.assertIsNone(v.check_user({"name": "a", "email": "a@b.io"}))
        self.assertEqual(v.check_user({"email": "x", "port": 0}),
                         ["name is required", "email is invalid", "port is invalid"])


if __name__ == "__main__":
    unittest.main()
