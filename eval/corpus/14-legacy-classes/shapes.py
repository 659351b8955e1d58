import math


class Shape(object):
    registry = {}

    def __init__(self, name):
        self.name = name
        Shape.registry[name] = self.__class__

    def area(self):
        raise NotImplementedError("area of %s" % self.__class__.__name__)

    def describe(self):
        return "%s with area %.2f" % (self.name, self.area())

    def __lt__(self, other):
        return self.area() < other.area()

    def __nonzero__(self):
        return self.area() > 0

    __bool__ = __nonzero__


class Rectangle(Shape):
    def __init__(self, width, height, name="rectangle"):
        super(Rectangle, self).__init__(name)
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height


class Square(Rectangle):
    def __init__(self, side):
        super(Square, self).__init__(side, side, name="square")

    def describe(self):
        base = super(Square, self).describe()
        return base + " (side %s)" % self.width


class Circle(Shape):
    def __init__(self, radius):
        Shape.__init__(self, "circle")
        self.radius = radius

    def area(self):
        return math.pi * self.radius ** 2


class Scaled(object):
    """Wraps a shape and scales its area."""

    def __init__(self, shape, factor):
        self.shape = shape
        self.factor = factor

    def __getattr__(self, attr):
        return getattr(self.shape, attr)

    def area(self):
        return self.shape.area() * self.factor ** 2


def largest(shapes):
    best = None
    for s in shapes:
        if best is None or best < s:
            best = s
    return best


def total_area(shapes):
    return sum(map(lambda s: s.area(), shapes))
