def shipping_rate(weight, country, express=False):
    if country == "DE":
        if weight <= 2:
            rate = 4.5
        else:
            rate = 6.9
    else:
        if country in ("AT", "FR", "NL"):
            rate = 9.9
        else:
            rate = 19.9
    if express:
        if weight < 30:
            rate = rate * 2
    return round(rate, 2)


def can_edit(user, doc):
    if user.get("active"):
        if user.get("role") == "admin":
            return True
    if doc.get("owner") == user.get("name"):
        if not doc.get("locked"):
            return True
    return False


def has_overdue(invoices, today):
    for inv in invoices:
        if inv["due"] < today and not inv["paid"]:
            return True
    return False


def all_paid(invoices):
    for inv in invoices:
        if not inv["paid"]:
            return False
    return True


def label(count):
    if count == 1:
        word = "item"
    else:
        word = "items"
    return "%d %s" % (count, word)


def discount(total, member):
    if member:
        if total > 100:
            if total > 500:
                return total * 0.1
            else:
                return total * 0.05
    return 0


def first_match(items, prefix):
    found = None
    for item in items:
        if item.startswith(prefix):
            if found is None:
                found = item
    return found


def classify(temp):
    if temp < 0:
        return "freezing"
    else:
        if temp < 15:
            return "cold"
        else:
            if temp < 25:
                return "mild"
            else:
                return "hot"
