//! `pack_rewrite`: AFTER is exactly what ruff's fix of a rule makes of BEFORE, for a rule a pack
//! lists as an equivalent rewrite, with the argument why it keeps behaviour here.
//!
//! Ruff marks some fixes unsafe because they keep behaviour only under a condition it cannot
//! see. Where the condition can be checked in the repository, the rewrite is proven: the
//! change must be ruff's own fixes at the sites it touches (byte for byte, so the model wrote
//! nothing else; a model may fix some sites and leave others), and the condition must hold.

use std::collections::BTreeSet;
use std::path::Path;

use noctune_core::Proof;

use super::analysis;
use crate::error::Result;
use crate::target::PythonVersion;
use crate::tools::{Python3, Ruff, RuffDiagnostic, apply_fixes};

/// The class name.
pub const PACK_REWRITE: &str = "pack_rewrite";

/// A rewrite a pack lists as keeping behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquivalentRewrite {
    /// The ruff rule whose fix is the rewrite.
    pub rule: &'static str,
    /// Why the rewrite keeps behaviour, given the condition.
    pub argument: &'static str,
    /// What must hold in the repository for the argument to hold.
    pub condition: Condition,
}

/// What must hold in the repository for a rewrite to keep behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Nothing: the rewrite keeps behaviour everywhere ruff offers it.
    None,
    /// Comparisons are plain: no class defines a comparison method, only the standard library
    /// and the repository's own modules are imported, never `unittest.mock`.
    PlainComparisons,
    /// Formatting is plain: `format(x, "")` is `str(x)` for every value, because no class in the
    /// repository defines `__format__`, only the standard library and the repository's own
    /// modules are imported, and the target is Python 3.11 or newer (before 3.11 an enum with a
    /// mixed-in type formats as its value but prints as its name). Each site must also be one
    /// whose conversions a replacement field spells exactly (`analysis::printf_sites`).
    PlainFormatting,
}

/// What the repository's Python files show about the conditions (see [`Condition`]), read once
/// per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RepositoryFacts {
    /// Comparisons are plain.
    pub plain_comparisons: bool,
    /// No class defines `__format__` and only the standard library and the repository's own
    /// modules are imported.
    pub plain_formatting: bool,
}

impl RepositoryFacts {
    /// Whether `condition` holds for a file targeting `target`.
    pub fn hold(&self, condition: Condition, target: PythonVersion) -> bool {
        match condition {
            Condition::None => true,
            Condition::PlainComparisons => self.plain_comparisons,
            Condition::PlainFormatting => {
                self.plain_formatting && (target.major, target.minor) >= (3, 11)
            }
        }
    }
}

/// `x == None` → `x is None`, `x != None` → `x is not None` (E711). `None` equals only itself
/// under the default `__eq__` and every builtin type's: the spellings differ only for objects
/// whose class answers `==` its own way (numpy arrays, SQLAlchemy columns, `mock.ANY`), which
/// the condition rules out.
pub const NONE_COMPARISON: EquivalentRewrite = EquivalentRewrite {
    rule: "E711",
    argument: "`== None`/`!= None` became `is None`/`is not None`, which None's identity makes \
               the same for objects with the default or a builtin type's `__eq__`",
    condition: Condition::PlainComparisons,
};

/// `if c: return True / return False` → `return c` (SIM103). Ruff returns the condition itself
/// only when it is a comparison, `in`, `is` or `not`, and wraps any other in `bool(...)`;
/// `not`, `in` and `is` always give a bool, and a comparison does for builtin types, which the
/// condition ensures. Its fix is unsafe for ruff only because it drops comments.
pub const RETURN_CONDITION: EquivalentRewrite = EquivalentRewrite {
    rule: "SIM103",
    argument: "`if c: return True` / `return False` became `return c` (`bool(c)` unless `c` is a \
               comparison, `in`, `is` or `not`), the same value for builtin comparisons",
    condition: Condition::PlainComparisons,
};

/// `if c: x = a` / `else: x = b` → `x = a if c else b` (SIM108). Ruff offers it only when both
/// branches are one assignment to the same target; the test is evaluated and truth-tested once,
/// exactly one of `a` and `b` is evaluated, then the target is assigned once, in the same order
/// as the statement it replaces (right-hand side first, then the target's own parts). Its fix
/// is unsafe for ruff only because it drops comments. No condition.
pub const IF_ELSE_ASSIGNMENT: EquivalentRewrite = EquivalentRewrite {
    rule: "SIM108",
    argument: "`if c: x = a` / `else: x = b` became `x = a if c else b`: the test once, one \
               branch's value, one assignment, in the same order",
    condition: Condition::None,
};

/// `if a:` holding only `if b: ...` (neither with `else`/`elif`) → `if a and b: ...`
/// (SIM102). CPython compiles a boolean operator in an `if` test to one truth test per operand
/// with a jump on each, exactly as the nested tests: `a` is evaluated and tested, then `b` only
/// when `a` is true. No condition.
pub const COLLAPSIBLE_IF: EquivalentRewrite = EquivalentRewrite {
    rule: "SIM102",
    argument: "`if a:` / `if b:` became `if a and b:`, which CPython compiles to the same two \
               truth tests and jumps",
    condition: Condition::None,
};

/// `x = e` / `return x` → `return e` (RET504). Ruff reports it only when the assignment
/// immediately precedes the return, `x` is a plain local (not `global`/`nonlocal`, not read by a
/// closure, a `finally` or anything else afterwards): the value returned is the same, and the
/// local is gone with the frame. No condition.
pub const RETURN_OF_ASSIGNMENT: EquivalentRewrite = EquivalentRewrite {
    rule: "RET504",
    argument: "`x = e` / `return x` became `return e`: ruff reports it only for a local nothing \
               else reads",
    condition: Condition::None,
};

/// `dict()` → `{}`, `dict(a=1)` → `{"a": 1}`, `list()` → `[]`, `tuple()` → `()` (C408). Ruff
/// reports it only where the name is the builtin (not shadowed or rebound): the literal builds
/// the same value, keyword names becoming string keys in the same order. No condition.
pub const EMPTY_COLLECTION_CALL: EquivalentRewrite = EquivalentRewrite {
    rule: "C408",
    argument: "a call of the builtin `dict()`/`list()`/`tuple()` became the literal that builds \
               the same value",
    condition: Condition::None,
};

/// `"%s: %r" % (a, b)` → `"{}: {!r}".format(a, b)` (UP031), and on to `f"{a}: {b!r}"` with
/// [`FORMAT_CALL`]. `%s` converts with `str(x)` and `{}` with `format(x, "")`, which is
/// `str(x)` for every type that does not define `__format__` its own way; `%r`/`%a` and
/// `{!r}`/`{!a}` both call `repr`/`ascii`. Only sites whose conversions are those (no width,
/// precision or flags: `%.2f` of a `Decimal` rounds as a float, `{:.2f}` as a decimal) and whose
/// right operand `%` cannot unpack differently (a tuple display with one element per conversion,
/// or one value that is never a tuple) are proven.
pub const PRINTF_FORMAT: EquivalentRewrite = EquivalentRewrite {
    rule: "UP031",
    argument: "`%s`/`%r` formatting became replacement fields, which call the same `str`/`repr` \
               for values whose class does not define `__format__`, on a tuple display or a \
               value that is never a tuple",
    condition: Condition::PlainFormatting,
};

/// `"{}: {!r}".format(a, b)` → `f"{a}: {b!r}"` (UP032). Both call `format` on each value with
/// the same specification; ruff offers it only where every argument is used once, in order,
/// and marks it safe. No condition.
pub const FORMAT_CALL: EquivalentRewrite = EquivalentRewrite {
    rule: "UP032",
    argument: "`str.format` became an f-string with the same fields and values, in order",
    condition: Condition::None,
};

/// Proves the change when AFTER is BEFORE with ruff's fixes (safe or not) of some of the
/// sites where BEFORE breaks a listed rule, possibly spelled differently: the fixes of the
/// sites touching changed lines give AFTER byte for byte, or a text whose AST equals AFTER's
/// (the `formatting` class's argument: same tree, same program), in up to [`MAX_ROUNDS`]
/// rounds (a fix can make the next site: `SIM108`'s assignment then `RET504`'s return).
/// Rewrites whose condition does not hold in `facts` are not used, and a `UP031` site only
/// counts where `analysis::printf_sites` lists it.
#[allow(clippy::too_many_arguments)]
pub async fn prove(
    ruff: &Ruff,
    python: &Python3,
    root: &Path,
    path: &Path,
    before: &str,
    after: &str,
    target: PythonVersion,
    rewrites: &[EquivalentRewrite],
    facts: RepositoryFacts,
) -> Result<Option<Proof>> {
    let usable: Vec<&EquivalentRewrite> = rewrites
        .iter()
        .filter(|r| facts.hold(r.condition, target))
        .collect();
    if usable.is_empty() || before == after {
        return Ok(None);
    }
    let rules: Vec<&str> = usable.iter().map(|r| r.rule).collect();
    let mut text = before.to_owned();
    let mut applied: Vec<String> = Vec::new();
    let mut sites = 0;
    for _ in 0..MAX_ROUNDS {
        let found = ruff
            .check_selected(root, path, &text, target, &rules)
            .await?;
        if found.iter().any(|d| d.is_syntax_error()) {
            return Ok(None);
        }
        let changed = changed_lines(&text, after);
        let mut touching: Vec<&RuffDiagnostic> = found
            .iter()
            .filter(|d| d.fix.is_some())
            .filter(|d| {
                let (Some(from), Some(to)) = (d.location, d.end_location) else {
                    return false;
                };
                changed.iter().any(|&(a, b)| from.row <= b && a <= to.row)
            })
            .collect();
        if touching.iter().any(|d| is_printf(d)) {
            let plain = analysis::printf_sites(python, &text).await?;
            touching.retain(|d| {
                !is_printf(d)
                    || d.location
                        .is_some_and(|at| plain.contains(&(at.row, at.column)))
            });
        }
        if touching.is_empty() || touching.len() > MAX_SITES {
            return Ok(None);
        }
        // Which of those sites the change fixed: the subset whose fixes give AFTER (a site's
        // rules can overlap, E711 inside a SIM103, and the change may fix one of them).
        let subsets: Vec<Vec<&RuffDiagnostic>> = (1..1u32 << touching.len())
            .map(|mask| {
                touching
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, d)| *d)
                    .collect()
            })
            .collect();
        let fixed: Vec<(usize, String)> = subsets
            .iter()
            .enumerate()
            .filter_map(|(i, subset)| apply_fixes(&text, subset).map(|t| (i, t)))
            .collect();
        let mut hit = fixed.iter().find(|(_, t)| t == after).map(|(i, _)| *i);
        if hit.is_none() {
            // Spelled differently: the same tree. Every subset when there are few sites,
            // otherwise all of them at once.
            let shown: Vec<&(usize, String)> = if touching.len() <= MAX_AST_SITES {
                fixed.iter().collect()
            } else {
                fixed
                    .iter()
                    .filter(|(i, _)| *i == subsets.len() - 1)
                    .collect()
            };
            let texts: Vec<String> = shown.iter().map(|(_, t)| t.clone()).collect();
            hit = analysis::same_as(python, after, &texts)
                .await?
                .map(|k| shown[k].0);
        }
        if let Some(i) = hit {
            sites += subsets[i].len();
            applied.extend(subsets[i].iter().filter_map(|d| d.code.clone()));
            applied.sort_unstable();
            applied.dedup();
            return Ok(Some(proof(ruff, &usable, &applied, sites)));
        }
        // Not yet: every touching fix applied, and the sites that makes looked at again.
        let Some((_, all)) = fixed.iter().find(|(i, _)| *i == subsets.len() - 1) else {
            return Ok(None);
        };
        if *all == text {
            return Ok(None);
        }
        sites += touching.len();
        applied.extend(touching.iter().filter_map(|d| d.code.clone()));
        text = all.clone();
    }
    Ok(None)
}

/// Whether `d` is a `%` formatting (UP031), whose sites are proven one by one.
fn is_printf(d: &RuffDiagnostic) -> bool {
    d.code.as_deref() == Some(PRINTF_FORMAT.rule)
}

/// The proof naming the rules whose fixes make AFTER, with each rewrite's argument.
fn proof(ruff: &Ruff, usable: &[&EquivalentRewrite], applied: &[String], sites: usize) -> Proof {
    let arguments: Vec<&str> = usable
        .iter()
        .filter(|r| applied.iter().any(|a| a == r.rule))
        .map(|r| r.argument)
        .collect();
    let used = |condition: Condition| {
        usable
            .iter()
            .any(|r| r.condition == condition && applied.iter().any(|a| a == r.rule))
    };
    let mut condition = String::new();
    if used(Condition::PlainComparisons) {
        condition.push_str(
            "; no class in the repository defines a comparison method and it imports only the \
             standard library (not `unittest.mock`) and its own modules",
        );
    }
    if used(Condition::PlainFormatting) {
        condition.push_str(
            "; no class in the repository defines `__format__`, it imports only the standard \
             library and its own modules, and it targets Python 3.11 or newer",
        );
    }
    Proof {
        class: PACK_REWRITE.to_owned(),
        argument: format!(
            "AFTER is BEFORE with `{}`'s own fixes of {} at the {} site(s) it changed (or the \
             same AST: spelled differently), and nothing else; {}{condition}",
            ruff.version(),
            applied.join(", "),
            sites,
            arguments.join("; ")
        ),
    }
}

/// The 1-based line ranges of BEFORE that differ from AFTER (an insertion counts as the line it
/// comes before).
fn changed_lines(before: &str, after: &str) -> Vec<(usize, usize)> {
    similar::TextDiff::from_lines(before, after)
        .ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .map(|op| {
            let range = op.old_range();
            (range.start + 1, range.end.max(range.start + 1))
        })
        .collect()
}

/// The most sites one change may fix for the subset search (2^12 tries of a string edit).
const MAX_SITES: usize = 12;

/// The most sites whose every subset is compared by AST (2^6 - 1 trees in one `python3` run).
const MAX_AST_SITES: usize = 6;

/// The most rounds of fixes (a fix whose result another listed rule fixes again).
pub const MAX_ROUNDS: usize = 3;

/// The comparison methods whose definition rules the rewrites out.
const COMPARISON_METHODS: [&str; 6] = [
    "def __eq__",
    "def __ne__",
    "def __lt__",
    "def __le__",
    "def __gt__",
    "def __ge__",
];

/// What the repository under `root` shows about the conditions. Comparisons are plain when
/// no class in its Python files defines a comparison method, they import nothing but the
/// standard library (`stdlib`, `sys.stdlib_module_names`) and the repository's own modules, and
/// never `unittest.mock` or `mock` (whose `ANY` equals everything). Formatting is plain when no
/// class defines `__format__` and the imports are as plain. Hidden directories, virtual
/// environments and Noctune's cache are not looked at; an unreadable file makes nothing plain.
pub fn repository_facts(root: &Path, stdlib: &BTreeSet<String>) -> RepositoryFacts {
    let mut files = Vec::new();
    let mut local: BTreeSet<String> = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(
                        name.as_str(),
                        "venv" | "env" | "node_modules" | "__pycache__" | "target"
                    );
                if !skip {
                    local.insert(name);
                    stack.push(entry.path());
                }
            } else if kind.is_file()
                && let Some(module) = name.strip_suffix(".py")
            {
                local.insert(module.to_owned());
                files.push(entry.path());
            }
        }
    }
    let mut facts = RepositoryFacts {
        plain_comparisons: true,
        plain_formatting: true,
    };
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            return RepositoryFacts::default();
        };
        if COMPARISON_METHODS.iter().any(|m| text.contains(m))
            || text.contains("unittest.mock")
            || text.contains("from unittest import mock")
        {
            facts.plain_comparisons = false;
        }
        if text.contains("def __format__") {
            facts.plain_formatting = false;
        }
        for module in imported_modules(&text) {
            if !(stdlib.contains(&module) || local.contains(&module)) {
                facts = RepositoryFacts::default();
            } else if module == "mock" {
                facts.plain_comparisons = false;
            }
        }
    }
    facts
}

/// The top-level modules a file imports (`import a.b, c` → `a`, `c`; `from a.b import x` →
/// `a`); relative imports are the repository's own.
fn imported_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("from ") {
            let module = rest.split_whitespace().next().unwrap_or("");
            if !module.starts_with('.') {
                out.extend(module.split('.').next().map(str::to_owned));
            }
        } else if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split('#').next().unwrap_or("").split(',') {
                let module = part.split_whitespace().next().unwrap_or("");
                out.extend(module.split('.').next().map(str::to_owned));
            }
        }
    }
    out.retain(|m| !m.is_empty() && m.chars().all(|c| c.is_alphanumeric() || c == '_'));
    out
}
