//! `logs/events.jsonl`: an append-only event log with a strictly increasing `idx`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::event::{Event, EventType};
use crate::ids::TaskId;

/// An open event log. Shareable between threads: appends are serialised, so `idx` is strictly
/// increasing in file order even with several task writers.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: File,
    next_idx: u64,
}

impl EventLog {
    /// Opens (or creates) the log and finds the next `idx`. A torn last line (a crash in the
    /// middle of an append) is cut off, so the log stays one JSON object per line.
    ///
    /// The scan and the cut hold the log's OS lock, the one [`EventLog::append`] holds: a line
    /// another process is appending at that moment (the worker, while the CLI records a
    /// decision) is waited for, not mistaken for a torn line and cut.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|err| Error::io("open", path, err))?;
        file.lock().map_err(|err| Error::io("lock", path, err))?;
        let scanned = Self::scan_and_cut(&mut file, path);
        let _ = file.unlock();
        let last_idx = scanned?;
        Ok(Self {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                file,
                next_idx: last_idx + 1,
            }),
        })
    }

    /// Reads the log from the start, cuts a torn last line, and returns the last `idx`.
    /// The caller holds the log's lock.
    fn scan_and_cut(file: &mut File, path: &Path) -> Result<u64> {
        let mut last_idx = 0;
        let mut good_len = 0u64;
        {
            let mut reader = BufReader::new(&mut *file);
            reader
                .seek(SeekFrom::Start(0))
                .map_err(|err| Error::io("read", path, err))?;
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|err| Error::io("read", path, err))?;
                if n == 0 {
                    break;
                }
                if line.last() != Some(&b'\n') {
                    tracing::warn!(log = %path.display(), "cutting a torn last event line");
                    break;
                }
                match serde_json::from_slice::<Event>(&line) {
                    Ok(event) => last_idx = last_idx.max(event.idx),
                    // A line that is not an event (a fragment glued by an older writer, a
                    // hand edit) is skipped, as readers skip it: the log stays usable.
                    Err(err) => tracing::warn!(
                        log = %path.display(),
                        "skipping a line at byte {good_len} that is not an event: {err}"
                    ),
                }
                good_len += n as u64;
            }
        }
        let len = file
            .metadata()
            .map_err(|err| Error::io("read", path, err))?
            .len();
        if len != good_len {
            file.set_len(good_len)
                .map_err(|err| Error::io("truncate", path, err))?;
        }
        Ok(last_idx)
    }

    /// Appends one event and makes it durable; returns it with its `idx`.
    ///
    /// Safe across processes: the append holds an OS lock on the log and takes the next `idx`
    /// from the log's last line, so a decision logged by the CLI while a worker runs cannot
    /// reuse an `idx`.
    pub fn append(
        &self,
        event_type: EventType,
        task_id: Option<&TaskId>,
        payload: serde_json::Value,
    ) -> Result<Event> {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .file
            .lock()
            .map_err(|err| Error::io("lock", &self.path, err))?;
        let result = self.append_locked(&mut inner, event_type, task_id, payload);
        let _ = inner.file.unlock();
        result
    }

    fn append_locked(
        &self,
        inner: &mut Inner,
        event_type: EventType,
        task_id: Option<&TaskId>,
        payload: serde_json::Value,
    ) -> Result<Event> {
        // A writer killed mid-append (another process) may have left a fragment without its
        // newline: cut it, or this line would be glued to it.
        cut_torn_tail(&mut inner.file).map_err(|err| Error::io("repair", &self.path, err))?;
        let last = last_idx(&mut inner.file).map_err(|err| Error::io("read", &self.path, err))?;
        let idx = inner.next_idx.max(last + 1);
        let event = Event {
            idx,
            ts: Timestamp::now(),
            event_type,
            task_id: task_id.cloned(),
            payload,
        };
        let mut line = serde_json::to_vec(&event).map_err(|err| Error::Corrupt {
            path: self.path.clone(),
            message: format!("cannot encode event: {err}"),
        })?;
        line.push(b'\n');
        inner
            .file
            .write_all(&line)
            .and_then(|()| inner.file.sync_data())
            .map_err(|err| Error::io("append to", &self.path, err))?;
        inner.next_idx = idx + 1;
        Ok(event)
    }

    /// The `idx` the next event will get.
    pub fn next_idx(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next_idx
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the last `window` bytes of the log (all of it when shorter); returns them with the
/// offset they start at.
fn read_tail(file: &mut File, len: u64, window: u64) -> std::io::Result<(u64, Vec<u8>)> {
    use std::io::Read;
    let start = len.saturating_sub(window);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity((len - start) as usize);
    Read::by_ref(file)
        .take(len - start)
        .read_to_end(&mut tail)?;
    Ok((start, tail))
}

/// Cuts a last line that has no newline (a fragment left by a killed writer).
fn cut_torn_tail(file: &mut File) -> std::io::Result<()> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(());
    }
    let mut window = 4096u64;
    loop {
        let (start, tail) = read_tail(file, len, window)?;
        if tail.last() == Some(&b'\n') {
            return Ok(());
        }
        match tail.iter().rposition(|b| *b == b'\n') {
            Some(end) => return file.set_len(start + end as u64 + 1),
            None if start == 0 => return file.set_len(0),
            None => window *= 4,
        }
    }
}

/// The `idx` of the last event in the log (0 for none), read from its tail; lines that are not
/// events are passed over.
fn last_idx(file: &mut File) -> std::io::Result<u64> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut window = 4096u64;
    loop {
        let (start, tail) = read_tail(file, len, window)?;
        // Whole lines only: drop a first partial line unless the window reaches the start.
        let body = if start == 0 {
            &tail[..]
        } else {
            match tail.iter().position(|b| *b == b'\n') {
                Some(first) => &tail[first + 1..],
                None => &[][..],
            }
        };
        for line in body.split(|b| *b == b'\n').rev() {
            if let Ok(event) = serde_json::from_slice::<Event>(line) {
                return Ok(event.idx);
            }
        }
        if start == 0 {
            return Ok(0);
        }
        window *= 4;
    }
}

/// Reads events with `idx > after` (a cursor), at most `limit`. A missing log reads as empty;
/// a torn last line is skipped.
pub fn read_events(path: &Path, after: u64, limit: usize) -> Result<Vec<Event>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::io("open", path, err)),
    };
    let mut events = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|err| Error::io("read", path, err))?;
        let Ok(event) = serde_json::from_slice::<Event>(&line) else {
            continue;
        };
        if event.idx > after {
            events.push(event);
            if events.len() >= limit {
                break;
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_is_monotonic_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let log = EventLog::open(&path).unwrap();
        assert_eq!(
            log.append(EventType::RunCreated, None, serde_json::json!({}))
                .unwrap()
                .idx,
            1
        );
        assert_eq!(
            log.append(EventType::RunStarted, None, serde_json::json!({}))
                .unwrap()
                .idx,
            2
        );
        drop(log);
        let log = EventLog::open(&path).unwrap();
        assert_eq!(log.next_idx(), 3);
        log.append(EventType::Stopped, None, serde_json::json!({"why": "test"}))
            .unwrap();
        let idx: Vec<u64> = read_events(&path, 0, 100)
            .unwrap()
            .iter()
            .map(|e| e.idx)
            .collect();
        assert_eq!(idx, vec![1, 2, 3]);
        let tail: Vec<u64> = read_events(&path, 1, 1)
            .unwrap()
            .iter()
            .map(|e| e.idx)
            .collect();
        assert_eq!(tail, vec![2]);
    }

    #[test]
    fn torn_last_line_is_cut_and_numbering_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let log = EventLog::open(&path).unwrap();
        log.append(EventType::RunCreated, None, serde_json::json!({}))
            .unwrap();
        drop(log);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"idx":2,"ts":"2026-"#).unwrap();
        drop(file);
        let log = EventLog::open(&path).unwrap();
        assert_eq!(log.next_idx(), 2);
        log.append(EventType::RunStarted, None, serde_json::json!({}))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        for line in text.lines() {
            serde_json::from_str::<Event>(line).unwrap();
        }
    }

    #[test]
    fn concurrent_writers_get_distinct_increasing_idx() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let log = std::sync::Arc::new(EventLog::open(&path).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        log.append(EventType::StageStarted, None, serde_json::json!({}))
                            .unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let idx: Vec<u64> = read_events(&path, 0, 1000)
            .unwrap()
            .iter()
            .map(|e| e.idx)
            .collect();
        assert_eq!(idx, (1..=100).collect::<Vec<_>>());
    }

    #[test]
    fn two_open_logs_never_reuse_an_idx() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let worker = EventLog::open(&path).unwrap();
        let cli = EventLog::open(&path).unwrap();
        worker
            .append(EventType::RunStarted, None, serde_json::json!({}))
            .unwrap();
        cli.append(EventType::ApprovalDecided, None, serde_json::json!({}))
            .unwrap();
        worker
            .append(EventType::Applied, None, serde_json::json!({}))
            .unwrap();
        let idx: Vec<u64> = read_events(&path, 0, 10)
            .unwrap()
            .iter()
            .map(|e| e.idx)
            .collect();
        assert_eq!(idx, vec![1, 2, 3]);
    }

    #[test]
    fn opening_while_another_process_appends_waits_for_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let log = EventLog::open(&path).unwrap();
        log.append(EventType::RunCreated, None, serde_json::json!({}))
            .unwrap();
        // The worker is in the middle of an append: it holds the lock, half its line is out.
        let mut worker = OpenOptions::new().append(true).open(&path).unwrap();
        worker.lock().unwrap();
        let event = Event {
            idx: 2,
            ts: Timestamp::now(),
            event_type: EventType::Applied,
            task_id: None,
            payload: serde_json::json!({}),
        };
        let line = format!("{}\n", serde_json::to_string(&event).unwrap());
        let (head, tail) = line.split_at(12);
        worker.write_all(head.as_bytes()).unwrap();
        // The CLI opens the log to record a decision meanwhile.
        let cli_path = path.clone();
        let cli = std::thread::spawn(move || EventLog::open(&cli_path).unwrap().next_idx());
        std::thread::sleep(std::time::Duration::from_millis(100));
        worker.write_all(tail.as_bytes()).unwrap();
        worker.unlock().unwrap();
        assert_eq!(cli.join().unwrap(), 3, "the worker's line was not cut");
        let idx: Vec<u64> = read_events(&path, 0, 10)
            .unwrap()
            .iter()
            .map(|e| e.idx)
            .collect();
        assert_eq!(idx, vec![1, 2]);
    }

    #[test]
    fn a_fragment_left_by_a_killed_writer_never_breaks_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let worker = EventLog::open(&path).unwrap();
        worker
            .append(EventType::RunStarted, None, serde_json::json!({}))
            .unwrap();
        // Another process dies mid-append: a fragment without its newline.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"idx":2,"ts":"2026-"#).unwrap();
        drop(file);
        // The worker's next append is not glued to it.
        worker
            .append(EventType::Applied, None, serde_json::json!({}))
            .unwrap();
        // A glued, unparseable line in the middle (written by an older version) is skipped.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"garbage\n").unwrap();
        drop(file);
        let reopened = EventLog::open(&path).unwrap();
        reopened
            .append(EventType::Stopped, None, serde_json::json!({}))
            .unwrap();
        let idx: Vec<u64> = read_events(&path, 0, 10)
            .unwrap()
            .iter()
            .map(|e| e.idx)
            .collect();
        assert_eq!(idx, vec![1, 2, 3]);
    }
}
