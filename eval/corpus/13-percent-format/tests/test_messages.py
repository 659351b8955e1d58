import unittest

import messages as m


class MessagesTest(unittest.TestCase):
    def test_simple(self):
        self.assertEqual(m.greeting("Ann"), "Hello, Ann!")
        self.assertEqual(m.greeting(42), "Hello, 42!")
        self.assertEqual(m.progress(1, 3), "1/3 files (33.3%)")
        self.assertEqual(m.progress(0, 0), "0/0 files (0.0%)")

    def test_sizes(self):
        self.assertEqual(m.size_label(512), "512 B")
        self.assertEqual(m.size_label(1536), "1.50 KiB")
        self.assertEqual(m.size_label(5 * 1024 ** 2), "5.00 MiB")
        self.assertEqual(m.size_label(3 * 1024 ** 4), "3072.00 GiB")

    def test_lines(self):
        self.assertEqual(m.error_line("a.py", 3, "bad"), "a.py:3: error: bad")
        self.assertEqual(m.warning_line("b.py", "meh"), "b.py: warning: meh")
        self.assertEqual(m.quoted("x"), "value='x'")
        self.assertEqual(m.quoted((1, 2)), "value=(1, 2)")
        self.assertEqual(m.job_summary({"name": "home", "count": 3, "errors": 0}),
                         "home: 3 files, 0 errors")
        self.assertEqual(m.column("ab", 5), "ab   |")

    def test_misc(self):
        self.assertEqual(m.elapsed(3725.9), "01:02:05")
        self.assertEqual(m.path_message("a", "b"), "copy a -> b")
        self.assertEqual(m.retry_message(2, 5, 1.25), "attempt 2 of 5, retrying in 1.2s")
        self.assertEqual(m.banner("Hi"), "==\nHi\n==")
        self.assertEqual(m.banner("Hi", "-"), "--\nHi\n--")
        self.assertEqual(m.percent_only(0.256), "25%")
        self.assertEqual(m.hex_id(255), "0x000000ff")
        self.assertEqual(m.tuple_message((1, 2)), "pair: (1, 2)")


if __name__ == "__main__":
    unittest.main()
