import sys
import functools
import xml.etree.cElementTree as ET
from typing import Text

if sys.version_info >= (3, 0):
    string_types = (str,)
else:
    string_types = (basestring,)  # noqa: F821

if sys.version_info[0] == 2:
    def to_text(value):
        return unicode(value)  # noqa: F821
else:
    def to_text(value):
        return str(value)

PY2 = sys.version_info < (3,)


def parse_settings(xml_text):
    root = ET.fromstring(xml_text)
    settings = {}
    for node in root.findall("setting"):
        name = node.get("name")
        kind = node.get("type", "str")
        settings[name] = convert(node.text or "", kind)
    return settings


@functools.lru_cache(maxsize=None)
def converter(kind):
    if kind == "int":
        return int
    if kind == "bool":
        return lambda s: s.strip().lower() in ("1", "true", "yes")
    if kind == "list":
        return lambda s: [p.strip() for p in s.split(",") if p.strip()]
    return lambda s: s


def convert(text, kind):
    return converter(kind)(text)


def iter_names(settings):
    for name in sorted(settings):
        yield name


def iter_items(settings, prefix=""):
    for name in iter_names(settings):
        if name.startswith(prefix):
            yield name, settings[name]


def describe(name, value):
    # type: (Text, object) -> Text
    if isinstance(value, string_types):
        return "{0} = '{1}'".format(name, value)
    return "{0} = {1}".format(name, to_text(value))


def dump(settings):
    lines = []
    for name, value in iter_items(settings):
        lines.append(describe(name, value))
    return "\n".join(lines)


def is_legacy_python():
    return PY2
