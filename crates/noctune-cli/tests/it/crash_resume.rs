//! Crash safety and resume (SPEC §6): `noctune run` is killed with SIGKILL at many points —
//! right after each kind of event it writes, and at seeded random times — and resumed with
//! `--run-id` until the run completes. After every kill, and while each process runs:
//! - every real file is its original content or the one approved version, never anything else;
//! - `run.json` and every task state are valid JSON, `events.jsonl` has strictly increasing
//!   `idx` (a torn last line is allowed only right after a kill, and is gone at the end);
//! - no process asks the model for a stage whose artifact existed when it started.
//!
//! At the end the files are the expected ones and the run is `completed`.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use noctune_core::TaskId;
use noctune_core::event::{Event, EventType};
use noctune_llm::fake::{FakeOptions, FakeServer, RecordedRequest, Reply};
use pretty_assertions::assert_eq;

use crate::fake_model::{
    Stage, classify, code, pipeline_config, plan, python_parses, review, verdict,
};

const RUN_ID: &str = "crash-1";

/// How long the fake model takes for each answer: long enough for kills to land mid-run.
const MODEL_DELAY: Duration = Duration::from_millis(40);

/// One file of the fixture repository and what the model does with it.
struct Fixture {
    name: &'static str,
    original: &'static str,
    /// The one approved version (`None`: the change never passes the gates).
    approved: Option<&'static str>,
    /// Targets with the code the model writes for them.
    targets: &'static [(&'static str, &'static str)],
}

const AREA: Fixture = Fixture {
    name: "area.py",
    original: "def area(w, h):\n    return w * h\n",
    approved: Some("def area(w: float, h: float) -> float:\n    return w * h\n"),
    targets: &[(
        "area",
        "def area(w: float, h: float) -> float:\n    return w * h\n",
    )],
};

const GREETER: Fixture = Fixture {
    name: "greeter.py",
    original: "class Greeter:\n    def __init__(self, name):\n        self.name = name\n\n    def greet(self):\n        return \"Hello, \" + self.name + \"!\"\n\n\ndef shout(text):\n    return text.upper() + \"!\"\n",
    approved: Some(
        "class Greeter:\n    def __init__(self, name):\n        self.name = name\n\n    def greet(self) -> str:\n        return f\"Hello, {self.name}!\"\n\n\ndef shout(text: str) -> str:\n    return text.upper() + \"!\"\n",
    ),
    targets: &[
        (
            "Greeter.greet",
            "def greet(self) -> str:\n    return f\"Hello, {self.name}!\"\n",
        ),
        (
            "shout",
            "def shout(text: str) -> str:\n    return text.upper() + \"!\"\n",
        ),
    ],
};

/// Its edit uses an undefined name: the lint gate fails, the repair ladder (the model repeats
/// itself) cannot fix it, the change stays a proposal.
const SCALE: Fixture = Fixture {
    name: "scale.py",
    original: "def scale(x):\n    return x * 2\n",
    approved: None,
    targets: &[(
        "scale",
        "def scale(x: float) -> float:\n    return x * factor\n",
    )],
};

const FIXTURES: [&Fixture; 3] = [&AREA, &GREETER, &SCALE];

fn names() -> Vec<&'static str> {
    FIXTURES.iter().map(|f| f.name).collect()
}

fn fixture(name: &str) -> &'static Fixture {
    FIXTURES.iter().find(|f| f.name == name).unwrap()
}

/// Which pass a review request is for: pass 2 sees the approved text.
fn review_pass(fixture: &Fixture, prompt: &str) -> u32 {
    match fixture.approved {
        Some(approved) if prompt.contains(approved.trim_end()) => 2,
        _ => 1,
    }
}

/// The model: deterministic per (file, stage), whatever the order of the calls.
fn respond(request: &RecordedRequest) -> Reply {
    let names = names();
    let Some(asked) = classify(request, &names) else {
        return Reply::error(400, "the crash test's model does not know this request");
    };
    let fixture = fixture(&asked.file);
    let target = |symbol: &Option<String>| {
        fixture
            .targets
            .iter()
            .find(|(name, _)| Some(*name) == symbol.as_deref())
            .map(|(_, code)| *code)
    };
    let reply = match asked.what {
        "review" if review_pass(fixture, &asked.prompt) == 2 => review("W"),
        "review" => review("P"),
        "plan" => plan(&fixture.targets.iter().map(|(s, _)| *s).collect::<Vec<_>>()),
        "code" | "repair" => match target(&asked.symbol) {
            Some(text) => code(text),
            None => Reply::error(400, "unknown symbol"),
        },
        "approve" => verdict("approve", 0.1),
        _ => Reply::error(400, "unknown request"),
    };
    reply.delayed(MODEL_DELAY)
}

/// (file, stage, pass) of a request, as the artifacts name it.
fn stage_key(request: &RecordedRequest) -> (String, Stage, u32) {
    let asked = classify(request, &names()).expect("a pipeline request");
    let pass = match asked.stage {
        Stage::Review => review_pass(fixture(&asked.file), &asked.prompt),
        // Only pass 1 gets past the review (pass 2 is labelled W).
        _ => 1,
    };
    (asked.file, asked.stage, pass)
}

fn run_dir(root: &Path) -> PathBuf {
    root.join(".noctune_cache/runs").join(RUN_ID)
}

fn artifacts(root: &Path, file: &str) -> PathBuf {
    run_dir(root)
        .join("artifacts")
        .join(TaskId::for_path(Path::new(file)).as_str())
}

/// The stages whose artifact exists: they must never be asked of the model again.
fn finished_stages(root: &Path) -> BTreeSet<(String, Stage, u32)> {
    let mut done = BTreeSet::new();
    for fixture in FIXTURES {
        let task = TaskId::for_path(Path::new(fixture.name));
        let state = run_dir(root).join(format!("state/tasks/{task}.json"));
        let Ok(state) = std::fs::read(&state) else {
            continue;
        };
        let state: serde_json::Value = serde_json::from_slice(&state).unwrap();
        let current = u32::try_from(state["pass"].as_u64().unwrap()).unwrap();
        let dir = artifacts(root, fixture.name);
        for pass in 1..=current {
            let per_pass = |name: &str| {
                dir.join(format!("p{pass}")).join(name).is_file()
                    || (pass == current && dir.join(name).is_file())
            };
            for (stage, exists) in [
                (Stage::Review, per_pass("review.md")),
                (Stage::Draft, per_pass("draft.json")),
                (
                    Stage::Edit,
                    dir.join(format!("edit_ops_p{pass}.json")).is_file(),
                ),
                (
                    Stage::Repair,
                    dir.join(format!("gates_p{pass}.json")).is_file(),
                ),
                (
                    Stage::Approve,
                    dir.join(format!("approval_p{pass}.json")).is_file(),
                ),
            ] {
                if exists {
                    done.insert((fixture.name.to_owned(), stage, pass));
                }
            }
        }
    }
    done
}

/// The events of the log; `torn` says whether the last line is incomplete.
fn read_log(root: &Path) -> (Vec<Event>, bool) {
    let Ok(bytes) = std::fs::read(run_dir(root).join("logs/events.jsonl")) else {
        return (Vec::new(), false);
    };
    let torn = !bytes.is_empty() && bytes.last() != Some(&b'\n');
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if torn {
        lines.pop();
    }
    let events = lines
        .iter()
        .map(|line| {
            serde_json::from_str::<Event>(line)
                .unwrap_or_else(|err| panic!("a broken event line {line:?}: {err}"))
        })
        .collect();
    (events, torn)
}

/// What must hold at every moment, even while a process runs or right after a kill.
fn check_always(root: &Path, after_kill: bool) {
    for fixture in FIXTURES {
        let path = root.join(fixture.name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text == fixture.original || Some(text.as_str()) == fixture.approved,
            "`{}` is neither its original nor its approved version:\n{text}",
            fixture.name
        );
    }
    let run_json = run_dir(root).join("state/run.json");
    if let Ok(bytes) = std::fs::read(&run_json) {
        let record: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|err| panic!("run.json is not JSON ({err}): {bytes:?}"));
        assert_eq!(record["run_id"], RUN_ID);
    }
    if let Ok(entries) = std::fs::read_dir(run_dir(root).join("state/tasks")) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_else(|err| {
                    panic!("task state {} is not JSON ({err})", path.display())
                });
            }
        }
    }
    let (mut events, mut torn) = read_log(root);
    // A live writer's append can be read half done (one `write` is not atomic for a reader);
    // it must complete within moments. Only a kill may leave a torn line behind.
    let deadline = Instant::now() + Duration::from_secs(2);
    while torn && !after_kill && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        (events, torn) = read_log(root);
    }
    assert!(
        !torn || after_kill,
        "a torn event line that stayed torn while no process was killed"
    );
    for pair in events.windows(2) {
        assert!(
            pair[0].idx < pair[1].idx,
            "idx not strictly increasing: {} then {}",
            pair[0].idx,
            pair[1].idx
        );
    }
}

/// When to kill a process.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// Right after the `n`th event of this type that this process writes.
    AfterEvent(EventType, usize),
    /// This long after the process's first model call: a random point of the run that does
    /// not depend on how fast the machine starts a process.
    AfterFirstCallMs(u64),
}

/// How a process ended.
#[derive(Debug)]
enum Ended {
    Killed,
    Exited(Option<i32>),
}

fn spawn(root: &Path, logs: &Path, n: usize, url: &str) -> Child {
    let out = File::create(logs.join(format!("{n}.out"))).unwrap();
    let err = File::create(logs.join(format!("{n}.err"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_noctune"))
        .args(["run", "--yes", "--run-id", RUN_ID])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .env_remove("NOCTUNE_API_KEY")
        .env_remove("NOCTUNE_HEADERS_JSON")
        .env_remove("NOCTUNE_LOG")
        .env("NOCTUNE_BASE_URL", url)
        .spawn()
        .unwrap()
}

/// Runs one process until it exits or `kill` fires, checking [`check_always`] as it goes.
fn drive(root: &Path, mut child: Child, kill: Option<Kill>) -> Ended {
    let started = Instant::now();
    let first_idx = read_log(root).0.last().map_or(0, |e| e.idx);
    let mut first_call: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Ended::Exited(status.code());
        }
        check_always(root, false);
        let fire = match kill {
            Some(Kill::AfterEvent(kind, n)) => {
                read_log(root)
                    .0
                    .iter()
                    .filter(|e| e.idx > first_idx && e.event_type == kind)
                    .count()
                    >= n
            }
            Some(Kill::AfterFirstCallMs(ms)) => {
                if first_call.is_none()
                    && read_log(root)
                        .0
                        .iter()
                        .any(|e| e.idx > first_idx && e.event_type == EventType::LlmCall)
                {
                    first_call = Some(Instant::now());
                }
                first_call.is_some_and(|at| at.elapsed() >= Duration::from_millis(ms))
            }
            None => false,
        };
        if fire {
            // SIGKILL on Unix: no destructor, no flush, no cleanup runs.
            child.kill().unwrap();
            child.wait().unwrap();
            return Ended::Killed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "a `noctune run` process hung"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// One scenario: kill at each point of `kills`, resuming every time, then run to the end.
/// Returns how many kills landed. Prints a line per process (the harness shows it on failure).
#[allow(clippy::print_stderr)]
fn scenario(server: &FakeServer, kills: &[Kill]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(root.join("noctune.toml"), pipeline_config(2)).unwrap();
    for fixture in FIXTURES {
        std::fs::write(root.join(fixture.name), fixture.original).unwrap();
    }
    let asked_before = server.chat_requests().len();
    let mut plan: Vec<Option<Kill>> = kills.iter().copied().map(Some).collect();
    plan.push(None);
    let mut killed = 0;
    let mut exit = None;
    for (n, kill) in plan.into_iter().enumerate() {
        let done = finished_stages(root);
        let seen = server.chat_requests().len();
        let ended = drive(root, spawn(root, logs.path(), n, &server.url()), kill);
        if matches!(ended, Ended::Killed) {
            killed += 1;
            // Let the server record a request that was on the wire when the process died.
            std::thread::sleep(Duration::from_millis(30));
        }
        check_always(root, true);
        let last = read_log(root).0.last().map(|e| (e.idx, e.event_type));
        eprintln!(
            "process {n}: {kill:?} -> {ended:?}; last event {last:?}; asked {:?}",
            server.chat_requests()[seen..]
                .iter()
                .map(stage_key)
                .collect::<Vec<_>>()
        );
        let asked: Vec<(String, Stage, u32)> = server.chat_requests()[seen..]
            .iter()
            .map(stage_key)
            .collect();
        for key in &asked {
            assert!(
                !done.contains(key),
                "process {n} ({kill:?}) asked the model again for {key:?}, whose artifact existed"
            );
        }
        let stderr = std::fs::read_to_string(logs.path().join(format!("{n}.err"))).unwrap();
        assert!(
            !stderr.contains("panicked"),
            "process {n} panicked:\n{stderr}"
        );
        if let Ended::Exited(code) = ended {
            // Only the final, unkilled process may end; it must end with the run completed.
            let record: serde_json::Value = serde_json::from_slice(
                &std::fs::read(run_dir(root).join("state/run.json")).unwrap(),
            )
            .unwrap();
            if record["status"] == "completed" {
                exit = Some(code);
                if kill.is_none() {
                    break;
                }
            } else {
                panic!("process {n} exited {code:?} with the run {record}:\n{stderr}");
            }
        }
    }
    assert_eq!(
        exit,
        Some(Some(1)),
        "the run completes; 1 because scale.py is only a proposal"
    );

    // The end: the expected files, a complete log, the run completed, tasks final.
    check_always(root, false);
    let finals: Vec<(&str, String)> = FIXTURES
        .iter()
        .map(|f| (f.name, std::fs::read_to_string(root.join(f.name)).unwrap()))
        .collect();
    let expected: Vec<(&str, String)> = FIXTURES
        .iter()
        .map(|f| (f.name, f.approved.unwrap_or(f.original).to_owned()))
        .collect();
    assert_eq!(finals, expected);
    for fixture in FIXTURES {
        assert!(python_parses(&root.join(fixture.name)));
    }
    let statuses: Vec<(String, String)> = FIXTURES
        .iter()
        .map(|f| {
            let task = TaskId::for_path(Path::new(f.name));
            let state: serde_json::Value = serde_json::from_slice(
                &std::fs::read(run_dir(root).join(format!("state/tasks/{task}.json"))).unwrap(),
            )
            .unwrap();
            (
                f.name.to_owned(),
                state["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("area.py".to_owned(), "done".to_owned()),
            ("greeter.py".to_owned(), "done".to_owned()),
            ("scale.py".to_owned(), "proposed".to_owned()),
        ]
    );
    let backup = run_dir(root)
        .join("backups")
        .join(TaskId::for_path(Path::new("area.py")).as_str())
        .join("p1/area.py");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), AREA.original);
    assert_eq!(
        std::fs::read_to_string(artifacts(root, "scale.py").join("proposed_full_file.py")).unwrap(),
        "def scale(x: float) -> float:\n    return x * factor\n"
    );
    let (events, torn) = read_log(root);
    assert!(!torn);
    assert_eq!(events.first().map(|e| e.idx), Some(1));
    if killed > 0 {
        assert!(
            events
                .iter()
                .any(|e| e.event_type == EventType::StageReused),
            "a resumed run reuses finished stages"
        );
    }

    // Every stage was asked at most once more than it was cut short by a kill.
    let all: Vec<(String, Stage, u32)> = server.chat_requests()[asked_before..]
        .iter()
        .map(stage_key)
        .collect();
    for fixture in FIXTURES {
        for stage in [Stage::Review, Stage::Draft, Stage::Edit, Stage::Approve] {
            let pass1 = (fixture.name.to_owned(), stage, 1);
            let expected = usize::from(!(fixture.approved.is_none() && stage == Stage::Approve));
            let calls_per_try = if stage == Stage::Edit {
                fixture.targets.len()
            } else {
                1
            };
            let asked = all.iter().filter(|k| **k == pass1).count();
            assert!(
                asked >= expected * calls_per_try && asked <= (expected + killed) * calls_per_try,
                "{pass1:?} was asked {asked} times with {killed} kills"
            );
        }
    }
    killed
}

/// A small deterministic generator (no dependency needed for a schedule).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// The model, serving `slots` requests at once (its `/props` says so): the run keeps that many
/// files in flight.
async fn start_model(slots: u32) -> Arc<FakeServer> {
    Arc::new(
        FakeServer::start_responder(
            FakeOptions {
                total_slots: Some(slots),
                ..FakeOptions::default()
            },
            respond,
        )
        .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_each_kind_of_event_and_resumed() {
    killed_after_each_kind_of_event(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_each_kind_of_event_and_resumed_with_three_files_in_flight() {
    killed_after_each_kind_of_event(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_seeded_random_times_and_resumed() {
    killed_at_seeded_random_times(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_seeded_random_times_and_resumed_with_three_files_in_flight() {
    killed_at_seeded_random_times(3).await;
}

async fn killed_after_each_kind_of_event(slots: u32) {
    let server = start_model(slots).await;
    use EventType::*;
    let kills = [
        Kill::AfterEvent(RunCreated, 1),
        Kill::AfterEvent(RunStarted, 1),
        Kill::AfterEvent(LockRecovered, 1),
        Kill::AfterEvent(TaskStarted, 1),
        Kill::AfterEvent(LlmCall, 1),
        Kill::AfterEvent(StageFinished, 1),
        Kill::AfterEvent(StageReused, 1),
        Kill::AfterEvent(LlmCall, 2),
        Kill::AfterEvent(StageFinished, 2),
        Kill::AfterEvent(Applied, 1),
        Kill::AfterEvent(TaskFinished, 1),
        Kill::AfterEvent(StageFinished, 3),
        Kill::AfterEvent(LlmCall, 3),
        Kill::AfterEvent(GateFailed, 1),
        Kill::AfterEvent(Proposed, 1),
        Kill::AfterEvent(RunCompleted, 1),
    ];
    let s = server.clone();
    let killed = tokio::task::spawn_blocking(move || scenario(&s, &kills))
        .await
        .unwrap();
    assert!(killed >= 8, "only {killed} of 16 kills landed");
}

async fn killed_at_seeded_random_times(slots: u32) {
    let server = start_model(slots).await;
    let mut rng = Lcg(0x006e_6f63_7475_6e65);
    // Each answer takes 40 ms: a kill 0-120 ms after a process's first model call lands
    // between or inside the next few calls, wherever the run is. With several files in
    // flight the run is that much shorter: so is the window.
    let window = 120 / u64::from(slots);
    let kills: Vec<Kill> = (0..14)
        .map(|_| Kill::AfterFirstCallMs(rng.next(window)))
        .collect();
    let s = server.clone();
    let killed = tokio::task::spawn_blocking(move || scenario(&s, &kills))
        .await
        .unwrap();
    assert!(killed >= 7, "only {killed} of 14 kills landed");
}
