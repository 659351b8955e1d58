"""The Python tree-sitter way of building a repo map (as aider does): parse every file, then
run a tags query (definitions and references) over each tree. Prints parse and query time.

Usage: py_tree_sitter_tags.py ROOT [--exclude DIRNAME]...   (needs `tree-sitter` and
`tree-sitter-python` from PyPI; see docs/benchmarks.md)
"""

import json
import os
import sys
import time

import tree_sitter_python
from tree_sitter import Language, Parser, Query, QueryCursor

TAGS = """
(class_definition name: (identifier) @name.definition.class) @definition.class
(function_definition name: (identifier) @name.definition.function) @definition.function
(call function: [
    (identifier) @name.reference.call
    (attribute attribute: (identifier) @name.reference.call)
]) @reference.call
"""


def python_files(root, exclude):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in exclude and not d.startswith(".") and d != "__pycache__"
        )
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def main():
    root = sys.argv[1]
    exclude = {sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--exclude"}
    language = Language(tree_sitter_python.language())
    parser = Parser(language)
    query = Query(language, TAGS)
    files = list(python_files(root, exclude))
    parse_s = query_s = 0.0
    size = tags = 0
    for path in files:
        with open(path, "rb") as f:
            source = f.read()
        size += len(source)
        t0 = time.perf_counter()
        tree = parser.parse(source)
        t1 = time.perf_counter()
        captures = QueryCursor(query).captures(tree.root_node)
        tags += sum(len(nodes) for nodes in captures.values())
        t2 = time.perf_counter()
        parse_s += t1 - t0
        query_s += t2 - t1
    print(json.dumps({
        "files": len(files),
        "mb": round(size / 1e6, 1),
        "parse_s": round(parse_s, 2),
        "query_s": round(query_s, 2),
        "total_s": round(parse_s + query_s, 2),
        "captures": tags,
    }))


if __name__ == "__main__":
    main()
