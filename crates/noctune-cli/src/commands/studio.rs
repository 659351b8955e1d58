//! `noctune studio serve`, `noctune studio mcp` and `noctune studio stop`: a shim over
//! `noctune_studio`.
#![allow(clippy::print_stdout)] // the one line with the URL is this command's output

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::args::GlobalArgs;
use crate::exit::ExitStatus;

/// `noctune studio`.
#[derive(Debug, Args)]
pub struct StudioArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: StudioAction,
}

/// The studio's subcommands.
#[derive(Debug, Subcommand)]
pub enum StudioAction {
    /// Start the daemon (HTTP API and web UI) and print its URL with the access token.
    Serve(ServeArgs),
    /// Serve MCP on stdin/stdout for an agent (Claude Desktop, Codex, an IDE): tools to start
    /// runs under `--root`, tail their events, decide approvals and stop them. Stdout carries
    /// protocol messages only; logs go to stderr. See docs/mcp.md.
    Mcp,
    /// Stop the daemon of `--root` gracefully (its workers stop at a safe point; runs keep
    /// their state).
    Stop,
}

/// `noctune studio serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port (0 picks a free one).
    #[arg(long, default_value_t = 7331)]
    pub port: u16,
    /// The address to bind; anything but loopback is warned about (the token is still required).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
}

/// Runs `noctune studio ...`.
pub fn run(global: &GlobalArgs, args: &StudioArgs) -> anyhow::Result<ExitStatus> {
    match &args.action {
        StudioAction::Serve(serve) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async {
                let mut options = noctune_studio::ServeOptions::new(&global.root)?;
                options.port = serve.port;
                options.host = serve.host;
                let studio = noctune_studio::serve(options).await?;
                {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "Noctune Studio: {}", studio.url())?;
                    out.flush()?;
                }
                let state = studio.state().clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        state.request_shutdown();
                    }
                });
                studio.wait().await;
                anyhow::Ok(ExitStatus::Success)
            })
        }
        StudioAction::Mcp => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async {
                let options = noctune_studio::mcp::McpOptions::new(&global.root)?;
                noctune_studio::mcp::serve_stdio(options).await?;
                anyhow::Ok(ExitStatus::Success)
            })
        }
        StudioAction::Stop => {
            match noctune_studio::stop(&global.root, Duration::from_secs(60))? {
                noctune_studio::Stopped::Stopped { pid } => {
                    println!("Noctune Studio (pid {pid}) stopped");
                }
                noctune_studio::Stopped::WasNotRunning => {
                    println!("Noctune Studio was not running (removed its stale daemon.json)");
                }
            }
            Ok(ExitStatus::Success)
        }
    }
}
