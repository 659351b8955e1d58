//! A custom gate: refuse changes that introduce `print(` calls, judged only on what the change
//! added. Run: `cargo run -p noctune-examples --example custom_gate`.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::{Diagnostic, Gate, GateInput, GateReport, Location, Result};

/// Blocks new `print(` calls; old ones do not block.
struct NoNewPrintGate;

fn print_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains("print("))
        .map(|(i, line)| (i + 1, line.trim()))
        .collect()
}

#[async_trait]
impl Gate for NoNewPrintGate {
    fn name(&self) -> &str {
        "no-new-print"
    }

    async fn check(&self, input: GateInput<'_>) -> Result<GateReport> {
        let before: Vec<&str> = input
            .before
            .map(|b| print_lines(b).into_iter().map(|(_, l)| l).collect())
            .unwrap_or_default();
        let diagnostics: Vec<Diagnostic> = print_lines(input.after)
            .into_iter()
            .map(|(line, text)| Diagnostic {
                code: Some("NP001".into()),
                message: format!("print() call: `{text}`"),
                location: Some(Location { line, column: 1 }),
                end_location: None,
                symbol: None,
                introduced: !before.contains(&text),
                fixable: false,
            })
            .collect();
        if diagnostics.iter().any(|d| d.introduced) {
            Ok(GateReport::fail(
                self.name(),
                "new print() calls",
                diagnostics,
            ))
        } else {
            Ok(GateReport::pass(self.name(), "no new print() calls"))
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let gate: Arc<dyn Gate> = Arc::new(NoNewPrintGate);
    let before = "def f():\n    print('old')\n";
    let after = "def f():\n    print('old')\n    print('new')\n";
    let report = gate
        .check(GateInput {
            path: Path::new("pkg/f.py"),
            before: Some(before),
            after,
        })
        .await?;
    println!("{}: {:?} — {}", report.gate, report.outcome, report.summary);
    for d in report.diagnostics.iter().filter(|d| d.introduced) {
        println!("  introduced: {}", d.message);
    }
    assert!(!report.passed());
    Ok(())
}
