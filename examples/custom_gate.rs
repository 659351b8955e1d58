//! A custom gate in a whole pipeline run: `NoNewPrintGate` (written against `noctune-core`
//! alone, in `no_print_gate.rs`) joins parse and ruff with `Gates::with_gate`; the model's edit
//! adds a `print(`, the gate blocks it, its diagnostic reaches the repair ladder's model step,
//! and the repaired change is approved and applied. The model is a real OpenAI-compatible HTTP
//! server on 127.0.0.1 (the fake server, scripted by request kind).
//! Run: `cargo run -p noctune-examples --example custom_gate`.
#![allow(clippy::print_stdout)]

use noctune_examples::gated_run;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("noctune-custom-gate-{}", std::process::id()));
    let outcome = gated_run::run(&dir).await?;
    let gates = &outcome.gates;
    println!("gates after the repair ladder:");
    for report in gates["reports"].as_array().into_iter().flatten() {
        println!(
            "  {}: {} ({})",
            report["gate"], report["outcome"], report["summary"]
        );
    }
    println!("repair steps:");
    for step in gates["steps"]["steps"].as_array().into_iter().flatten() {
        println!(
            "  {}: kept={} {}",
            step["kind"], step["kept"], step["notes"]
        );
    }
    let told = outcome.repair_prompts.iter().any(|p| p.contains("NP001"));
    println!("the repair prompt named the gate's finding (NP001): {told}");
    println!("{:?}", outcome.summary);
    println!("--- {} after the run:\n{}", gated_run::FILE, outcome.after);
    std::fs::remove_dir_all(&dir)?;
    if !told || outcome.summary.applied != 1 || outcome.after.contains("print(") {
        return Err("the custom gate did not block the edit as expected".into());
    }
    Ok(())
}
