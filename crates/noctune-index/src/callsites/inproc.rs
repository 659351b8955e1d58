//! The in-process search: grep-searcher and grep-regex in word mode, as ripgrep does it.

use grep_matcher::Matcher;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};

use super::{Callsite, line_text};
use crate::error::{Error, Result};
use crate::walk::WalkedFile;

/// Searches `files` for whole-word `identifier`.
pub(super) fn search(files: &[WalkedFile], identifier: &str) -> Result<Vec<Callsite>> {
    let matcher = RegexMatcherBuilder::new()
        .word(true)
        .fixed_strings(true)
        .build(identifier)
        .map_err(|err| Error::Search {
            identifier: identifier.to_owned(),
            message: err.to_string(),
        })?;
    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .binary_detection(BinaryDetection::none())
        .build();
    let mut out = Vec::new();
    for file in files {
        let mut sink = Collect {
            matcher: &matcher,
            path: &file.rel,
            out: &mut out,
        };
        if let Err(err) = searcher.search_path(&matcher, &file.path, &mut sink) {
            tracing::warn!(path = %file.path.display(), %err, "cannot search");
        }
    }
    Ok(out)
}

struct Collect<'a> {
    matcher: &'a RegexMatcher,
    path: &'a str,
    out: &'a mut Vec<Callsite>,
}

impl Sink for Collect<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, _searcher: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        let line = mat.bytes();
        let number = mat.line_number().unwrap_or(0) as usize;
        let text = line_text(line);
        let mut columns = Vec::new();
        self.matcher
            .find_iter(line, |m| {
                columns.push(m.start() + 1);
                true
            })
            .map_err(std::io::Error::other)?;
        for column in columns {
            self.out.push(Callsite {
                path: self.path.to_owned(),
                line: number,
                column,
                text: text.clone(),
            });
        }
        Ok(true)
    }
}
