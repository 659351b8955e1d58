//! The short line for people that leads each tool result (the structured content and its
//! JSON follow).

use serde_json::Value;

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("?")
}

fn count(value: &Value, key: &str) -> usize {
    value.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

/// The line for a tool's structured result, when the tool is ours.
pub fn summarize(tool: &str, value: &Value) -> Option<String> {
    Some(match tool {
        "enqueue_run" => format!(
            "Run {} queued on {}.",
            text(value, "run_id"),
            text(value, "repo_root")
        ),
        "enqueue_task" => format!(
            "Task {} queued on {}.",
            text(value, "run_id"),
            text(value, "repo_root")
        ),
        "get_status" => {
            let pending = value
                .get("pending_approvals")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            format!(
                "Run {} is {}; {pending} approval(s) pending.",
                text(value.get("run")?, "run_id"),
                text(value, "status")
            )
        }
        "tail_events" => format!(
            "{} event(s); next cursor {}; run {}{}.",
            count(value, "events"),
            value
                .get("next_cursor")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            text(value, "status"),
            if value.get("done").and_then(Value::as_bool) == Some(true) {
                ", done"
            } else {
                ""
            }
        ),
        "list_approvals" => {
            let pending = value
                .get("approvals")
                .and_then(Value::as_array)
                .map_or(0, |a| {
                    a.iter().filter(|a| text(a, "state") == "pending").count()
                });
            format!(
                "Run {} has {} approval(s), {pending} pending.",
                text(value, "run_id"),
                count(value, "approvals")
            )
        }
        "decide_approval" => {
            let decision = value.get("decision")?;
            let resumed = value.get("resumed").and_then(Value::as_bool) == Some(true);
            format!(
                "Approval {}: {}{}.",
                text(decision, "approval_id"),
                text(decision, "decision"),
                if resumed {
                    "; the run resumes to apply it"
                } else {
                    ""
                }
            )
        }
        "stop_run" => format!("Run {} is stopping.", text(value, "run_id")),
        "list_runs" => format!("{} run(s).", count(value, "runs")),
        "get_report" => format!("Report of run {}.", text(value, "run_id")),
        _ => return None,
    })
}
