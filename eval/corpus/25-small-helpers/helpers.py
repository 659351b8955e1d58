import os
import json


def is_missing(value):
    return value == None


def is_present(value):
    if value != None:
        return True
    else:
        return False


def is_yes(answer):
    if answer.lower() in ("y", "yes"):
        return True
    return False


def safe_div(a, b):
    try:
        return a / b
    except:
        return None


def load_json(text):
    try:
        return json.loads(text)
    except:
        return {}


def has_option(options, name):
    return name in options.keys()


def is_string(value):
    return type(value) == str


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def full_name(first, last):
    return "{0} {1}".format(first, last).strip()


def initials(name):
    result = ""
    for part in name.split():
        result = result + part[0].upper()
    return result


def clamp(value, low, high):
    if value < low:
        return low
    elif value > high:
        return high
    else:
        return value


def first_or_default(items, default=None):
    if len(items) > 0:
        return items[0]
    return default


def env_flag(name, environ=os.environ):
    value = environ.get(name)
    if value == None:
        return False
    return value.lower() in ("1", "true", "yes")


def count_true(flags):
    n = 0
    for f in flags:
        if f == True:
            n += 1
    return n


def squares(numbers):
    result = []
    for n in numbers:
        result.append(n * n)
    return result


def evens(numbers):
    return list(filter(lambda n: n % 2 == 0, numbers))


def key_for(user_id, kind="user"):
    key = kind + ":" + str(user_id)
    return key


def sign(n):
    if n > 0:
        return 1
    else:
        if n < 0:
            return -1
        else:
            return 0


def any_negative(numbers):
    for n in numbers:
        if n < 0:
            return True
    return False


def merge(a, b):
    result = dict(a.items())
    for k in b.keys():
        result[k] = b[k]
    return result
