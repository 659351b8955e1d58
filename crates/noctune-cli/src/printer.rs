//! Terminal output helpers: colors only on a terminal (anstream strips them elsewhere).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};

use owo_colors::OwoColorize;

/// Prints an error and every cause, ruff-style.
pub fn print_error(out: &mut impl Write, err: &anyhow::Error) -> io::Result<()> {
    writeln!(out, "{}: {err}", "error".red().bold())?;
    for cause in err.chain().skip(1) {
        writeln!(out, "  {}: {cause}", "cause".bold())?;
    }
    Ok(())
}

/// Prints one JSON value on stdout.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    // As an io::Error, so that a closed pipe is recognised as one (exit 0).
    serde_json::to_writer_pretty(&mut stdout, value).map_err(std::io::Error::from)?;
    writeln!(stdout)?;
    Ok(())
}
