"""A tiny inventory package, written in an old style on purpose."""
from inventory.models import Item, Inventory
from inventory.report import render_report
