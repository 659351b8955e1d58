#!/usr/bin/env python3
"""What plain `ruff check --fix` achieves on the eval corpus: the baseline `noctune eval` must beat.

For each case of eval/corpus/ (a directory with a case.toml), on fresh temporary copies:
count ruff's findings, run the case's tests, apply `ruff check --fix` (safe fixes only), count and
test again; then the same on another copy with `--fix --unsafe-fixes`. Prints a table and totals,
or JSON with --json. Standard library only.

    python3 eval/baseline.py [--ruff PATH] [--corpus DIR] [--json] [CASE ...]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
TEST_TIMEOUT = 60


def ruff_findings(ruff: str, case_dir: Path) -> list[dict]:
    """Ruff's findings for a case directory, with the case's own pyproject.toml."""
    proc = subprocess.run(
        [ruff, "check", "--no-cache", "--output-format", "json", "."],
        cwd=case_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed in {case_dir}: {proc.stderr.strip()}")
    return json.loads(proc.stdout or "[]")


def ruff_fix(ruff: str, case_dir: Path, unsafe: bool) -> None:
    cmd = [ruff, "check", "--no-cache", "--fix", "--quiet", "."]
    if unsafe:
        cmd.insert(3, "--unsafe-fixes")
    proc = subprocess.run(cmd, cwd=case_dir, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ruff --fix failed in {case_dir}: {proc.stderr.strip()}")


def run_tests(case_dir: Path, command: list[str]) -> tuple[bool, float, str]:
    """Runs the case's test command; (passed, seconds, output tail)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    start = time.monotonic()
    try:
        proc = subprocess.run(
            command,
            cwd=case_dir,
            capture_output=True,
            text=True,
            env=env,
            timeout=TEST_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - start, "timeout"
    elapsed = time.monotonic() - start
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
    return proc.returncode == 0, elapsed, tail


def unannotated(case_dir: Path) -> int:
    """Parameters and returns without an annotation in the case's code (tests excluded); the
    rule set leaves ANN out, so this is the typing_pass measure. `self`/`cls` as the first
    parameter of a function defined in a class are not counted."""
    count = 0
    for path in sorted(case_dir.rglob("*.py")):
        if "tests" in path.relative_to(case_dir).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        methods = {
            id(node) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) for node in cls.body
        }
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            args = node.args
            params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            if id(node) in methods and params and params[0].arg in ("self", "cls"):
                params = params[1:]
            params += [a for a in (args.vararg, args.kwarg) if a is not None]
            count += sum(1 for a in params if a.annotation is None)
            count += node.returns is None
    return count


def applicability(finding: dict) -> str:
    fix = finding.get("fix")
    if not fix:
        return "none"
    return fix.get("applicability", "unknown")


def copy_case(case_dir: Path, into: Path) -> Path:
    dest = into / case_dir.name
    shutil.copytree(
        case_dir, dest, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache", "*.pyc")
    )
    return dest


def measure_case(ruff: str, case_dir: Path) -> dict:
    spec = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    command = spec["test_command"]
    result: dict = {"case": case_dir.name, "pack": spec.get("pack", "?")}
    with tempfile.TemporaryDirectory(prefix="noctune-baseline-") as tmp:
        original = copy_case(case_dir, Path(tmp) / "original")
        findings = ruff_findings(ruff, original)
        result["before"] = len(findings)
        result["before_by_applicability"] = dict(Counter(applicability(f) for f in findings))
        result["before_by_rule"] = dict(sorted(Counter(f["code"] for f in findings).items()))
        result["unannotated"] = unannotated(original)
        ok, secs, tail = run_tests(original, command)
        result["tests_original"] = ok
        result["test_seconds"] = round(secs, 3)
        if not ok:
            result["tests_original_output"] = tail
        for label, unsafe in (("safe", False), ("unsafe", True)):
            work = copy_case(case_dir, Path(tmp) / label)
            ruff_fix(ruff, work, unsafe)
            after = ruff_findings(ruff, work)
            result[f"after_{label}"] = len(after)
            result[f"after_{label}_by_rule"] = dict(
                sorted(Counter(f["code"] for f in after).items())
            )
            ok, _, tail = run_tests(work, command)
            result[f"tests_{label}"] = ok
            if not ok:
                result[f"tests_{label}_output"] = tail
    return result


def yes_no(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def print_table(results: list[dict], ruff_version: str) -> None:
    headers = ["case", "pack", "before", "safe", "unsafe", "tests orig/safe/unsafe", "unannotated"]
    rows = [
        [
            r["case"],
            r["pack"],
            str(r["before"]),
            str(r["after_safe"]),
            str(r["after_unsafe"]),
            "/".join(yes_no(r[k]) for k in ("tests_original", "tests_safe", "tests_unsafe")),
            str(r["unannotated"]),
        ]
        for r in results
    ]
    n = len(results)
    totals = [
        f"total ({n} cases)",
        "",
        str(sum(r["before"] for r in results)),
        str(sum(r["after_safe"] for r in results)),
        str(sum(r["after_unsafe"] for r in results)),
        "/".join(
            str(sum(r[k] for r in results))
            for k in ("tests_original", "tests_safe", "tests_unsafe")
        )
        + " pass",
        str(sum(r["unannotated"] for r in results)),
    ]
    widths = [max(len(row[i]) for row in [headers, *rows, totals]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(f"ruff: {ruff_version}")
    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(line(totals))

    kinds = Counter()
    for r in results:
        kinds.update(r["before_by_applicability"])
    print()
    print(
        "findings before, by fix: "
        + ", ".join(
            f"{k}={kinds[k]}" for k in ("safe", "unsafe", "display-only", "none") if kinds[k]
        )
    )
    remaining = Counter()
    for r in results:
        remaining.update(r["after_safe_by_rule"])
    print(
        "left after the safe fix, by rule: "
        + ", ".join(f"{code} {count}" for code, count in remaining.most_common())
    )
    slow = [r["case"] for r in results if r["test_seconds"] >= 2]
    if slow:
        print("tests slower than 2 s: " + ", ".join(slow))
    for r in results:
        for k in ("tests_original", "tests_safe", "tests_unsafe"):
            if not r[k]:
                print(f"\n{r['case']}: tests fail ({k[6:]}):\n{r.get(k + '_output', '')}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ruff", default=shutil.which("ruff") or "ruff", help="ruff binary")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    args = parser.parse_args(argv)

    version = subprocess.run(
        [args.ruff, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    cases = sorted(p.parent for p in args.corpus.glob("*/case.toml"))
    if args.cases:
        cases = [c for c in cases if c.name in args.cases]
    if not cases:
        print(f"no cases in {args.corpus}", file=sys.stderr)
        return 2
    results = [measure_case(args.ruff, c) for c in cases]
    if args.json:
        json.dump({"ruff": version, "cases": results}, sys.stdout, indent=2)
        print()
    else:
        print_table(results, version)
    return 0 if all(r["tests_original"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
