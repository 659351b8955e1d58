import collections
import itertools

_counter = itertools.count(1)


def _next_id():
    return next(_counter)


class Event(object):
    def __init__(self, name, payload=None, source=None):
        self.id = _next_id()
        self.name = name
        self.payload = payload if payload is not None else {}
        self.source = source

    def get(self, key, default=None):
        return self.payload.get(key, default)

    def __repr__(self):
        return "<Event %d %s>" % (self.id, self.name)


class Subscription(object):
    def __init__(self, callback, priority=0, predicate=None):
        self.callback = callback
        self.priority = priority
        self.predicate = predicate

    def matches(self, event):
        if self.predicate is None:
            return True
        return bool(self.predicate(event))


class EventBus(object):
    def __init__(self, history_size=10):
        self._subs = collections.defaultdict(list)
        self.history = collections.deque(maxlen=history_size)

    def subscribe(self, name, callback, priority=0, predicate=None):
        sub = Subscription(callback, priority, predicate)
        subs = self._subs[name]
        subs.append(sub)
        subs.sort(key=lambda s: -s.priority)
        return sub

    def unsubscribe(self, name, sub):
        try:
            self._subs[name].remove(sub)
        except ValueError:
            return False
        return True

    def publish(self, name, payload=None, source=None):
        event = Event(name, payload, source)
        self.history.append(event)
        results = []
        for sub in list(self._subs.get(name, [])) + list(self._subs.get("*", [])):
            if sub.matches(event):
                results.append(sub.callback(event))
        return results

    def count(self, name=None):
        if name is None:
            return sum(len(v) for v in self._subs.values())
        return len(self._subs.get(name, []))

    def last(self, name=None):
        for event in reversed(self.history):
            if name is None or event.name == name:
                return event
        return None


def collect(bus, name):
    seen = []
    bus.subscribe(name, seen.append)
    return seen


def once(bus, name, callback):
    holder = {}

    def wrapper(event):
        bus.unsubscribe(name, holder["sub"])
        return callback(event)

    holder["sub"] = bus.subscribe(name, wrapper)
    return holder["sub"]
