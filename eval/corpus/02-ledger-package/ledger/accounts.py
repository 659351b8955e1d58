from .money import Money, ZERO


class Account(object):
    def __init__(self, name, currency="EUR", history=[]):
        self.name = name
        self.currency = currency
        self.history = history
        self.balance = Money(0, currency)

    def deposit(self, amount):
        if amount.is_negative() == True:
            raise ValueError("negative deposit")
        self.balance = self.balance + amount
        self.history = self.history + [("deposit", amount)]

    def withdraw(self, amount):
        if (self.balance - amount).is_negative():
            raise ValueError("insufficient funds in %s" % self.name)
        self.balance = self.balance - amount
        self.history = self.history + [("withdraw", amount)]


def open_account(name, initial=None, currency="EUR"):
    acct = Account(name, currency)
    if initial != None:
        acct.deposit(initial)
    return acct


def transfer(source, target, amount):
    try:
        source.withdraw(amount)
    except ValueError:
        return False
    target.deposit(amount)
    return True


def format_amount(money):
    sign = ""
    cents = money.cents
    if cents < 0:
        sign = "-"
        cents = -cents
    return "%s%d.%02d %s" % (sign, cents // 100, cents % 100, money.currency)


def format_statement(account):
    out = "Statement for " + account.name + "\n"
    for i in range(len(account.history)):
        kind, amount = account.history[i]
        out = out + "%3d %-8s %s\n" % (i + 1, kind, format_amount(amount))
    out = out + "Balance: " + format_amount(account.balance)
    return out
