from typing import Optional, Union

from units.table import UNITS

Number = Union[int, float]


class UnknownUnit(KeyError):
    def __init__(self, unit):
        # type: (str) -> None
        KeyError.__init__(self, unit)
        self.unit = unit

    def __str__(self):
        return "unknown unit: %s" % self.unit


def _spec(unit):
    try:
        return UNITS[unit.lower()]
    except KeyError:
        raise UnknownUnit(unit)


def to_base(value, unit):
    # type: (Number, str) -> float
    dim, factor, offset = _spec(unit)
    return value * factor + offset


def from_base(value, unit):
    dim, factor, offset = _spec(unit)
    return (value - offset) / factor


def convert(value, src, dst, digits=None):
    # type: (Number, str, str, Optional[int]) -> float
    if _spec(src)[0] != _spec(dst)[0]:
        raise ValueError("cannot convert %s to %s" % (src, dst))
    result = from_base(to_base(value, src), dst)
    if digits is not None:
        result = round(result, digits)
    return result


def parse_quantity(text):
    number, _, unit = text.strip().partition(" ")
    if not unit:
        return None
    return float(number), unit.strip()
