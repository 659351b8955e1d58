//! Serving recorded transcripts back: a run re-driven offline (`--llm replay:<path>`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use noctune_core::{ChatRequest, ChatResponse, LlmClient, LlmError, LlmErrorKind};

use crate::transcript::Exchange;

/// Answers each request with the answer recorded for an identical request.
///
/// Requests are matched by their whole [`ChatRequest`] (messages, answer format, limits,
/// purpose). Identical requests recorded several times are answered in the recorded order, the
/// last answer repeating once they are used up. Failed attempts in the transcript are skipped. A
/// request never recorded is a [`LlmErrorKind::ReplayMiss`].
#[derive(Debug)]
pub struct ReplayClient {
    source: String,
    answers: Mutex<HashMap<String, Recorded>>,
}

#[derive(Debug)]
struct Recorded {
    responses: Vec<ChatResponse>,
    next: usize,
}

impl ReplayClient {
    /// Reads a JSONL transcript, or every `*.jsonl` file under a directory (in path order).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LlmError> {
        let path = path.as_ref();
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        files.sort();
        let mut exchanges = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|err| replay_error(file, &err))?;
            for (number, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let exchange: Exchange = serde_json::from_str(line).map_err(|err| {
                    LlmError::new(
                        LlmErrorKind::Protocol,
                        format!(
                            "transcript `{}` line {}: not an exchange: {err}",
                            file.display(),
                            number + 1
                        ),
                    )
                })?;
                exchanges.push(exchange);
            }
        }
        Ok(Self::from_exchanges(path.display().to_string(), exchanges))
    }

    /// Builds a replay from exchanges in memory; `source` names them in errors.
    pub fn from_exchanges(source: impl Into<String>, exchanges: Vec<Exchange>) -> Self {
        let mut answers: HashMap<String, Recorded> = HashMap::new();
        for exchange in exchanges {
            let Some(response) = exchange.response else {
                continue;
            };
            answers
                .entry(key(&exchange.request))
                .or_insert_with(|| Recorded {
                    responses: Vec::new(),
                    next: 0,
                })
                .responses
                .push(response);
        }
        Self {
            source: source.into(),
            answers: Mutex::new(answers),
        }
    }

    /// How many distinct requests have a recorded answer.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Recorded>> {
        match self.answers.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[async_trait]
impl LlmClient for ReplayClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let mut answers = self.lock();
        let Some(recorded) = answers.get_mut(&key(request)) else {
            return Err(LlmError::new(
                LlmErrorKind::ReplayMiss,
                format!(
                    "`{}` has no answer for this {} request",
                    self.source,
                    request.purpose.as_deref().unwrap_or("unnamed")
                ),
            ));
        };
        let index = recorded
            .next
            .min(recorded.responses.len().saturating_sub(1));
        recorded.next += 1;
        recorded
            .responses
            .get(index)
            .cloned()
            .ok_or_else(|| LlmError::new(LlmErrorKind::ReplayMiss, "empty recording".to_owned()))
    }

    fn endpoint(&self) -> String {
        format!("replay:{}", self.source)
    }
}

/// The replay key: the request's canonical JSON.
fn key(request: &ChatRequest) -> String {
    serde_json::to_string(request).unwrap_or_default()
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LlmError> {
    let meta = std::fs::metadata(path).map_err(|err| replay_error(path, &err))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|err| replay_error(path, &err))?;
    for entry in entries {
        let entry = entry.map_err(|err| replay_error(path, &err))?;
        let child = entry.path();
        if child.is_dir() {
            collect_files(&child, out)?;
        } else if child.extension().is_some_and(|ext| ext == "jsonl") {
            out.push(child);
        }
    }
    Ok(())
}

fn replay_error(path: &Path, err: &std::io::Error) -> LlmError {
    LlmError::new(
        LlmErrorKind::ReplayMiss,
        format!("cannot read transcript `{}`: {err}", path.display()),
    )
}
