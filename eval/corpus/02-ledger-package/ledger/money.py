import re
import sys

_AMOUNT_RE = re.compile(r"^(-)?(\d+)(?:\.(\d{1,2}))?$")


class Money(object):
    """An amount in cents, with a currency code."""

    def __init__(self, cents, currency="EUR"):
        if type(cents) != int:
            raise TypeError("cents must be an int, not %s" % type(cents).__name__)
        self.cents = cents
        self.currency = currency

    def __eq__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        return self.cents == other.cents and self.currency == other.currency

    def __hash__(self):
        return hash((self.cents, self.currency))

    def __repr__(self):
        return "Money(%d, %r)" % (self.cents, self.currency)

    def __add__(self, other):
        self._check(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other):
        self._check(other)
        return Money(self.cents - other.cents, self.currency)

    def _check(self, other):
        if other.currency != self.currency:
            raise ValueError("currency mismatch: %s != %s" % (self.currency, other.currency))

    def is_negative(self):
        if self.cents < 0:
            return True
        else:
            return False


ZERO = Money(0)


def parse_money(text, currency="EUR"):
    m = _AMOUNT_RE.match(text.strip())
    if m == None:
        raise ValueError("not an amount: %r" % text)
    sign, whole, frac = m.groups()
    if frac == None:
        frac = "0"
    if len(frac) == 1:
        frac = frac + "0"
    cents = int(whole) * 100 + int(frac)
    if sign:
        cents = -cents
    return Money(cents, currency)
