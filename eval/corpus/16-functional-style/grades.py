from functools import reduce, cmp_to_key
import operator


def parse_scores(text):
    return list(map(lambda s: int(s), filter(lambda s: s.strip() != "", text.split(","))))


def average(scores):
    if len(scores) == 0:
        return 0.0
    return reduce(lambda a, b: a + b, scores) / float(len(scores))


def passed(scores, minimum=50):
    return list(filter(lambda s: s >= minimum, scores))


def letters(scores):
    return list(map(lambda s: letter(s), scores))


def letter(score):
    if type(score) == float:
        score = int(round(score))
    if score >= 90:
        return "A"
    elif score >= 75:
        return "B"
    elif score >= 50:
        return "C"
    else:
        return "F"


def gradebook(names, scores):
    return dict(zip(names, map(lambda s: average(s), scores)))


def compare_students(a, b):
    if a[1] != b[1]:
        return -1 if a[1] > b[1] else 1
    if a[0] < b[0]:
        return -1
    elif a[0] > b[0]:
        return 1
    return 0


def ranking(book):
    items = list(book.items())
    items.sort(key=cmp_to_key(compare_students))
    return list(map(lambda kv: kv[0], items))


def product(values):
    return reduce(operator.mul, values, 1)


def normalize(scores):
    top = max(scores) if scores else 0
    if top == 0:
        return list(map(lambda s: 0.0, scores))
    return list(map(lambda s: round(float(s) / top, 3), scores))


def describe(value):
    if type(value) == list or type(value) == tuple:
        return "sequence of %d" % len(value)
    if type(value) == dict:
        return "mapping of %d" % len(value)
    if type(value) is int:
        return "int"
    return "other"
