//! Policy packs: every rule, with the numbers, and glob escapes through `..`, absolute paths
//! and real symlinks.

use std::collections::BTreeMap;
use std::path::Path;

use noctune_core::policy::{AutoApproveOptions, PolicyPackOptions};
use noctune_core::{
    ApproverVerdict, EnvOverrides, PolicyDecision, PolicyInput, PolicyPack, PolicyRule,
    PolicyViolation, Stage, Verdict,
};
use noctune_gates::PolicyPacks;
use noctune_gates::policy::builtin_settings;
use pretty_assertions::assert_eq;

use crate::support::write;

fn approve(risk: f32) -> ApproverVerdict {
    ApproverVerdict {
        decision: Verdict::Approve,
        reason: "keeps behaviour".to_owned(),
        risk,
        judged_by: "llm".to_owned(),
    }
}

fn decide(
    packs: &PolicyPacks,
    pack: &str,
    path: &str,
    diff_lines: u32,
    verdict: &ApproverVerdict,
    tests_passed: Option<bool>,
) -> PolicyDecision {
    packs.get(pack).unwrap().decide(&PolicyInput {
        path: Path::new(path),
        diff_lines,
        verdict,
        tests_passed,
    })
}

fn violation(pack: &str, rule: PolicyRule, detail: &str) -> PolicyDecision {
    PolicyDecision::Violation(PolicyViolation {
        pack: pack.to_owned(),
        rule,
        detail: detail.to_owned(),
    })
}

/// A repo whose `lint_fix` pack is limited to `src/**/*.py`, from a real config file.
fn repo() -> (tempfile::TempDir, PolicyPacks) {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "noctune.toml",
        r#"
[tool.noctune.policy_packs.lint_fix]
allowed_globs = ["src/**/*.py"]
max_diff_lines = 80
tools_allowed = ["ruff"]
auto_approve = { enabled = true, max_risk = 0.3, max_lines = 40, require_tests = false }

[tool.noctune.policy_packs.careful]
allowed_globs = ["lib/*.py"]
tools_allowed = ["ruff", "pytest"]
test_command = ["python3", "-m", "unittest"]
test_timeout_s = 60
auto_approve = { enabled = true, max_risk = 0.5, max_lines = 10, require_tests = true }
guidance = { review = "Only look at error handling." }
"#,
    );
    write(dir.path(), "src/pkg/a.py", "x = 1\n");
    write(dir.path(), "lib/b.py", "y = 2\n");
    let settings = noctune_core::config::load(dir.path(), &EnvOverrides::default()).unwrap();
    let packs = PolicyPacks::from_settings(&settings).unwrap();
    (dir, packs)
}

#[test]
fn allowed_globs_max_diff_lines_and_auto_approve_limits() {
    let (_dir, packs) = repo();
    assert_eq!(
        decide(&packs, "lint_fix", "src/pkg/a.py", 12, &approve(0.1), None),
        PolicyDecision::AutoApprove {
            why: "risk 0.10 <= max_risk 0.30, 12 changed lines <= max_lines 40, tests not required"
                .to_owned()
        }
    );
    assert_eq!(
        decide(&packs, "lint_fix", "docs/conf.py", 12, &approve(0.1), None),
        violation(
            "lint_fix",
            PolicyRule::AllowedGlobs,
            "`docs/conf.py` matches no allowed glob (src/**/*.py)"
        )
    );
    assert_eq!(
        decide(&packs, "lint_fix", "src/pkg/a.py", 84, &approve(0.1), None),
        violation(
            "lint_fix",
            PolicyRule::MaxDiffLines,
            "84 changed lines > max_diff_lines 80"
        )
    );
    assert_eq!(
        decide(&packs, "lint_fix", "src/pkg/a.py", 50, &approve(0.45), None),
        PolicyDecision::NeedsHuman {
            why: "risk 0.45 > max_risk 0.30; 50 changed lines > auto_approve.max_lines 40"
                .to_owned()
        }
    );
    let reject = ApproverVerdict {
        decision: Verdict::Reject,
        reason: "drops the error handling".to_owned(),
        risk: 0.9,
        judged_by: "llm".to_owned(),
    };
    assert_eq!(
        decide(&packs, "lint_fix", "src/pkg/a.py", 5, &reject, None),
        PolicyDecision::Rejected {
            why: "drops the error handling".to_owned()
        }
    );
    // An undecided verdict waits for a human, even at low risk with auto-approve on.
    let undecided = ApproverVerdict {
        decision: Verdict::Undecided,
        reason: "no proof that behaviour is kept".to_owned(),
        risk: 0.0,
        judged_by: "signals".to_owned(),
    };
    assert_eq!(
        decide(&packs, "lint_fix", "src/pkg/a.py", 5, &undecided, None),
        PolicyDecision::NeedsHuman {
            why: "the approver could not decide: a human does".to_owned()
        }
    );
    // A violation wins over a rejection: it is logged as a policy_violation.
    assert!(matches!(
        decide(&packs, "lint_fix", "setup.py", 5, &reject, None),
        PolicyDecision::Violation(_)
    ));
}

#[test]
fn require_tests_holds_untested_changes_rejects_failed_ones() {
    let (_dir, packs) = repo();
    let ok = approve(0.2);
    assert_eq!(
        decide(&packs, "careful", "lib/b.py", 4, &ok, None),
        PolicyDecision::NeedsHuman {
            why: "require_tests: no tests ran".to_owned()
        }
    );
    assert_eq!(
        decide(&packs, "careful", "lib/b.py", 4, &ok, Some(false)),
        PolicyDecision::Rejected {
            why: "require_tests: the tests failed".to_owned()
        }
    );
    assert_eq!(
        decide(&packs, "careful", "lib/b.py", 4, &ok, Some(true)),
        PolicyDecision::AutoApprove {
            why: "risk 0.20 <= max_risk 0.50, 4 changed lines <= max_lines 10, tests passed"
                .to_owned()
        }
    );
    // deps_bump ships with auto-approve off.
    assert_eq!(
        decide(
            &packs,
            "deps_bump",
            "lib/b.py",
            1,
            &approve(0.0),
            Some(true)
        ),
        PolicyDecision::NeedsHuman {
            why: "auto_approve is off in pack `deps_bump`".to_owned()
        }
    );
}

#[test]
fn tools_allowed() {
    let (_dir, packs) = repo();
    let lint = packs.get_configured("lint_fix").unwrap();
    assert!(lint.check_tool("ruff").is_ok());
    assert_eq!(
        lint.check_tool("pytest"),
        Err(PolicyViolation {
            pack: "lint_fix".to_owned(),
            rule: PolicyRule::ToolsAllowed,
            detail: "`pytest` is not in tools_allowed (ruff)".to_owned(),
        })
    );
    // `ruff` allows every ruff command.
    assert!(lint.allows_tool("ruff check") && lint.allows_tool("ruff fix"));
    let careful = packs.get("careful").unwrap();
    assert!(careful.allows_tool("pytest"));
    assert!(!careful.allows_tool("mypy"));
    // require_tests gives the test command: the default, or the pack's own.
    assert_eq!(lint.required_tests(), None);
    let tests = careful.required_tests().unwrap();
    assert_eq!(tests.argv, vec!["python3", "-m", "unittest"]);
    assert_eq!(tests.timeout, std::time::Duration::from_secs(60));
    let deps = packs.get("deps_bump").unwrap().required_tests().unwrap();
    assert_eq!(deps.argv, vec!["python", "-m", "pytest", "-x", "-q"]);
    assert_eq!(deps.timeout, std::time::Duration::from_secs(300));
    assert!(packs.get("deps_bump").unwrap().allows_tool("pytest"));

    // A name Noctune does not know is an error naming the pack and the key.
    let dir = tempfile::tempdir().unwrap();
    let typo = BTreeMap::from([(
        "x".to_owned(),
        PolicyPackOptions {
            tools_allowed: Some(vec!["pytset".to_owned()]),
            ..PolicyPackOptions::default()
        },
    )]);
    let err = PolicyPacks::new(dir.path(), &typo, "lint_fix")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("policy pack `x`: key `tools_allowed`: unknown tool `pytset`"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn paths_escaping_the_repository_are_never_allowed() {
    let (dir, packs) = repo();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "evil.py", "import os\n");
    let root = dir.path();
    std::os::unix::fs::symlink(outside.path().join("evil.py"), root.join("src/pkg/link.py"))
        .unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("src/out")).unwrap();
    std::os::unix::fs::symlink(root.join("docs"), root.join("src/docs")).unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    write(root, "docs/conf.py", "x = 1\n");

    let pack = packs.get("lint_fix").unwrap();
    // Even the most lenient pack (every path glob, auto-approve at any risk) refuses them.
    let mut lenient = BTreeMap::new();
    lenient.insert(
        "anything".to_owned(),
        PolicyPackOptions {
            allowed_globs: Some(vec!["**".to_owned()]),
            max_diff_lines: Some(10_000),
            tools_allowed: None,
            test_command: None,
            test_timeout_s: None,
            auto_approve: Some(AutoApproveOptions {
                enabled: Some(true),
                max_risk: Some(1.0),
                max_lines: Some(10_000),
                require_tests: Some(false),
            }),
            guidance: None,
        },
    );
    let lenient = PolicyPacks::new(root, &lenient, "anything").unwrap();
    let anything = lenient.get("anything").unwrap();
    let outside_abs = outside.path().join("evil.py");
    let escapes = [
        "../evil.py".to_owned(),
        "src/../../evil.py".to_owned(),
        "src/pkg/link.py".to_owned(),
        "src/out/evil.py".to_owned(),
        "src/out/new.py".to_owned(),
        outside_abs.display().to_string(),
    ];
    for path in &escapes {
        for pack in [&pack, &anything] {
            let err = pack.check_path(Path::new(path)).unwrap_err();
            assert_eq!(err.rule, PolicyRule::AllowedGlobs, "{path}");
            assert!(
                err.detail.contains("outside the repository"),
                "{path}: {err}"
            );
            let decision = pack.decide(&PolicyInput {
                path: Path::new(path),
                diff_lines: 1,
                verdict: &approve(0.0),
                tests_passed: Some(true),
            });
            assert!(matches!(decision, PolicyDecision::Violation(_)), "{path}");
        }
    }
    // A symlink inside the repository is judged by where it points: src/docs/conf.py is
    // docs/conf.py, outside src/**.
    let err = pack.check_path(Path::new("src/docs/conf.py")).unwrap_err();
    assert_eq!(
        err.detail,
        "`docs/conf.py` matches no allowed glob (src/**/*.py)"
    );
    // `..` that stays inside resolves first: src/pkg/../pkg/a.py is src/pkg/a.py.
    assert!(pack.check_path(Path::new("src/pkg/../pkg/a.py")).is_ok());
    assert!(pack.check_path(&root.join("src/pkg/a.py")).is_ok());
    // Noctune's own state and .git are off limits to every pack.
    let err = anything
        .check_path(Path::new(".noctune_cache/runs/x.py"))
        .unwrap_err();
    assert!(err.detail.contains("never changes"), "{err}");
    assert!(
        anything
            .check_path(Path::new(".git/hooks/pre-commit"))
            .is_err()
    );
    assert!(anything.check_path(Path::new("docs/conf.py")).is_ok());
}

#[test]
fn builtin_packs_defaults_guidance_and_registry_errors() {
    let dir = tempfile::tempdir().unwrap();
    let packs = PolicyPacks::new(dir.path(), &BTreeMap::new(), "lint_fix").unwrap();
    assert_eq!(
        packs.names(),
        vec![
            "deps_bump",
            "feature",
            "lint_fix",
            "py_upgrade",
            "typing_pass"
        ]
    );
    for name in packs.names() {
        let pack = packs.get(&name).unwrap();
        for stage in [Stage::Review, Stage::Draft, Stage::Approve] {
            let text = pack.guidance(stage).unwrap();
            assert!(text.starts_with(&format!("Pack {name}:")), "{name}: {text}");
        }
        assert!(pack.allows_tool("ruff"), "{name}");
    }
    let lint = builtin_settings("lint_fix");
    assert_eq!(
        (
            lint.max_diff_lines,
            lint.auto_approve.max_lines,
            lint.auto_approve.max_risk
        ),
        (80, 40, 0.3)
    );
    let err = match packs.get("lint-fix") {
        Ok(_) => panic!("unknown pack accepted"),
        Err(err) => err.to_string(),
    };
    assert_eq!(
        err,
        "unknown policy pack `lint-fix`; known packs: deps_bump, feature, lint_fix, py_upgrade, typing_pass"
    );
    let bad = BTreeMap::from([(
        "lint_fix".to_owned(),
        PolicyPackOptions {
            allowed_globs: Some(vec!["src/[".to_owned()]),
            ..PolicyPackOptions::default()
        },
    )]);
    let err = PolicyPacks::new(dir.path(), &bad, "lint_fix")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("policy pack `lint_fix`: key `allowed_globs`: `src/[`"),
        "{err}"
    );
    let escaping = BTreeMap::from([(
        "x".to_owned(),
        PolicyPackOptions {
            allowed_globs: Some(vec!["../**".to_owned()]),
            ..PolicyPackOptions::default()
        },
    )]);
    assert!(PolicyPacks::new(dir.path(), &escaping, "lint_fix").is_err());
    assert!(PolicyPacks::new(dir.path(), &BTreeMap::new(), "nope").is_err());
}

#[test]
fn user_guidance_replaces_the_stage_it_names() {
    let (_dir, packs) = repo();
    let careful = packs.get("careful").unwrap();
    assert_eq!(
        careful.guidance(Stage::Review).as_deref(),
        Some("Only look at error handling.")
    );
    assert_eq!(careful.guidance(Stage::Draft), None);
}
