//! Incremental refresh: stat every file; read and hash only those whose size or mtime changed;
//! parse only those whose content hash changed; drop files that are gone. Parsing runs on all
//! cores while this thread writes to SQLite, in transactions: a first build is one transaction,
//! later refreshes commit every few thousand files, each file's rows together, so a kill at any
//! moment leaves a consistent index.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use noctune_core::Outline;
use rayon::prelude::*;
use rusqlite::{Connection, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{FileStatus, Index};
use crate::error::{Error, Result};
use crate::extract;
use crate::walk::{self, WalkOptions, WalkedFile};

/// Files per transaction in an incremental refresh.
const BATCH: usize = 2000;

/// The page cache of a first build, in KiB (as SQLite's negative `cache_size`): enough for the
/// whole database of a large repository (the standard library's is about 16 MB).
const BUILD_CACHE_KIB: i64 = -262_144;

/// What a refresh did, and where the time went.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RefreshStats {
    /// `.py` files found by the walk.
    pub files: usize,
    /// Files parsed (new or changed content).
    pub parsed: usize,
    /// Files whose size and mtime were unchanged (one stat each).
    pub unchanged: usize,
    /// Files whose mtime or size changed but whose content hash did not.
    pub touched: usize,
    /// Files gone since the last refresh.
    pub removed: usize,
    /// Parsed files with syntax errors.
    pub syntax_errors: usize,
    /// Files over the size cap (recorded, not parsed).
    pub too_large: usize,
    /// Files that are not valid UTF-8 (parsed as bytes).
    pub not_utf8: usize,
    /// Files that could not be read.
    pub unreadable: usize,
    /// Bytes read and hashed.
    pub bytes_read: u64,
    /// Symbols written.
    pub symbols_written: usize,
    /// Where the time went.
    pub timings: Timings,
}

/// Time per phase, in milliseconds. `read`, `hash`, `parse` and `extract` are summed over the
/// worker threads (CPU time); `walk`, `store` and `total` are wall-clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Walking the tree and stat-ing files.
    pub walk_ms: f64,
    /// Reading changed files.
    pub read_ms: f64,
    /// Hashing them.
    pub hash_ms: f64,
    /// tree-sitter parsing.
    pub parse_ms: f64,
    /// Walking the trees for symbols.
    pub extract_ms: f64,
    /// Time the writer spent in SQLite.
    pub store_ms: f64,
    /// The whole refresh.
    pub total_ms: f64,
}

#[derive(Debug, Clone)]
struct Known {
    size: i64,
    mtime_ns: i64,
    hash: String,
}

enum Processed {
    /// Same content: only size and mtime change.
    Touched { file: WalkedFile },
    /// New or changed content.
    Changed {
        file: WalkedFile,
        hash: String,
        status: FileStatus,
        outline: Option<Outline>,
    },
    /// Could not be read.
    Unreadable,
}

#[derive(Default)]
struct WorkerTimes {
    read: Duration,
    hash: Duration,
    parse: Duration,
    extract: Duration,
    bytes: u64,
}

impl Index {
    /// Brings the index up to date with the files under the root.
    pub fn refresh(&mut self) -> Result<RefreshStats> {
        let started = Instant::now();
        let mut stats = RefreshStats::default();
        let walk_options = WalkOptions {
            exclude: self.options.exclude.clone(),
            threads: self.options.threads,
        };
        let walked = walk::python_files(&self.root, &walk_options)?;
        stats.timings.walk_ms = ms(started.elapsed());
        stats.files = walked.len();
        let known = self.known_files()?;
        let cold = known.is_empty();
        let mut todo: Vec<(WalkedFile, Option<Known>)> = Vec::new();
        let mut present: HashSet<&str> = HashSet::with_capacity(walked.len());
        for file in &walked {
            present.insert(file.rel.as_str());
            match known.get(&file.rel) {
                Some(k) if k.size == file.size as i64 && k.mtime_ns == file.mtime_ns => {
                    stats.unchanged += 1;
                }
                other => todo.push((file.clone(), other.cloned())),
            }
        }
        let removed: Vec<&String> = known
            .keys()
            .filter(|path| !present.contains(path.as_str()))
            .collect();
        stats.removed = removed.len();
        if todo.is_empty() && removed.is_empty() {
            stats.timings.total_ms = ms(started.elapsed());
            return Ok(stats);
        }

        let max_bytes = self.options.max_file_bytes;
        let threads = self.options.threads;
        let (sender, receiver) = sync_channel::<(Processed, WorkerTimes)>(256);
        let db_path = self.db_path.clone();
        let conn = &self.conn;
        let store_started = Instant::now();
        let mut store_busy = Duration::ZERO;
        let mut worker_times = WorkerTimes::default();
        let result: Result<()> = std::thread::scope(|scope| {
            scope.spawn(move || {
                let work = move || {
                    // Largest files first, each taken by whichever worker is free: the last
                    // files to finish are small ones, so no worker idles while another parses
                    // a big file at the end.
                    todo.sort_unstable_by_key(|(file, _)| std::cmp::Reverse(file.size));
                    todo.into_iter()
                        .par_bridge()
                        .for_each_with(sender, |sender, (file, known)| {
                            let _ = sender.send(process(file, known.as_ref(), max_bytes));
                        });
                };
                match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                    Ok(pool) => pool.install(work),
                    Err(_) => work(),
                }
            });
            let db_err = |source| Error::Database {
                path: db_path.clone(),
                source,
            };
            let mut writer = Writer::new(conn, cold).map_err(db_err)?;
            for path in &removed {
                writer.remove(path).map_err(db_err)?;
            }
            for (processed, times) in receiver {
                worker_times.read += times.read;
                worker_times.hash += times.hash;
                worker_times.parse += times.parse;
                worker_times.extract += times.extract;
                worker_times.bytes += times.bytes;
                let began = Instant::now();
                match processed {
                    Processed::Touched { file } => {
                        stats.touched += 1;
                        writer.touch(&file).map_err(db_err)?;
                    }
                    Processed::Changed {
                        file,
                        hash,
                        status,
                        outline,
                    } => {
                        stats.parsed += usize::from(outline.is_some());
                        match status {
                            FileStatus::SyntaxErrors => stats.syntax_errors += 1,
                            FileStatus::TooLarge => stats.too_large += 1,
                            FileStatus::NotUtf8 => stats.not_utf8 += 1,
                            FileStatus::Ok => {}
                        }
                        stats.symbols_written += outline.as_ref().map_or(0, |o| o.symbols.len());
                        writer
                            .write(&file, &hash, status, outline.as_ref())
                            .map_err(db_err)?;
                    }
                    Processed::Unreadable => stats.unreadable += 1,
                }
                store_busy += began.elapsed();
            }
            let began = Instant::now();
            writer.finish().map_err(db_err)?;
            store_busy += began.elapsed();
            Ok(())
        });
        result?;
        tracing::debug!(
            wall_ms = ms(store_started.elapsed()),
            "refresh: parse and store"
        );
        stats.bytes_read = worker_times.bytes;
        stats.timings.read_ms = ms(worker_times.read);
        stats.timings.hash_ms = ms(worker_times.hash);
        stats.timings.parse_ms = ms(worker_times.parse);
        stats.timings.extract_ms = ms(worker_times.extract);
        stats.timings.store_ms = ms(store_busy);
        stats.timings.total_ms = ms(started.elapsed());
        Ok(stats)
    }

    fn known_files(&self) -> Result<HashMap<String, Known>> {
        let db_err = |source| Error::Database {
            path: self.db_path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT path, size, mtime_ns, hash FROM files")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    Known {
                        size: row.get(1)?,
                        mtime_ns: row.get(2)?,
                        hash: row.get(3)?,
                    },
                ))
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

thread_local! {
    /// Each worker reads every file into the same buffer: no allocation (and no large free,
    /// which makes the allocator consolidate the small blocks a parse leaves) per file.
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads, hashes and (when the content changed) parses one file, on a worker thread.
fn process(file: WalkedFile, known: Option<&Known>, max_bytes: u64) -> (Processed, WorkerTimes) {
    READ_BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        process_in(file, known, max_bytes, &mut buffer)
    })
}

fn process_in(
    file: WalkedFile,
    known: Option<&Known>,
    max_bytes: u64,
    buffer: &mut Vec<u8>,
) -> (Processed, WorkerTimes) {
    let mut times = WorkerTimes::default();
    let began = Instant::now();
    let read = std::fs::File::open(&file.path).and_then(|mut f| {
        buffer.reserve(usize::try_from(file.size).unwrap_or(0));
        f.read_to_end(buffer)
    });
    if let Err(err) = read {
        tracing::warn!(path = %file.path.display(), %err, "cannot read; left out of the index");
        return (Processed::Unreadable, times);
    }
    let bytes: &[u8] = buffer;
    times.read = began.elapsed();
    times.bytes = bytes.len() as u64;
    let began = Instant::now();
    let hash = format!("{:x}", Sha256::digest(bytes));
    times.hash = began.elapsed();
    if known.is_some_and(|k| k.hash == hash) {
        return (Processed::Touched { file }, times);
    }
    if bytes.len() as u64 > max_bytes {
        tracing::info!(path = %file.path.display(), size = bytes.len(), "over the size cap; not parsed");
        let processed = Processed::Changed {
            file,
            hash,
            status: FileStatus::TooLarge,
            outline: None,
        };
        return (processed, times);
    }
    let utf8 = std::str::from_utf8(bytes).is_ok();
    let (outline, status) = match extract::outline_timed(bytes) {
        Ok((outline, timing)) => {
            times.parse = timing.parse;
            times.extract = timing.extract;
            let status = if !utf8 {
                FileStatus::NotUtf8
            } else if outline.has_syntax_errors {
                FileStatus::SyntaxErrors
            } else {
                FileStatus::Ok
            };
            (Some(outline), status)
        }
        Err(err) => {
            tracing::warn!(path = %file.path.display(), %err, "not parsed");
            (None, FileStatus::SyntaxErrors)
        }
    };
    let processed = Processed::Changed {
        file,
        hash,
        status,
        outline,
    };
    (processed, times)
}

/// Writes refresh results in transactions.
struct Writer<'c> {
    conn: &'c Connection,
    cold: bool,
    /// Whether the full-text table exists (it is created by the first search) and so must be
    /// kept current.
    fts: bool,
    /// Whether a first build switched the database from WAL to a rollback journal (switched
    /// back when the writer is dropped).
    rollback_journal: bool,
    pending: usize,
}

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection, cold: bool) -> rusqlite::Result<Self> {
        // A first build writes every page of the database once: through a rollback journal
        // that is the pages themselves (the journal only keeps the few pages of the empty
        // schema), where WAL would write them twice (to the log, then to the database at the
        // checkpoint that follows the commit). A kill -9 still leaves the previous state: the
        // journal is rolled back on the next open. Only possible when no other connection has
        // the database open; otherwise the build stays in WAL mode.
        let rollback_journal = cold
            && conn
                .pragma_update_and_check(None, "journal_mode", "DELETE", |row| {
                    row.get::<_, String>(0)
                })
                .is_ok_and(|mode| mode.eq_ignore_ascii_case("delete"));
        let mut writer = Self {
            conn,
            cold,
            fts: false,
            rollback_journal,
            pending: 0,
        };
        if cold {
            // Every page of the new database stays in memory until the commit, instead of
            // spilling to disk (and being written again) mid-build.
            conn.pragma_update(None, "cache_size", BUILD_CACHE_KIB)?;
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        if cold {
            // A first build fills empty tables: indexes are cheaper built once at the end.
            conn.execute_batch(super::schema::DROP_SECONDARY_INDEXES)?;
        }
        writer.fts = super::schema::has_fts(conn)?;
        Ok(writer)
    }

    fn tick(&mut self) -> rusqlite::Result<()> {
        self.pending += 1;
        if !self.cold && self.pending >= BATCH {
            self.conn.execute_batch("COMMIT; BEGIN IMMEDIATE")?;
            self.pending = 0;
        }
        Ok(())
    }

    fn clear(&self, file_id: i64) -> rusqlite::Result<()> {
        if self.fts {
            self.conn
                .prepare_cached(
                    "DELETE FROM symbols_fts WHERE rowid IN \
                     (SELECT id FROM symbols WHERE file_id = ?1)",
                )?
                .execute([file_id])?;
        }
        self.conn
            .prepare_cached("DELETE FROM symbols WHERE file_id = ?1")?
            .execute([file_id])?;
        self.conn
            .prepare_cached("DELETE FROM imports WHERE file_id = ?1")?
            .execute([file_id])?;
        Ok(())
    }

    fn remove(&mut self, path: &str) -> rusqlite::Result<()> {
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM files WHERE path = ?1")?
            .query_row([path], |row| row.get(0))
            .ok();
        if let Some(id) = id {
            self.clear(id)?;
            self.conn
                .prepare_cached("DELETE FROM files WHERE id = ?1")?
                .execute([id])?;
        }
        self.tick()
    }

    fn touch(&mut self, file: &WalkedFile) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("UPDATE files SET size = ?2, mtime_ns = ?3 WHERE path = ?1")?
            .execute(params![file.rel, file.size as i64, file.mtime_ns])?;
        self.tick()
    }

    fn write(
        &mut self,
        file: &WalkedFile,
        hash: &str,
        status: FileStatus,
        outline: Option<&Outline>,
    ) -> rusqlite::Result<()> {
        let has_errors = outline.is_some_and(|o| o.has_syntax_errors);
        let file_id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO files (path, size, mtime_ns, hash, status, has_syntax_errors) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, \
                 hash = excluded.hash, status = excluded.status, \
                 has_syntax_errors = excluded.has_syntax_errors \
                 RETURNING id",
            )?
            .query_row(
                params![
                    file.rel,
                    file.size as i64,
                    file.mtime_ns,
                    hash,
                    status.as_str(),
                    has_errors
                ],
                |row| row.get(0),
            )?;
        if !self.cold {
            self.clear(file_id)?;
        }
        if let Some(outline) = outline {
            let mut insert_symbol = self.conn.prepare_cached(
                "INSERT INTO symbols (file_id, name, short_name, kind, start_byte, end_byte, \
                 start_line, end_line, signature, docstring) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut insert_fts = if self.fts && !self.cold {
                Some(
                    self.conn
                        .prepare_cached("INSERT INTO symbols_fts (rowid, name) VALUES (?1, ?2)")?,
                )
            } else {
                None
            };
            for symbol in &outline.symbols {
                insert_symbol.execute(params![
                    file_id,
                    symbol.name,
                    symbol.short_name(),
                    symbol.kind.as_str(),
                    symbol.start_byte as i64,
                    symbol.end_byte as i64,
                    symbol.start_line as i64,
                    symbol.end_line as i64,
                    symbol.signature,
                    symbol.docstring,
                ])?;
                if let Some(insert_fts) = insert_fts.as_mut() {
                    insert_fts.execute(params![self.conn.last_insert_rowid(), symbol.name])?;
                }
            }
            let mut insert_import = self.conn.prepare_cached(
                "INSERT INTO imports (file_id, line, module, names, text) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for import in &outline.imports {
                insert_import.execute(params![
                    file_id,
                    import.line as i64,
                    import.module,
                    import.names.join(", "),
                    import.text,
                ])?;
            }
        }
        self.tick()
    }

    fn finish(self) -> rusqlite::Result<()> {
        if self.cold {
            self.conn
                .execute_batch(super::schema::CREATE_SECONDARY_INDEXES)?;
            if self.fts {
                self.conn.execute_batch(super::schema::FILL_FTS)?;
            }
        }
        self.conn.execute_batch("COMMIT")
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // After `finish` the transaction is closed and this is a no-op error, ignored.
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        if self.cold {
            let _ = self
                .conn
                .pragma_update(None, "cache_size", super::schema::CACHE_KIB);
        }
        if self.rollback_journal {
            // Readers and later refreshes use WAL; if this fails, the next open sets it.
            if let Err(err) = self.conn.pragma_update(None, "journal_mode", "WAL") {
                tracing::warn!(%err, "could not switch the index back to WAL mode");
            }
        }
    }
}
