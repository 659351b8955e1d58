//! Gate latency per file: raw `ruff check` on stdin against the parse gate, the ruff gate and
//! both gates as the pipeline runs them, on the first N standard-library files (sorted, so every
//! run measures the same files). Sequential, one file at a time.
//!
//! ```text
//! PATH=/work/main/.tools/bin:$PATH cargo run -p noctune-gates --example gate_latency -- 200
//! ```
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use noctune_core::process::ProcessBuilder;
use noctune_core::{Gate, GateInput};
use noctune_gates::{Gates, Tools};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["test", "tests", "site-packages", "idle_test", "__pycache__"]
                .contains(&name.as_str())
            {
                collect(&path, out);
            }
        } else if name.ends_with(".py") {
            out.push(path);
        }
    }
}

fn stats(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "| {label} | {:.1} | {:.1} | {:.1} |",
        ms(samples[samples.len() / 2]),
        ms(mean),
        ms(samples[samples.len() * 95 / 100])
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().unwrap())
        .unwrap_or(200);
    let tools = Tools::detect(true).await.expect("ruff on PATH");
    let ruff = tools.ruff.clone().unwrap();
    let stdlib = ProcessBuilder::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .run()
        .await
        .unwrap()
        .stdout_text();
    let mut files = Vec::new();
    collect(Path::new(stdlib.trim()), &mut files);
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        .take(count)
        .collect();
    let work = tempfile::tempdir().unwrap();
    let gates = Gates::from_tools(work.path(), tools, None);
    let mut raw = Vec::new();
    let mut parse = Vec::new();
    let mut lint = Vec::new();
    let mut both = Vec::new();
    let mut bytes = 0;
    for (path, text) in &texts {
        bytes += text.len();
        let rel = Path::new(path.file_name().unwrap());
        let input = GateInput {
            path: rel,
            before: None,
            after: text,
        };
        let started = Instant::now();
        ProcessBuilder::new(ruff.program())
            .current_dir(work.path())
            .args([
                "check",
                "--output-format",
                "json",
                "--no-fix",
                "--stdin-filename",
            ])
            .arg(rel)
            .arg("-")
            .stdin(text.as_bytes())
            .run()
            .await
            .unwrap();
        raw.push(started.elapsed());
        let started = Instant::now();
        gates.parse_gate().check(input).await.unwrap();
        parse.push(started.elapsed());
        let started = Instant::now();
        gates.ruff_gate().unwrap().check(input).await.unwrap();
        lint.push(started.elapsed());
        let started = Instant::now();
        gates.run(input).await.unwrap();
        both.push(started.elapsed());
    }
    println!(
        "{} files, {} KiB in all, {}\n",
        texts.len(),
        bytes / 1024,
        ruff.version()
    );
    println!("| per file | median ms | mean ms | p95 ms |\n| --- | --- | --- | --- |");
    stats("raw `ruff check` on stdin", raw);
    stats("parse gate", parse);
    stats("ruff gate (no `before`)", lint);
    stats("parse + ruff gates", both);
}
