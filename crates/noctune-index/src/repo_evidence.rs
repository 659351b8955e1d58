//! [`RepoEvidence`]: the pipeline's [`EvidenceSource`], over the symbol index and a
//! [`CallsiteSearcher`].
//!
//! Built with [`RepoEvidence::indexed`], it does nothing before the run starts: `prepare`
//! (called once `run.json` exists) refreshes `index.db` incrementally and lists the files to
//! search; evidence then comes from the index (other definitions of a target, the files that
//! import it) and from callsite search, in memory for a small repository and on disk
//! (ripgrep when present) for one larger than `index.search_cache_bytes`, so memory stays flat
//! in the repository's size; `file_changed` (after an apply) refreshes the
//! index again, which re-reads only the files that changed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use noctune_core::pipeline::{EvidenceReport, EvidenceSource};

use crate::callsites::CallsiteSearcher;
use crate::evidence::{
    Definition, Evidence, EvidenceBuilder, ImportSite, Proximity, TargetImpact, estimate_tokens,
};
use crate::index::{Index, IndexOptions};
use crate::walk::WalkOptions;

/// At most this many other definitions and importers are listed per target.
const MAX_INDEX_FACTS: usize = 5;

/// Evidence for the draft stage from the repository: imports, other definitions and importers
/// of each target (from the index), and ranked callsites with context, as `impact.json` and as
/// compact prompt text.
#[derive(Debug)]
pub struct RepoEvidence {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    searcher: Option<CallsiteSearcher>,
    index: Option<Index>,
    /// What `prepare` needs to build the searcher and open the index.
    setup: Option<Setup>,
}

#[derive(Debug)]
struct Setup {
    root: PathBuf,
    walk: WalkOptions,
    max_file_bytes: u64,
    search_cache_bytes: u64,
    index: IndexOptions,
}

impl RepoEvidence {
    /// Evidence found with `searcher` alone (load its sources first for fast lookups); no index.
    pub fn new(searcher: CallsiteSearcher) -> Self {
        Self {
            state: Mutex::new(State {
                searcher: Some(searcher),
                index: None,
                setup: None,
            }),
        }
    }

    /// Evidence from the index of `root` (`.noctune_cache/index.db`) and callsite search: in
    /// memory when the sources fit in `search_cache_bytes`, on disk otherwise. Nothing is read
    /// until [`EvidenceSource::prepare`] (or the first evidence asked).
    pub fn indexed(
        root: &Path,
        walk: WalkOptions,
        max_file_bytes: u64,
        search_cache_bytes: u64,
        index: IndexOptions,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                searcher: None,
                index: None,
                setup: Some(Setup {
                    root: root.to_path_buf(),
                    walk,
                    max_file_bytes,
                    search_cache_bytes,
                    index,
                }),
            }),
        }
    }
}

impl State {
    /// Opens and refreshes the index and walks the files, once.
    fn ready(&mut self, progress: &(dyn Fn(&str) + Send + Sync)) -> noctune_core::Result<()> {
        let Some(setup) = self.setup.take() else {
            return Ok(());
        };
        progress("indexing the repository");
        let mut index = Index::open(&setup.root, setup.index)?;
        let stats = index.refresh()?;
        progress(&format!(
            "index: {} files ({} parsed, {} unchanged) in {:.0} ms",
            stats.files, stats.parsed, stats.unchanged, stats.timings.total_ms
        ));
        self.index = Some(index);
        let mut searcher = CallsiteSearcher::new(&setup.root, &setup.walk, setup.max_file_bytes)?;
        if !searcher.load_sources(setup.search_cache_bytes)? {
            progress(
                "callsites are searched on disk (the sources exceed index.search_cache_bytes)",
            );
        }
        self.searcher = Some(searcher);
        Ok(())
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
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.ready(&|what| tracing::info!("{what}"))?;
        let Some(searcher) = &state.searcher else {
            return Err(noctune_core::Error::Refused(
                "the evidence has no callsite searcher".to_owned(),
            ));
        };
        let rel = crate::walk::relative(searcher.root(), file);
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
        // The index's facts first (few and precise), callsites in what they leave.
        let mut facts = Vec::new();
        if let Some(index) = &state.index {
            for target in &known {
                facts.push(index_facts(index, &rel, target)?);
            }
        }
        let facts_tokens: usize = facts
            .iter()
            .flat_map(|(d, i): &(Vec<Definition>, Vec<ImportSite>)| {
                d.iter()
                    .map(|d| {
                        estimate_tokens(&d.path)
                            + estimate_tokens(d.signature.as_deref().unwrap_or(&d.name))
                    })
                    .chain(
                        i.iter()
                            .map(|i| estimate_tokens(&i.path) + estimate_tokens(&i.text)),
                    )
                    .collect::<Vec<_>>()
            })
            .sum();
        let budget = (budget_tokens as usize).saturating_sub(facts_tokens);
        let mut evidence = EvidenceBuilder::new(searcher).build(&rel, source, &known, budget)?;
        for (impact, (definitions, importers)) in evidence.targets.iter_mut().zip(facts) {
            impact.definitions = definitions;
            impact.importers = importers;
        }
        evidence.tokens_used += facts_tokens;
        let json = serde_json::to_value(&evidence).unwrap_or(serde_json::Value::Null);
        let imports = render_imports(&evidence);
        let targets = evidence
            .targets
            .iter()
            .map(|target| {
                (
                    target.symbol.clone(),
                    format!("{imports}{}", render_target(target)),
                )
            })
            .collect();
        Ok(EvidenceReport {
            json,
            text: render(&evidence),
            targets,
        })
    }

    fn prepare(&self, progress: &(dyn Fn(&str) + Send + Sync)) -> noctune_core::Result<()> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ready(progress)
    }

    fn file_changed(&self, file: &Path) -> noctune_core::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = state.index.as_mut() {
            let stats = index.refresh()?;
            tracing::debug!(file = %file.display(), parsed = stats.parsed, "index refreshed");
        }
        Ok(())
    }
}

/// Other definitions of `target`'s name and the files importing it, from the index.
fn index_facts(
    index: &Index,
    file: &str,
    target: &str,
) -> noctune_core::Result<(Vec<Definition>, Vec<ImportSite>)> {
    let short = target.rsplit('.').next().unwrap_or(target);
    let definitions = index
        .find(short)?
        .into_iter()
        .filter(|hit| !(hit.path == file && hit.symbol.name == target))
        .filter(|hit| hit.symbol.kind.is_definition())
        .take(MAX_INDEX_FACTS)
        .map(|hit| Definition {
            path: hit.path,
            line: hit.symbol.start_line,
            name: hit.symbol.name,
            kind: hit.symbol.kind.as_str().to_owned(),
            signature: hit.symbol.signature,
        })
        .collect();
    // Only a module-level name can be imported by name.
    let importers = if target.contains('.') {
        Vec::new()
    } else {
        index
            .importers(file, short, MAX_INDEX_FACTS)?
            .into_iter()
            .map(|(path, line, text)| ImportSite { path, line, text })
            .collect()
    };
    Ok((definitions, importers))
}

/// The evidence as prompt text: imports, then each target's callsites with numbered context,
/// importers and other definitions.
pub fn render(evidence: &Evidence) -> String {
    let mut out = render_imports(evidence);
    for target in &evidence.targets {
        out.push_str(&render_target(target));
    }
    out
}

/// The file's import statements, once each.
fn render_imports(evidence: &Evidence) -> String {
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
    out
}

/// One target's callsites, importers and other definitions.
fn render_target(target: &TargetImpact) -> String {
    let mut out = String::new();
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
    for import in &target.importers {
        let _ = writeln!(
            out,
            "  imported by {}:{}: {}",
            import.path,
            import.line,
            import.text.replace('\n', " ")
        );
    }
    for definition in &target.definitions {
        let _ = writeln!(
            out,
            "  also defined: {}:{} {} `{}`{}",
            definition.path,
            definition.line,
            definition.kind,
            definition.name,
            definition
                .signature
                .as_deref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default()
        );
    }
    out
}
