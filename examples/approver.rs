//! A custom approver: rejects a change whose AFTER code drops a call that BEFORE made.
//! Run: `cargo run -p noctune-examples --example approver`.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::{
    ApproveInput, Approver, ApproverVerdict, ChangeSet, Result, SymbolChange, Verdict,
};

/// Names followed by `(` in a piece of code: a rough list of calls.
fn calls(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for (i, _) in code.match_indices('(') {
        let start = code[..i]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |p| p + 1);
        if start < i && !bytes[start].is_ascii_digit() {
            out.push(code[start..i].to_owned());
        }
    }
    out
}

struct KeepCallsApprover;

#[async_trait]
impl Approver for KeepCallsApprover {
    fn name(&self) -> &str {
        "keep-calls"
    }

    async fn judge(&self, input: ApproveInput<'_>) -> Result<ApproverVerdict> {
        for symbol in &input.change.changes {
            let before = calls(symbol.before.as_deref().unwrap_or(""));
            let after = calls(symbol.after.as_deref().unwrap_or(""));
            if let Some(lost) = before.iter().find(|c| !after.contains(c)) {
                return Ok(ApproverVerdict {
                    decision: Verdict::Reject,
                    reason: format!("`{}` no longer calls `{lost}`", symbol.symbol),
                    risk: 0.9,
                    judged_by: self.name().to_owned(),
                });
            }
        }
        Ok(ApproverVerdict {
            decision: Verdict::Approve,
            reason: "every call is kept".into(),
            risk: 0.1,
            judged_by: self.name().to_owned(),
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let approver: Arc<dyn Approver> = Arc::new(KeepCallsApprover);
    let change = ChangeSet {
        file: PathBuf::from("pkg/io.py"),
        changes: vec![SymbolChange {
            symbol: "size".into(),
            before: Some("def size(fp):\n    return os.fstat(fp.fileno()).st_size\n".into()),
            after: Some("def size(fp) -> int:\n    return fp.stat().st_size\n".into()),
        }],
        signals: vec![],
        diff_lines: 4,
        pack: None,
    };
    let before = "def size(fp):\n    return os.fstat(fp.fileno()).st_size\n";
    let after = "def size(fp) -> int:\n    return fp.stat().st_size\n";
    let verdict = approver
        .judge(ApproveInput {
            change: &change,
            before,
            after,
            model: None,
        })
        .await?;
    println!(
        "{:?}: {} (risk {})",
        verdict.decision, verdict.reason, verdict.risk
    );
    Ok(())
}
