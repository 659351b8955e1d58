//! The prover with the real `python3` and the pinned ruff: every class proven on a real change,
//! and refused on changes that look alike but can change behaviour.

use std::path::Path;

use noctune_core::{Proof, ProofInput, Prover};
use noctune_gates::AstProver;
use pretty_assertions::assert_eq;

use crate::support::{gates, write};

/// A repository at `dir` with a ruff configuration targeting `target` (`py311`).
async fn prover_in(dir: &Path, target: &str) -> AstProver {
    write(
        dir,
        "ruff.toml",
        &format!("target-version = \"{target}\"\n[lint]\nselect = [\"F\", \"E711\", \"UP\"]\n"),
    );
    AstProver::from_gates(&gates(dir).await).unwrap()
}

async fn prove(prover: &AstProver, path: &str, before: &str, after: &str) -> Option<Proof> {
    prover
        .prove(ProofInput {
            path: Path::new(path),
            before,
            after,
        })
        .await
        .unwrap()
}

/// The class of the proof, or `None`.
async fn class(prover: &AstProver, path: &str, before: &str, after: &str) -> Option<String> {
    prove(prover, path, before, after).await.map(|p| p.class)
}

// ---- formatting -----------------------------------------------------------------------------

const LAYOUT_BEFORE: &str = "\
import os
def join(parts,sep=u'/'):
    return sep.join( [os.fspath(p) for p in parts] )
";

#[tokio::test]
async fn formatting_is_proven_when_only_layout_comments_and_spelling_change() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = "\
import os


def join(parts, sep=\"/\"):  # the separator
    return sep.join([os.fspath(p) for p in parts])
";
    assert_eq!(
        prove(&prover, "pkg/paths.py", LAYOUT_BEFORE, after).await,
        Some(Proof {
            class: "formatting".to_owned(),
            argument: "the ASTs are equal (Python's `ast.dump`, positions ignored): only layout, \
                       comments or the spelling of literals changed, which CPython compiles the same"
                .to_owned(),
        })
    );
}

#[tokio::test]
async fn formatting_is_refused_when_a_string_or_the_header_changes() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    // Looks like a quote change, but the literal's content is different.
    let string = LAYOUT_BEFORE.replace("sep=u'/'", "sep=\"\\\\\"");
    assert_eq!(
        class(&prover, "pkg/paths.py", LAYOUT_BEFORE, &string).await,
        None
    );
    // A comment, but one that changes how the file runs.
    let shebang = format!("#!/usr/bin/env python2\n{LAYOUT_BEFORE}");
    assert_eq!(
        class(&prover, "pkg/paths.py", LAYOUT_BEFORE, &shebang).await,
        None
    );
    // A text that does not parse is never proven.
    let broken = LAYOUT_BEFORE.replace("parts,sep", "parts sep");
    assert_eq!(
        class(&prover, "pkg/paths.py", LAYOUT_BEFORE, &broken).await,
        None
    );
}

// ---- docstrings -----------------------------------------------------------------------------

const DOC_BEFORE: &str = "\
class Cache:
    def get(self, key):
        \"\"\"get\"\"\"
        return self.data.get(key)
";

#[tokio::test]
async fn docstrings_is_proven_when_only_docstrings_and_comments_change() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = "\
\"\"\"A small in-memory cache.\"\"\"


class Cache:
    \"\"\"Values by key.\"\"\"

    def get(self, key):
        # No default: a missing key gives None.
        \"\"\"The value stored under `key`, or None.\"\"\"
        return self.data.get(key)
";
    assert_eq!(
        prove(&prover, "cache.py", DOC_BEFORE, after).await,
        Some(Proof {
            class: "docstrings".to_owned(),
            argument: "the ASTs are equal once the module, class and function docstrings are \
                       removed: only docstrings and comments changed"
                .to_owned(),
        })
    );
}

#[tokio::test]
async fn docstrings_is_refused_when_code_changes_too() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = DOC_BEFORE
        .replace(
            "\"\"\"get\"\"\"",
            "\"\"\"The value, or an empty string.\"\"\"",
        )
        .replace("get(key)", "get(key, \"\")");
    assert_eq!(class(&prover, "cache.py", DOC_BEFORE, &after).await, None);
    // A string statement that is not first in the body is code, not a docstring.
    let moved = DOC_BEFORE.replace(
        "        \"\"\"get\"\"\"\n        return",
        "        x = 1\n        \"\"\"get\"\"\"\n        return",
    );
    assert_eq!(class(&prover, "cache.py", DOC_BEFORE, &moved).await, None);
}

// ---- annotations ----------------------------------------------------------------------------

const ANN_BEFORE: &str = "\
from typing import Optional


def find(items, name, default=None):
    total = 0
    for item in items:
        if item.name == name:
            return item
    return default
";

#[tokio::test]
async fn annotations_is_proven_when_only_harmless_annotations_change() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = "\
from typing import Optional


def find(items: list[\"Item\"], name: str | bytes, default: Optional[object] = None) -> object:
    total: int = 0
    for item in items:
        if item.name == name:
            return item
    return default
";
    assert_eq!(
        prove(&prover, "lookup.py", ANN_BEFORE, after).await,
        Some(Proof {
            class: "annotations".to_owned(),
            argument: "the ASTs are equal once annotations are stripped; 5 annotation(s) differ \
                       (find: parameter `items` +`list['Item']`, find: parameter `name` \
                       +`str | bytes`, find: parameter `default` +`Optional[object]`, \
                       find: return +`object`, find: annotated `total` +`int`); each is a local \
                       variable's (never evaluated) or is built of constants, names bound \
                       before it, attributes, subscripts and `|` only and evaluates without \
                       error (standard library names as themselves, others as plain classes), \
                       so evaluating it has no side effect; none is in a class whose annotations may define fields or \
                       on a function with a decorator that may read them, and none added \
                       contradicts the code it annotates"
                .to_owned(),
        })
    );
    // Attributes of a standard-library module, and a class of the file in a union.
    let before = "import typing\n\n\nclass Item:\n    pass\n\n\ndef first(items):\n    return items[0] if items else None\n";
    let after = "import typing\n\n\nclass Item:\n    pass\n\n\ndef first(items: typing.Sequence[Item]) -> Item | None:\n    return items[0] if items else None\n";
    assert_eq!(
        class(&prover, "first.py", before, after).await.as_deref(),
        Some("annotations")
    );
    // A plain class's attributes and methods.
    let before = "class Point:\n    x = 0\n    label = None\n\n    def norm(self):\n        return abs(self.x)\n";
    let after = "class Point:\n    x: int = 0\n    label: str | None = None\n\n    def norm(self) -> int:\n        return abs(self.x)\n";
    assert_eq!(
        class(&prover, "point.py", before, after).await.as_deref(),
        Some("annotations")
    );
}

#[tokio::test]
async fn annotations_with_a_call_are_proven_only_under_future_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let before = "from registry import register\n\n\ndef f(x):\n    return x\n";
    let after = "from registry import register\n\n\ndef f(x: register()):\n    return x\n";
    assert_eq!(class(&prover, "hooks.py", before, after).await, None);
    let future = "from __future__ import annotations\n";
    assert_eq!(
        class(
            &prover,
            "hooks.py",
            &format!("{future}{before}"),
            &format!("{future}{after}")
        )
        .await
        .as_deref(),
        Some("annotations")
    );
    // The future import in AFTER only is a compile-time change, not an annotation.
    assert_eq!(
        class(&prover, "hooks.py", before, &format!("{future}{after}")).await,
        None
    );
}

#[tokio::test]
async fn annotations_that_define_fields_or_fail_at_run_time_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let cases = [
        // A dataclass field's type.
        (
            "from dataclasses import dataclass\n\n\n@dataclass\nclass Row:\n    id: int\n    name = 'x'\n",
            "from dataclasses import dataclass\n\n\n@dataclass\nclass Row:\n    id: int\n    name: str = 'x'\n",
        ),
        // A NamedTuple field.
        (
            "from typing import NamedTuple\n\n\nclass Pair(NamedTuple):\n    left: int\n    right: int\n",
            "from typing import NamedTuple\n\n\nclass Pair(NamedTuple):\n    left: int\n    right: float\n",
        ),
        // A pydantic-style model: any base may read the annotations.
        (
            "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n    age = 0\n",
            "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n    age: int = 0\n",
        ),
        // singledispatch dispatches on the annotation.
        (
            "from functools import singledispatch\n\n\n@singledispatch\ndef show(x):\n    return 'x'\n\n\n@show.register\ndef _(x: int):\n    return 'int'\n",
            "from functools import singledispatch\n\n\n@singledispatch\ndef show(x):\n    return 'x'\n\n\n@show.register\ndef _(x: str):\n    return 'int'\n",
        ),
        // A name that is not bound yet: NameError when the def runs.
        (
            "def load(path):\n    return Config(path)\n\n\nclass Config:\n    pass\n",
            "def load(path) -> Config:\n    return Config(path)\n\n\nclass Config:\n    pass\n",
        ),
        // A plain class is not subscriptable: TypeError when the def runs.
        (
            "class Config:\n    pass\n\n\ndef load(path):\n    return Config()\n",
            "class Config:\n    pass\n\n\ndef load(path) -> Config[str]:\n    return Config()\n",
        ),
        // No such attribute: AttributeError when the def runs.
        (
            "import typing\n\n\ndef names(x):\n    return list(x)\n",
            "import typing\n\n\ndef names(x) -> typing.Lisst[str]:\n    return list(x)\n",
        ),
        // An attribute of a module the helper does not import cannot be vouched for.
        (
            "import numpy as np\n\n\ndef norm(x):\n    return np.abs(x)\n",
            "import numpy as np\n\n\ndef norm(x: np.ndarray):\n    return np.abs(x)\n",
        ),
        // typer reads the annotations of the function it is given.
        (
            "import typer\n\n\ndef main(count=1):\n    print(count)\n\n\ntyper.run(main)\n",
            "import typer\n\n\ndef main(count: int = 1):\n    print(count)\n\n\ntyper.run(main)\n",
        ),
        // The file reads annotations at run time.
        (
            "import typing\n\n\ndef f(x):\n    return x\n\n\nHINTS = typing.get_type_hints(f)\n",
            "import typing\n\n\ndef f(x: int):\n    return x\n\n\nHINTS = typing.get_type_hints(f)\n",
        ),
        // Removing a bare annotation in a function changes which `x` it reads.
        (
            "x = 1\n\n\ndef f():\n    x: int\n    return x\n",
            "x = 1\n\n\ndef f():\n    return x\n",
        ),
    ];
    for (before, after) in cases {
        assert_eq!(
            class(&prover, "models.py", before, after).await,
            None,
            "{after}"
        );
    }
}

#[tokio::test]
async fn annotations_that_contradict_the_code_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let describe = "def describe(unit):\n    spec = UNITS.get(unit)\n    if spec is None:\n        return None\n    return str(spec)\n";
    let refused = [
        // `return None` under `-> str` (the real 0.5B's answer on 24-typing-units-package).
        describe.replace("describe(unit)", "describe(unit: str) -> str"),
        // A bare `return` under a class of the file.
        "class Row:\n    pass\n\n\ndef first(rows):\n    if not rows:\n        return\n    return rows[0]\n"
            .replace("first(rows)", "first(rows) -> Row"),
        // The end of the body is reachable.
        "def sign(x):\n    if x > 0:\n        return 1\n    elif x < 0:\n        return -1\n"
            .replace("sign(x)", "sign(x) -> int"),
        // `-> None` on a function that returns a value.
        "def total(xs):\n    return sum(xs)\n".replace("total(xs)", "total(xs) -> None"),
        // A generator annotated as what it yields, or as returning nothing.
        "def count(n):\n    yield from range(n)\n".replace("count(n)", "count(n) -> int"),
        "def each(n):\n    yield n\n".replace("each(n)", "each(n) -> None"),
        // An implicit Optional (`typing.List` spelled through the module).
        "import typing\n\n\ndef tags(names=None):\n    return names or []\n"
            .replace("tags(names=None)", "tags(names: typing.List[str] = None)"),
    ];
    for after in &refused {
        let before = after
            .replace("(unit: str) -> str", "(unit)")
            .replace("(rows) -> Row", "(rows)")
            .replace("(x) -> int", "(x)")
            .replace("(xs) -> None", "(xs)")
            .replace("(n) -> int", "(n)")
            .replace("(n) -> None", "(n)")
            .replace("names: typing.List[str] = None", "names=None");
        assert_ne!(&before, after);
        assert_eq!(
            class(&prover, "units.py", &before, after).await,
            None,
            "{after}"
        );
    }
    // Look-alikes that are true of the code are proven.
    let proven = [
        (describe.to_owned(), describe.replace("describe(unit)", "describe(unit: str) -> str | None")),
        (describe.to_owned(), describe.replace("describe(unit)", "describe(unit: str) -> object")),
        // Every path returns or raises; `None` inside a nested function is not this one's.
        (
            "def sign(x):\n    def none():\n        return None\n    if x > 0:\n        return 1\n    else:\n        raise ValueError(x)\n".to_owned(),
            "def sign(x) -> int:\n    def none():\n        return None\n    if x > 0:\n        return 1\n    else:\n        raise ValueError(x)\n".to_owned(),
        ),
        // A generator annotated through a module the check does not judge.
        (
            "import collections.abc\n\n\ndef count(n):\n    yield from range(n)\n".to_owned(),
            "import collections.abc\n\n\ndef count(n) -> collections.abc.Iterator[int]:\n    yield from range(n)\n".to_owned(),
        ),
        (
            "from typing import Iterator\n\n\ndef count(n):\n    yield from range(n)\n".to_owned(),
            "from typing import Iterator\n\n\ndef count(n) -> Iterator[int]:\n    yield from range(n)\n".to_owned(),
        ),
        // A stub says nothing about what it returns.
        (
            "class Base:\n    def size(self):\n        raise NotImplementedError\n".to_owned(),
            "class Base:\n    def size(self) -> int:\n        raise NotImplementedError\n".to_owned(),
        ),
        // A name from elsewhere (a TypeVar, an alias) is not judged.
        (
            "from .types import Maybe\n\n\ndef get(key):\n    return None\n".to_owned(),
            "from .types import Maybe\n\n\ndef get(key) -> Maybe:\n    return None\n".to_owned(),
        ),
        // Correcting a wrong annotation: the one removed is not the change's to answer for.
        (
            describe.replace("describe(unit)", "describe(unit: str) -> str"),
            describe.replace("describe(unit)", "describe(unit: str) -> str | None"),
        ),
    ];
    for (before, after) in &proven {
        assert_eq!(
            class(&prover, "units.py", before, after).await.as_deref(),
            Some("annotations"),
            "{after}"
        );
    }
}

#[tokio::test]
async fn annotations_newer_than_the_target_version_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py39").await;
    let before = "def f(x):\n    return x\n";
    // `int | None` raises TypeError on Python 3.9 when the def runs.
    let after = "def f(x: int | None):\n    return x\n";
    assert_eq!(class(&prover, "compat.py", before, after).await, None);
    let after = "def f(x: list[int]):\n    return x\n";
    assert_eq!(
        class(&prover, "compat.py", before, after).await.as_deref(),
        Some("annotations")
    );
}

// ---- unused_imports -------------------------------------------------------------------------

const IMPORTS_BEFORE: &str = "\
import os, sys
from collections import OrderedDict, defaultdict
import json


def counts(words):
    result = defaultdict(int)
    for word in words:
        result[os.path.basename(word)] += 1
    return result
";

#[tokio::test]
async fn unused_imports_is_proven_for_unused_standard_library_imports() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = "\
import os
from collections import defaultdict


def counts(words):
    result = defaultdict(int)
    for word in words:
        result[os.path.basename(word)] += 1
    return result
";
    assert_eq!(
        prove(&prover, "app/words.py", IMPORTS_BEFORE, after).await,
        Some(Proof {
            class: "unused_imports".to_owned(),
            argument: "only imports were removed (`import sys`, `from collections import \
                       OrderedDict`, `import json`); ruff reports each unused (F401) in BEFORE; \
                       none is in `__all__` or in a package's `__init__.py`, and each imports a \
                       standard-library module without import side effects or one that stays \
                       imported"
                .to_owned(),
        })
    );
}

#[tokio::test]
async fn unused_imports_that_may_matter_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = IMPORTS_BEFORE.replace("import os, sys\n", "import os\n");
    // The same removal in a package's `__init__.py`: a re-export.
    assert_eq!(
        class(&prover, "app/__init__.py", IMPORTS_BEFORE, &after).await,
        None
    );
    // Listed in `__all__`.
    let exported = format!("{IMPORTS_BEFORE}\n\n__all__ = [\"counts\", \"sys\"]\n");
    let exported_after = format!("{after}\n\n__all__ = [\"counts\", \"sys\"]\n");
    assert_eq!(
        class(&prover, "app/words.py", &exported, &exported_after).await,
        None
    );
    // Imports with side effects, or that may have some.
    for import in [
        "import readline\n",
        "import mypkg.plugins\n",
        "from . import signals\n",
    ] {
        let before = format!("{import}{IMPORTS_BEFORE}");
        assert_eq!(
            class(&prover, "app/words.py", &before, IMPORTS_BEFORE).await,
            None,
            "{import}"
        );
    }
    // An unused import removed, and a body changed too.
    let both = after.replace("+= 1", "+= 2");
    assert_eq!(
        class(&prover, "app/words.py", IMPORTS_BEFORE, &both).await,
        None
    );
    // An import ruff does not report unused.
    let used = IMPORTS_BEFORE.replace("import os, sys\n", "import sys\n");
    assert_eq!(
        class(&prover, "app/words.py", IMPORTS_BEFORE, &used).await,
        None
    );
}

#[tokio::test]
async fn a_non_standard_module_that_stays_imported_may_lose_a_statement() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let before = "import mypkg.plugins\nfrom mypkg.plugins import load\n\nload()\n";
    let after = "from mypkg.plugins import load\n\nload()\n";
    assert_eq!(
        class(&prover, "app/main.py", before, after)
            .await
            .as_deref(),
        Some("unused_imports")
    );
    // `unload` may be a submodule, whose import runs code: not proven.
    let before = "from mypkg.plugins import load, unload\n\nload()\n";
    assert_eq!(class(&prover, "app/main.py", before, after).await, None);
}

// ---- ruff_safe_fix --------------------------------------------------------------------------

const FIX_BEFORE: &str = "\
class Reader(object):
    def __init__(self):
        super(Reader, self).__init__()


def read(x):
    y = 1
    if x == None:
        return \"%s\" % (x,)
    return x
";

#[tokio::test]
async fn ruff_safe_fix_is_proven_when_after_is_ruffs_safe_fix() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    let after = FIX_BEFORE
        .replace("class Reader(object):", "class Reader:")
        .replace("super(Reader, self)", "super()");
    assert_eq!(
        prove(&prover, "io/reader.py", FIX_BEFORE, &after).await,
        Some(Proof {
            class: "ruff_safe_fix".to_owned(),
            argument: "AFTER is exactly what `ruff 0.17.5 check --fix-only --no-unsafe-fixes \
                       --select UP004,UP008` makes of BEFORE with the repository's \
                       configuration; those are the rules ruff reports on BEFORE with a fix it \
                       classifies as safe, and it applies no other fix"
                .to_owned(),
        })
    );
}

#[tokio::test]
async fn ruff_unsafe_fixes_and_partial_fixes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prover = prover_in(dir.path(), "py311").await;
    // What `ruff check --fix --unsafe-fixes` makes of it: F841, E711 and UP031 are unsafe.
    let unsafe_fixed = "\
class Reader:
    def __init__(self):
        super().__init__()


def read(x):
    if x is None:
        return f\"{x}\"
    return x
";
    assert_eq!(
        class(&prover, "io/reader.py", FIX_BEFORE, unsafe_fixed).await,
        None
    );
    // One safe fix on top of an unrelated edit.
    let mixed = FIX_BEFORE
        .replace("class Reader(object):", "class Reader:")
        .replace("super(Reader, self)", "super()")
        .replace("return x\n", "return x or 0\n");
    assert_eq!(
        class(&prover, "io/reader.py", FIX_BEFORE, &mixed).await,
        None
    );
}

// ---- errors ---------------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test]
async fn a_python_that_cannot_run_the_helper_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python3");
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Python 3.11.0'; exit 0; fi\necho broken >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let python = noctune_gates::Python3::from_program(fake).await.unwrap();
    let config = Arc::new(noctune_gates::ProjectConfig::new(dir.path(), None));
    let prover = AstProver::new(python, config);
    let err = prover
        .prove(ProofInput {
            path: Path::new("a.py"),
            before: "x = 1\n",
            after: "x = 1\n",
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "gate `proof` could not run: `Python 3.11.0 (proof helper)` failed: exit code Some(3); stderr: broken"
    );
}

// ---- pack_rewrite ---------------------------------------------------------------------------

const HELPERS_BEFORE: &str = "\
def is_missing(value):
    return value == None


def is_present(value):
    if value != None:
        return True
    return False


def is_yes(answer):
    if answer.lower() in (\"y\", \"yes\"):
        return True
    return False
";

/// What the 0.5B wrote in the eval: both E711 sites and one of the two SIM103 sites fixed.
const HELPERS_AFTER: &str = "\
def is_missing(value):
    return value is None


def is_present(value):
    if value is not None:
        return True
    return False


def is_yes(answer):
    return answer.lower() in (\"y\", \"yes\")
";

async fn rewriting_prover(dir: &Path) -> AstProver {
    write(
        dir,
        "ruff.toml",
        "target-version = \"py311\"\n[lint]\nselect = [\"F\", \"E711\", \"SIM103\"]\n",
    );
    AstProver::from_gates(&gates(dir).await)
        .unwrap()
        .with_rewrites(&[
            noctune_gates::NONE_COMPARISON,
            noctune_gates::RETURN_CONDITION,
        ])
}

#[tokio::test]
async fn listed_rewrites_are_proven_site_by_site_as_ruffs_own_fixes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "helpers.py", HELPERS_BEFORE);
    write(
        dir.path(),
        "app.py",
        "import json\nimport helpers\nfrom . import util\n",
    );
    let prover = rewriting_prover(dir.path()).await;
    let proof = prove(&prover, "helpers.py", HELPERS_BEFORE, HELPERS_AFTER)
        .await
        .expect("proven");
    assert_eq!(proof.class, "pack_rewrite");
    assert!(
        proof.argument.contains("E711, SIM103"),
        "{}",
        proof.argument
    );
    // Anything beside ruff's fixes is not a rewrite.
    let more = HELPERS_AFTER.replace("value is None", "value is None or value == 0");
    assert_eq!(
        class(&prover, "helpers.py", HELPERS_BEFORE, &more).await,
        None
    );
    // A fix that is not ruff's (`bool(...)` around a comparison is ruff's only for others).
    let other = HELPERS_AFTER.replace(
        "return answer.lower() in (\"y\", \"yes\")",
        "return answer.lower() in (\"y\", \"yes\") or False",
    );
    assert_eq!(
        class(&prover, "helpers.py", HELPERS_BEFORE, &other).await,
        None
    );
    // A prover without the pack's list proves nothing here.
    let plain = prover_in(dir.path(), "py311").await;
    assert_eq!(
        class(&plain, "helpers.py", HELPERS_BEFORE, HELPERS_AFTER).await,
        None
    );
}

#[tokio::test]
async fn rewrites_are_refused_where_comparisons_may_not_be_plain() {
    for (file, text) in [
        (
            "money.py",
            "class Money:\n    def __eq__(self, other):\n        return other is None\n",
        ),
        ("arrays.py", "import numpy as np\n"),
        ("orm.py", "from sqlalchemy import Column\n"),
        ("tests/test_a.py", "from unittest import mock\n"),
        ("tests/test_b.py", "import unittest.mock\n"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), file, text);
        let prover = rewriting_prover(dir.path()).await;
        assert_eq!(
            class(&prover, "helpers.py", HELPERS_BEFORE, HELPERS_AFTER).await,
            None,
            "{file}"
        );
    }
}

async fn all_rewrites_prover(dir: &Path) -> AstProver {
    write(
        dir,
        "ruff.toml",
        "target-version = \"py311\"\n[lint]\nselect = [\"F\", \"E711\", \"SIM103\", \"SIM108\", \
         \"SIM102\", \"RET504\", \"C408\"]\n",
    );
    AstProver::from_gates(&gates(dir).await)
        .unwrap()
        .with_rewrites(&[
            noctune_gates::NONE_COMPARISON,
            noctune_gates::RETURN_CONDITION,
            noctune_gates::IF_ELSE_ASSIGNMENT,
            noctune_gates::COLLAPSIBLE_IF,
            noctune_gates::RETURN_OF_ASSIGNMENT,
            noctune_gates::EMPTY_COLLECTION_CALL,
        ])
}

const SHAPES_BEFORE: &str = "\
def rate(weight, express):
    if express:
        price = weight * 2
    else:
        price = weight
    return price


def allowed(user, resource):
    if user.active:
        if resource.public:
            return 1
    return 0


def empty():
    table = dict()
    table[\"a\"] = 1
    return table


def total(items):
    result = sum(items)
    return result
";

#[tokio::test]
async fn rewrites_with_no_condition_are_proven_even_spelled_differently() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "shapes.py", SHAPES_BEFORE);
    let prover = all_rewrites_prover(dir.path()).await;
    // Each as ruff writes it, or spelled differently (parentheses, line breaks): the same AST.
    for (from, to, rule) in [
        (
            "    if express:\n        price = weight * 2\n    else:\n        price = weight\n    return price\n",
            "    price = weight * 2 if express else weight\n    return price\n",
            "SIM108",
        ),
        (
            "    if express:\n        price = weight * 2\n    else:\n        price = weight\n    return price\n",
            "    price = (weight * 2) if (express) else weight\n    return price\n",
            "SIM108",
        ),
        // Two rounds: SIM108's assignment, then RET504's return.
        (
            "    if express:\n        price = weight * 2\n    else:\n        price = weight\n    return price\n",
            "    return weight * 2 if express else weight\n",
            "RET504, SIM108",
        ),
        (
            "    if user.active:\n        if resource.public:\n            return 1\n",
            "    if user.active and resource.public:\n        return 1\n",
            "SIM102",
        ),
        ("    table = dict()\n", "    table = {}\n", "C408"),
        (
            "    result = sum(items)\n    return result\n",
            "    return sum(items)\n",
            "RET504",
        ),
    ] {
        let after = SHAPES_BEFORE.replace(from, to);
        assert_ne!(after, SHAPES_BEFORE);
        let proof = prove(&prover, "shapes.py", SHAPES_BEFORE, &after)
            .await
            .unwrap_or_else(|| panic!("not proven: {to}"));
        assert_eq!(proof.class, "pack_rewrite", "{to}");
        assert!(proof.argument.contains(rule), "{to}: {}", proof.argument);
    }
}

#[tokio::test]
async fn look_alikes_of_the_rewrites_are_not_proven() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "shapes.py", SHAPES_BEFORE);
    let prover = all_rewrites_prover(dir.path()).await;
    for (from, to) in [
        // The branches swapped.
        (
            "    if express:\n        price = weight * 2\n    else:\n        price = weight\n",
            "    price = weight if express else weight * 2\n",
        ),
        // `or` for `and`.
        (
            "    if user.active:\n        if resource.public:\n            return 1\n",
            "    if user.active or resource.public:\n        return 1\n",
        ),
        // The nested test first: evaluated even when the outer one is false.
        (
            "    if user.active:\n        if resource.public:\n            return 1\n",
            "    if resource.public and user.active:\n        return 1\n",
        ),
        // A set for the dict.
        ("    table = dict()\n", "    table = set()\n"),
        // Returning something else.
        (
            "    result = sum(items)\n    return result\n",
            "    return sum(items) or None\n",
        ),
        // A right fix plus another change.
        ("    table = dict()\n", "    table = {\"b\": 2}\n"),
    ] {
        let after = SHAPES_BEFORE.replace(from, to);
        assert_ne!(after, SHAPES_BEFORE);
        assert_eq!(
            class(&prover, "shapes.py", SHAPES_BEFORE, &after).await,
            None,
            "{to}"
        );
    }
}

#[tokio::test]
async fn return_of_assignment_is_not_proven_where_ruff_sees_the_local_used() {
    // A closure reads `x`, a `finally` reads `x`, `x` is global: ruff reports no RET504 there,
    // so the same-looking rewrite is not proven.
    let before = "\
STORE = []


def closure():
    get = lambda: x
    STORE.append(get)
    x = 5
    return x


def logged(compute, log):
    try:
        x = compute()
        return x
    finally:
        log(x)


def shared():
    global y
    y = 5
    return y
";
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "locals.py", before);
    let prover = all_rewrites_prover(dir.path()).await;
    for (from, to) in [
        ("    x = 5\n    return x\n", "    return 5\n"),
        (
            "        x = compute()\n        return x\n",
            "        return compute()\n",
        ),
        ("    y = 5\n    return y\n", "    return 5\n"),
    ] {
        let after = before.replace(from, to);
        assert_ne!(after, before);
        assert_eq!(
            class(&prover, "locals.py", before, &after).await,
            None,
            "{to}"
        );
    }
}

// ---- pack_rewrite: `%` formatting ----------------------------------------------------------------

async fn printf_prover(dir: &Path, target: &str) -> AstProver {
    write(
        dir,
        "ruff.toml",
        &format!("target-version = \"{target}\"\n[lint]\nselect = [\"F\", \"UP031\", \"UP032\"]\n"),
    );
    AstProver::from_gates(&gates(dir).await)
        .unwrap()
        .with_rewrites(&[noctune_gates::PRINTF_FORMAT, noctune_gates::FORMAT_CALL])
}

const LABELS_BEFORE: &str = "\
def quoted(value):
    return \"value=%r\" % (value,)


def banner(title, line):
    return \"%s\\n%s\\n%s\" % (line, title, line)


def percent(ratio):
    return \"%s%%\" % int(ratio * 100)


def greeting(name):
    return \"Hello, %s!\" % name


def size(n):
    return \"%.2f MiB\" % (n,)


def kind(shape):
    return \"a %s\" % shape.__class__.__name__


def kind_of(shape):
    return \"a %s\" % type(shape).__name__


def named(handler):
    return \"a %s\" % handler.__name__
";

#[tokio::test]
async fn percent_formats_are_proven_where_a_replacement_field_spells_them_exactly() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "labels.py", LABELS_BEFORE);
    let prover = printf_prover(dir.path(), "py311").await;
    // What the 0.5B wrote in the eval: f-strings, two rounds of ruff's fixes (UP031 to
    // `str.format`, then UP032 to an f-string); and `str.format` itself, one round.
    for (from, to) in [
        ("\"value=%r\" % (value,)", "f\"value={value!r}\""),
        (
            "\"%s\\n%s\\n%s\" % (line, title, line)",
            "f\"{line}\\n{title}\\n{line}\"",
        ),
        ("\"%s%%\" % int(ratio * 100)", "f\"{int(ratio * 100)}%\""),
        (
            "\"%s%%\" % int(ratio * 100)",
            "\"{}%\".format(int(ratio * 100))",
        ),
        // A class's name is always a string.
        (
            "\"a %s\" % shape.__class__.__name__",
            "f\"a {shape.__class__.__name__}\"",
        ),
        (
            "\"a %s\" % type(shape).__name__",
            "f\"a {type(shape).__name__}\"",
        ),
    ] {
        let after = LABELS_BEFORE.replace(from, to);
        let proof = prove(&prover, "labels.py", LABELS_BEFORE, &after)
            .await
            .unwrap_or_else(|| panic!("{from} -> {to} is not proven"));
        assert_eq!(proof.class, "pack_rewrite");
        assert!(proof.argument.contains("UP031"), "{}", proof.argument);
        assert!(proof.argument.contains("__format__"), "{}", proof.argument);
    }
    // Not the same: a bare name may hold a tuple (`%` unpacks it), `%.2f` rounds a `Decimal`
    // as a float, and text lost or values swapped change the string.
    for (from, to) in [
        ("\"Hello, %s!\" % name", "f\"Hello, {name}!\""),
        // Any other object's `__name__` may be a tuple.
        ("\"a %s\" % handler.__name__", "f\"a {handler.__name__}\""),
        ("\"%.2f MiB\" % (n,)", "f\"{n:.2f} MiB\""),
        ("\"value=%r\" % (value,)", "f\"{value!r}\""),
        ("\"value=%r\" % (value,)", "f\"value={value}\""),
        (
            "\"%s\\n%s\\n%s\" % (line, title, line)",
            "f\"{title}\\n{line}\\n{line}\"",
        ),
    ] {
        let after = LABELS_BEFORE.replace(from, to);
        assert_eq!(
            class(&prover, "labels.py", LABELS_BEFORE, &after).await,
            None,
            "{from} -> {to}"
        );
    }
}

#[tokio::test]
async fn percent_formats_are_refused_where_formatting_may_not_be_plain() {
    let after = LABELS_BEFORE.replace("\"value=%r\" % (value,)", "f\"value={value!r}\"");
    // Before 3.11 an enum with a mixed-in type formats as its value and prints as its name.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "labels.py", LABELS_BEFORE);
    let old = printf_prover(dir.path(), "py310").await;
    assert_eq!(class(&old, "labels.py", LABELS_BEFORE, &after).await, None);
    for (file, text) in [
        (
            "money.py",
            "class Money:\n    def __format__(self, spec):\n        return 'M'\n",
        ),
        ("arrays.py", "import numpy as np\n"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "labels.py", LABELS_BEFORE);
        write(dir.path(), file, text);
        let prover = printf_prover(dir.path(), "py311").await;
        assert_eq!(
            class(&prover, "labels.py", LABELS_BEFORE, &after).await,
            None,
            "{file}"
        );
    }
}

// ---- type_comparison --------------------------------------------------------------------------

const KINDS_BEFORE: &str = "\
def kind(value, other):
    if type(value) == int:
        return \"int\"
    if type(value) != type(other):
        return \"mixed\"
    return \"same\"
";

#[tokio::test]
async fn type_equality_turned_into_identity_is_proven_where_comparisons_are_plain() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kinds.py", KINDS_BEFORE);
    let prover = prover_in(dir.path(), "py311").await;
    let both = KINDS_BEFORE
        .replace("type(value) == int", "type(value) is int")
        .replace("!= type(other)", "is not type(other)");
    // One site or both.
    for after in [
        KINDS_BEFORE.replace("type(value) == int", "type(value) is int"),
        both.clone(),
    ] {
        assert_eq!(
            class(&prover, "kinds.py", KINDS_BEFORE, &after)
                .await
                .as_deref(),
            Some("type_comparison"),
            "{after}"
        );
    }
    // Look-alikes that are not the same: `isinstance` accepts subclasses (and `bool` for
    // `int`), `is` where the other side is no `type(..)` call, the sense inverted, and a fix
    // with another change.
    for after in [
        KINDS_BEFORE.replace("type(value) == int", "isinstance(value, int)"),
        KINDS_BEFORE.replace("type(value) == int", "type(value) is not int"),
        KINDS_BEFORE
            .replace("value, other):", "value, other):\n    other = value")
            .replace("type(value) == int", "type(value) is int"),
        both.replace("\"same\"", "\"equal\""),
    ] {
        assert_eq!(
            class(&prover, "kinds.py", KINDS_BEFORE, &after).await,
            None,
            "{after}"
        );
    }
    // `type` rebound in the file is not the builtin.
    let rebound = format!("type = lambda v: v\n\n\n{KINDS_BEFORE}");
    assert_eq!(
        class(
            &prover,
            "kinds.py",
            &rebound,
            &rebound.replace("type(value) == int", "type(value) is int")
        )
        .await,
        None
    );
    // A metaclass may answer `==` its own way.
    write(
        dir.path(),
        "meta.py",
        "class Meta(type):\n    def __eq__(cls, other):\n        return True\n",
    );
    let metaclass = prover_in(dir.path(), "py311").await;
    assert_eq!(
        class(&metaclass, "kinds.py", KINDS_BEFORE, &both).await,
        None
    );
}
