//! Evidence for the draft stage (`impact.json`): a file's imports, and for each target symbol
//! its callsites elsewhere in the repository, ranked (same package first, then tests, then the
//! rest), each with a few lines of context, trimmed to a token budget.

use std::collections::HashMap;

use noctune_core::{Import, Outline};
use serde::{Deserialize, Serialize};

use crate::callsites::{Callsite, CallsiteSearcher};
use crate::error::{Error, Result};

/// Where a callsite is, relative to the file being edited. Lower ranks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proximity {
    /// In the same directory (package) as the file.
    SamePackage,
    /// In a test file (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`).
    Tests,
    /// Anywhere else.
    Other,
}

/// One callsite with its context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallsiteEvidence {
    /// The file, relative to the root.
    pub path: String,
    /// The line of the match, 1-based.
    pub line: usize,
    /// Where it is relative to the edited file.
    pub proximity: Proximity,
    /// The first context line's number.
    pub context_start: usize,
    /// The context lines, the match's line among them.
    pub context: Vec<String>,
}

/// The evidence for one target symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetImpact {
    /// The target's qualified name.
    pub symbol: String,
    /// The identifier searched for (the class name for `__init__`).
    pub identifier: String,
    /// How many callsites were found outside the symbol itself.
    pub total_callsites: usize,
    /// The callsites kept within the budget, best first.
    pub callsites: Vec<CallsiteEvidence>,
    /// How many were left out for the budget.
    pub omitted: usize,
    /// Other definitions with the same name elsewhere in the repository (from the index).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub definitions: Vec<Definition>,
    /// Import statements of other files that import the target by name (from the index).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importers: Vec<ImportSite>,
}

/// A definition found in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// The file, relative to the root.
    pub path: String,
    /// Its first line, 1-based.
    pub line: usize,
    /// Its qualified name.
    pub name: String,
    /// `function`, `method`, `class`...
    pub kind: String,
    /// Its signature line, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// An import statement that names the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSite {
    /// The importing file, relative to the root.
    pub path: String,
    /// The statement's line, 1-based.
    pub line: usize,
    /// The statement as written.
    pub text: String,
}

/// `impact.json`: everything the draft stage is shown about a file's targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The file, relative to the root.
    pub file: String,
    /// The file's import statements.
    pub imports: Vec<Import>,
    /// One entry per target, in the order asked.
    pub targets: Vec<TargetImpact>,
    /// The budget given, in estimated tokens.
    pub token_budget: usize,
    /// The estimated tokens used.
    pub tokens_used: usize,
}

impl Evidence {
    /// The JSON written to `impact.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// A rough token estimate for small models' tokenizers: one token per 4 bytes, at least one.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4).max(1)
}

/// Builds [`Evidence`] with a [`CallsiteSearcher`].
#[derive(Debug)]
pub struct EvidenceBuilder<'a> {
    searcher: &'a CallsiteSearcher,
    context_lines: usize,
}

impl<'a> EvidenceBuilder<'a> {
    /// A builder showing 2 lines of context on each side of a callsite.
    pub fn new(searcher: &'a CallsiteSearcher) -> Self {
        Self {
            searcher,
            context_lines: 2,
        }
    }

    /// Lines of context on each side of a callsite.
    pub fn context_lines(mut self, lines: usize) -> Self {
        self.context_lines = lines;
        self
    }

    /// The evidence for `targets` (qualified names) of the file at `file` (relative to the
    /// root), whose text is `source`, within `token_budget` estimated tokens.
    pub fn build(
        &self,
        file: &str,
        source: &str,
        targets: &[String],
        token_budget: usize,
    ) -> Result<Evidence> {
        let outline: Outline = crate::extract::outline(source.as_bytes())?;
        let mut used: usize = outline
            .imports
            .iter()
            .map(|i| estimate_tokens(&i.text))
            .sum();
        let mut impacts = Vec::with_capacity(targets.len());
        let mut queues: Vec<Vec<Callsite>> = Vec::with_capacity(targets.len());
        for target in targets {
            let symbol = outline
                .symbols
                .iter()
                .find(|s| &s.name == target)
                .ok_or_else(|| Error::SymbolNotFound {
                    path: file.into(),
                    symbol: target.clone(),
                })?;
            let identifier = identifier_for(&symbol.name);
            let mut found: Vec<Callsite> = self
                .searcher
                .search(&identifier)?
                .into_iter()
                .filter(|c| !(c.path == file && symbol.contains_line(c.line)))
                .collect();
            found.sort_by(|a, b| {
                (proximity(file, &a.path), &a.path, a.line).cmp(&(
                    proximity(file, &b.path),
                    &b.path,
                    b.line,
                ))
            });
            // One entry per line, even when the identifier occurs twice on it.
            found.dedup_by(|a, b| a.path == b.path && a.line == b.line);
            impacts.push(TargetImpact {
                symbol: symbol.name.clone(),
                identifier,
                total_callsites: found.len(),
                callsites: Vec::new(),
                omitted: 0,
                definitions: Vec::new(),
                importers: Vec::new(),
            });
            queues.push(found);
        }
        // Round-robin over the targets, best callsite first, while the budget lasts.
        let mut files: HashMap<String, Vec<String>> = HashMap::new();
        let mut cursors = vec![0usize; queues.len()];
        let mut full = vec![false; queues.len()];
        loop {
            let mut progressed = false;
            for (t, queue) in queues.iter().enumerate() {
                if full[t] || cursors[t] >= queue.len() {
                    continue;
                }
                let callsite = &queue[cursors[t]];
                let evidence = self.with_context(file, callsite, &mut files);
                let cost = evidence
                    .context
                    .iter()
                    .map(|l| estimate_tokens(l))
                    .sum::<usize>()
                    + estimate_tokens(&evidence.path);
                if used + cost > token_budget {
                    full[t] = true;
                    continue;
                }
                used += cost;
                impacts[t].callsites.push(evidence);
                cursors[t] += 1;
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        for (impact, queue) in impacts.iter_mut().zip(&queues) {
            impact.omitted = queue.len() - impact.callsites.len();
        }
        Ok(Evidence {
            file: file.to_owned(),
            imports: outline.imports,
            targets: impacts,
            token_budget,
            tokens_used: used,
        })
    }

    fn with_context(
        &self,
        file: &str,
        callsite: &Callsite,
        files: &mut HashMap<String, Vec<String>>,
    ) -> CallsiteEvidence {
        let lines = files.entry(callsite.path.clone()).or_insert_with(|| {
            let bytes =
                std::fs::read(self.searcher.root().join(&callsite.path)).unwrap_or_default();
            String::from_utf8_lossy(&bytes)
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
                .collect()
        });
        let first = callsite.line.saturating_sub(self.context_lines).max(1);
        let last = (callsite.line + self.context_lines).min(lines.len());
        let context = if first <= last {
            lines[first - 1..last].to_vec()
        } else {
            vec![callsite.text.clone()]
        };
        CallsiteEvidence {
            path: callsite.path.clone(),
            line: callsite.line,
            proximity: proximity(file, &callsite.path),
            context_start: first,
            context,
        }
    }
}

/// The identifier callers use for a symbol: its short name, or the class name for
/// `__init__`/`__new__`.
fn identifier_for(qualified: &str) -> String {
    let mut parts = qualified.rsplit('.');
    let short = parts.next().unwrap_or(qualified);
    match (short, parts.next()) {
        ("__init__" | "__new__", Some(class)) => class.to_owned(),
        _ => short.to_owned(),
    }
}

/// Where `path` is relative to `file` (both relative to the root).
pub fn proximity(file: &str, path: &str) -> Proximity {
    let dir = |p: &str| p.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    if dir(file) == dir(path) {
        return Proximity::SamePackage;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let in_tests_dir = path
        .split('/')
        .rev()
        .skip(1)
        .any(|part| part == "tests" || part == "test" || part == "testing");
    if in_tests_dir
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
    {
        Proximity::Tests
    } else {
        Proximity::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_identifiers() {
        assert_eq!(proximity("pkg/a.py", "pkg/b.py"), Proximity::SamePackage);
        assert_eq!(proximity("pkg/a.py", "tests/test_a.py"), Proximity::Tests);
        assert_eq!(proximity("pkg/a.py", "other/conftest.py"), Proximity::Tests);
        assert_eq!(proximity("pkg/a.py", "app/main.py"), Proximity::Other);
        assert_eq!(identifier_for("A.__init__"), "A");
        assert_eq!(identifier_for("A.run"), "run");
        assert_eq!(estimate_tokens("12345"), 2);
    }
}
