//! The `noctune` command. Thin: argument parsing, terminal output, composition of the library
//! crates. Exit codes: 0 ok, 1 findings or rejections, 2 usage or configuration error.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod args;
mod commands;
mod compose;
mod connect;
mod eval;
mod exit;
mod pack_scope;
mod printer;
mod progress;
mod start_run;

use args::{Cli, Command};
use exit::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&cli.global, &args),
        Command::Config(args) => commands::config::run(&cli.global, &args),
        Command::Check(args) => commands::check::run(&cli.global, &args),
        Command::Index(args) => commands::index::run(&cli.global, &args),
        Command::Symbols(args) => commands::symbols::run(&cli.global, &args),
        Command::Review(flags) => {
            commands::run::run(&cli.global, &flags, commands::run::Mode::Review)
        }
        Command::Edit(flags) => commands::run::run(&cli.global, &flags, commands::run::Mode::Edit),
        Command::Run(flags) => commands::run::run(&cli.global, &flags, commands::run::Mode::Run),
        Command::Repair(flags) => {
            commands::run::run(&cli.global, &flags, commands::run::Mode::Repair)
        }
        Command::Status(args) => commands::status::run(&cli.global, &args),
        Command::Runs(args) => commands::runs::run(&cli.global, &args),
        Command::Approvals(args) => commands::approvals::run(&cli.global, &args),
        Command::Report(args) => commands::report::run(&cli.global, &args),
        Command::Apply(args) => commands::apply::run(&cli.global, &args),
        Command::Restore(args) => commands::restore::run(&cli.global, &args),
        Command::Patchset(args) => commands::patchset::run(&cli.global, &args),
        Command::Commit(args) => commands::commit::run(&cli.global, &args),
        Command::Eval(args) => commands::eval::run(&cli.global, &args),
        Command::Probe(args) => commands::probe::run(&cli.global, &args),
        Command::Studio(args) => commands::studio::run(&cli.global, &args),
        Command::Task(args) => commands::task::run(&cli.global, &args),
        Command::Lessons(args) => commands::lessons::run(&cli.global, &args),
        Command::Search(args) => commands::search::run(&cli.global, &args),
        Command::Owners(args) => commands::owners::run(&cli.global, &args),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = anstream::stderr().lock();
            let _ = printer::print_error(&mut stderr, &err);
            let _ = stderr.flush();
            ExitStatus::Error.into()
        }
    }
}

/// Logs go to stderr; `-v` shows info, `-vv` debug; `NOCTUNE_LOG` takes a full filter.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NOCTUNE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
