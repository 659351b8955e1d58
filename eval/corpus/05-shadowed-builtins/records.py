import sys


def index_by(list, key):
    dict = {}
    for item in list:
        id = item[key]
        if id in dict:
            raise ValueError("duplicate %s: %r" % (key, id))
        dict[id] = item
    return dict


def filter_type(records, type):
    result = []
    for r in records:
        if r.get("type") == type:
            result.append(r)
    return result


def total(records, field="amount"):
    sum = 0
    for r in records:
        sum = sum + r.get(field, 0)
    return sum


def parse(input):
    records = []
    for line in input.splitlines():
        if not line.strip():
            continue
        id, type, amount = line.split(",")
        records.append({"id": int(id), "type": type.strip(), "amount": float(amount)})
    return records


def max_by(records, field):
    max = None
    for r in records:
        if max == None or r[field] > max[field]:
            max = r
    return max


def format(record):
    return "#%(id)d %(type)s %(amount).2f" % record


def summary(text):
    all = parse(text)
    types = sorted(set([r["type"] for r in all]))
    lines = []
    for t in types:
        lines.append("%s: %.2f" % (t, total(filter_type(all, t))))
    biggest = max_by(all, "amount")
    if biggest != None:
        lines.append("largest: " + format(biggest))
    return "\n".join(lines)
