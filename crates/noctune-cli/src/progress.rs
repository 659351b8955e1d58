//! The progress of a long run on stderr: a bar on a terminal, one plain line per step
//! otherwise (`[0/3] pkg/a.py pass 1: draft  12.5 tok/s eta ?`). A step is a file entering a
//! stage of a pass (review, draft, edit, gates, approve, apply) or a file ending.
#![allow(clippy::print_stderr)] // the terminal UX of a long run

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use noctune_core::TaskStage;
use noctune_core::pipeline::Progress;

/// Prints the progress of one run.
pub struct ProgressLine {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    /// Files done and in the run, as last reported by the run loop.
    counts: Mutex<(usize, usize)>,
}

impl ProgressLine {
    /// A bar when `bar` (a terminal), plain lines otherwise. The number of files comes with
    /// the first report of the run loop.
    pub fn new(bar: bool) -> Self {
        let bar = bar.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} files  {msg}  eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            counts: Mutex::new((0, 0)),
        }
    }

    /// What the run loop reports: a file starting a pass, a file ending, the index.
    pub fn progress(&self, p: &Progress, tokens_per_second: f64) {
        *self.lock() = (p.done, p.total);
        if let Some(bar) = &self.bar {
            bar.set_length(p.total as u64);
        }
        let what = match &p.file {
            Some(file) => format!("{file} {}", p.what),
            None => p.what.clone(),
        };
        self.show(&what, tokens_per_second);
    }

    /// A file entering a stage of a pass.
    pub fn stage(&self, file: &Path, pass: u32, stage: TaskStage, tokens_per_second: f64) {
        self.show(
            &format!("{} pass {pass}: {stage}", file.display()),
            tokens_per_second,
        );
    }

    fn show(&self, what: &str, tokens_per_second: f64) {
        let line = format!("{what}  {tokens_per_second:.1} tok/s");
        let (done, total) = *self.lock();
        match &self.bar {
            Some(bar) => {
                bar.set_position(done as u64);
                bar.set_message(line);
            }
            None => {
                let eta = if done > 0 {
                    let per = self.started.elapsed().as_secs_f64() / done as f64;
                    format!("{:.0}s", per * total.saturating_sub(done) as f64)
                } else {
                    "?".to_owned()
                };
                eprintln!("[{done}/{total}] {line} eta {eta}");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, usize)> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
