import math


class Point(object):
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return "Point(%r, %r)" % (self.x, self.y)

    def __add__(self, other):
        return Point(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Point(self.x - other.x, self.y - other.y)

    def scale(self, factor):
        return Point(self.x * factor, self.y * factor)

    def as_tuple(self):
        return (self.x, self.y)


def distance(a, b):
    return math.hypot(a.x - b.x, a.y - b.y)


def dot(a, b):
    return a.x * b.x + a.y * b.y


def centroid(points):
    if not points:
        return None
    n = float(len(points))
    return Point(sum(p.x for p in points) / n, sum(p.y for p in points) / n)


def bounding_box(points):
    if len(points) == 0:
        return None
    xs = [p.x for p in points]
    ys = [p.y for p in points]
    return (Point(min(xs), min(ys)), Point(max(xs), max(ys)))


def polygon_area(points):
    total = 0.0
    for i in range(len(points)):
        j = (i + 1) % len(points)
        total += points[i].x * points[j].y - points[j].x * points[i].y
    return abs(total) / 2.0


def closest(points, target):
    best = None
    best_d = None
    for p in points:
        d = distance(p, target)
        if best_d == None or d < best_d:
            best, best_d = p, d
    return best


def parse_point(text, sep=","):
    parts = text.split(sep)
    if len(parts) != 2:
        raise ValueError("expected x%sy, got %r" % (sep, text))
    return Point(float(parts[0]), float(parts[1]))


def translate_all(points, offset=Point(0, 0)):
    return [p + offset for p in points]


def to_dict(points):
    return {repr(p): p.as_tuple() for p in points}
