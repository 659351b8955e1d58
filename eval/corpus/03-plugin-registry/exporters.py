from registry import register
import json
import string


@register("csv")
def export_csv(rows, sep=","):
    """Comma-separated values, quoted where needed."""
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            text = str(cell)
            if sep in text or '"' in text:
                text = '"' + text.replace('"', '""') + '"'
            cells.append(text)
        lines.append(sep.join(cells))
    return "\n".join(lines)


@register("tsv", aliases=["tab"])
def export_tsv(rows):
    """Tab-separated values."""
    return export_csv(rows, sep="\t")


@register("json")
def export_json(rows, header=None):
    """A JSON list of lists, or of objects when a header is given."""
    if header == None:
        return json.dumps(list(map(lambda r: list(r), rows)))
    records = []
    for row in rows:
        record = {}
        for i in range(len(header)):
            record[header[i]] = row[i]
        records.append(record)
    return json.dumps(records, sort_keys=True)
