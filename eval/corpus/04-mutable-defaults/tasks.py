import time
import collections


class Task(object):
    def __init__(self, name, deps=[], tags=[], priority=0):
        self.name = name
        self.deps = list(deps)
        self.tags = tags
        self.priority = priority

    def __repr__(self):
        return "<Task %s>" % self.name


def add_tag(task, tag, seen=[]):
    """Tag a task; returns the tags assigned so far in this call chain."""
    if tag not in task.tags:
        task.tags = task.tags + [tag]
    result = seen + [tag]
    return result


def memo_fib(n, cache={}):
    # The shared default is deliberately used as a memo table.
    if n in cache:
        return cache[n]
    if n < 2:
        value = n
    else:
        value = memo_fib(n - 1) + memo_fib(n - 2)
    cache[n] = value
    return value


def order(tasks):
    by_name = {}
    for t in tasks:
        by_name[t.name] = t
    done = []
    visiting = []

    def visit(t):
        if t.name in done:
            return
        if t.name in visiting:
            raise ValueError("cycle at %s" % t.name)
        visiting.append(t.name)
        for d in sorted(t.deps):
            if d not in by_name:
                raise KeyError("unknown dependency %s" % d)
            visit(by_name[d])
        visiting.remove(t.name)
        done.append(t.name)

    for t in sorted(tasks, key=lambda t: (-t.priority, t.name)):
        visit(t)
    return done


def group_by_tag(tasks, groups=collections.OrderedDict()):
    groups = collections.OrderedDict(groups)
    for t in tasks:
        for tag in t.tags:
            if tag in groups:
                groups[tag].append(t.name)
            else:
                groups[tag] = [t.name]
    return groups


def stamp(task, when=time.gmtime(0)):
    return "%s@%04d-%02d-%02d" % (task.name, when.tm_year, when.tm_mon, when.tm_mday)
