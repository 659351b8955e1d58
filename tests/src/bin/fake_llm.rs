//! `noctune-fake-llm [--port N]`: an OpenAI-compatible server on 127.0.0.1 that answers every
//! request of Noctune's pipeline in the right shape and never changes code
//! (`noctune_llm::fake::echo_model`). Prints its base URL on the first line of stdout and runs
//! until killed. For benchmarks (memory and time of a run at no model cost), e.g.
//! `NOCTUNE_BASE_URL=$(...) noctune edit FILE`.
#![allow(clippy::print_stdout)]

use std::io::Write;

use noctune_llm::fake::{FakeOptions, FakeServer, echo_model};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let server = FakeServer::start_responder(FakeOptions::default(), echo_model).await;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.url())?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}
