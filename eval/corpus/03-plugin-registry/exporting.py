"""Entry point of the export command: importing the exporters registers them."""
import os
import registry
import exporters

EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json"}


def export(rows, fmt="csv", **options):
    func = registry.lookup(fmt)
    return func(rows, **options)


def available_formats():
    formats = registry.names()
    if len(formats) == 0:
        return "none"
    else:
        return ", ".join(formats)


def guess_format(filename, default=None):
    dot = filename.rfind(".")
    if dot == -1:
        return default
    ext = filename[dot:].lower()
    if ext in EXTENSIONS.keys():
        return EXTENSIONS[ext]
    return default


def export_to_file(rows, filename, fmt=None, **options):
    if fmt == None:
        fmt = guess_format(filename, "csv")
    text = export(rows, fmt, **options)
    f = open(filename, "w")
    f.write(text + "\n")
    f.close()
    return len(text) + 1
