import operator
import re

TOKEN_RE = re.compile(r"\s*(?:(\d+\.\d*|\d+)|(\*\*|[-+*/()%])|(\w+))")

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
       "%": operator.mod, "**": operator.pow}


def tokenize(text):
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise SyntaxError("bad character at %d: %r" % (pos, text[pos]))
        number, op, name = m.groups()
        if number:
            tokens.append(("num", float(number) if "." in number else int(number)))
        elif op:
            tokens.append(("op", op))
        else:
            tokens.append(("name", name))
        pos = m.end()
    return tokens


class Parser(object):
    def __init__(self, tokens, variables=None):
        self.tokens = tokens
        self.pos = 0
        self.variables = variables or {}

    def peek(self):
        if self.pos < len(self.tokens):
            return self.tokens[self.pos]
        return None

    def take(self, value=None):
        tok = self.peek()
        if tok is None:
            raise SyntaxError("unexpected end")
        if value is not None and tok[1] != value:
            raise SyntaxError("expected %s, got %s" % (value, tok[1]))
        self.pos += 1
        return tok

    def expression(self):
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            value = OPS[op](value, self.term())
        return value

    def term(self):
        value = self.power()
        while self.peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            op = self.take()[1]
            value = OPS[op](value, self.power())
        return value

    def power(self):
        base = self.unary()
        if self.peek() == ("op", "**"):
            self.take()
            return base ** self.power()
        return base

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return -self.unary()
        return self.atom()

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "name":
            if value not in self.variables:
                raise NameError("unknown variable %s" % value)
            return self.variables[value]
        if value == "(":
            result = self.expression()
            self.take(")")
            return result
        raise SyntaxError("unexpected %s" % value)


def evaluate(text, variables=None):
    parser = Parser(tokenize(text), variables)
    value = parser.expression()
    if parser.peek() is not None:
        raise SyntaxError("trailing %s" % parser.peek()[1])
    return value


def try_evaluate(text, variables=None):
    try:
        return evaluate(text, variables)
    except (SyntaxError, NameError, ZeroDivisionError):
        return None
