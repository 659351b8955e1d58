//! [`RepoEvidence`]: the pipeline's [`EvidenceSource`], over a [`CallsiteSearcher`].

use std::fmt::Write as _;
use std::path::Path;

use noctune_core::pipeline::{EvidenceReport, EvidenceSource};

use crate::callsites::CallsiteSearcher;
use crate::evidence::{Evidence, EvidenceBuilder, Proximity};

/// Evidence for the draft stage from the repository: imports, and ranked callsites with
/// context, as `impact.json` and as compact prompt text.
#[derive(Debug)]
pub struct RepoEvidence {
    searcher: CallsiteSearcher,
}

impl RepoEvidence {
    /// Evidence found with `searcher` (load its sources first for fast lookups).
    pub fn new(searcher: CallsiteSearcher) -> Self {
        Self { searcher }
    }
}

impl EvidenceSource for RepoEvidence {
    fn evidence(
        &self,
        file: &Path,
        source: &str,
        targets: &[String],
        budget_tokens: u32,
    ) -> noctune_core::Result<EvidenceReport> {
        let rel = crate::walk::relative(self.searcher.root(), file);
        // Targets the file does not define are left out rather than failing the stage.
        let outline = crate::extract::outline(source.as_bytes())?;
        let known: Vec<String> = targets
            .iter()
            .filter(|t| {
                let found = outline.symbols.iter().any(|s| &s.name == *t);
                if !found {
                    tracing::warn!(file = %rel, target = %t, "evidence: no such symbol");
                }
                found
            })
            .cloned()
            .collect();
        let evidence = EvidenceBuilder::new(&self.searcher).build(
            &rel,
            source,
            &known,
            budget_tokens as usize,
        )?;
        let json = serde_json::to_value(&evidence).unwrap_or(serde_json::Value::Null);
        Ok(EvidenceReport {
            json,
            text: render(&evidence),
        })
    }
}

/// The evidence as prompt text: imports, then each target's callsites with numbered context.
pub fn render(evidence: &Evidence) -> String {
    let mut out = String::new();
    if !evidence.imports.is_empty() {
        out.push_str("imports:\n");
        let mut seen = Vec::new();
        for import in &evidence.imports {
            if !seen.contains(&import.line) {
                seen.push(import.line);
                let _ = writeln!(out, "  {}", import.text.replace('\n', " "));
            }
        }
    }
    for target in &evidence.targets {
        let _ = writeln!(
            out,
            "callsites of `{}` (searched `{}`: {} found{}):",
            target.symbol,
            target.identifier,
            target.total_callsites,
            if target.omitted > 0 {
                format!(", {} not shown", target.omitted)
            } else {
                String::new()
            }
        );
        for callsite in &target.callsites {
            let place = match callsite.proximity {
                Proximity::SamePackage => "same package",
                Proximity::Tests => "tests",
                Proximity::Other => "elsewhere",
            };
            let _ = writeln!(out, "  {}:{} ({place})", callsite.path, callsite.line);
            for (i, line) in callsite.context.iter().enumerate() {
                let _ = writeln!(out, "    {:>5} | {line}", callsite.context_start + i);
            }
        }
    }
    out
}
