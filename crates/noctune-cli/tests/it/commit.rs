//! `noctune commit` in real git repositories with the scripted model server: groups committed
//! with the model's two-step messages, planted secrets left out and never sent to the model,
//! repositories with staged work or a merge in progress left alone, and `--push` fast-forwarding
//! a clone that is behind while refusing a diverged one without changing anything; the history
//! in the audit database.

use std::path::Path;

use noctune_llm::fake::{FakeServer, Reply};
use noctune_studio::audit::{Db, audit_db_path, commit_history};
use pretty_assertions::assert_eq;

use crate::fake_model::json as json_reply;
use crate::git_fixture::{
    git, git_output, init_repo, json, noctune_git, noctune_git_async, snapshot, write_files,
};
use crate::text;

const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

/// The model's two answers for one group: the analysis, then the formatted message.
fn message(analysis: &str, subject: &str, body: &str) -> [Reply; 2] {
    [
        Reply::answer(analysis),
        json_reply(serde_json::json!({ "subject": subject, "body": body })),
    ]
}

fn subjects(repo: &Path, range: &str) -> Vec<String> {
    git(repo, &["log", "--format=%s", "--reverse", range])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn untracked(repo: &Path) -> Vec<String> {
    git(repo, &["status", "--porcelain", "--untracked-files=all"])
        .lines()
        .filter_map(|l| l.strip_prefix("?? ").map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirty_tree_committed_in_groups_with_model_messages_and_secrets_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    init_repo(
        repo,
        &[
            ("app/main.py", "def main():\n    print('hi')\n"),
            ("lib/util.py", "def one():\n    return 1\n"),
        ],
    );
    write_files(
        repo,
        &[
            ("app/main.py", "def main(name):\n    print(f'hi {name}')\n"),
            ("lib/extra.py", "def two():\n    return 2\n"),
            (".env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")),
            ("certs/server.pem", "-----BEGIN CERTIFICATE-----\n"),
            ("config/keys.py", &format!("KEY = \"{AWS_KEY}\"\n")),
        ],
    );
    std::fs::remove_file(repo.join("lib/util.py")).unwrap();
    let mut script = Vec::new();
    script.extend(message(
        "main() now greets by name.",
        "feat(app): greet by name.",
        "main takes the name to greet.",
    ));
    script.extend(message(
        "A new helper two().",
        "Add the two() helper to lib",
        "",
    ));
    let server = FakeServer::start(script).await;

    let output =
        noctune_git_async(repo, &["commit", "--output-format", "json"], &server.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "secrets left out: {stdout}\n{stderr}"
    );
    assert!(!stdout.contains(AWS_KEY) && !stderr.contains(AWS_KEY));
    assert_eq!(server.remaining(), 0);

    // Two groups, two commits, in module order, with the model's (normalised) subjects.
    assert_eq!(
        subjects(repo, "HEAD~2..HEAD"),
        vec![
            "feat(app): greet by name",
            "chore: Add the two() helper to lib"
        ]
    );
    assert_eq!(
        git(repo, &["log", "-1", "--format=%B", "HEAD~1"]),
        "feat(app): greet by name\n\nmain takes the name to greet."
    );
    assert_eq!(
        git(repo, &["show", "--name-status", "--format=", "HEAD"]),
        "A\tlib/extra.py\nD\tlib/util.py"
    );
    // The secrets stay where they were, uncommitted, and were never shown to the model.
    assert_eq!(
        untracked(repo),
        vec![".env", "certs/server.pem", "config/keys.py"]
    );
    let report = json(&output);
    let left_out: Vec<&str> = report["repositories"][0]["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["file"].as_str().unwrap())
        .collect();
    assert_eq!(left_out, vec![".env", "certs/server.pem", "config/keys.py"]);
    let prompts: Vec<String> = server
        .chat_requests()
        .iter()
        .map(|r| r.prompt_text())
        .collect();
    assert_eq!(prompts.len(), 4);
    assert!(prompts[0].contains("+def main(name):"), "{}", prompts[0]);
    assert!(
        prompts[1].contains("main() now greets by name."),
        "{}",
        prompts[1]
    );
    assert!(
        prompts[2].contains("deleted file lib/util.py"),
        "{}",
        prompts[2]
    );
    assert!(
        prompts
            .iter()
            .all(|p| !p.contains(AWS_KEY) && !p.contains(".env"))
    );

    // The sweep's history is in the audit database, one cycle, without the secret.
    let db = Db::open(&audit_db_path(repo)).unwrap();
    let rows = commit_history(&db, 100).await.unwrap();
    let kinds: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.kind.as_str(), r.sha.as_deref()))
        .collect();
    let head = git(repo, &["rev-parse", "HEAD"]);
    let parent = git(repo, &["rev-parse", "HEAD~1"]);
    assert_eq!(
        kinds,
        vec![
            ("commit", Some(parent.as_str())),
            ("commit", Some(head.as_str())),
            ("left_out", None),
            ("left_out", None),
            ("left_out", None),
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r.cycle == rows[0].cycle && !r.detail.contains(AWS_KEY))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_sweep_leaves_staged_work_and_merges_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (free, staged, merging) = (root.join("free"), root.join("staged"), root.join("merging"));
    for repo in [&free, &staged, &merging] {
        init_repo(repo, &[("a.py", "x = 1\n")]);
        write_files(repo, &[("a.py", "x = 2\n")]);
    }
    write_files(&staged, &[("b.py", "y = 1\n")]);
    git(&staged, &["add", "--", "b.py"]);
    // A merge stopped on a conflict.
    git(&merging, &["checkout", "-q", "--", "a.py"]);
    git(&merging, &["checkout", "-q", "-b", "other"]);
    write_files(&merging, &[("a.py", "x = 3\n")]);
    git(&merging, &["commit", "-q", "-am", "other"]);
    git(&merging, &["checkout", "-q", "main"]);
    write_files(&merging, &[("a.py", "x = 4\n")]);
    git(&merging, &["commit", "-q", "-am", "main"]);
    assert!(
        !git_output(&merging, &["merge", "-q", "other"])
            .status
            .success()
    );
    let (staged_before, merging_before) = (snapshot(&staged), snapshot(&merging));

    let server = FakeServer::start(message("x is 2 now.", "fix: set x to 2", "")).await;
    let output = noctune_git_async(root, &["commit", "--recursive"], &server.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the index has staged changes (manual work in progress)"),
        "{stdout}"
    );
    assert!(stdout.contains("in the middle of a merge"), "{stdout}");
    assert_eq!(subjects(&free, "HEAD~1..HEAD"), vec!["fix: set x to 2"]);
    assert!(
        staged_before == snapshot(&staged),
        "the staged repository changed"
    );
    assert!(
        merging_before == snapshot(&merging),
        "the merging repository changed"
    );
}

/// A bare `origin`, our clone `ours`, and `theirs`, another clone that pushes.
fn remotes(root: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let (origin, ours, theirs) = (
        root.join("origin.git"),
        root.join("ours"),
        root.join("theirs"),
    );
    init_repo(&root.join("seed"), &[("a.py", "x = 1\n")]);
    git(root, &["clone", "-q", "--bare", "seed", "origin.git"]);
    git(root, &["clone", "-q", "origin.git", "ours"]);
    git(root, &["clone", "-q", "origin.git", "theirs"]);
    (origin, ours, theirs)
}

fn push_from(theirs: &Path, file: &str, text: &str) {
    write_files(theirs, &[(file, text)]);
    git(theirs, &["add", "--", file]);
    git(theirs, &["commit", "-q", "-m", &format!("theirs: {file}")]);
    git(theirs, &["push", "-q", "origin", "HEAD:main"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_fast_forwards_when_behind_and_refuses_when_diverged() {
    let dir = tempfile::tempdir().unwrap();
    let (origin, ours, theirs) = remotes(dir.path());
    let origin_main = || git(&origin, &["rev-parse", "main"]);

    // Clean and behind: fast-forwarded, nothing to commit, no model call.
    push_from(&theirs, "b.py", "y = 1\n");
    let idle = FakeServer::start(Vec::<Reply>::new()).await;
    let output = noctune_git_async(&ours, &["commit", "--push"], &idle.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("fast-forwarded by 1 commit(s)"), "{stdout}");
    assert_eq!(git(&ours, &["rev-parse", "HEAD"]), origin_main());
    assert!(idle.chat_requests().is_empty());

    // Dirty and behind: fast-forwarded, committed with the model's message, pushed.
    push_from(&theirs, "c.py", "z = 1\n");
    write_files(&ours, &[("pkg/d.py", "w = 1\n")]);
    let server = FakeServer::start(message("Adds d.", "feat(pkg): add d", "")).await;
    let output = noctune_git_async(&ours, &["commit", "--push"], &server.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("pushed 1 commit(s)"), "{stdout}");
    assert_eq!(origin_main(), git(&ours, &["rev-parse", "HEAD"]));
    assert_eq!(
        subjects(&origin, "main~3..main"),
        vec!["theirs: b.py", "theirs: c.py", "feat(pkg): add d"]
    );

    // Diverged: refused before anything is committed or pushed.
    git(&theirs, &["pull", "-q", "--ff-only", "origin", "main"]);
    push_from(&theirs, "e.py", "v = 1\n");
    write_files(&ours, &[("f.py", "u = 1\n")]);
    git(&ours, &["add", "--", "f.py"]);
    git(&ours, &["commit", "-q", "-m", "ours: f.py"]);
    write_files(&ours, &[("g.py", "t = 1\n")]);
    let (before, origin_before) = (snapshot(&ours), origin_main());
    let idle = FakeServer::start(Vec::<Reply>::new()).await;
    let output = noctune_git_async(&ours, &["commit", "--push"], &idle.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("have diverged (1 local, 1 upstream commits)"),
        "{stdout}"
    );
    assert!(before == snapshot(&ours), "the diverged clone changed");
    assert_eq!(origin_main(), origin_before);
    assert!(idle.chat_requests().is_empty());
    assert_eq!(untracked(&ours), vec!["g.py"]);
}

#[test]
fn a_root_outside_git_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = noctune_git(dir.path(), &["commit"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).1.contains("is not inside a git repository"),
        "{:?}",
        text(&output)
    );
    assert!(!dir.path().join(".noctune_cache").exists());
}

#[test]
fn every_takes_an_interval_with_a_unit() {
    let output = noctune_git(Path::new("."), &["commit", "--every", "5"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output)
            .1
            .contains("expected a number and a unit (`30s`, `5m`, `1h`), found `5`"),
        "{:?}",
        text(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sweeps_again_until_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().to_path_buf();
    init_repo(&repo, &[("a.py", "x = 1\n")]);
    let server = FakeServer::start(message("Adds b.", "feat: add b", "")).await;
    let url = server.url();
    let stdout = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_noctune"))
            .args(["commit", "--every", "1s"])
            .current_dir(&repo)
            .envs(crate::git_fixture::IDENTITY)
            .env("NOCTUNE_BASE_URL", &url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut next_cycle = || loop {
            let line = lines.next().expect("the sweep ended early").unwrap();
            if line.starts_with("cycle ") {
                return line;
            }
        };
        let first = next_cycle();
        assert!(
            first.starts_with("cycle 1: 1 repositories, 0 commit(s)"),
            "{first}"
        );
        // Someone changes the tree between sweeps: the next sweep commits it.
        write_files(&repo, &[("b.py", "y = 1\n")]);
        let second = next_cycle();
        assert!(
            second.starts_with("cycle 2: 1 repositories, 1 commit(s)"),
            "{second}"
        );
        let interrupted = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(subjects(&repo, "HEAD~1..HEAD"), vec!["feat: add b"]);
        String::from_utf8(output.stdout).unwrap()
    })
    .await
    .unwrap();
    assert!(stdout.contains("clean "), "{stdout}");
    assert!(stdout.contains("feat: add b"), "{stdout}");
    let db = Db::open(&audit_db_path(dir.path())).unwrap();
    let rows = commit_history(&db, 100).await.unwrap();
    assert_eq!(rows.len(), 1, "only the commit leaves a row: {rows:?}");
    assert!(rows[0].cycle.ends_with("#2"), "{:?}", rows[0]);
}
