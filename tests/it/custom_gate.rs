//! A custom gate joins a whole pipeline run: it blocks the model's edit, its diagnostic reaches
//! the repair ladder's model step, and only the repaired change is applied.

use noctune_examples::gated_run::{self, BEFORE};
use pretty_assertions::assert_eq;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_gate_blocks_an_edit_and_its_finding_reaches_the_repair_step() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = gated_run::run(dir.path()).await.unwrap();

    // The repair ladder's model step was told what the custom gate found, and only that.
    assert_eq!(
        outcome.repair_prompts.len(),
        1,
        "{:?}",
        outcome.repair_prompts
    );
    let prompt = &outcome.repair_prompts[0];
    assert!(
        prompt.contains("NP001 print() call: `print(f\"greeting {name}\")`"),
        "{prompt}"
    );
    assert!(prompt.contains("`greet`"), "{prompt}");

    // The gates' record: the custom gate ran after parse (and ruff), and passed in the end
    // because the model's repair step (the third rung) was kept.
    let gates: Vec<(String, String)> = outcome.gates["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["gate"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        gates.first().unwrap(),
        &("parse".to_owned(), "pass".to_owned())
    );
    assert_eq!(
        gates.last().unwrap(),
        &("no-new-print".to_owned(), "pass".to_owned())
    );
    assert_eq!(outcome.gates["steps"]["outcome"], "repaired");
    let kept: Vec<&str> = outcome.gates["steps"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kept"] == true)
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kept, vec!["llm"]);

    // Applied: the f-string and the log call, no print.
    assert_eq!(outcome.summary.applied, 1);
    assert_eq!(
        outcome.after,
        BEFORE.replace(
            "    return \"Hello, \" + name + \"!\"\n",
            "    return f\"Hello, {name}!\"\n"
        )
    );
}
