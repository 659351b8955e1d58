//! Lesson cards: each change a request applied, kept under `.noctune_cache/lessons/` (request,
//! symbol kind, before/after, the verifiers it passed), and offered to later requests as
//! few-shot examples, the closest first, within the context budget.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::content_hash;
use crate::store::write_atomic;

/// One lesson: what was asked, what was written, what proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonCard {
    /// The card's id (its file name without `.json`).
    pub id: String,
    /// The user's request.
    pub request: String,
    /// The step's objective.
    pub objective: String,
    /// The file, repo-relative.
    pub file: String,
    /// The symbol written or changed.
    pub symbol: String,
    /// `function`, `class`, `method`, or `test`.
    pub kind: String,
    /// The symbol before (`None` for a new one).
    pub before: Option<String>,
    /// The symbol as applied.
    pub after: String,
    /// The verifiers it passed (`gates`, `tests`, `suite`, `probe`).
    pub verifiers: Vec<String>,
    /// The run that applied it.
    pub run_id: String,
    /// When.
    pub created_at: Timestamp,
}

impl LessonCard {
    /// The card as a few-shot example in a prompt.
    pub fn as_example(&self) -> String {
        let mut out = format!("Request: {}\nStep: {}\n", self.request, self.objective);
        if let Some(before) = &self.before {
            out.push_str(&format!("Before:\n```python\n{}\n```\n", before.trim_end()));
        }
        out.push_str(&format!(
            "Code that passed {}:\n```python\n{}\n```\n",
            self.verifiers.join(", "),
            self.after.trim_end()
        ));
        out
    }
}

/// The lesson cards of a repository (`.noctune_cache/lessons/`).
#[derive(Debug, Clone)]
pub struct Lessons {
    dir: PathBuf,
}

impl Lessons {
    /// The cards under `cache_dir/lessons`.
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            dir: cache_dir.join("lessons"),
        }
    }

    /// Where the cards are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps a card; its id is derived from its content, so keeping it twice keeps one.
    pub fn keep(&self, mut card: LessonCard) -> Result<LessonCard> {
        let key = format!(
            "{}\n{}\n{}\n{}",
            card.request, card.file, card.symbol, card.after
        );
        card.id = format!("lesson-{}", &content_hash(key.as_bytes())[..12]);
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| Error::io("create directory", &self.dir, err))?;
        let json = serde_json::to_vec_pretty(&card).unwrap_or_default();
        write_atomic(&self.dir.join(format!("{}.json", card.id)), &json)?;
        Ok(card)
    }

    /// Every readable card, oldest first; unreadable files are skipped with a warning naming
    /// them.
    pub fn list(&self) -> Result<Vec<LessonCard>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io("read directory", &self.dir, err)),
        };
        let mut cards = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let parsed = std::fs::read(&path)
                .map_err(|err| err.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<LessonCard>(&bytes).map_err(|err| err.to_string())
                });
            match parsed {
                Ok(card) => cards.push(card),
                Err(err) => tracing::warn!("lesson card `{}` skipped: {err}", path.display()),
            }
        }
        cards.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(cards)
    }

    /// One card by id (or a unique prefix of it).
    pub fn get(&self, id: &str) -> Result<LessonCard> {
        let mut matching: Vec<LessonCard> = self
            .list()?
            .into_iter()
            .filter(|c| c.id.starts_with(id))
            .collect();
        match matching.len() {
            1 => Ok(matching.remove(0)),
            0 => Err(Error::Refused(format!(
                "no lesson card `{id}` in {} (`noctune lessons list` shows them)",
                self.dir.display()
            ))),
            n => Err(Error::Refused(format!(
                "`{id}` matches {n} lesson cards; give more of the id"
            ))),
        }
    }

    /// Removes one card; returns it.
    pub fn forget(&self, id: &str) -> Result<LessonCard> {
        let card = self.get(id)?;
        let path = self.dir.join(format!("{}.json", card.id));
        std::fs::remove_file(&path).map_err(|err| Error::io("remove", &path, err))?;
        Ok(card)
    }

    /// The cards closest to `request` for a symbol of `kind`, best first: words shared with the
    /// request and objective (Jaccard), a card of the same kind ahead of others; cards sharing
    /// no word are left out.
    pub fn closest(&self, request: &str, kind: &str, limit: usize) -> Result<Vec<LessonCard>> {
        let wanted = words(request);
        let mut scored: Vec<(f64, LessonCard)> = self
            .list()?
            .into_iter()
            .filter_map(|card| {
                let have = words(&format!("{} {}", card.request, card.objective));
                let shared = wanted.intersection(&have).count();
                if shared == 0 {
                    return None;
                }
                let union = wanted.union(&have).count().max(1);
                let mut score = shared as f64 / union as f64;
                if card.kind == kind {
                    score += 1.0;
                }
                Some((score, card))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        Ok(scored.into_iter().take(limit).map(|(_, c)| c).collect())
    }
}

/// Lower-case words of three letters or more.
fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn card(request: &str, kind: &str, after: &str) -> LessonCard {
        LessonCard {
            id: String::new(),
            request: request.into(),
            objective: "o".into(),
            file: "pkg/a.py".into(),
            symbol: "f".into(),
            kind: kind.into(),
            before: None,
            after: after.into(),
            verifiers: vec!["gates".into(), "tests".into()],
            run_id: "r".into(),
            created_at: Timestamp::now(),
        }
    }

    #[test]
    fn cards_are_kept_found_by_similarity_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let lessons = Lessons::new(dir.path());
        assert_eq!(lessons.list().unwrap(), vec![]);
        let fib = lessons
            .keep(card(
                "add a fibonacci function",
                "function",
                "def fib(n): ...",
            ))
            .unwrap();
        let again = lessons
            .keep(card(
                "add a fibonacci function",
                "function",
                "def fib(n): ...",
            ))
            .unwrap();
        assert_eq!(fib.id, again.id, "the same card is kept once");
        lessons
            .keep(card("rename the logger class", "class", "class Log: ..."))
            .unwrap();
        assert_eq!(lessons.list().unwrap().len(), 2);

        let near = lessons
            .closest("add a factorial function", "function", 3)
            .unwrap();
        assert_eq!(near.len(), 1, "{near:?}");
        assert_eq!(near[0].id, fib.id);
        assert!(near[0].as_example().contains("def fib(n)"));

        let forgotten = lessons.forget(&fib.id[..10]).unwrap();
        assert_eq!(forgotten.id, fib.id);
        assert_eq!(lessons.list().unwrap().len(), 1);
        let err = lessons.get("lesson-nope").unwrap_err().to_string();
        assert!(err.contains("no lesson card `lesson-nope`"), "{err}");
    }
}
