import time
import functools

_MISSING = object()


def default_clock():
    return time.monotonic()


class TTLCache(object):
    def __init__(self, ttl=60.0, maxsize=128, clock=default_clock):
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = ttl
        self.maxsize = maxsize
        self.clock = clock
        self._data = {}
        self.hits = 0
        self.misses = 0

    def _expired(self, stamp):
        return self.clock() - stamp >= self.ttl

    def get(self, key, default=None):
        entry = self._data.get(key, _MISSING)
        if entry is _MISSING or self._expired(entry[1]):
            self.misses += 1
            self._data.pop(key, None)
            return default
        self.hits += 1
        return entry[0]

    def set(self, key, value):
        if key not in self._data and len(self._data) >= self.maxsize:
            self.evict()
        self._data[key] = (value, self.clock())

    def evict(self):
        if not self._data:
            return None
        oldest = min(self._data, key=lambda k: self._data[k][1])
        del self._data[oldest]
        return oldest

    def purge(self):
        removed = 0
        for key in list(self._data):
            if self._expired(self._data[key][1]):
                del self._data[key]
                removed += 1
        return removed

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        entry = self._data.get(key)
        return entry is not None and not self._expired(entry[1])

    def stats(self):
        total = self.hits + self.misses
        ratio = float(self.hits) / total if total else 0.0
        return {"hits": self.hits, "misses": self.misses, "ratio": round(ratio, 3)}


def memoize(ttl=60.0, cache=None):
    def decorator(func):
        store = cache if cache is not None else TTLCache(ttl)

        @functools.wraps(func)
        def wrapper(*args):
            value = store.get(args, _MISSING)
            if value is _MISSING:
                value = func(*args)
                store.set(args, value)
            return value

        wrapper.cache = store
        return wrapper
    return decorator


def make_key(*parts, **named):
    key = tuple(parts)
    if named:
        key += tuple(sorted(named.items()))
    return key
