//! The five built-in packs and their defaults.

use std::collections::BTreeMap;

use noctune_core::Stage;
use noctune_core::test_command::{DEFAULT_TEST_COMMAND, DEFAULT_TEST_TIMEOUT_S};

use super::pack::{AutoApprove, PackSettings};

/// The built-in packs' names.
pub const BUILTIN_PACKS: [&str; 5] = [
    "lint_fix",
    "typing_pass",
    "py_upgrade",
    "deps_bump",
    "feature",
];

/// The defaults of a built-in pack, or of a pack defined in the config file (`None` for a name
/// that is not built in gives the cautious custom-pack defaults: every `.py` file, 80 lines, no
/// tools, no auto-approve, no guidance). Every pack's test command is `python -m pytest -x -q`
/// with a 300 s timeout; `deps_bump` requires tests and allows `pytest` to run them; `feature` is
/// the pack of `noctune task`, whose own verifiers run the tests on the whole change.
pub fn builtin_settings(name: &str) -> PackSettings {
    let all_python = vec!["**/*.py".to_owned()];
    let ruff = vec!["ruff".to_owned()];
    let test_command = || {
        DEFAULT_TEST_COMMAND
            .iter()
            .map(|a| (*a).to_owned())
            .collect()
    };
    let guidance = |review: &str, draft: &str, approve: &str| {
        BTreeMap::from([
            (Stage::Review, review.to_owned()),
            (Stage::Draft, draft.to_owned()),
            (Stage::Approve, approve.to_owned()),
        ])
    };
    match name {
        "lint_fix" => PackSettings {
            name: name.to_owned(),
            allowed_globs: all_python,
            max_diff_lines: 80,
            tools_allowed: ruff.clone(),
            test_command: test_command(),
            test_timeout_s: DEFAULT_TEST_TIMEOUT_S,
            auto_approve: AutoApprove {
                enabled: true,
                max_risk: 0.3,
                max_lines: 40,
                require_tests: false,
            },
            guidance: guidance(
                "Pack lint_fix: look for what a linter flags or would flag: unused imports and \
                 variables, bare or overly broad `except`, mutable default arguments, shadowed \
                 builtins, comparisons to None/True with `==`, unreachable code, needless \
                 `else` after `return`. Behaviour must stay identical; do not propose \
                 redesigns.",
                "Pack lint_fix: each target fixes one concrete lint finding in one symbol. Keep \
                 names, signatures and behaviour identical; change nothing the finding does not \
                 need.",
                "Pack lint_fix: reject any change that alters behaviour, public names or \
                 signatures; lint fixes are cosmetic by definition.",
            ),
        },
        "typing_pass" => PackSettings {
            name: name.to_owned(),
            allowed_globs: all_python,
            max_diff_lines: 120,
            tools_allowed: ruff.clone(),
            test_command: test_command(),
            test_timeout_s: DEFAULT_TEST_TIMEOUT_S,
            auto_approve: AutoApprove {
                enabled: true,
                max_risk: 0.2,
                max_lines: 30,
                require_tests: false,
            },
            guidance: guidance(
                "Pack typing_pass: look for missing or imprecise type annotations on public \
                 functions, methods and module constants (`Any`, bare `dict`/`list`, missing \
                 return types, `Optional` where None is possible). Only annotations; no logic.",
                "Pack typing_pass: add or tighten annotations only, in the syntax the \
                 repository's target Python version accepts; import typing names you use. Never \
                 change a default value, a body statement or a name.",
                "Pack typing_pass: approve only when the runtime behaviour is untouched \
                 (annotations, typing imports, `TYPE_CHECKING` blocks); reject anything else.",
            ),
        },
        "py_upgrade" => PackSettings {
            name: name.to_owned(),
            allowed_globs: all_python,
            max_diff_lines: 100,
            tools_allowed: ruff.clone(),
            test_command: test_command(),
            test_timeout_s: DEFAULT_TEST_TIMEOUT_S,
            auto_approve: AutoApprove {
                enabled: true,
                max_risk: 0.2,
                max_lines: 30,
                require_tests: false,
            },
            guidance: guidance(
                "Pack py_upgrade: look for code older than the repository's target Python \
                 version needs: `%`/`.format` strings that read better as f-strings, \
                 `typing.List`-style generics, `super(Class, self)`, `OSError` aliases, \
                 `open(..., 'rU')`, outdated `sys.version_info` branches.",
                "Pack py_upgrade: rewrite to the modern idiom of the target version only; never \
                 use syntax newer than the target. Same behaviour, same names.",
                "Pack py_upgrade: reject rewrites that change behaviour (evaluation order, \
                 exception types, string formatting of floats) or need a newer Python than the \
                 target.",
            ),
        },
        "deps_bump" => PackSettings {
            name: name.to_owned(),
            allowed_globs: all_python,
            max_diff_lines: 60,
            tools_allowed: vec!["ruff".to_owned(), "pytest".to_owned()],
            test_command: test_command(),
            test_timeout_s: DEFAULT_TEST_TIMEOUT_S,
            auto_approve: AutoApprove {
                enabled: false,
                max_risk: 0.1,
                max_lines: 20,
                require_tests: true,
            },
            guidance: guidance(
                "Pack deps_bump: look for calls to deprecated or removed APIs of the \
                 project's dependencies (and the standard library) and for the replacements \
                 their newer versions document.",
                "Pack deps_bump: move each call site to the documented replacement API, one \
                 call site per target; keep arguments' meaning identical and add the imports \
                 the new API needs.",
                "Pack deps_bump: these changes alter which library code runs; approve only a \
                 like-for-like replacement and give a risk that reflects what you cannot see.",
            ),
        },
        // A request's change is verified before the pack sees it: the gates, its new tests and
        // the whole suite passed on a copy with every file of the change in place. The pack's
        // own `require_tests` would test each file alone (a new test without its code fails),
        // so it is off; the size and risk limits still send a large change to a human.
        "feature" => PackSettings {
            name: name.to_owned(),
            allowed_globs: all_python,
            max_diff_lines: 200,
            tools_allowed: vec!["ruff".to_owned(), "pytest".to_owned()],
            test_command: test_command(),
            test_timeout_s: DEFAULT_TEST_TIMEOUT_S,
            auto_approve: AutoApprove {
                enabled: true,
                max_risk: 0.5,
                max_lines: 120,
                require_tests: false,
            },
            guidance: {
                let mut guidance = guidance(
                    "Pack feature: look for what the request needs changed; leave the rest.",
                    "Pack feature: each target is one function or class the request needs \
                     written or changed.",
                    "Pack feature: the change adds behaviour on purpose; reject it only when it \
                     breaks what existed or goes beyond the request.",
                );
                guidance.insert(
                    Stage::Plan,
                    "Pack feature: keep the plan small: the fewest steps and targets that meet \
                     the request, each step with a test that fails before it and passes after."
                        .to_owned(),
                );
                guidance
            },
        },
        _ => PackSettings {
            name: name.to_owned(),
            allowed_globs: all_python,
            max_diff_lines: 80,
            tools_allowed: Vec::new(),
            test_command: test_command(),
            test_timeout_s: DEFAULT_TEST_TIMEOUT_S,
            auto_approve: AutoApprove {
                enabled: false,
                max_risk: 0.0,
                max_lines: 0,
                require_tests: false,
            },
            guidance: BTreeMap::new(),
        },
    }
}
