# -*- coding: utf-8 -*-
"""User-facing messages of the backup tool."""


def greeting(name):
    return "Hello, %s!" % name


def progress(done, total):
    pct = 100.0 * done / total if total else 0.0
    return "%d/%d files (%.1f%%)" % (done, total, pct)


def size_label(num_bytes):
    units = ["B", "KiB", "MiB", "GiB"]
    size = float(num_bytes)
    unit = units[0]
    for u in units:
        unit = u
        if size < 1024 or u == units[-1]:
            break
        size = size / 1024
    if unit == "B":
        return "%d %s" % (num_bytes, unit)
    return "%.2f %s" % (size, unit)


def error_line(path, lineno, message):
    return "{0}:{1}: error: {2}".format(path, lineno, message)


def warning_line(path, message):
    return "{}: warning: {}".format(path, message)


def quoted(value):
    return "value=%r" % (value,)


def job_summary(job):
    return "%(name)s: %(count)d files, %(errors)d errors" % job


def column(name, width):
    return "%-*s|" % (width, name)


def elapsed(seconds):
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return "%02d:%02d:%02d" % (hours, minutes, secs)


def path_message(src, dst):
    return "copy {src} -> {dst}".format(src=src, dst=dst)


def retry_message(attempt, limit, delay):
    return "attempt {0} of {1}, retrying in {2:.1f}s".format(attempt, limit, delay)


def banner(title, char="="):
    line = char * len(title)
    return "%s\n%s\n%s" % (line, title, line)


def percent_only(ratio):
    return "%s%%" % int(ratio * 100)


def hex_id(n):
    return "0x%08x" % n


def tuple_message(pair):
    return "pair: %s" % (pair,)
