//! `noctune-fake-llm [--slots N] [--delay-ms L]`: an OpenAI-compatible server on 127.0.0.1 that
//! answers every request of Noctune's pipeline in the right shape and never changes code
//! (`noctune_llm::fake::echo_model`). Prints its base URL on the first line of stdout and runs
//! until killed. For benchmarks (memory and time of a run at no model cost), e.g.
//! `NOCTUNE_BASE_URL=$(...) noctune edit FILE`. `--slots` makes it answer that many requests at
//! once and say so in `/props` (as llama.cpp's `--parallel`), `--delay-ms` makes every answer
//! take that long: two of them are a pool to try `[llm] endpoints` with.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::Duration;

use noctune_llm::fake::{FakeOptions, FakeServer, echo_model};

const USAGE: &str = "usage: noctune-fake-llm [--slots N] [--delay-ms L]";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut options = FakeOptions::default();
    let mut delay = Duration::ZERO;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: Option<u64> = args.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--slots", Some(n)) => options.total_slots = u32::try_from(n).ok(),
            ("--delay-ms", Some(ms)) => delay = Duration::from_millis(ms),
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("bad argument `{flag}`\n{USAGE}"),
                ));
            }
        }
    }
    let server =
        FakeServer::start_responder(options, move |request| echo_model(request).delayed(delay))
            .await;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.url())?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}
