//! Stop, pause and live counters of a run, shared between the run loop and the front end
//! (Ctrl+C handler, progress display).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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

/// The run's switches and counters.
#[derive(Default)]
pub struct Control {
    stop: AtomicBool,
    pause: AtomicBool,
    handler: Option<PauseHandler>,
    completion_tokens: AtomicU64,
    llm_ms: AtomicU64,
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

    /// Asks the run to stop at the next safe point.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Asks the run to pause at the next safe point.
    pub fn request_pause(&self) {
        self.pause.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A safe point for `file`: honours a stop, and a pause by asking the handler.
    pub fn checkpoint(&self, file: &Path) -> Checkpoint {
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
        match action {
            PauseAction::Continue => Checkpoint::Continue(None),
            PauseAction::Guidance(text) => Checkpoint::Continue(Some(text)),
            PauseAction::Skip => Checkpoint::Skip,
            PauseAction::Stop => {
                self.request_stop();
                Checkpoint::Stop
            }
        }
    }

    /// Adds a model call's answer tokens and time to the live counters.
    pub fn record_call(&self, completion_tokens: u32, elapsed_ms: u64) {
        self.completion_tokens
            .fetch_add(u64::from(completion_tokens), Ordering::Relaxed);
        self.llm_ms.fetch_add(elapsed_ms, Ordering::Relaxed);
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
    fn pause_without_a_handler_stops() {
        let control = Control::default();
        control.request_pause();
        assert_eq!(control.checkpoint(Path::new("a.py")), Checkpoint::Stop);
        assert!(control.stop_requested());
    }
}
