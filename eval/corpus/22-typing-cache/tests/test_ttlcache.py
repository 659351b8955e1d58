import unittest

import ttlcache as tc

MODULE = tc


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class TTLCacheTest(unittest.TestCase):
    def test_get_set_expire(self):
        clock = FakeClock()
        c = tc.TTLCache(10, clock=clock)
        c.set("a", 1)
        self.assertEqual(c.get("a"), 1)
        self.assertIn("a", c)
        clock.now += 10
        self.assertNotIn("a", c)
        self.assertIsNone(c.get("a"))
        self.assertEqual(c.get("a", "d"), "d")
        self.assertEqual(len(c), 0)
        self.assertEqual(c.stats(), {"hits": 1, "misses": 2, "ratio": 0.333})

    def test_evict_purge(self):
        clock = FakeClock()
        c = tc.TTLCache(5, maxsize=2, clock=clock)
        self.assertIsNone(c.evict())
        c.set("a", 1)
        clock.now += 1
        c.set("b", 2)
        c.set("c", 3)
        self.assertNotIn("a", c)
        self.assertEqual(len(c), 2)
        c.set("b", 4)
        self.assertEqual(len(c), 2)
        clock.now += 4.5
        self.assertEqual(c.purge(), 0)
        clock.now += 1
        self.assertEqual(c.purge(), 2)
        self.assertEqual(c.stats()["ratio"], 0.0)

    def test_validation_and_clock(self):
        with self.assertRaisesRegex(ValueError, "ttl must be positive"):
            tc.TTLCache(0)
        self.assertIs(tc.TTLCache().clock, tc.default_clock)
        self.assertIsInstance(tc.default_clock(), float)

    def test_memoize(self):
        calls = []

        @tc.memoize(ttl=100)
        def square(x):
            calls.append(x)
            return x * x

        self.assertEqual(square(3), 9)
        self.assertEqual(square(3), 9)
        self.assertEqual(calls, [3])
        self.assertEqual(square.__name__, "square")
        self.assertEqual(square.cache.hits, 1)
        shared = tc.TTLCache(100)

        @tc.memoize(cache=shared)
        def none_result():
            calls.append("n")

        none_result()
        none_result()
        self.assertEqual(calls, [3, "n"])
        self.assertIs(none_result.cache, shared)

    def test_make_key(self):
        self.assertEqual(tc.make_key(1, 2), (1, 2))
        self.assertEqual(tc.make_key(1, b=2, a=1), (1, ("a", 1), ("b", 2)))


class AnnotationsResolveTest(unittest.TestCase):
    """Annotations a tool adds must resolve at runtime (no undefined names)."""

    def test_all_hints_resolve(self):
        import inspect
        import typing

        for obj in list(vars(MODULE).values()):
            if getattr(obj, "__module__", None) != MODULE.__name__:
                continue
            if inspect.isfunction(obj):
                typing.get_type_hints(obj)
            elif inspect.isclass(obj):
                for member in vars(obj).values():
                    if inspect.isfunction(member):
                        typing.get_type_hints(member)


if __name__ == "__main__":
    unittest.main()
