//! A custom policy pack: only `src/`, at most 40 changed lines, auto-approve below risk 0.2.
//! Run: `cargo run -p noctune-examples --example policy_pack`.
#![allow(clippy::print_stdout)]

use std::path::{Component, Path};
use std::sync::Arc;

use noctune_core::{
    ApproverVerdict, PolicyDecision, PolicyInput, PolicyPack, PolicyRule, PolicyViolation, Stage,
    Verdict,
};

struct SrcOnlyPack;

impl PolicyPack for SrcOnlyPack {
    fn name(&self) -> &str {
        "src_only"
    }

    fn guidance(&self, stage: Stage) -> Option<String> {
        (stage == Stage::Review).then(|| "Focus on type hints for public functions.".to_owned())
    }

    fn check_path(&self, path: &Path) -> Result<(), PolicyViolation> {
        let escapes = path.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
        if !escapes && path.starts_with("src") {
            return Ok(());
        }
        Err(PolicyViolation {
            pack: self.name().to_owned(),
            rule: PolicyRule::AllowedGlobs,
            detail: format!("`{}` is not under src/", path.display()),
        })
    }

    fn allows_tool(&self, tool: &str) -> bool {
        tool == "ruff"
    }

    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        if let Err(violation) = self.check_path(input.path) {
            return PolicyDecision::Violation(violation);
        }
        if input.diff_lines > 40 {
            return PolicyDecision::Violation(PolicyViolation {
                pack: self.name().to_owned(),
                rule: PolicyRule::MaxDiffLines,
                detail: format!("{} changed lines > 40", input.diff_lines),
            });
        }
        match input.verdict.decision {
            Verdict::Reject => PolicyDecision::Rejected {
                why: input.verdict.reason.clone(),
            },
            Verdict::Approve if input.verdict.risk <= 0.2 => PolicyDecision::AutoApprove {
                why: format!("risk {:.2} <= 0.2", input.verdict.risk),
            },
            Verdict::Approve => PolicyDecision::NeedsHuman {
                why: format!("risk {:.2} > 0.2", input.verdict.risk),
            },
            Verdict::Undecided => PolicyDecision::NeedsHuman {
                why: format!("undecided: {}", input.verdict.reason),
            },
        }
    }
}

fn main() {
    let pack: Arc<dyn PolicyPack> = Arc::new(SrcOnlyPack);
    let verdict = ApproverVerdict {
        decision: Verdict::Approve,
        reason: "adds hints only".into(),
        risk: 0.1,
        judged_by: "llm".into(),
    };
    for (path, lines) in [("src/a.py", 12), ("src/../setup.py", 3), ("src/b.py", 90)] {
        let decision = pack.decide(&PolicyInput {
            path: Path::new(path),
            diff_lines: lines,
            verdict: &verdict,
            tests_passed: None,
        });
        println!("{path} ({lines} lines): {decision:?}");
    }
    println!("may run pytest: {}", pack.allows_tool("pytest"));
}
