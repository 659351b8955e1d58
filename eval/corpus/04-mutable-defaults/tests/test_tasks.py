import time
import unittest

import tasks


class TasksTest(unittest.TestCase):
    def test_task(self):
        t = tasks.Task("a", ("b",))
        self.assertEqual(t.deps, ["b"])
        self.assertEqual(t.tags, [])
        self.assertEqual(repr(t), "<Task a>")

    def test_add_tag(self):
        t = tasks.Task("a")
        u = tasks.Task("b")
        self.assertEqual(tasks.add_tag(t, "x"), ["x"])
        self.assertEqual(tasks.add_tag(t, "x"), ["x"])
        self.assertEqual(tasks.add_tag(t, "y", ["x"]), ["x", "y"])
        self.assertEqual(t.tags, ["x", "y"])
        self.assertEqual(u.tags, [])

    def test_memo(self):
        self.assertEqual(tasks.memo_fib(25), 75025)
        self.assertEqual(tasks.memo_fib(1), 1)
        self.assertEqual(tasks.memo_fib(0), 0)
        self.assertIn(24, tasks.memo_fib.__defaults__[0])

    def test_order(self):
        ts = [tasks.Task("build", ["fetch"]), tasks.Task("fetch"),
              tasks.Task("test", ["build"], priority=2), tasks.Task("docs", priority=1)]
        self.assertEqual(tasks.order(ts), ["fetch", "build", "test", "docs"])
        with self.assertRaisesRegex(ValueError, "cycle at a"):
            tasks.order([tasks.Task("a", ["b"]), tasks.Task("b", ["a"])])
        with self.assertRaisesRegex(KeyError, "unknown dependency z"):
            tasks.order([tasks.Task("a", ["z"])])

    def test_group_by_tag(self):
        a = tasks.Task("a", tags=["x", "y"])
        b = tasks.Task("b", tags=["y"])
        g = tasks.group_by_tag([a, b])
        self.assertEqual(list(g.items()), [("x", ["a"]), ("y", ["a", "b"])])
        self.assertEqual(dict(tasks.group_by_tag([b])), {"y": ["b"]})
        self.assertEqual(dict(tasks.group_by_tag([b], {"z": []})), {"z": [], "y": ["b"]})

    def test_stamp(self):
        t = tasks.Task("rel")
        self.assertEqual(tasks.stamp(t), "rel@1970-01-01")
        self.assertEqual(tasks.stamp(t, time.gmtime(86400 * 366)), "rel@1971-01-02")


if __name__ == "__main__":
    unittest.main()
