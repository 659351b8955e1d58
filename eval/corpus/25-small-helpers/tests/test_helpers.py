import unittest

import helpers as h


class HelpersTest(unittest.TestCase):
    def test_presence(self):
        self.assertIs(h.is_missing(None), True)
        self.assertIs(h.is_missing(0), False)
        self.assertIs(h.is_present(""), True)
        self.assertIs(h.is_present(None), False)
        self.assertIs(h.is_yes("Y"), True)
        self.assertIs(h.is_yes("no"), False)

    def test_errors(self):
        self.assertEqual(h.safe_div(6, 3), 2.0)
        self.assertIsNone(h.safe_div(1, 0))
        self.assertIsNone(h.safe_div("a", 1))
        self.assertEqual(h.load_json('{"a": 1}'), {"a": 1})
        self.assertEqual(h.load_json("{"), {})
        self.assertEqual(h.load_json(None), {})

    def test_types_and_strings(self):
        self.assertIs(h.has_option({"a": 1}, "a"), True)
        self.assertIs(h.has_option({"a": 1}, "b"), False)
        self.assertIs(h.is_string("x"), True)
        self.assertIs(h.is_string(b"x"), False)

        class S(str):
            pass

        self.assertIs(h.is_string(S("x")), False)
        self.assertEqual(h.plural(1, "file"), "1 file")
        self.assertEqual(h.plural(2, "file"), "2 files")
        self.assertEqual(h.full_name("Ada", "Lovelace"), "Ada Lovelace")
        self.assertEqual(h.full_name("", "X"), "X")
        self.assertEqual(h.initials("ada  king lovelace"), "AKL")
        self.assertEqual(h.initials(""), "")
        self.assertEqual(h.key_for(7), "user:7")
        self.assertEqual(h.key_for(7, "org"), "org:7")

    def test_numbers(self):
        self.assertEqual([h.clamp(v, 0, 10) for v in (-1, 5, 11)], [0, 5, 10])
        self.assertEqual(h.first_or_default([3, 4]), 3)
        self.assertEqual(h.first_or_default([], "d"), "d")
        self.assertEqual(h.count_true([True, 1, "x", False, True]), 3)
        self.assertEqual(h.squares([1, -2, 3]), [1, 4, 9])
        self.assertEqual(h.evens([1, 2, 3, 4]), [2, 4])
        self.assertEqual([h.sign(v) for v in (-5, 0, 2)], [-1, 0, 1])
        self.assertIs(h.any_negative([1, -1]), True)
        self.assertIs(h.any_negative([]), False)

    def test_env_and_merge(self):
        self.assertIs(h.env_flag("X", {"X": "True"}), True)
        self.assertIs(h.env_flag("X", {"X": "0"}), False)
        self.assertIs(h.env_flag("X", {}), False)
        self.assertIs(h.env_flag("NOCTUNE_SURELY_UNSET_VARIABLE"), False)
        a = {"x": 1, "y": 2}
        self.assertEqual(h.merge(a, {"y": 3, "z": 4}), {"x": 1, "y": 3, "z": 4})
        self.assertEqual(a, {"x": 1, "y": 2})


if __name__ == "__main__":
    unittest.main()
