//! The pipeline's record of each model call: `llm_<stage>_p<N>.jsonl`, one exchange a line.

use serde::Serialize;

use crate::error::Result;
use crate::ids::TaskId;
use crate::llm::{ChatRequest, ChatResponse, LlmError};
use crate::store::Run;

#[derive(Serialize)]
struct Line<'a> {
    ts: jiff::Timestamp,
    request: &'a ChatRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<&'a ChatResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a LlmError>,
}

/// Appends one exchange to the task's transcript of `stage` in `pass`.
pub(crate) fn record(
    run: &Run,
    task_id: &TaskId,
    stage: &str,
    pass: u32,
    request: &ChatRequest,
    outcome: Result<&ChatResponse, &LlmError>,
) -> Result<()> {
    let name = super::artifacts::transcript(stage, pass);
    let line = Line {
        ts: jiff::Timestamp::now(),
        request,
        response: outcome.ok(),
        error: outcome.err(),
    };
    if let Ok(mut json) = serde_json::to_vec(&line) {
        json.push(b'\n');
        run.append_artifact(task_id, &name, &json)?;
    }
    Ok(())
}
