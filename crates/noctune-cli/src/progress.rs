//! The progress of a long run on stderr: a bar on a terminal, one plain line per step
//! otherwise (`[0/3] pkg/a.py pass 1: draft  12.5 tok/s eta ?`). A step is a file entering a
//! stage of a pass (review, draft, edit, gates, approve, apply) or a file ending. With several
//! model slots the line ends with the files in flight per endpoint and each endpoint's speed
//! (`3 files in flight: gpu1:8080 2/2 11.0 tok/s, gpu2:8080 1/2 9.5 tok/s`).
//!
//! The ETA: once a file is done, the time per file so far times the files left; before that,
//! the calibration probe's speeds (when the model was probed): [`CALLS_PER_FILE`] calls a
//! file, each reading half the context and writing a structured answer.
#![allow(clippy::print_stderr)] // the terminal UX of a long run

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use noctune_core::llm::EndpointLoad;
use noctune_core::pipeline::Progress;
use noctune_core::{LlmClient, TaskStage};

/// Model calls of one pass over a file (review, draft, edit, approve), for the ETA before the
/// first file is done.
pub const CALLS_PER_FILE: f64 = 4.0;

/// Prints the progress of one run.
pub struct ProgressLine {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    /// The probe's estimate of one model call, in seconds.
    seconds_per_call: Option<f64>,
    /// What the run loop last reported.
    seen: Mutex<Seen>,
    /// The model client, asked for its endpoints' load at each line.
    model: Option<Arc<dyn LlmClient>>,
}

/// The run loop's last report, for the lines in between.
#[derive(Default)]
struct Seen {
    done: usize,
    total: usize,
    /// Files in flight.
    in_flight: usize,
}

impl ProgressLine {
    /// A bar when `bar` (a terminal), plain lines otherwise. The number of files comes with
    /// the first report of the run loop. `seconds_per_call`: the calibration probe's estimate
    /// of one model call, for the ETA before the first file is done.
    pub fn new(bar: bool, seconds_per_call: Option<f64>) -> Self {
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
            seconds_per_call,
            seen: Mutex::new(Seen::default()),
            model: None,
        }
    }

    /// Shows the load of `model`'s endpoints on each line (when it has several slots).
    #[must_use]
    pub fn with_model(mut self, model: Arc<dyn LlmClient>) -> Self {
        self.model = Some(model);
        self
    }

    /// What the run loop reports: a file starting a pass, a file ending, the index.
    pub fn progress(&self, p: &Progress, tokens_per_second: f64) {
        {
            let mut seen = self.lock();
            seen.done = p.done;
            seen.total = p.total;
            seen.in_flight = p.in_flight.len();
        }
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
        let (done, total, in_flight) = {
            let seen = self.lock();
            (seen.done, seen.total, seen.in_flight)
        };
        let loads = self.model.as_ref().map(|m| m.loads()).unwrap_or_default();
        let pool = pool_line(in_flight, &loads);
        let slots = self.model.as_ref().map_or(1, |m| m.slots());
        let line = if pool.is_empty() {
            format!("{what}  {tokens_per_second:.1} tok/s")
        } else {
            format!("{what}  {pool}")
        };
        let eta = eta(
            done,
            total,
            self.started.elapsed().as_secs_f64(),
            self.seconds_per_call.map(|call| call / slots as f64),
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(done as u64);
                // indicatif's own `eta` needs a file done; until then, the probe's estimate.
                if done == 0 {
                    bar.set_message(format!("{line}  ({eta})"));
                } else {
                    bar.set_message(line);
                }
            }
            None => eprintln!("[{done}/{total}] {line} eta {eta}"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The pool's part of a progress line: the files in flight and, per endpoint, its requests in
/// flight over its slots and its answer speed (`down` when it is out). Empty for one slot.
fn pool_line(in_flight: usize, endpoints: &[EndpointLoad]) -> String {
    let slots: usize = endpoints.iter().map(|e| e.slots).sum();
    if slots <= 1 {
        return String::new();
    }
    let each: Vec<String> = endpoints
        .iter()
        .map(|e| {
            let host = e
                .endpoint
                .split_once("://")
                .map_or(e.endpoint.as_str(), |(_, rest)| rest)
                .trim_end_matches('/')
                .trim_end_matches("/v1");
            if e.up {
                format!(
                    "{host} {}/{} {:.1} tok/s",
                    e.in_flight,
                    e.slots,
                    e.tokens_per_second()
                )
            } else {
                format!("{host} down")
            }
        })
        .collect();
    format!("{in_flight} files in flight: {}", each.join(", "))
}

/// The ETA shown: `12s` from the files done, `~40s` from the probe's speeds before any is done,
/// `?` when neither is known.
fn eta(done: usize, total: usize, elapsed: f64, seconds_per_call: Option<f64>) -> String {
    let left = total.saturating_sub(done) as f64;
    if done > 0 {
        format!("{:.0}s", elapsed / done as f64 * left)
    } else if let Some(call) = seconds_per_call.filter(|_| total > 0) {
        format!("~{:.0}s", call * CALLS_PER_FILE * left)
    } else {
        "?".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{EndpointLoad, eta, pool_line};

    #[test]
    fn eta_from_files_done_else_from_the_probe() {
        assert_eq!(eta(2, 4, 10.0, Some(1.0)), "10s");
        assert_eq!(eta(0, 4, 10.0, Some(2.5)), "~40s");
        assert_eq!(eta(0, 4, 10.0, None), "?");
        assert_eq!(eta(0, 0, 0.0, Some(2.5)), "?");
    }

    #[test]
    fn the_pool_is_shown_per_endpoint_only_with_several_slots() {
        let one = EndpointLoad {
            endpoint: "http://127.0.0.1:8080/v1".into(),
            slots: 1,
            up: true,
            ..EndpointLoad::default()
        };
        assert_eq!(pool_line(1, std::slice::from_ref(&one)), "");
        let busy = EndpointLoad {
            endpoint: "http://gpu1:8080/v1".into(),
            slots: 2,
            in_flight: 2,
            up: true,
            completion_tokens: 22,
            busy_ms: 2_000,
            ..EndpointLoad::default()
        };
        let down = EndpointLoad {
            endpoint: "http://gpu2:8080/v1".into(),
            slots: 2,
            up: false,
            ..EndpointLoad::default()
        };
        assert_eq!(
            pool_line(2, &[busy, down]),
            "2 files in flight: gpu1:8080 2/2 11.0 tok/s, gpu2:8080 down"
        );
    }
}
