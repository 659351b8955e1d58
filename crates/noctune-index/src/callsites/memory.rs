//! Sources held in memory for fast callsite lookups inside a run: all files in one buffer
//! (separated by a line break, so no match spans two files), a literal finder, and the same
//! whole-word rule as `rg -w` (the identifier must not touch a word character on either side;
//! word characters as in Unicode `\w`).

use std::sync::OnceLock;

use regex::bytes::Regex;

use super::Callsite;
use crate::error::{Error, Result};
use crate::walk::WalkedFile;

/// Every searched file's bytes, in one buffer.
#[derive(Debug)]
pub struct SourceCache {
    buffer: Vec<u8>,
    /// Start offset of each file in `buffer`, ascending, with its relative path and the index
    /// of its first line in `lines`.
    starts: Vec<(usize, String, usize)>,
    /// Start offset of every line in `buffer`, ascending.
    lines: Vec<u32>,
}

impl SourceCache {
    /// Reads `files` into memory (unreadable ones are skipped with a warning).
    pub fn load(files: &[WalkedFile]) -> Result<Self> {
        let total: u64 = files.iter().map(|f| f.size + 1).sum();
        let mut buffer = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut starts = Vec::with_capacity(files.len());
        let mut lines: Vec<u32> = Vec::with_capacity(buffer.capacity() / 32);
        for file in files {
            match std::fs::read(&file.path) {
                Ok(bytes) => {
                    let start = buffer.len();
                    starts.push((start, file.rel.clone(), lines.len()));
                    buffer.extend_from_slice(&bytes);
                    buffer.push(b'\n');
                    if buffer.len() > u32::MAX as usize {
                        return Err(Error::Search {
                            identifier: String::new(),
                            message: "sources over 4 GiB cannot be held in memory".to_owned(),
                        });
                    }
                    lines.push(start as u32);
                    lines.extend(
                        bytes
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| **b == b'\n')
                            .map(|(i, _)| (start + i + 1) as u32),
                    );
                }
                Err(err) => tracing::warn!(path = %file.path.display(), %err, "cannot read"),
            }
        }
        Ok(Self {
            buffer,
            starts,
            lines,
        })
    }

    /// The bytes held.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Every whole-word occurrence of `identifier`, in file order.
    pub(super) fn search(&self, identifier: &str) -> Vec<Callsite> {
        let Ok(finder) = Regex::new(&regex::escape(identifier)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // Matches come in order: the file and line cursors only move forward.
        let (mut file, mut line) = (0usize, 0usize);
        for m in finder.find_iter(&self.buffer) {
            let (start, end) = (m.start(), m.end());
            if !is_boundary_before(&self.buffer, start) || !is_boundary_after(&self.buffer, end) {
                continue;
            }
            file = gallop(&self.starts, file, |(s, _, _)| *s <= start);
            line = gallop(&self.lines, line, |s| *s as usize <= start);
            let line_start = self.lines[line] as usize;
            let line_end = self
                .lines
                .get(line + 1)
                .map_or(self.buffer.len(), |next| *next as usize - 1);
            out.push(Callsite {
                path: self.starts[file].1.clone(),
                line: line - self.starts[file].2 + 1,
                column: start - line_start + 1,
                text: super::line_text(&self.buffer[line_start..line_end]),
            });
        }
        out
    }
}

/// The last index at or after `from` whose item satisfies `le` (items satisfying it form a
/// prefix), found by galloping forward from `from`.
fn gallop<T>(items: &[T], from: usize, le: impl Fn(&T) -> bool) -> usize {
    let mut low = from;
    let mut step = 1;
    let mut high = from + 1;
    while high < items.len() && le(&items[high]) {
        low = high;
        step *= 2;
        high = low + step;
    }
    let high = high.min(items.len());
    low + items[low..high].partition_point(&le).saturating_sub(1)
}

fn is_boundary_before(buffer: &[u8], start: usize) -> bool {
    if start == 0 {
        return true;
    }
    let b = buffer[start - 1];
    if b.is_ascii() {
        return !(b.is_ascii_alphanumeric() || b == b'_');
    }
    // Decode the character ending at `start`.
    let from = start.saturating_sub(4);
    let tail = &buffer[from..start];
    (0..tail.len())
        .find_map(|i| std::str::from_utf8(&tail[i..]).ok())
        .and_then(|s| s.chars().next_back())
        .is_none_or(|c| !is_word_char(c))
}

fn is_boundary_after(buffer: &[u8], end: usize) -> bool {
    let Some(&b) = buffer.get(end) else {
        return true;
    };
    if b.is_ascii() {
        return !(b.is_ascii_alphanumeric() || b == b'_');
    }
    let head = &buffer[end..(end + 4).min(buffer.len())];
    (1..=head.len())
        .rev()
        .find_map(|i| std::str::from_utf8(&head[..i]).ok())
        .and_then(|s| s.chars().next())
        .is_none_or(|c| !is_word_char(c))
}

/// Unicode `\w`, as the regex crate (and so ripgrep) defines it.
fn is_word_char(c: char) -> bool {
    static WORD: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let mut buf = [0u8; 4];
    WORD.get_or_init(|| regex::Regex::new(r"^\w$").ok())
        .as_ref()
        .is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}
