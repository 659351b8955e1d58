//! Stop, pause and live counters of a run, shared between the run loop and the front end
//! (Ctrl+C handler, progress display).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Budgets;
use crate::task::TaskStage;

/// What the human chose at a pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseAction {
    /// Go on as before.
    Continue,
    /// Go on, adding this text to the next prompts for the current file.
    Guidance(String),
    /// Leave the current file (status `skipped`) and go on with the next.
    Skip,
    /// Stop the run (status `stopped`, resumable).
    Stop,
}

/// Asked at a safe point after a pause was requested; gets the current file.
pub type PauseHandler = Arc<dyn Fn(&Path) -> PauseAction + Send + Sync>;

/// Told each time a file enters a stage of a pass (review, draft, edit, gates, approve,
/// apply): the file, the pass and the stage. For progress displays; it must return quickly.
pub type StageObserver = Arc<dyn Fn(&Path, u32, TaskStage) + Send + Sync>;

/// The run's switches and counters.
pub struct Control {
    stop: AtomicBool,
    stopped: tokio::sync::Notify,
    stop_reason: Mutex<Option<String>>,
    pause: AtomicBool,
    /// Held while the pause handler asks: the other files in flight wait at their next safe
    /// point, so the whole run pauses, not one file.
    pausing: Mutex<()>,
    handler: Option<PauseHandler>,
    stage_observer: Option<StageObserver>,
    completion_tokens: AtomicU64,
    llm_ms: AtomicU64,
    run_tokens: AtomicU64,
    run_started: Instant,
    /// Each file in flight: its tokens and when it started (budgets are per file).
    files: Mutex<HashMap<PathBuf, FileCounter>>,
}

/// The per-file counters of a file in flight.
#[derive(Debug, Clone, Copy)]
struct FileCounter {
    tokens: u64,
    started: Instant,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            stop: AtomicBool::new(false),
            stopped: tokio::sync::Notify::new(),
            stop_reason: Mutex::new(None),
            pause: AtomicBool::new(false),
            pausing: Mutex::new(()),
            handler: None,
            stage_observer: None,
            completion_tokens: AtomicU64::new(0),
            llm_ms: AtomicU64::new(0),
            run_tokens: AtomicU64::new(0),
            run_started: Instant::now(),
            files: Mutex::new(HashMap::new()),
        }
    }
}

/// A budget that ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetExceeded {
    /// The run's budget: the run stops (resumable).
    Run(String),
    /// The current file's budget: the file is set aside until the next resume.
    File(String),
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("stop", &self.stop)
            .field("pause", &self.pause)
            .finish_non_exhaustive()
    }
}

/// What a safe point decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    /// Go on (with new guidance, when given).
    Continue(Option<String>),
    /// Skip the current file.
    Skip,
    /// Stop the run.
    Stop,
}

impl Control {
    /// Switches with a pause handler (interactive terminals); without one a pause stops.
    pub fn with_pause_handler(handler: PauseHandler) -> Self {
        Self {
            handler: Some(handler),
            ..Self::default()
        }
    }

    /// The same switches, telling `observer` each stage a file enters.
    pub fn with_stage_observer(mut self, observer: StageObserver) -> Self {
        self.stage_observer = Some(observer);
        self
    }

    /// Says that `file` enters `stage` of pass `pass` (to the stage observer, if any).
    pub fn stage_entered(&self, file: &Path, pass: u32, stage: TaskStage) {
        if let Some(observer) = &self.stage_observer
            && stage != TaskStage::Done
        {
            observer(file, pass, stage);
        }
    }

    /// Asks the run to stop at the next safe point; a model call in flight is abandoned (nothing
    /// is being written while the model thinks).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.stopped.notify_waiters();
    }

    /// Resolves once a stop is requested.
    pub async fn wait_stop(&self) {
        loop {
            let notified = self.stopped.notified();
            if self.stop_requested() {
                return;
            }
            notified.await;
        }
    }

    /// Asks the run to pause at the next safe point.
    pub fn request_pause(&self) {
        self.pause.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A safe point for `file`: honours a stop, and a pause by asking the handler. While the
    /// handler asks about one file, the other files in flight wait here.
    pub fn checkpoint(&self, file: &Path) -> Checkpoint {
        if self.stop_requested() {
            return Checkpoint::Stop;
        }
        // The pause flag is taken under the lock, so a file that finds no pause to answer has
        // waited out any question another file is being asked.
        let asking = self.lock_pausing();
        if self.stop_requested() {
            return Checkpoint::Stop;
        }
        if !self.pause.swap(false, Ordering::SeqCst) {
            return Checkpoint::Continue(None);
        }
        let action = match &self.handler {
            Some(handler) => handler(file),
            None => PauseAction::Stop,
        };
        // A stop is recorded before the lock is let go, so the files that waited see it.
        let checkpoint = match action {
            PauseAction::Continue => Checkpoint::Continue(None),
            PauseAction::Guidance(text) => Checkpoint::Continue(Some(text)),
            PauseAction::Skip => Checkpoint::Skip,
            PauseAction::Stop => {
                self.request_stop();
                Checkpoint::Stop
            }
        };
        drop(asking);
        checkpoint
    }

    fn lock_pausing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.pausing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a model call's tokens and time to the live counters, and its tokens to `file`'s.
    pub fn record_call(
        &self,
        file: &Path,
        prompt_tokens: u32,
        completion_tokens: u32,
        elapsed_ms: u64,
    ) {
        let completion = u64::from(completion_tokens);
        let total = u64::from(prompt_tokens) + completion;
        self.completion_tokens
            .fetch_add(completion, Ordering::Relaxed);
        self.llm_ms.fetch_add(elapsed_ms, Ordering::Relaxed);
        self.run_tokens.fetch_add(total, Ordering::Relaxed);
        self.lock_files()
            .entry(file.to_path_buf())
            .or_insert_with(|| FileCounter {
                tokens: 0,
                started: Instant::now(),
            })
            .tokens += total;
    }

    /// Counts tokens an earlier session of the same run used against the run budget.
    pub fn add_prior_tokens(&self, tokens: u64) {
        self.run_tokens.fetch_add(tokens, Ordering::Relaxed);
    }

    /// Starts the per-file counters of `file` (several files may be in flight at once).
    pub fn begin_file(&self, file: &Path) {
        self.lock_files().insert(
            file.to_path_buf(),
            FileCounter {
                tokens: 0,
                started: Instant::now(),
            },
        );
    }

    /// Drops the per-file counters of `file`: it is no longer in flight.
    pub fn end_file(&self, file: &Path) {
        self.lock_files().remove(file);
    }

    fn lock_files(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, FileCounter>> {
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The first budget that ran out for `file`, if any (run budgets first).
    pub fn budget_exceeded(&self, budgets: &Budgets, file: &Path) -> Option<BudgetExceeded> {
        let run_tokens = self.run_tokens.load(Ordering::Relaxed);
        if let Some(limit) = budgets.run_tokens
            && run_tokens >= limit
        {
            return Some(BudgetExceeded::Run(format!(
                "run token budget: {run_tokens} >= {limit}"
            )));
        }
        if let Some(limit) = budgets.run_time
            && self.run_started.elapsed() >= limit
        {
            return Some(BudgetExceeded::Run(format!(
                "run time budget: {} min",
                limit.as_secs() / 60
            )));
        }
        let counter = self.lock_files().get(file).copied();
        let file_tokens = counter.map_or(0, |c| c.tokens);
        if let Some(limit) = budgets.file_tokens
            && file_tokens >= limit
        {
            return Some(BudgetExceeded::File(format!(
                "file token budget: {file_tokens} >= {limit}"
            )));
        }
        let file_elapsed = counter.map_or(Duration::ZERO, |c| c.started.elapsed());
        if let Some(limit) = budgets.file_time
            && file_elapsed >= limit
        {
            return Some(BudgetExceeded::File(format!(
                "file time budget: {} min",
                limit.as_secs() / 60
            )));
        }
        None
    }

    /// Stops the run at the next safe point, saying why.
    pub fn stop_because(&self, reason: String) {
        *self
            .stop_reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
        self.request_stop();
    }

    /// Why the run was stopped, when it was not a human's Ctrl+C.
    pub fn stop_reason(&self) -> Option<String> {
        self.stop_reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Time since the run started in this process.
    pub fn elapsed(&self) -> Duration {
        self.run_started.elapsed()
    }

    /// Answer tokens per second of model time so far.
    pub fn tokens_per_second(&self) -> f64 {
        let ms = self.llm_ms.load(Ordering::Relaxed);
        if ms == 0 {
            return 0.0;
        }
        self.completion_tokens.load(Ordering::Relaxed) as f64 * 1000.0 / ms as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_asks_once_then_continues() {
        let control = Control::with_pause_handler(Arc::new(|_| {
            PauseAction::Guidance("keep the signature".into())
        }));
        let file = Path::new("a.py");
        assert_eq!(control.checkpoint(file), Checkpoint::Continue(None));
        control.request_pause();
        assert_eq!(
            control.checkpoint(file),
            Checkpoint::Continue(Some("keep the signature".into()))
        );
        assert_eq!(control.checkpoint(file), Checkpoint::Continue(None));
        control.request_stop();
        assert_eq!(control.checkpoint(file), Checkpoint::Stop);
    }

    #[test]
    fn budgets_run_first_then_file_and_reset_per_file() {
        let control = Control::default();
        let budgets = Budgets {
            run_tokens: Some(1_000),
            file_tokens: Some(100),
            ..Budgets::default()
        };
        let (a, b) = (Path::new("a.py"), Path::new("b.py"));
        control.begin_file(a);
        control.begin_file(b);
        assert_eq!(control.budget_exceeded(&budgets, a), None);
        control.record_call(a, 80, 30, 10);
        assert!(matches!(
            control.budget_exceeded(&budgets, a),
            Some(BudgetExceeded::File(_))
        ));
        // Files in flight together keep their own counts.
        assert_eq!(control.budget_exceeded(&budgets, b), None);
        control.begin_file(a);
        assert_eq!(control.budget_exceeded(&budgets, a), None);
        control.record_call(b, 900, 0, 10);
        assert!(matches!(
            control.budget_exceeded(&budgets, a),
            Some(BudgetExceeded::Run(_))
        ));
    }

    #[test]
    fn the_stage_observer_hears_every_stage_but_done() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        let control = Control::default().with_stage_observer(Arc::new(move |file, pass, stage| {
            sink.lock()
                .unwrap()
                .push(format!("{} p{pass} {stage}", file.display()));
        }));
        for stage in [TaskStage::Review, TaskStage::Gates, TaskStage::Done] {
            control.stage_entered(Path::new("a.py"), 2, stage);
        }
        assert_eq!(*heard.lock().unwrap(), ["a.py p2 review", "a.py p2 gates"]);
    }

    #[test]
    fn while_one_file_is_asked_the_others_wait_at_their_safe_point() {
        let control = Arc::new(Control::with_pause_handler(Arc::new(|_| {
            std::thread::sleep(Duration::from_millis(300));
            PauseAction::Stop
        })));
        control.request_pause();
        let asker = {
            let control = control.clone();
            std::thread::spawn(move || control.checkpoint(Path::new("a.py")))
        };
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        let other = control.checkpoint(Path::new("b.py"));
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "b.py went on while a.py's question was open"
        );
        // The answer was "stop": the waiting file stops too.
        assert_eq!(other, Checkpoint::Stop);
        assert_eq!(asker.join().unwrap(), Checkpoint::Stop);
    }

    #[test]
    fn pause_without_a_handler_stops() {
        let control = Control::default();
        control.request_pause();
        assert_eq!(control.checkpoint(Path::new("a.py")), Checkpoint::Stop);
        assert!(control.stop_requested());
    }
}
