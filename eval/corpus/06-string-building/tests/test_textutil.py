import unittest

import textutil as t


class TextUtilTest(unittest.TestCase):
    def test_join(self):
        self.assertEqual(t.join_words(["a", "b", "c"]), "a b c")
        self.assertEqual(t.join_words(["a", "b"], ", "), "a, b")
        self.assertEqual(t.join_words([]), "")

    def test_pad_table(self):
        rows = [("name", "qty"), ("apple", 3), ("fig", 12)]
        self.assertEqual(t.pad_table(rows), "name  | qty\napple | 3\nfig   | 12\n")
        self.assertEqual(t.pad_table([]), "")

    def test_html(self):
        self.assertEqual(t.html_list(["a<b", 'x"y']), "<ul><li>a&lt;b</li><li>x&quot;y</li></ul>")
        self.assertEqual(t.html_list(["1 & 2", ">"], ordered=True),
                         "<ol><li>1 &amp; 2</li><li>&gt;</li></ol>")
        self.assertEqual(t.html_list([], ordered=1), "<ol></ol>")
        self.assertEqual(t.html_list([], ordered="yes"), "<ul></ul>")

    def test_words(self):
        text = "The cat. the dog; THE end, a cat!"
        self.assertEqual(t.count_words(text), {"the": 3, "cat": 2, "dog": 1, "end": 1, "a": 1})
        self.assertEqual(t.count_words(" ... "), {})
        self.assertEqual(t.top_words(text), ["the", "cat", "a"])
        self.assertEqual(t.top_words(text, 10), ["the", "cat", "a", "dog", "end"])

    def test_wrap(self):
        self.assertEqual(t.wrap("one two three four five six", 9), "one two\nthree\nfour five\nsix")
        self.assertEqual(t.wrap(""), "")
        self.assertEqual(t.wrap("averyveryverylongword x", 5), "averyveryverylongword\nx")


if __name__ == "__main__":
    unittest.main()
