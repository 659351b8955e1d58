import os, sys
import json


class Item(object):
    """An item on a shelf."""

    def __init__(self, name, price, quantity=0):
        self.name = name
        self.price = price
        self.quantity = quantity

    def total(self):
        return self.price * self.quantity

    def __repr__(self):
        return "Item(%s, %s, %d)" % (self.name, self.price, self.quantity)


class Inventory(object):
    def __init__(self):
        self.items = {}

    def add(self, item):
        if item.name in self.items.keys():
            self.items[item.name].quantity += item.quantity
        else:
            self.items[item.name] = item

    def value(self):
        total = 0
        for name in self.items.keys():
            total = total + self.items[name].total()
        return total

    def names(self):
        result = []
        for k in sorted(self.items.keys()):
            result.append(k)
        return result

    def save(self, path):
        f = open(path, "w")
        json.dump(dict((k, [v.price, v.quantity]) for k, v in self.items.items()), f)
        f.close()

    @classmethod
    def load(cls, path):
        inv = cls()
        data = json.load(open(path))
        for name, (price, quantity) in data.items():
            inv.add(Item(name, price, quantity))
        return inv
