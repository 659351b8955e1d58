//! [`echo_model`]: a model that answers every request of Noctune's pipeline in the right shape
//! and never changes code, for benchmarks and evaluations that need the pipeline to run end to
//! end at no model cost (memory, time per file, what the deterministic steps do alone).

use serde_json::{Value, json};

use super::reply::Reply;
use super::server::RecordedRequest;

/// Answers by request kind: a review labelled `P`, a plan of the first definition the plan
/// schema allows (the first symbol when it allows no definition), the symbol's current code
/// unchanged for a code call (so no model edit is ever made), and an approval.
pub fn echo_model(request: &RecordedRequest) -> Reply {
    let answer = match request.schema_name() {
        Some("ReviewAnswer") => json!({
            "label": "P",
            "summary": "Works; could be modernised.",
            "checklist": ["modernise the code"],
        })
        .to_string(),
        Some("DraftPlan") => {
            let names: Vec<&str> = request
                .body
                .pointer("/response_format/json_schema/schema/properties/targets/items/properties/symbol/enum")
                .and_then(Value::as_array)
                .map(|names| names.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // Module chunks are named `<imports>`, `<docstring>`...
            let first = names
                .iter()
                .find(|n| !n.starts_with('<'))
                .or(names.first())
                .copied()
                .unwrap_or("main");
            json!({"targets": [{"symbol": first, "edit_prompt": "Modernise it."}]}).to_string()
        }
        Some(_) => json!({
            "reason": "No change in behaviour.",
            "behaviour_kept": true,
            "risk": 0.0,
            "decision": "approve",
        })
        .to_string(),
        None => format!("```python\n{}\n```", asked_code(&request.prompt_text())),
    };
    Reply::answer(answer)
}

/// The code a code request (an edit or a repair) shows the model: the first block after
/// "Current code:" or "Code:"; empty when there is none.
pub fn asked_code(prompt: &str) -> &str {
    prompt
        .split_once("Current code:\n```python\n")
        .or_else(|| prompt.split_once("Code:\n```python\n"))
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map_or("", |(code, _)| code)
}
