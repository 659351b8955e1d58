//! Live output of a streamed answer, for `-v`.

use std::time::Duration;

use noctune_core::LlmError;

/// Something that happened while an answer streamed in.
#[derive(Debug, Clone, Copy)]
pub enum StreamEvent<'a> {
    /// A piece of the answer text (`delta.content`). Sent when `verbose_stream` is on.
    Content(&'a str),
    /// A piece of the model's reasoning (`delta.reasoning_content`). Sent when both
    /// `verbose_stream` and `stream_print_reasoning` are on.
    Reasoning(&'a str),
    /// The attempt failed and the client retries after `delay`: what was shown of this answer
    /// so far will be sent again.
    Retry {
        /// Why the attempt failed.
        error: &'a LlmError,
        /// The attempt that comes next (1 for the first retry).
        attempt: u32,
        /// How long the client waits first.
        delay: Duration,
    },
}

/// Receives streamed deltas as they arrive. Libraries never print: the CLI implements this to
/// show the answer on the terminal.
///
/// Any `Fn(StreamEvent<'_>) + Send + Sync` closure is an observer.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use noctune_llm::{StreamEvent, StreamObserver};
///
/// let seen = Arc::new(Mutex::new(String::new()));
/// let sink = seen.clone();
/// let observer = move |event: StreamEvent<'_>| {
///     if let StreamEvent::Content(text) = event {
///         sink.lock().unwrap().push_str(text);
///     }
/// };
/// observer.on_event(StreamEvent::Content("def "));
/// assert_eq!(*seen.lock().unwrap(), "def ");
/// ```
pub trait StreamObserver: Send + Sync {
    /// Called for each event, in order, from the task that runs the request.
    fn on_event(&self, event: StreamEvent<'_>);
}

impl<F> StreamObserver for F
where
    F: Fn(StreamEvent<'_>) + Send + Sync,
{
    fn on_event(&self, event: StreamEvent<'_>) {
        self(event);
    }
}
