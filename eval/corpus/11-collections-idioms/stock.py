def make_index(items):
    return dict([(item["sku"], item) for item in items])


def skus(items):
    return list([item["sku"] for item in items])


def categories(items):
    return set([item.get("category", "misc") for item in items])


def sorted_names(items):
    return sorted(list(map(lambda i: i["name"], items)))


def quantity(index, sku):
    if sku in index.keys():
        qty = index[sku]["qty"]
    else:
        qty = 0
    return qty


def price_of(prices, sku):
    if sku in prices:
        return prices[sku]
    else:
        return None


def low_stock(items, threshold=5):
    result = []
    for item in items:
        if item["qty"] < threshold:
            result.append(item["sku"])
    return result


def totals_by_category(items):
    totals = dict()
    for item in items:
        cat = item.get("category", "misc")
        totals[cat] = totals.get(cat, 0) + item["qty"]
    return totals


def restock(items, amounts):
    updated = list()
    for item in items:
        new = dict(item)
        if new["sku"] in amounts.keys():
            new["qty"] = new["qty"] + amounts[new["sku"]]
        updated.append(new)
    return updated


def count_nonzero(items):
    return len(list(filter(lambda i: i["qty"] != 0, items)))


def first_sku(items):
    return list(i["sku"] for i in items)[0]


def names_tuple(items):
    return tuple([i["name"] for i in items])


def reversed_skus(items):
    return list(reversed(sorted(i["sku"] for i in items)))
