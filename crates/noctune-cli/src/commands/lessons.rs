//! `noctune lessons list|show|forget`: the lesson cards requests left behind.

use std::io::Write;

use noctune_core::request::Lessons;
use noctune_core::store::CacheLayout;

use crate::args::{GlobalArgs, LessonsAction, LessonsArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Lists, shows or forgets lesson cards.
pub fn run(global: &GlobalArgs, args: &LessonsArgs) -> anyhow::Result<ExitStatus> {
    let lessons = Lessons::new(CacheLayout::for_root(&global.root).dir());
    let json = global.output_format == OutputFormat::Json;
    let mut out = anstream::stdout().lock();
    match &args.action {
        LessonsAction::List => {
            let cards = lessons.list()?;
            if json {
                print_json(&serde_json::json!({ "lessons": cards }))?;
            } else if cards.is_empty() {
                writeln!(
                    out,
                    "no lesson cards in {} (`noctune task` keeps one per applied change)",
                    lessons.dir().display()
                )?;
            } else {
                for card in &cards {
                    writeln!(
                        out,
                        "{}  {:<8} {} in {}  ({})",
                        card.id, card.kind, card.symbol, card.file, card.request
                    )?;
                }
            }
        }
        LessonsAction::Show { id } => {
            let card = lessons.get(id)?;
            if json {
                print_json(&serde_json::to_value(&card)?)?;
            } else {
                writeln!(
                    out,
                    "{}  {} `{}` in {}",
                    card.id, card.kind, card.symbol, card.file
                )?;
                writeln!(out, "run {}  at {}", card.run_id, card.created_at)?;
                write!(out, "{}", card.as_example())?;
            }
        }
        LessonsAction::Forget { id } => {
            let card = lessons.forget(id)?;
            if json {
                print_json(&serde_json::json!({ "forgotten": card.id }))?;
            } else {
                writeln!(out, "forgot {} ({} in {})", card.id, card.symbol, card.file)?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
