# Simple configuration loader, written for the 2009 deployment scripts.
import os, sys
import string
import re

DEFAULTS = {"host": "localhost", "port": "8080", "debug": "no"}

_SECTION_RE = re.compile(r"^\[(?P<name>[^\]]+)\]$")


def has_key(d, key):
    if key in d.keys():
        return True
    else:
        return False


def parse_value(raw):
    raw = raw.strip()
    if raw == None or raw == "":
        return None
    if raw.lower() in ("yes", "true", "on"):
        return True
    if raw.lower() in ("no", "false", "off"):
        return False
    try:
        return int(raw)
    except:
        pass
    try:
        return float(raw)
    except:
        return raw


def parse_lines(lines):
    sections = {}
    current = None
    lineno = 0
    for line in lines:
        lineno = lineno + 1
        line = line.strip()
        if line == "" or line.startswith("#") or line.startswith(";"):
            continue
        m = _SECTION_RE.match(line)
        if m != None:
            current = m.group("name").strip()
            if not has_key(sections, current):
                sections[current] = {}
            continue
        if current == None:
            raise ValueError("line %d: option outside of a section" % lineno)
        if line.find("=") == -1:
            raise ValueError("line %d: expected key = value" % lineno)
        key, value = line.split("=", 1)
        sections[current][key.strip().lower()] = parse_value(value)
    return sections


def load(path):
    f = open(path)
    try:
        text = f.read()
    finally:
        f.close()
    return parse_lines(text.splitlines())


def get(sections, section, key, default=None):
    if has_key(sections, section):
        values = sections[section]
        if has_key(values, key):
            return values[key]
    if default == None and has_key(DEFAULTS, key):
        return parse_value(DEFAULTS[key])
    return default


def safe_load(path):
    try:
        return load(path)
    except:
        return {}
