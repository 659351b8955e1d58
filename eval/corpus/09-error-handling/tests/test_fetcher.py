import os
import tempfile
import unittest

import fetcher


class FetcherTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.good = os.path.join(self.dir, "good.json")
        self.bad = os.path.join(self.dir, "bad.json")
        with open(self.good, "w") as f:
            f.write('{"a": {"b": 3}}')
        with open(self.bad, "w") as f:
            f.write("{nope")

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def test_read_json(self):
        self.assertEqual(fetcher.read_json(self.good), {"a": {"b": 3}})
        with self.assertRaisesRegex(fetcher.FetchError, "bad json in .*bad.json"):
            fetcher.read_json(self.bad)
        with self.assertRaisesRegex(fetcher.FetchError, "cannot open .*: No such file"):
            fetcher.read_json(self.good + ".x")

    def test_retry(self):
        calls = []

        def flaky():
            calls.append(1)
            if len(calls) < 3:
                raise RuntimeError("boom")
            return "ok"

        seen = []
        self.assertEqual(fetcher.retry(flaky, on_error=seen.append), "ok")
        self.assertEqual(seen, [0, 1])
        with self.assertRaisesRegex(fetcher.FetchError, "gave up after 2 attempts"):
            fetcher.retry(lambda: 1 / 0, attempts=2)

        def interrupt():
            raise KeyboardInterrupt

        with self.assertRaisesRegex(fetcher.FetchError, "gave up after 1 attempts"):
            fetcher.retry(interrupt, attempts=1)

    def test_remove_quietly(self):
        fetcher.remove_quietly(self.bad)
        self.assertFalse(os.path.exists(self.bad))
        fetcher.remove_quietly(self.bad)

    def test_to_int(self):
        self.assertEqual(fetcher.to_int("7"), 7)
        self.assertEqual(fetcher.to_int(None, -1), -1)
        self.assertEqual(fetcher.to_int("x"), 0)

    def test_get_path(self):
        data = {"a": {"b": 3}}
        self.assertEqual(fetcher.get_path(data, "a.b"), 3)
        with self.assertRaisesRegex(KeyError, "missing a.c \\(at c\\)"):
            fetcher.get_path(data, "a.c")
        with self.assertRaisesRegex(TypeError, "a.b.c: c is not a mapping"):
            fetcher.get_path(data, "a.b.c")

    def test_first_readable(self):
        self.assertEqual(fetcher.first_readable([self.bad, self.good]), {"a": {"b": 3}})
        self.assertIsNone(fetcher.first_readable([self.bad]))
        with self.assertLogs("fetcher", "ERROR"):
            self.assertIsNone(fetcher.first_readable([None]))

    def test_close_all(self):
        class H:
            def __init__(self, fail):
                self.fail = fail

            def close(self):
                if self.fail:
                    raise OSError("x")

        self.assertEqual(fetcher.close_all([H(False), H(True), H(True)]), 2)


if __name__ == "__main__":
    unittest.main()
