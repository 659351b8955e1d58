//! Transcripts: every exchange with the server, for artifacts and for replay.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use noctune_core::{ChatRequest, ChatResponse, LlmError};
use serde::{Deserialize, Serialize};

use crate::fallback::WireFormat;

/// One HTTP attempt: what was asked, what came back byte for byte, and how long it took.
///
/// Stored one per line (JSONL) by [`JsonlTranscript`]; [`ReplayClient`](crate::ReplayClient)
/// serves the successful ones back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// When the attempt started (RFC 3339).
    pub started_at: String,
    /// The endpoint (`http://127.0.0.1:8080/v1`).
    pub endpoint: String,
    /// What the call was for (`review`, `edit`), from [`ChatRequest::purpose`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// 0 for the first attempt, then one more per retry.
    pub attempt: u32,
    /// How the answer format went on the wire.
    pub format: WireFormat,
    /// Whether the answer was streamed.
    pub stream: bool,
    /// The request as the caller made it (the replay key).
    pub request: ChatRequest,
    /// The JSON body sent.
    pub body: serde_json::Value,
    /// The HTTP status, when one came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The raw response body, or the raw SSE text of a stream (lossy UTF-8).
    pub raw: String,
    /// The parsed answer, when the attempt succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ChatResponse>,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<LlmError>,
    /// Wall-clock milliseconds of the attempt.
    pub elapsed_ms: u64,
    /// Milliseconds until the first streamed token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<u64>,
}

/// Where exchanges go. Any `Fn(&Exchange) + Send + Sync` closure is a sink.
pub trait TranscriptSink: Send + Sync {
    /// Records one exchange. A sink that cannot write logs the failure; the call goes on.
    fn record(&self, exchange: &Exchange);
}

impl<F> TranscriptSink for F
where
    F: Fn(&Exchange) + Send + Sync,
{
    fn record(&self, exchange: &Exchange) {
        self(exchange);
    }
}

/// Appends exchanges to a JSONL file, one JSON object a line, flushed after each.
#[derive(Debug)]
pub struct JsonlTranscript {
    path: PathBuf,
    file: Mutex<File>,
}

impl JsonlTranscript {
    /// Opens (creating it and its directory if needed) `path` for appending.
    pub fn create(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self {
            path,
            file: Mutex::new(file),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl TranscriptSink for JsonlTranscript {
    fn record(&self, exchange: &Exchange) {
        let mut line = match serde_json::to_string(exchange) {
            Ok(line) => line,
            Err(err) => {
                tracing::warn!(%err, "cannot serialise a transcript exchange");
                return;
            }
        };
        line.push('\n');
        let mut file = match self.file.lock() {
            Ok(file) => file,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Err(err) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            tracing::warn!(path = %self.path.display(), %err, "cannot write the transcript");
        }
    }
}
