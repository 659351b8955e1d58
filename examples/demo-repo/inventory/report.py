import string


def render_report(inventory, title = "Inventory"):
    lines = []
    lines.append("%s\n%s" % (title, "=" * len(title)))
    for name in inventory.names():
        item = inventory.items[name]
        lines.append("%-20s %8.2f x %4d = %10.2f" % (name, item.price, item.quantity, item.total()))
    lines.append("Total: %.2f" % inventory.value())
    return "\n".join(lines)


def parse_line(line):
    parts = line.strip().split(",")
    if not len(parts) == 3:
        raise ValueError("bad line: %r" % line)
    return parts[0], float(parts[1]), int(parts[2])


def parse_lines(text):
    result = []
    for line in text.split("\n"):
        if line.strip() == "":
            continue
        result.append(parse_line(line))
    return result
