//! `noctune-pool-bench`: how a run's wall time falls with the model's slots.
//!
//! ```text
//! noctune-pool-bench [--noctune PATH] [--files N] [--latency-ms L] [--slots 1,2,4,8] [--two-by 4]
//! noctune-pool-bench [--noctune PATH] [--files N] --against URL[,URL] --against URL[,URL] ...
//! ```
//!
//! Builds a repository of N small modules (24 by default) and runs the real `noctune run --yes`
//! on a fresh copy of it against fake OpenAI-compatible servers (`noctune_llm::fake`) whose every
//! answer takes L milliseconds (500 by default) and which answer as many requests at once as
//! they have slots (their `/props` says `total_slots`, as llama.cpp's `--parallel` does): once
//! per entry of `--slots` with one server, then with two servers of `--two-by` slots each. The
//! model adds a docstring to each module's function (review, plan, edit; the change is proven
//! docstring-only and applied). The runs ask at temperature 0 with `max_tokens = 300`. Prints a
//! markdown table: the process's wall time, the run loop's (from `run_started` to
//! `run_completed` in the event log), the speed-up over one slot, the pool's utilisation, and
//! whether every file and task status equals the one-slot run's.
//!
//! With `--against`, each entry is a run against those servers as they are (a real llama.cpp
//! with `--parallel 1`, then one with `--parallel 2`, say): slots come from their `/props`, and
//! the first entry is the baseline of the speed-up and the output comparison.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use noctune_llm::fake::{FakeOptions, FakeServer, RecordedRequest, Reply, asked_code, echo_model};

const USAGE: &str = "usage: noctune-pool-bench [--noctune PATH] [--files N] [--latency-ms L] \
[--slots 1,2,4,8] [--two-by 4] | [--against URL[,URL]]...";

struct Options {
    noctune: PathBuf,
    files: usize,
    latency: Duration,
    slots: Vec<u32>,
    two_by: u32,
    /// Real servers, one setup each (comma-separated URLs).
    against: Vec<Vec<String>>,
}

fn options() -> anyhow::Result<Options> {
    let exe = std::env::current_exe()?;
    let mut options = Options {
        noctune: exe.with_file_name("noctune"),
        files: 24,
        latency: Duration::from_millis(500),
        slots: vec![1, 2, 4, 8],
        two_by: 4,
        against: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--noctune" => options.noctune = PathBuf::from(value()?),
            "--files" => options.files = value()?.parse()?,
            "--latency-ms" => options.latency = Duration::from_millis(value()?.parse()?),
            "--slots" => {
                options.slots = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--two-by" => options.two_by = value()?.parse()?,
            "--against" => options
                .against
                .push(value()?.split(',').map(str::to_owned).collect()),
            _ => bail!("unknown argument `{flag}`\n{USAGE}"),
        }
    }
    if !options.noctune.is_file() {
        bail!(
            "no noctune binary at `{}` (build it, or pass --noctune)",
            options.noctune.display()
        );
    }
    Ok(options)
}

/// The model: the echo model's review, plan and verdict; for code, the function with a
/// docstring added. Every answer takes `latency`.
fn model(request: &RecordedRequest, latency: Duration) -> Reply {
    let reply = if request.schema_name().is_none() {
        let prompt = request.prompt_text();
        let mut lines: Vec<String> = asked_code(&prompt).lines().map(str::to_owned).collect();
        if !lines.is_empty() {
            lines.insert(
                1,
                "    \"\"\"Scale the first number and add the second.\"\"\"".into(),
            );
        }
        Reply::answer(format!("```python\n{}\n```", lines.join("\n")))
    } else {
        echo_model(request)
    };
    reply.delayed(latency)
}

async fn server(slots: u32, latency: Duration) -> FakeServer {
    FakeServer::start_responder(
        FakeOptions {
            total_slots: Some(slots),
            ..FakeOptions::default()
        },
        move |request| model(request, latency),
    )
    .await
}

fn module(i: usize) -> String {
    format!("def scale_{i}(x, y):\n    return x * {i} + y\n")
}

fn repo(files: usize, urls: &[String]) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let endpoints: Vec<String> = urls
        .iter()
        .map(|url| format!("{{ base_url = \"{url}\" }}"))
        .collect();
    std::fs::write(
        dir.path().join("noctune.toml"),
        format!(
            "allow_apply = true\nmax_passes = 1\n\n[llm]\nstream = true\ntimeout_s = 300\n\
             temperature = 0.0\nmax_tokens = 300\nendpoints = [{}]\n",
            endpoints.join(", ")
        ),
    )?;
    let package = dir.path().join("pkg");
    std::fs::create_dir_all(&package)?;
    for i in 0..files {
        std::fs::write(package.join(format!("mod_{i:02}.py")), module(i))?;
    }
    Ok(dir)
}

/// One measured run.
struct Measured {
    wall: Duration,
    run_loop: Duration,
    utilisation: f64,
    /// The pool's slots, as the endpoints said.
    slots: usize,
    /// Each file's text and task status.
    outcome: BTreeMap<String, (String, String)>,
}

fn run(noctune: &Path, root: &Path) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let output = Command::new(noctune)
        .args(["run", "--yes", "--run-id", "bench"])
        .current_dir(root)
        .stdin(Stdio::null())
        .env_remove("NOCTUNE_BASE_URL")
        .env_remove("NOCTUNE_LOG")
        .output()?;
    let wall = started.elapsed();
    if !output.status.success() {
        bail!(
            "noctune run failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let run_dir = root.join(".noctune_cache/runs/bench");
    let events: Vec<serde_json::Value> =
        std::fs::read_to_string(run_dir.join("logs/events.jsonl"))?
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
    let at = |kind: &str| -> anyhow::Result<jiff::Timestamp> {
        let event = events
            .iter()
            .rfind(|e| e["type"] == kind)
            .with_context(|| format!("no `{kind}` event"))?;
        Ok(event["ts"].as_str().unwrap_or_default().parse()?)
    };
    let run_loop = at("run_completed")?.duration_since(at("run_started")?);
    let loads = events.iter().rfind(|e| e["type"] == "endpoint_loads");
    let utilisation = loads
        .and_then(|e| e["payload"]["utilisation"].as_f64())
        .unwrap_or(0.0);
    let slots = loads
        .and_then(|e| e["payload"]["endpoints"].as_array())
        .map_or(1, |all| {
            all.iter()
                .map(|e| e["slots"].as_u64().unwrap_or(1) as usize)
                .sum()
        });
    let mut outcome = BTreeMap::new();
    for entry in std::fs::read_dir(run_dir.join("state/tasks"))? {
        let state: serde_json::Value = serde_json::from_slice(&std::fs::read(entry?.path())?)?;
        let file = state["file"].as_str().unwrap_or_default().to_owned();
        let text = std::fs::read_to_string(root.join(&file))?;
        let status = state["status"].as_str().unwrap_or_default().to_owned();
        outcome.insert(file, (text, status));
    }
    Ok(Measured {
        wall,
        run_loop: Duration::try_from(run_loop).unwrap_or_default(),
        utilisation,
        slots,
        outcome,
    })
}

async fn measure(options: &Options, urls: Vec<String>) -> anyhow::Result<Measured> {
    let dir = repo(options.files, &urls)?;
    let root = dir.path().to_path_buf();
    let noctune = options.noctune.clone();
    let measured = tokio::task::spawn_blocking(move || run(&noctune, &root)).await??;
    Ok(measured)
}

/// Prints one row; the first measured run is the baseline.
fn row(name: &str, slots: String, measured: Measured, baseline: &mut Option<Measured>) {
    let (speedup, same) = match &*baseline {
        Some(base) => (
            base.run_loop.as_secs_f64() / measured.run_loop.as_secs_f64(),
            if base.outcome == measured.outcome {
                "yes"
            } else {
                "**no**"
            },
        ),
        None => (1.0, "—"),
    };
    println!(
        "| {name} | {:.1} | {:.1} | {speedup:.2} | {slots} | {:.0}% | {same} |",
        measured.wall.as_secs_f64(),
        measured.run_loop.as_secs_f64(),
        measured.utilisation * 100.0,
    );
    if baseline.is_none() {
        let changed = measured
            .outcome
            .values()
            .filter(|(text, _)| text.contains("\"\"\""))
            .count();
        eprintln!(
            "baseline: {changed} of {} files changed",
            measured.outcome.len()
        );
        *baseline = Some(measured);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let mut setups: Vec<(String, Vec<u32>)> = options
        .slots
        .iter()
        .map(|n| (format!("1 endpoint × {n}"), vec![*n]))
        .collect();
    setups.push((
        format!("2 endpoints × {}", options.two_by),
        vec![options.two_by, options.two_by],
    ));
    println!(
        "{} files, {}, `{}`\n",
        options.files,
        if options.against.is_empty() {
            format!("{} ms per model answer", options.latency.as_millis())
        } else {
            "the servers as they are".to_owned()
        },
        options.noctune.display()
    );
    println!(
        "| slots | wall s | run loop s | speed-up (run loop) | ideal | utilisation | output = 1 slot |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut baseline: Option<Measured> = None;
    if !options.against.is_empty() {
        for urls in &options.against {
            let name = urls.join(" + ");
            let measured = measure(&options, urls.clone()).await?;
            let slots = measured.slots.to_string();
            row(&name, slots, measured, &mut baseline);
        }
        return Ok(());
    }
    for (name, slots) in setups {
        let mut servers = Vec::new();
        for n in &slots {
            servers.push(server(*n, options.latency).await);
        }
        let urls = servers.iter().map(FakeServer::url).collect();
        let measured = measure(&options, urls).await?;
        let total: u32 = slots.iter().sum();
        row(&name, total.to_string(), measured, &mut baseline);
    }
    Ok(())
}
