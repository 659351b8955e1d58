import os
import json
import logging

log = logging.getLogger("fetcher")


class FetchError(Exception):
    pass


def read_json(path):
    try:
        f = open(path, "r")
    except IOError as e:
        raise FetchError("cannot open %s: %s" % (path, e.strerror))
    try:
        try:
            return json.load(f)
        except ValueError:
            raise FetchError("bad json in %s" % path)
    finally:
        f.close()


def retry(func, attempts=3, on_error=None):
    last = None
    for i in range(attempts):
        try:
            return func()
        except:
            last = i
            if on_error != None:
                on_error(i)
    raise FetchError("gave up after %d attempts" % (last + 1))


def remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def to_int(value, default=0):
    try:
        return int(value)
    except:
        return default


def get_path(data, dotted):
    node = data
    for part in dotted.split("."):
        try:
            node = node[part]
        except KeyError:
            raise KeyError("missing %s (at %s)" % (dotted, part))
        except TypeError:
            raise TypeError("%s: %s is not a mapping" % (dotted, part))
    return node


def first_readable(paths):
    for p in paths:
        try:
            return read_json(p)
        except FetchError:
            continue
        except:
            log.exception("unexpected")
    return None


def close_all(handles):
    errors = 0
    for h in handles:
        try:
            h.close()
        except Exception:
            errors = errors + 1
    return errors
