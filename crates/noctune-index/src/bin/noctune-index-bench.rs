//! Benchmarks and whole-corpus checks for noctune-index (not a test: it prints figures).
//!
//! ```text
//! noctune-index-bench index     ROOT DB            (refresh the index stored at DB)
//! noctune-index-bench cold      ROOT [--exclude GLOB]... [--threads N]
//! noctune-index-bench refresh   ROOT [--exclude GLOB]... [--threads N]
//! noctune-index-bench floor     ROOT [--exclude GLOB]...
//! noctune-index-bench callsites ROOT IDENT... [--exclude GLOB]...
//! noctune-index-bench roundtrip ROOT [--exclude GLOB]...
//! noctune-index-bench count     ROOT [--exclude GLOB]...
//! ```
//!
//! Each prints one JSON object on stdout. See docs/benchmarks.md for the figures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use noctune_core::{EditOp, SymbolEditor};
use noctune_index::walk::{self, WalkOptions, WalkedFile};
use noctune_index::{Backend, CallsiteSearcher, Index, IndexOptions, PythonEditor};
use serde_json::{Value, json};

struct Args {
    command: String,
    root: PathBuf,
    rest: Vec<String>,
    exclude: Vec<String>,
    threads: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or("missing command")?;
    let root = PathBuf::from(args.next().ok_or("missing ROOT")?);
    let mut rest = Vec::new();
    let mut exclude = Vec::new();
    let mut threads = 0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--exclude" => exclude.push(args.next().ok_or("--exclude needs a glob")?),
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--threads needs a number")?;
            }
            _ => rest.push(arg),
        }
    }
    Ok(Args {
        command,
        root,
        rest,
        exclude,
        threads,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!(
                "error: {err}\nusage: noctune-index-bench cold|refresh|floor|callsites|roundtrip|count ROOT [...]"
            );
            return ExitCode::from(2);
        }
    };
    let result = match args.command.as_str() {
        "index" => index_at(&args),
        "cold" => cold(&args),
        "refresh" => refresh(&args),
        "floor" => floor(&args),
        "callsites" => callsites(&args),
        "roundtrip" => roundtrip(&args),
        "count" => count(&args),
        other => Err(format!("unknown command `{other}`")),
    };
    match result {
        Ok(value) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn options(args: &Args) -> IndexOptions {
    IndexOptions {
        max_file_bytes: 10_000_000,
        exclude: args.exclude.clone(),
        threads: args.threads,
    }
}

fn files(args: &Args) -> Result<Vec<WalkedFile>, String> {
    walk::python_files(
        &args.root,
        &WalkOptions {
            exclude: args.exclude.clone(),
            threads: args.threads,
        },
    )
    .map_err(|e| e.to_string())
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// Peak resident memory of this process, in MB (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn temp_db() -> Result<(tempdir::Dir, PathBuf), String> {
    let dir = tempdir::Dir::new()?;
    let db = dir.path().join("index.db");
    Ok((dir, db))
}

/// Refreshes the index stored at the path given after ROOT (used by the kill -9 test).
fn index_at(args: &Args) -> Result<Value, String> {
    let db = args.rest.first().ok_or("missing DB")?;
    let mut index =
        Index::open_at(&args.root, Path::new(db), options(args)).map_err(|e| e.to_string())?;
    let stats = index.refresh().map_err(|e| e.to_string())?;
    Ok(json!({"refresh": stats}))
}

/// A cold index: fresh database, every file read, hashed, parsed and stored.
fn cold(args: &Args) -> Result<Value, String> {
    let (_dir, db) = temp_db()?;
    let started = Instant::now();
    let mut index = Index::open_at(&args.root, &db, options(args)).map_err(|e| e.to_string())?;
    let stats = index.refresh().map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let summary = index.stats().map_err(|e| e.to_string())?;
    let mb = stats.bytes_read as f64 / 1e6;
    Ok(json!({
        "files": stats.files,
        "mb": (mb * 10.0).round() / 10.0,
        "wall_s": ms(wall) / 1000.0,
        "files_per_s": (stats.files as f64 / wall.as_secs_f64()).round(),
        "mb_per_s": (mb / wall.as_secs_f64() * 10.0).round() / 10.0,
        "refresh": stats,
        "index": summary,
        "peak_rss_mb": peak_rss_mb(),
    }))
}

/// Refresh with no change (median of 7), then with one file changed (the index is told its hash
/// changed, so it is read, hashed, parsed and stored again: the corpus itself is not touched).
fn refresh(args: &Args) -> Result<Value, String> {
    let (_dir, db) = temp_db()?;
    let mut index = Index::open_at(&args.root, &db, options(args)).map_err(|e| e.to_string())?;
    index.refresh().map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let stats = index.refresh().map_err(|e| e.to_string())?;
        runs.push(ms(started.elapsed()));
        if stats.parsed != 0 {
            return Err("files changed during the benchmark".to_owned());
        }
    }
    runs.sort_by(f64::total_cmp);
    let mut changed = Vec::new();
    let files = index.files().map_err(|e| e.to_string())?;
    let conn = rusqlite::Connection::open(&db).map_err(|e| e.to_string())?;
    for (i, (path, _)) in files
        .iter()
        .step_by(files.len().max(7) / 7)
        .take(7)
        .enumerate()
    {
        conn.execute(
            "UPDATE files SET hash = 'changed', mtime_ns = ?2 WHERE path = ?1",
            rusqlite::params![path, i as i64],
        )
        .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let stats = index.refresh().map_err(|e| e.to_string())?;
        changed.push(ms(started.elapsed()));
        if stats.parsed != 1 {
            return Err(format!("expected one parsed file, got {}", stats.parsed));
        }
    }
    changed.sort_by(f64::total_cmp);
    Ok(json!({
        "files": files.len(),
        "no_change_ms_median": runs[runs.len() / 2],
        "no_change_ms_runs": runs,
        "one_changed_ms_median": changed[changed.len() / 2],
        "one_changed_ms_runs": changed,
        "peak_rss_mb": peak_rss_mb(),
    }))
}

/// The parse floor: tree-sitter parse time alone, summed over files on one thread.
fn floor(args: &Args) -> Result<Value, String> {
    let files = files(args)?;
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .map_err(|e| e.to_string())?;
    let mut parse = Duration::ZERO;
    let mut bytes = 0usize;
    for file in &files {
        let Ok(source) = std::fs::read(&file.path) else {
            continue;
        };
        bytes += source.len();
        let started = Instant::now();
        let tree = parser.parse(&source, None);
        parse += started.elapsed();
        drop(tree);
    }
    Ok(json!({
        "files": files.len(),
        "mb": (bytes as f64 / 1e5).round() / 10.0,
        "parse_cpu_s": ms(parse) / 1000.0,
        "parse_mb_per_s_per_core": (bytes as f64 / 1e6 / parse.as_secs_f64() * 10.0).round() / 10.0,
        "floor_2_cores_s": ms(parse) / 2000.0,
    }))
}

/// Callsite lookups: in memory (after loading), with rg, and in-process, per identifier.
fn callsites(args: &Args) -> Result<Value, String> {
    let walk_options = WalkOptions {
        exclude: args.exclude.clone(),
        threads: args.threads,
    };
    let mut searcher =
        CallsiteSearcher::new(&args.root, &walk_options, 10_000_000).map_err(|e| e.to_string())?;
    let started = Instant::now();
    if !searcher.load_sources(1 << 30).map_err(|e| e.to_string())? {
        return Err("sources do not fit in 1 GiB".to_owned());
    }
    let load = started.elapsed();
    let identifiers: Vec<String> = if args.rest.is_empty() {
        vec!["isinstance".to_owned()]
    } else {
        args.rest.clone()
    };
    let mut results = Vec::new();
    for identifier in &identifiers {
        let mut row = serde_json::Map::new();
        for backend in [Backend::Memory, Backend::Ripgrep, Backend::InProcess] {
            if backend == Backend::Ripgrep && searcher.ripgrep().is_none() {
                continue;
            }
            let mut times = Vec::new();
            let mut found = 0;
            for _ in 0..3 {
                let started = Instant::now();
                found = searcher
                    .search_with(identifier, backend)
                    .map_err(|e| e.to_string())?
                    .len();
                times.push(ms(started.elapsed()));
            }
            times.sort_by(f64::total_cmp);
            row.insert(
                format!("{backend:?}").to_lowercase(),
                json!({"ms_median": times[1], "callsites": found}),
            );
        }
        results.push(json!({"identifier": identifier, "backends": row}));
    }
    Ok(json!({
        "files": searcher.files().len(),
        "load_ms": ms(load),
        "results": results,
        "peak_rss_mb": peak_rss_mb(),
    }))
}

/// Every symbol of every file replaced by its own text: the file must stay byte-identical.
fn roundtrip(args: &Args) -> Result<Value, String> {
    let editor = PythonEditor::default();
    let files = files(args)?;
    let started = Instant::now();
    let (mut symbols, mut applied, mut refused_in_broken, mut skipped_not_utf8) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let Ok(source) = std::fs::read_to_string(&file.path) else {
            skipped_not_utf8 += 1;
            continue;
        };
        let outline = editor.outline(&source).map_err(|e| e.to_string())?;
        for symbol in &outline.symbols {
            if outline.symbol(&symbol.name).is_none() {
                continue;
            }
            symbols += 1;
            let op = EditOp::ReplaceSymbol {
                symbol: symbol.name.clone(),
                code: source[symbol.start_byte..symbol.end_byte].to_owned(),
            };
            let result = editor
                .apply_outlined(&source, &outline, &[op])
                .map_err(|e| e.to_string())?;
            let refused = result.report.ops[0].refused.clone();
            if result.text != source {
                failures.push(format!("{}: {} changed the file", file.rel, symbol.name));
            } else if refused.is_none() {
                applied += 1;
            } else if outline.has_syntax_errors {
                refused_in_broken += 1;
            } else {
                failures.push(format!(
                    "{}: {} refused: {refused:?}",
                    file.rel, symbol.name
                ));
            }
        }
    }
    Ok(json!({
        "files": files.len(),
        "files_not_utf8_skipped": skipped_not_utf8,
        "symbols": symbols,
        "applied_identical": applied,
        "refused_in_files_with_syntax_errors": refused_in_broken,
        "failures": failures.len(),
        "first_failures": failures.iter().take(20).collect::<Vec<_>>(),
        "seconds": ms(started.elapsed()) / 1000.0,
    }))
}

/// Definition counts against Python's `ast` (tests/fixtures/ast_count.py), over every file.
fn count(args: &Args) -> Result<Value, String> {
    let files = files(args)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ast_count.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    let list: String = files
        .iter()
        .map(|f| format!("{}\n", f.path.display()))
        .collect();
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(list.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let reference: serde_json::Map<String, Value> =
        serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let mut ours = serde_json::Map::new();
    let mut theirs = serde_json::Map::new();
    let mut skipped = 0;
    let mut differing = Vec::new();
    for file in &files {
        let Some(Value::Object(counts)) = reference.get(&file.path.display().to_string()) else {
            skipped += 1;
            continue;
        };
        for (kind, n) in counts {
            let sum =
                theirs.get(kind).and_then(Value::as_u64).unwrap_or(0) + n.as_u64().unwrap_or(0);
            theirs.insert(kind.clone(), json!(sum));
        }
        let source = std::fs::read(&file.path).map_err(|e| e.to_string())?;
        let outline = noctune_index::outline(&source).map_err(|e| e.to_string())?;
        let mut mine = serde_json::Map::new();
        for symbol in outline.symbols.iter().filter(|s| s.kind.is_definition()) {
            let kind = symbol.kind.as_str();
            let sum = ours.get(kind).and_then(Value::as_u64).unwrap_or(0) + 1;
            ours.insert(kind.to_owned(), json!(sum));
            let sum = mine.get(kind).and_then(Value::as_u64).unwrap_or(0) + 1;
            mine.insert(kind.to_owned(), json!(sum));
        }
        let differs = counts.iter().any(|(kind, n)| {
            mine.get(kind).and_then(Value::as_u64).unwrap_or(0) != n.as_u64().unwrap_or(0)
        });
        if differs {
            differing.push(json!({"file": file.rel, "ours": mine, "ast": counts}));
        }
    }
    let deltas: serde_json::Map<String, Value> = theirs
        .iter()
        .map(|(kind, n)| {
            let n = n.as_u64().unwrap_or(0) as f64;
            let o = ours.get(kind).and_then(Value::as_u64).unwrap_or(0) as f64;
            let pct = if n > 0.0 { (o - n) / n * 100.0 } else { 0.0 };
            (kind.clone(), json!((pct * 1000.0).round() / 1000.0))
        })
        .collect();
    Ok(json!({
        "files": files.len(),
        "files_ast_cannot_parse": skipped,
        "ours": ours,
        "ast": theirs,
        "delta_percent": deltas,
        "files_differing": differing.len(),
        "first_differing": differing.iter().take(15).collect::<Vec<_>>(),
    }))
}

/// A temporary directory removed on drop (std only, to keep dev-dependencies out of the bin).
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Result<Self, String> {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let path = std::env::temp_dir().join(format!(
                "noctune-index-bench-{}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
            Ok(Self(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
