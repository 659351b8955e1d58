# coding: utf-8
import csv
import io
import hashlib
from collections import OrderedDict


def iteritems(d):
    return getattr(d, "iteritems", d.items)()


def read_rows(text):
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    rows = []
    for values in reader:
        row = OrderedDict()
        for i in range(len(header)):
            if i < len(values):
                row[header[i]] = values[i]
            else:
                row[header[i]] = None
        rows.append(row)
    return rows


def write_rows(rows):
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows[0].keys()))
    for row in rows:
        writer.writerow([row[k] for k in rows[0].keys()])
    return out.getvalue()


def checksum(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def to_bytes(text):
    return text.encode("utf-8")


def from_bytes(data):
    return data.decode("utf-8")


def iso_date(year, month, day):
    return "%04d-%02d-%02d" % (year, month, day)


def column(rows, name):
    return [row[name] for row in rows]


def rename(rows, mapping):
    result = []
    for row in rows:
        new = OrderedDict()
        for key, value in iteritems(row):
            new[mapping.get(key, key)] = value
        result.append(new)
    return result


def describe(rows):
    if not rows:
        return "no rows"
    return "{} rows, columns: {}".format(len(rows), ", ".join(rows[0].keys()))


def read_file(path):
    return open(path, encoding="utf-8").read()
