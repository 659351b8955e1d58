"""Unit conversion for the lab tools."""
from units.conversion import convert, to_base, UnknownUnit
from units.table import UNITS, dimension_of, units_for

__all__ = ["convert", "UnknownUnit", "units_for"]
