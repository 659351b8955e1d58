//! A gate written against `noctune-core` alone: changes may not add `print(` calls (library
//! code logs). Only what the change added blocks; old calls do not.

use async_trait::async_trait;
use noctune_core::{Diagnostic, Gate, GateInput, GateReport, Location, Result};

/// Blocks new `print(` calls; old ones do not block.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNewPrintGate;

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
