from typing import Dict, List, Tuple

# unit -> (dimension, factor to the base unit, offset)
UNITS = {
    "m": ("length", 1.0, 0.0),
    "km": ("length", 1000.0, 0.0),
    "cm": ("length", 0.01, 0.0),
    "in": ("length", 0.0254, 0.0),
    "ft": ("length", 0.3048, 0.0),
    "kg": ("mass", 1.0, 0.0),
    "g": ("mass", 0.001, 0.0),
    "lb": ("mass", 0.45359237, 0.0),
    "c": ("temperature", 1.0, 273.15),
    "k": ("temperature", 1.0, 0.0),
    "f": ("temperature", 5.0 / 9.0, 255.3722222222222),
}  # type: Dict[str, Tuple[str, float, float]]


def dimension_of(unit):
    # type: (str) -> str
    try:
        return UNITS[unit.lower()][0]
    except KeyError:
        return "unknown"


def units_for(dimension):
    # type: (str) -> List[str]
    return sorted(u for u, spec in UNITS.items() if spec[0] == dimension)


def dimensions():
    return sorted(set(spec[0] for spec in UNITS.values()))


def is_convertible(src, dst):
    # type: (str, str) -> bool
    a = dimension_of(src)
    b = dimension_of(dst)
    return a != "unknown" and a == b


def describe_unit(unit):
    spec = UNITS.get(unit.lower())
    if spec is None:
        return None
    dim, factor, offset = spec
    text = "%s: %s, x%g" % (unit, dim, factor)
    if offset:
        text += " +%g" % offset
    return text
