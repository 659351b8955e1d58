#!/usr/bin/env python3
"""Checks that each case's tests pin behaviour: applies hand-written behaviour-changing mutations,
one at a time, to a temporary copy of its case and expects the case's tests to fail. Many mutations
are the plausible wrong "fixes" of a finding (isinstance for type() ==, truthiness for == True,
except Exception for a bare except that must also catch KeyboardInterrupt, a dropped side-effect
import). Standard library only.

    python3 eval/check_mutations.py        # exit 1 when a mutation survives or no longer applies
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

# (case, file, text to replace, replacement)
M = [
    (
        "01-config-loader",
        "config_loader.py",
        'if raw.lower() in ("no", "false", "off"):',
        'if raw.lower() in ("no", "false"):',
    ),
    (
        "01-config-loader",
        "config_loader.py",
        "    except:\n        return {}",
        "    except ValueError:\n        return {}",
    ),
    ("01-config-loader", "config_loader.py", "if default == None and has_key", "if has_key"),
    (
        "02-ledger-package",
        "ledger/money.py",
        "if type(cents) != int:",
        "if not isinstance(cents, int):",
    ),
    (
        "02-ledger-package",
        "ledger/__init__.py",
        "from .accounts import format_amount, format_statement\n",
        "from .accounts import format_amount\n",
    ),
    (
        "02-ledger-package",
        "ledger/accounts.py",
        'self.history = self.history + [("deposit", amount)]',
        'self.history.append(("deposit", amount))',
    ),
    ("03-plugin-registry", "exporting.py", "import exporters\n", ""),
    ("03-plugin-registry", "exporters.py", "if sep in text or '\"' in text:", "if sep in text:"),
    (
        "03-plugin-registry",
        "registry.py",
        "if include_aliases == True:",
        "if include_aliases:\n        pass\n    if False:",
    ),
    (
        "04-mutable-defaults",
        "tasks.py",
        "def memo_fib(n, cache={}):",
        "def memo_fib(n, cache=None):\n    cache = {} if cache is None else cache",
    ),
    (
        "04-mutable-defaults",
        "tasks.py",
        "result = seen + [tag]",
        "seen.append(tag)\n    result = seen",
    ),
    (
        "04-mutable-defaults",
        "tasks.py",
        "key=lambda t: (-t.priority, t.name)",
        "key=lambda t: (t.priority, t.name)",
    ),
    (
        "05-shadowed-builtins",
        "records.py",
        "if max == None or r[field] > max[field]:",
        "if max == None or r[field] >= max[field]:",
    ),
    (
        "05-shadowed-builtins",
        "records.py",
        'return "#%(id)d %(type)s %(amount).2f" % record',
        'return "#%(id)d %(type)s %(amount)s" % record',
    ),
    ("06-string-building", "textutil.py", "if ordered == True:", "if ordered:"),
    (
        "06-string-building",
        "textutil.py",
        "pairs.append((-counts[word], word))",
        "pairs.append((counts[word], word))",
    ),
    (
        "06-string-building",
        "textutil.py",
        "elif len(current) + 1 + len(word) <= width:",
        "elif len(current) + len(word) <= width:",
    ),
    ("07-validators", "validators.py", "if flag != True:", "if flag is not True:"),
    (
        "07-validators",
        "validators.py",
        "if type(value) == int or type(value) == float:",
        "if isinstance(value, (int, float)):",
    ),
    ("07-validators", "validators.py", "            if n < 65536:", "            if n <= 65536:"),
    ("08-nested-conditions", "rules.py", "        if weight < 30:", "        if weight <= 30:"),
    (
        "08-nested-conditions",
        "rules.py",
        '        if not doc.get("locked"):',
        '        if doc.get("locked") is not True:',
    ),
    (
        "08-nested-conditions",
        "rules.py",
        "            if found is None:\n                found = item",
        "            found = item",
    ),
    (
        "09-error-handling",
        "fetcher.py",
        "        except:\n            last = i",
        "        except Exception:\n            last = i",
    ),
    (
        "09-error-handling",
        "fetcher.py",
        "        except TypeError:\n            raise TypeError",
        "        except TypeError:\n            raise KeyError",
    ),
    (
        "09-error-handling",
        "fetcher.py",
        "            errors = errors + 1",
        "            errors = 1",
    ),
    ("10-long-report", "report.py", "if amount == 0 and show_empty == False:", "if amount == 0:"),
    (
        "10-long-report",
        "report.py",
        "ranked.sort(key=lambda x: (-x[0], x[1]))",
        "ranked.sort(reverse=True)",
    ),
    ("10-long-report", "report.py", "        if qty < 0:", "        if qty <= 0:"),
    (
        "11-collections-idioms",
        "stock.py",
        'return list(i["sku"] for i in items)[0]',
        'return next(i["sku"] for i in items)',
    ),
    ("11-collections-idioms", "stock.py", "new = dict(item)", "new = item"),
    (
        "11-collections-idioms",
        "stock.py",
        'return set([item.get("category", "misc") for item in items])',
        'return set([item.get("category") for item in items])',
    ),
    (
        "12-unused-names",
        "logparse.py",
        "return Entry(date, clock, level.upper(), message)",
        "return Entry(date, clock, level, message)",
    ),
    (
        "12-unused-names",
        "logparse.py",
        "        if value > best_count:",
        "        if value >= best_count:",
    ),
    (
        "12-unused-names",
        "logparse.py",
        "return [e.message for e in entries if e.level == level]",
        'return [e.message for e in entries if e.level == "ERROR"]',
    ),
    (
        "13-percent-format",
        "messages.py",
        'return "%.2f %s" % (size, unit)',
        'return f"{size} {unit}"',
    ),
    ("13-percent-format", "messages.py", 'return "value=%r" % (value,)', 'return f"value={value}"'),
    (
        "13-percent-format",
        "messages.py",
        '"attempt {0} of {1}, retrying in {2:.1f}s"',
        '"attempt {0} of {1}, retrying in {2}s"',
    ),
    ("14-legacy-classes", "shapes.py", "    __bool__ = __nonzero__\n", ""),
    ("14-legacy-classes", "shapes.py", 'return base + " (side %s)" % self.width', "return base"),
    (
        "14-legacy-classes",
        "shapes.py",
        "return self.shape.area() * self.factor ** 2",
        "return self.shape.area() * self.factor",
    ),
    ("15-io-compat", "fileutil.py", "        if e.errno != errno.EEXIST:\n            raise\n", ""),
    ("15-io-compat", "fileutil.py", 'f = open(path, "a")', 'f = open(path, "w")'),
    (
        "15-io-compat",
        "fileutil.py",
        'return [line.rstrip("\\n") for line in f.readlines()]',
        "return [line.strip() for line in f.readlines()]",
    ),
    (
        "16-functional-style",
        "grades.py",
        "    if type(value) == list or type(value) == tuple:",
        "    if isinstance(value, (list, tuple)):",
    ),
    (
        "16-functional-style",
        "grades.py",
        "    if type(value) is int:",
        "    if isinstance(value, int):",
    ),
    (
        "16-functional-style",
        "grades.py",
        "return reduce(operator.mul, values, 1)",
        "return reduce(operator.mul, values, 0)",
    ),
    (
        "17-version-compat",
        "xmlsettings.py",
        "        return \"{0} = '{1}'\".format(name, value)",
        '        return "{0} = {1}".format(name, value)',
    ),
    ("17-version-compat", "xmlsettings.py", "@functools.lru_cache(maxsize=None)\n", ""),
    (
        "17-version-compat",
        "xmlsettings.py",
        "        if name.startswith(prefix):",
        "        if prefix in name:",
    ),
    (
        "18-typing-aliases",
        "schedule.py",
        "            if s.start < end and start < s.end:",
        "            if s.start < end and start <= s.end:",
    ),
    (
        "18-typing-aliases",
        "schedule.py",
        'def agenda(calendar: "Calendar") -> List[str]:',
        'def agenda(calendar: "Calender") -> List[str]:',
    ),
    (
        "18-typing-aliases",
        "schedule.py",
        "            cursor = max(cursor, s.end)",
        "            cursor = s.end",
    ),
    (
        "19-old-stdlib-idioms",
        "csvtools.py",
        "                row[header[i]] = None",
        '                row[header[i]] = ""',
    ),
    (
        "19-old-stdlib-idioms",
        "csvtools.py",
        'return hashlib.md5(text.encode("utf-8")).hexdigest()',
        'return hashlib.sha1(text.encode("utf-8")).hexdigest()',
    ),
    (
        "19-old-stdlib-idioms",
        "csvtools.py",
        'return "{} rows, columns: {}".format(len(rows), ", ".join(rows[0].keys()))',
        'return "{} rows, columns: {}".format(len(rows), ",".join(rows[0].keys()))',
    ),
    (
        "20-typing-geometry",
        "geometry.py",
        "def scale(self, factor):",
        "def scale(self, factor: Scalar):",
    ),
    ("20-typing-geometry", "geometry.py", "    return abs(total) / 2.0", "    return total / 2.0"),
    (
        "20-typing-geometry",
        "geometry.py",
        "def translate_all(points, offset=Point(0, 0)):",
        "def translate_all(points, offset=Point(1, 0)):",
    ),
    (
        "21-typing-event-bus",
        "events.py",
        "        subs.sort(key=lambda s: -s.priority)",
        "        subs.sort(key=lambda s: s.priority, reverse=True)\n        subs.reverse()",
    ),
    (
        "21-typing-event-bus",
        "events.py",
        "        return bool(self.predicate(event))",
        "        return self.predicate(event)",
    ),
    (
        "21-typing-event-bus",
        "events.py",
        "    def publish(self, name, payload=None, source=None):",
        "    def publish(self, name: str, payload: Optional[dict] = None, source=None):",
    ),
    (
        "22-typing-cache",
        "ttlcache.py",
        "        return self.clock() - stamp >= self.ttl",
        "        return self.clock() - stamp > self.ttl",
    ),
    (
        "22-typing-cache",
        "ttlcache.py",
        "        store = cache if cache is not None else TTLCache(ttl)",
        "        store = cache or TTLCache(ttl)",
    ),
    (
        "22-typing-cache",
        "ttlcache.py",
        "def __init__(self, ttl=60.0, maxsize=128, clock=default_clock):",
        "def __init__(self, ttl=60.0, maxsize=128, clock=time.monotonic):",
    ),
    (
        "23-typing-tokenizer",
        "calc.py",
        "            return base ** self.power()",
        "            return base ** self.unary()",
    ),
    (
        "23-typing-tokenizer",
        "calc.py",
        "        self.variables = variables or {}",
        "        self.variables = variables",
    ),
    (
        "23-typing-tokenizer",
        "calc.py",
        'tokens.append(("num", float(number) if "." in number else int(number)))',
        'tokens.append(("num", float(number)))',
    ),
    (
        "24-typing-units-package",
        "units/__init__.py",
        "from units.table import UNITS, dimension_of, units_for",
        "from units.table import units_for",
    ),
    (
        "24-typing-units-package",
        "units/conversion.py",
        "    if digits is not None:",
        "    if digits:",
    ),
    (
        "24-typing-units-package",
        "units/table.py",
        '    return a != "unknown" and a == b',
        "    return a == b",
    ),
    ("25-small-helpers", "helpers.py", "        if f == True:", "        if f:"),
    (
        "25-small-helpers",
        "helpers.py",
        "    return type(value) == str",
        "    return isinstance(value, str)",
    ),
    (
        "25-small-helpers",
        "helpers.py",
        "    except:\n        return {}",
        "    except ValueError:\n        return {}",
    ),
    ("25-small-helpers", "helpers.py", "    result = dict(a.items())", "    result = a"),
    (
        "26-shopping-cart",
        "cart.py",
        "        self.items = dict(items)",
        "        self.items = items",
    ),
    (
        "26-shopping-cart",
        "cart.py",
        "        if total >= self.min_total:",
        "        if total > self.min_total:",
    ),
    (
        "26-shopping-cart",
        "cart.py",
        "            self.items[sku] = (old_price, old_qty + qty)",
        "            self.items[sku] = (D(str(price)), old_qty + qty)",
    ),
]

bad = 0
seen = set()
for case, rel, old, new in M:
    seen.add(case)
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / case
        shutil.copytree(CORPUS / case, dst)
        p = dst / rel
        s = p.read_text()
        if s.count(old) != 1:
            print(f"!! {case}: pattern found {s.count(old)} times: {old!r}")
            bad += 1
            continue
        p.write_text(s.replace(old, new))
        r = subprocess.run(
            ["python3", "-m", "unittest", "discover", "-s", "tests", "-t", "."],
            cwd=dst,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
        )
        status = "caught" if r.returncode != 0 else "SURVIVED"
        if r.returncode == 0:
            bad += 1
        last = (r.stdout + r.stderr).strip().splitlines()[-1]
        print(f"{status:8} {case:26} {rel:22} {old.splitlines()[0][:50]!r} -> {last}")
missing = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name not in seen)
print("cases without a mutation:", missing)
print("mutations:", len(M), "problems:", bad)
sys.exit(1 if bad or missing else 0)
