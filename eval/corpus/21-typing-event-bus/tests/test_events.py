import unittest

import events as ev

MODULE = ev


class EventBusTest(unittest.TestCase):
    def test_event(self):
        e1 = ev.Event("a")
        e2 = ev.Event("b", {"k": 1}, "src")
        self.assertEqual(e2.id, e1.id + 1)
        self.assertEqual(e1.payload, {})
        self.assertEqual(e2.get("k"), 1)
        self.assertEqual(e2.get("x", 5), 5)
        self.assertEqual(e2.source, "src")
        self.assertEqual(repr(e2), "<Event %d b>" % e2.id)

    def test_subscription(self):
        s = ev.Subscription(print)
        self.assertTrue(s.matches(ev.Event("a")))
        s = ev.Subscription(print, predicate=lambda e: e.get("n"))
        self.assertIs(s.matches(ev.Event("a", {"n": 2})), True)
        self.assertIs(s.matches(ev.Event("a")), False)

    def test_publish_order(self):
        bus = ev.EventBus()
        bus.subscribe("x", lambda e: "low", priority=-1)
        bus.subscribe("x", lambda e: "high", priority=5)
        bus.subscribe("x", lambda e: "mid")
        bus.subscribe("*", lambda e: "any")
        bus.subscribe("x", lambda e: "odd", predicate=lambda e: e.get("n", 0) % 2)
        self.assertEqual(bus.publish("x"), ["high", "mid", "low", "any"])
        self.assertEqual(bus.publish("x", {"n": 1}), ["high", "mid", "odd", "low", "any"])
        self.assertEqual(bus.publish("y"), ["any"])
        self.assertEqual(bus.count(), 5)
        self.assertEqual(bus.count("x"), 4)
        self.assertEqual(bus.count("nothing"), 0)

    def test_unsubscribe_history(self):
        bus = ev.EventBus(history_size=2)
        sub = bus.subscribe("a", lambda e: 1)
        self.assertTrue(bus.unsubscribe("a", sub))
        self.assertFalse(bus.unsubscribe("a", sub))
        for name in ("a", "b", "a2"):
            bus.publish(name)
        self.assertEqual([e.name for e in bus.history], ["b", "a2"])
        self.assertEqual(bus.last().name, "a2")
        self.assertEqual(bus.last("b").name, "b")
        self.assertIsNone(bus.last("a"))

    def test_collect_once(self):
        bus = ev.EventBus()
        seen = ev.collect(bus, "t")
        calls = []
        ev.once(bus, "t", lambda e: calls.append(e.name) or "first")
        self.assertEqual(bus.publish("t")[1], "first")
        bus.publish("t")
        self.assertEqual(len(seen), 2)
        self.assertEqual(calls, ["t"])
        self.assertEqual(bus.count("t"), 1)


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
