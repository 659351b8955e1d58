import string


def join_words(words, sep=" "):
    out = ""
    for i in range(len(words)):
        if i > 0:
            out = out + sep
        out = out + words[i]
    return out


def pad_table(rows):
    widths = []
    for row in rows:
        for i in range(len(row)):
            cell = str(row[i])
            if i >= len(widths):
                widths.append(len(cell))
            elif len(cell) > widths[i]:
                widths[i] = len(cell)
    text = ""
    for row in rows:
        line = ""
        for i in range(len(row)):
            line = line + str(row[i]).ljust(widths[i])
            if i != len(row) - 1:
                line = line + " | "
        text = text + line.rstrip() + "\n"
    return text


def html_list(items, ordered=False):
    if ordered == True:
        tag = "ol"
    else:
        tag = "ul"
    html = "<" + tag + ">"
    for item in items:
        html = html + "<li>" + escape(item) + "</li>"
    html = html + "</" + tag + ">"
    return html


def escape(text):
    result = ""
    for ch in text:
        if ch == "&":
            result += "&amp;"
        elif ch == "<":
            result += "&lt;"
        elif ch == ">":
            result += "&gt;"
        elif ch == '"':
            result += "&quot;"
        else:
            result += ch
    return result


def count_words(text):
    counts = {}
    for word in text.lower().split():
        word = word.strip(".,;:!?")
        if word == "":
            continue
        if word in counts:
            counts[word] = counts[word] + 1
        else:
            counts[word] = 1
    return counts


def top_words(text, n=3):
    counts = count_words(text)
    pairs = []
    for word in counts:
        pairs.append((-counts[word], word))
    pairs.sort()
    result = []
    for i in range(min(n, len(pairs))):
        result.append(pairs[i][1])
    return result


def wrap(text, width=20):
    lines = []
    current = ""
    for word in text.split():
        if current == "":
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = current + " " + word
        else:
            lines.append(current)
            current = word
    if current != "":
        lines.append(current)
    return "\n".join(lines)
