//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Upgrade Python code with a local LLM, one symbol at a time, never leaving a file broken.
#[derive(Debug, Parser)]
#[command(name = "noctune", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The repository root.
    #[arg(long, global = true, default_value = ".", value_name = "PATH")]
    pub root: PathBuf,
    /// Output format for commands whose output is data.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// More output: stream the model's answers; `-vv` for debug logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people, colored on a terminal.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write `noctune.toml` and the prompt overrides under `.noctune_cache/overrides/`.
    Init(InitArgs),
    /// Show the resolved configuration (after `noctune.toml`/`pyproject.toml` and the
    /// environment), or the error that stops it from loading.
    Config(ConfigArgs),
}

/// `noctune init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite files that were edited since `init` wrote them.
    #[arg(long)]
    pub force: bool,
}

/// `noctune config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {}
