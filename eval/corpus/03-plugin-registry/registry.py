"""Registry of exporters, filled in by the modules that define them."""
import sys

_EXPORTERS = {}
_ALIASES = {}


def register(name, aliases=[]):
    def decorator(func):
        if _EXPORTERS.get(name) != None:
            raise KeyError("exporter %s registered twice" % name)
        _EXPORTERS[name] = func
        for alias in aliases:
            _ALIASES[alias] = name
        return func
    return decorator


def unregister(name):
    if name in _EXPORTERS.keys():
        del _EXPORTERS[name]
        for alias in list(_ALIASES.keys()):
            if _ALIASES[alias] == name:
                del _ALIASES[alias]
        return True
    else:
        return False


def lookup(name):
    name = name.lower()
    name = _ALIASES.get(name, name)
    try:
        return _EXPORTERS[name]
    except:
        raise LookupError("no exporter named %r" % name)


def names(include_aliases=True):
    result = []
    for key in _EXPORTERS.keys():
        result.append(key)
    if include_aliases == True:
        for alias in _ALIASES:
            result.append(alias)
    result.sort()
    return result


def describe():
    lines = []
    for name in sorted(_EXPORTERS):
        doc = _EXPORTERS[name].__doc__ or ""
        line = "%-6s %s" % (name, doc.strip().split("\n")[0])
        lines.append(line.rstrip())
    return "\n".join(lines)
