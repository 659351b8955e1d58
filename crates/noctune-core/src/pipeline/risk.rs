//! Deterministic risk signals: compare the [`CodeFacts`] of a symbol before and after.
//!
//! Small models change behaviour while "modernising" (a constructor losing its file-opening
//! logic, `os.fstat(fp.fileno())` becoming `fp.stat()`). These signals do not judge intent;
//! they point at what changed in ways that often break behaviour, raise the risk, are shown to
//! the approver, and keep a high-risk change away from auto-apply.

use std::collections::BTreeMap;

use crate::approver::{RiskSignal, RiskSignalKind};
use crate::facts::CodeFacts;

/// Callees (by last segment or full name) that touch files, processes, the network or
/// evaluate code.
const DANGEROUS: &[&str] = &[
    "open",
    "eval",
    "exec",
    "compile",
    "__import__",
    "system",
    "popen",
    "Popen",
    "check_call",
    "check_output",
    "spawn",
    "remove",
    "unlink",
    "rmdir",
    "rmtree",
    "rename",
    "chmod",
    "chown",
    "kill",
    "urlopen",
    "urlretrieve",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "mkdir",
    "makedirs",
];

/// Modules whose calls are dangerous whatever the attribute.
const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "subprocess",
    "shutil",
    "socket",
    "urllib",
    "requests",
    "http",
    "pickle",
    "marshal",
    "ctypes",
    "importlib",
];

/// Python's builtins: names that need no definition.
const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "__import__",
    "__name__",
    "__file__",
    "__doc__",
    "__class__",
    "__debug__",
    "__spec__",
    "__builtins__",
    "NotImplemented",
    "Ellipsis",
    "True",
    "False",
    "None",
    "self",
    "cls",
    "Exception",
    "BaseException",
    "ValueError",
    "TypeError",
    "KeyError",
    "IndexError",
    "AttributeError",
    "RuntimeError",
    "StopIteration",
    "OSError",
    "IOError",
    "NotImplementedError",
    "ZeroDivisionError",
    "ImportError",
    "ModuleNotFoundError",
    "LookupError",
    "ArithmeticError",
    "AssertionError",
    "FileNotFoundError",
    "PermissionError",
    "UnicodeError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "OverflowError",
    "RecursionError",
    "EOFError",
    "KeyboardInterrupt",
    "SystemExit",
    "GeneratorExit",
    "Warning",
    "DeprecationWarning",
    "UserWarning",
    "RuntimeWarning",
    "FutureWarning",
    "TimeoutError",
    "ConnectionError",
    "BufferError",
    "MemoryError",
    "NameError",
    "SyntaxError",
    "IndentationError",
    "TabError",
    "SystemError",
    "ReferenceError",
    "StopAsyncIteration",
    "BlockingIOError",
    "ChildProcessError",
    "BrokenPipeError",
    "InterruptedError",
    "IsADirectoryError",
    "NotADirectoryError",
    "ProcessLookupError",
    "FileExistsError",
    "ExceptionGroup",
    "BaseExceptionGroup",
    "aiter",
    "anext",
];

fn counts(items: &[String]) -> BTreeMap<&str, usize> {
    let mut map = BTreeMap::new();
    for item in items {
        *map.entry(item.as_str()).or_insert(0) += 1;
    }
    map
}

fn last_segment(callee: &str) -> &str {
    callee.rsplit('.').next().unwrap_or(callee)
}

fn is_dangerous(callee: &str) -> bool {
    let first = callee.split('.').next().unwrap_or(callee);
    DANGEROUS.contains(&last_segment(callee)) || DANGEROUS_MODULES.contains(&first)
}

/// The signals for one symbol. `module_names` are the names the file binds at any level after
/// the change (definitions, imports, assignments): a name read there is not undefined.
pub fn signals(
    symbol: &str,
    before: &CodeFacts,
    after: &CodeFacts,
    module_names: &[String],
) -> Vec<RiskSignal> {
    let mut out = Vec::new();
    let mut push = |kind, detail: String, weight: f32| {
        out.push(RiskSignal {
            kind,
            symbol: symbol.to_owned(),
            detail,
            weight,
        });
    };

    if before.params != after.params {
        push(
            RiskSignalKind::SignatureChanged,
            format!(
                "parameters ({}) became ({})",
                before.params.join(", "),
                after.params.join(", ")
            ),
            0.5,
        );
    }

    let before_calls = counts(&before.calls);
    let after_calls = counts(&after.calls);
    let added: Vec<&str> = after_calls
        .iter()
        .filter(|(name, n)| before_calls.get(*name).copied().unwrap_or(0) < **n)
        .map(|(name, _)| *name)
        .collect();
    for (callee, n) in &before_calls {
        if after_calls.get(callee).copied().unwrap_or(0) >= *n {
            continue;
        }
        // The same operation on another object (`os.fstat(fd)` -> `fp.stat()`): the last
        // segments are equal or one ends with the other.
        let (old, short) = (last_segment(callee), |a: &&&str| last_segment(a).to_owned());
        let replacement = added.iter().find(|a| {
            let new = short(a);
            new == old || old.ends_with(&new) || new.ends_with(old)
        });
        match replacement {
            Some(new) => push(
                RiskSignalKind::CallRetargeted,
                format!("call to `{callee}` became `{new}`"),
                0.4,
            ),
            None => push(
                RiskSignalKind::CallRemoved,
                format!("call to `{callee}` removed"),
                0.35,
            ),
        }
    }
    for callee in added.iter().filter(|c| is_dangerous(c)) {
        push(
            RiskSignalKind::DangerousCallAdded,
            format!("call to `{callee}` added (file, process, network or eval API)"),
            0.6,
        );
    }

    if after.try_blocks < before.try_blocks {
        push(
            RiskSignalKind::ErrorHandlingRemoved,
            format!("try blocks {} -> {}", before.try_blocks, after.try_blocks),
            0.45,
        );
    }
    if after.returns < before.returns || after.raises < before.raises {
        push(
            RiskSignalKind::ExitPathRemoved,
            format!(
                "returns {} -> {}, raises {} -> {}",
                before.returns, after.returns, before.raises, after.raises
            ),
            0.3,
        );
    }

    let after_assignments = counts(&after.attribute_assignments);
    for attribute in counts(&before.attribute_assignments).keys() {
        if !after_assignments.contains_key(attribute) {
            push(
                RiskSignalKind::AttributeAssignmentDropped,
                format!("assignment to `{attribute}` dropped"),
                0.45,
            );
        }
    }

    for name in &after.names_read {
        let known = after.names_bound.contains(name)
            || before.names_read.contains(name)
            || module_names.contains(name)
            || BUILTINS.contains(&name.as_str());
        if !known {
            push(
                RiskSignalKind::UndefinedName,
                format!("`{name}` is read but neither defined nor imported"),
                0.5,
            );
        }
    }

    for name in &after.global_names {
        if !before.global_names.contains(name) {
            push(
                RiskSignalKind::ModuleStateTouched,
                format!("`global`/`nonlocal {name}` added"),
                0.45,
            );
        }
    }
    out
}

/// The combined score of a set of signals: 1 − Π(1 − weight).
pub fn combined(signals: &[RiskSignal]) -> f32 {
    1.0 - signals
        .iter()
        .map(|s| 1.0 - s.weight.clamp(0.0, 1.0))
        .product::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(calls: &[&str]) -> CodeFacts {
        CodeFacts {
            params: vec!["self".into(), "fp".into()],
            calls: calls.iter().map(|c| (*c).to_owned()).collect(),
            returns: 1,
            ..CodeFacts::default()
        }
    }

    fn kinds(signals: &[RiskSignal]) -> Vec<RiskSignalKind> {
        signals.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn unchanged_facts_give_no_signal() {
        let f = facts(&["os.fstat", "fp.fileno"]);
        assert!(signals("f", &f, &f, &[]).is_empty());
    }

    #[test]
    fn fstat_to_stat_is_caught() {
        let before = facts(&["os.fstat", "fp.fileno"]);
        let after = facts(&["fp.stat"]);
        let found = signals("size", &before, &after, &[]);
        assert!(
            kinds(&found).contains(&RiskSignalKind::CallRetargeted),
            "{found:?}"
        );
        assert!(
            kinds(&found).contains(&RiskSignalKind::CallRemoved),
            "{found:?}"
        );
        assert!(combined(&found) > 0.5);
    }

    #[test]
    fn opening_a_file_is_dangerous() {
        let before = facts(&["sum"]);
        let after = facts(&["sum", "open", "f.read"]);
        let found = signals("total", &before, &after, &[]);
        assert_eq!(kinds(&found), vec![RiskSignalKind::DangerousCallAdded]);
    }

    #[test]
    fn signature_attributes_try_exits_globals_and_names() {
        let before = CodeFacts {
            params: vec!["self".into(), "path".into()],
            attribute_assignments: vec!["self.path".into()],
            try_blocks: 1,
            returns: 2,
            raises: 1,
            ..CodeFacts::default()
        };
        let after = CodeFacts {
            params: vec!["self".into(), "path".into(), "mode".into()],
            names_read: vec!["undefined_thing".into(), "len".into(), "helper".into()],
            global_names: vec!["CACHE".into()],
            ..CodeFacts::default()
        };
        let found = kinds(&signals("A.__init__", &before, &after, &["helper".into()]));
        assert_eq!(
            found,
            vec![
                RiskSignalKind::SignatureChanged,
                RiskSignalKind::ErrorHandlingRemoved,
                RiskSignalKind::ExitPathRemoved,
                RiskSignalKind::AttributeAssignmentDropped,
                RiskSignalKind::UndefinedName,
                RiskSignalKind::ModuleStateTouched,
            ]
        );
    }
}
