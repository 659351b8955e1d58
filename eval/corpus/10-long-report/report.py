import sys
import os
import datetime


def build_report(lines, title="Sales report", currency="EUR", top=3, show_empty=False):
    # Parse the raw CSV-ish lines: date;region;product;qty;unit_price
    records = []
    skipped = 0
    lineno = 0
    for line in lines:
        lineno = lineno + 1
        line = line.strip()
        if line == "" or line[0] == "#":
            continue
        parts = line.split(";")
        if len(parts) != 5:
            skipped = skipped + 1
            continue
        date_s, region, product, qty_s, price_s = parts
        try:
            date = datetime.datetime.strptime(date_s.strip(), "%Y-%m-%d").date()
        except:
            skipped = skipped + 1
            continue
        try:
            qty = int(qty_s)
            price = float(price_s)
        except:
            skipped = skipped + 1
            continue
        if qty < 0:
            skipped = skipped + 1
            continue
        records.append({"date": date, "region": region.strip().upper(),
                        "product": product.strip(), "qty": qty, "price": price})

    # Aggregate by region and product
    by_region = {}
    by_product = {}
    first = None
    last = None
    total = 0.0
    for r in records:
        amount = r["qty"] * r["price"]
        total = total + amount
        if by_region.has_key(r["region"]) if hasattr(by_region, "has_key") else r["region"] in by_region:
            by_region[r["region"]] = by_region[r["region"]] + amount
        else:
            by_region[r["region"]] = amount
        if r["product"] in by_product.keys():
            by_product[r["product"]] = by_product[r["product"]] + r["qty"]
        else:
            by_product[r["product"]] = r["qty"]
        if first == None or r["date"] < first:
            first = r["date"]
        if last == None or r["date"] > last:
            last = r["date"]

    # Format
    out = []
    out.append(title)
    out.append("=" * len(title))
    if first != None:
        out.append("Period: %s to %s" % (first.isoformat(), last.isoformat()))
    else:
        out.append("Period: none")
    out.append("Records: %d (skipped %d)" % (len(records), skipped))
    out.append("")
    out.append("By region:")
    regions = list(by_region.keys())
    regions.sort()
    for i in range(len(regions)):
        reg = regions[i]
        amount = by_region[reg]
        if amount == 0 and show_empty == False:
            continue
        share = 0.0
        if total != 0:
            share = amount / total * 100
        out.append("  %-6s %10.2f %s %5.1f%%" % (reg, amount, currency, share))
    out.append("")
    out.append("Top products:")
    ranked = []
    for name in by_product:
        ranked.append((by_product[name], name))
    ranked.sort(key=lambda x: (-x[0], x[1]))
    n = 0
    for qty, name in ranked:
        if n >= top:
            break
        n = n + 1
        out.append("  %d. %s (%d)" % (n, name, qty))
    if n == 0:
        out.append("  (none)")
    out.append("")
    out.append("Total: %.2f %s" % (total, currency))
    return "\n".join(out)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: report FILE\n")
        return 2
    f = open(argv[1])
    text = f.read()
    f.close()
    print(build_report(text.splitlines()))
    return 0
