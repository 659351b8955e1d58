//! The review label of a file.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How far a file is from done, as the review stage judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Label {
    /// Needs work.
    N,
    /// Passable: some improvements are still worth making.
    P,
    /// Well done: nothing high-leverage is left. `run` stops iterating on the file.
    W,
}

impl Label {
    /// The one-letter form used in `review.md` and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::N => "N",
            Label::P => "P",
            Label::W => "W",
        }
    }

    /// Whether the file needs no further pass.
    pub fn is_done(self) -> bool {
        self == Label::W
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
