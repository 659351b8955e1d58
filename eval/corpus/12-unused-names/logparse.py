import os
import re
import sys
import time
from collections import defaultdict, OrderedDict, namedtuple

LINE_RE = re.compile(r"^(\S+) (\S+) \[(\w+)\] (.*)$")

Entry = namedtuple("Entry", "date time level message")


def parse_line(line):
    m = LINE_RE.match(line.rstrip("\n"))
    if not m:
        return None
    date, clock, level, message = m.groups()
    return Entry(date, clock, level.upper(), message)


def parse(lines):
    entries = []
    count = 0
    for line in lines:
        entry = parse_line(line)
        if entry is None:
            continue
        entries.append(entry)
    return entries


def levels(entries):
    counts = defaultdict(int)
    for i, e in enumerate(entries):
        counts[e.level] += 1
    return dict(counts)


def errors(entries):
    result = []
    for e in entries:
        if e.level == "ERROR":
            result.append(e.message)
    return result


def errors(entries, level="ERROR"):
    return [e.message for e in entries if e.level == level]


def span(entries):
    if not entries:
        return None
    start = entries[0]
    end = entries[-1]
    first_date, first_time, _, _ = start
    last_date, last_time, level, message = end
    return "%s %s - %s %s" % (first_date, first_time, last_date, last_time)


def busiest_minute(entries):
    per_minute = {}
    best = None
    best_count = 0
    for e in entries:
        key = e.date + " " + e.time[:5]
        per_minute[key] = per_minute.get(key, 0) + 1
    for key in sorted(per_minute):
        value = per_minute[key]
        if value > best_count:
            best = key
            best_count = value
    try:
        return best
    except Exception as exc:
        return None


def summary(lines):
    entries = parse(lines)
    lv = levels(entries)
    result = "%d entries" % len(entries)
    for name in sorted(lv):
        result += ", %s=%d" % (name, lv[name])
    return result
