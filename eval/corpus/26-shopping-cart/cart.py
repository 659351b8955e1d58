import decimal
import logging
import re
import string

log = logging.getLogger(__name__)

D = decimal.Decimal
CENT = D("0.01")


class Coupon(object):
    def __init__(self, code, percent=0, amount=None, min_total=None):
        self.code = code.upper()
        self.percent = percent
        self.amount = amount
        self.min_total = min_total

    def applies(self, total):
        if self.min_total == None:
            return True
        if total >= self.min_total:
            return True
        else:
            return False

    def discount(self, total):
        if not self.applies(total):
            return D("0")
        if self.amount != None:
            return min(D(self.amount), total)
        return (total * D(self.percent) / 100).quantize(CENT)


class Cart(object):
    coupons = {}
    tax_rate = D("0.19")

    def __init__(self, customer=None, items={}):
        self.customer = customer
        self.items = dict(items)
        self.coupon = None

    def add(self, sku, price, qty=1):
        if qty <= 0:
            raise ValueError("quantity must be positive")
        if sku in self.items.keys():
            old_price, old_qty = self.items[sku]
            self.items[sku] = (old_price, old_qty + qty)
        else:
            self.items[sku] = (D(str(price)), qty)

    def remove(self, sku):
        try:
            del self.items[sku]
            return True
        except:
            return False

    def subtotal(self):
        total = D("0")
        for sku in self.items:
            price, qty = self.items[sku]
            total = total + price * qty
        return total

    def use_coupon(self, code):
        code = code.upper()
        if not re.match(r"^[A-Z0-9]+$", code):
            raise ValueError("invalid coupon code %r" % code)
        if code in Cart.coupons:
            self.coupon = Cart.coupons[code]
            return True
        return False

    def checkout(self):
        lines = []
        subtotal = self.subtotal()
        for sku in sorted(self.items):
            price, qty = self.items[sku]
            lines.append("%-10s %3d x %8s = %9s" % (sku, qty, price, (price * qty).quantize(CENT)))
        discount = D("0")
        if self.coupon != None:
            discount = self.coupon.discount(subtotal)
            if discount > 0:
                lines.append("coupon %s: -%s" % (self.coupon.code, discount.quantize(CENT)))
        net = subtotal - discount
        tax = (net * self.tax_rate).quantize(CENT)
        total = net + tax
        lines.append("tax: %s" % tax)
        lines.append("total: %s" % total.quantize(CENT))
        receipt = ""
        for line in lines:
            receipt = receipt + line + "\n"
        if self.customer != None:
            receipt = "Customer: " + self.customer + "\n" + receipt
        log.info("checkout %s", total)
        return receipt


def register_coupon(coupon):
    if Cart.coupons.get(coupon.code) != None:
        return False
    Cart.coupons[coupon.code] = coupon
    return True
