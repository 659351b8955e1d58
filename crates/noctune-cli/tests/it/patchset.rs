//! `noctune patchset list|show|commit` on a real git repository after a real run through the
//! scripted model server: stable grouping, at most `patchset_max_commits` commits with their
//! trailers, a failing pytest blocking its patchset, planted secrets never committed, and the
//! user's working tree, index and branch byte-for-byte unchanged.

use std::path::Path;

use noctune_llm::fake::{FakeOptions, FakeServer, RecordedRequest, Reply};
use pretty_assertions::assert_eq;

use crate::fake_model::{
    Stage, classify, code, json as json_reply, pipeline_config, plan, review, verdict,
};
use crate::git_fixture::{
    IDENTITY, git, git_output, init_repo, json, noctune_git, noctune_git_async, snapshot,
};
use crate::{text, tool};

/// The fake AWS key the docs use; it must never reach a commit or the output.
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

/// `(file, symbol, original, the model's rewrite)`, one module each. Sorted by module, so that
/// fitting six modules into five patchsets merges the first two.
const FILES: [(&str, &str, &str, &str); 6] = [
    (
        "a_alpha/a.py",
        "area",
        "def area(w, h):\n    return w * h\n",
        "def area(w: float, h: float) -> float:\n    return w * h\n",
    ),
    (
        "b_beta/b.py",
        "double",
        "def double(x):\n    return x * 2\n",
        "def double(x: int) -> int:\n    return x * 2\n",
    ),
    (
        "c_gamma/c.py",
        "key",
        "def key():\n    return None\n",
        "def key() -> str:\n    return \"AKIAIOSFODNN7EXAMPLE\"\n",
    ),
    (
        "d_delta/d.py",
        "pem",
        "def pem():\n    return \"\"\n",
        "def pem() -> str:\n    return \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n\"\n",
    ),
    (
        "e_eps/e.py",
        "greet",
        "def greet(name):\n    return \"Hello, \" + name\n",
        "def greet(name: str) -> str:\n    return f\"Hello, {name}\"\n",
    ),
    (
        "f_fail/f.py",
        "total",
        "def total(xs):\n    return sum(xs)\n",
        "def total(xs: list[int]) -> int:\n    return sum(xs) + 1\n",
    ),
];

/// `tests/test_f.py`: passes on the original `total`, fails on the model's.
const TEST_F: &str =
    "from f_fail.f import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n";

/// The model: a P review, a plan of the file's symbol, the rewrite, an approval.
fn model(request: &RecordedRequest) -> Reply {
    let names: Vec<&str> = FILES.iter().map(|f| f.0).collect();
    let Some(asked) = classify(request, &names) else {
        return Reply::answer("unexpected request");
    };
    let (_, symbol, _, rewrite) = FILES.iter().find(|f| f.0 == asked.file).unwrap();
    match asked.stage {
        Stage::Review => review("P"),
        Stage::Draft => plan(&[symbol]),
        Stage::Edit | Stage::Repair => code(rewrite),
        Stage::Approve => verdict("approve", 0.1),
    }
}

/// A committed repository, then a run (`night`) that applies the six rewrites.
async fn repo_after_run(root: &Path, extra_config: &str) {
    let pytest = tool("pytest");
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "{}tools_allowed = [\"ruff\", \"pytest\"]\ntest_command = [\"{}\", \"-q\", \"-p\", \
             \"no:cacheprovider\"]\ntest_timeout_s = 120\n",
            pipeline_config(1),
            pytest.display()
        )
        .replace(
            "max_passes = 1\n",
            &format!("max_passes = 1\n{extra_config}"),
        ),
    )
    .unwrap();
    let mut files: Vec<(&str, &str)> = FILES.iter().map(|f| (f.0, f.2)).collect();
    files.extend([
        ("tests/test_f.py", TEST_F),
        ("conftest.py", ""),
        ("README.md", "# demo\n"),
    ]);
    init_repo(root, &files);

    let server = FakeServer::start_responder(FakeOptions::default(), model).await;
    let mut args = vec![
        "run",
        "--yes",
        "--run-id",
        "night",
        "--output-format",
        "json",
    ];
    args.extend(FILES.iter().map(|f| f.0));
    let output = noctune_git_async(root, &args, &server.url()).await;
    let summary = json(&output)["summary"].clone();
    assert_eq!(summary["applied"], 6, "{:?}", text(&output));
    for (file, _, _, rewrite) in FILES {
        assert_eq!(std::fs::read_to_string(root.join(file)).unwrap(), rewrite);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patchsets_are_stable_and_commit_on_their_own_branch() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_after_run(root, "").await;

    // Grouping is stable: the same ids, twice over the same run, and six modules fit in five.
    let list = |group: &str| {
        let output = noctune_git(
            root,
            &[
                "patchset",
                "list",
                "--run-id",
                "night",
                "--group",
                group,
                "--output-format",
                "json",
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
        json(&output)
    };
    let first = list("module");
    assert_eq!(first, list("module"));
    let keys: Vec<&str> = first["patchsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec!["a_alpha+b_beta", "c_gamma", "d_delta", "e_eps", "f_fail"]
    );
    assert_eq!(list("single")["patchsets"].as_array().unwrap().len(), 1);
    assert_eq!(list("file"), list("file"));

    // `show` names the secret-looking change and never prints it.
    let show = noctune_git(root, &["patchset", "show", "--run-id", "night"], None);
    let (shown, _) = text(&show);
    assert!(shown.contains("diff withheld"), "{shown}");
    assert!(
        shown.contains("+def area(w: float, h: float) -> float:"),
        "{shown}"
    );
    assert!(
        !shown.contains(AWS_KEY) && !shown.contains("PRIVATE KEY"),
        "{shown}"
    );

    // The user's own work in progress: a modified tracked file, a staged new file, a planted
    // `.env`.
    std::fs::write(root.join("README.md"), "# demo\n\nwork in progress\n").unwrap();
    std::fs::write(root.join("notes.txt"), "staged, not committed\n").unwrap();
    git(root, &["add", "--", "notes.txt"]);
    std::fs::write(root.join(".env"), format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")).unwrap();
    let before = snapshot(root);
    let head = git(root, &["rev-parse", "HEAD"]);

    let output = noctune_git(
        root,
        &[
            "patchset",
            "commit",
            "--run-id",
            "night",
            "--output-format",
            "json",
        ],
        None,
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "blocked patchsets: {stdout}\n{stderr}"
    );
    assert!(!stdout.contains(AWS_KEY) && !stderr.contains(AWS_KEY));
    let report = json(&output);

    // Nothing of the user's changed: files, index, HEAD, the current branch.
    assert!(
        before == snapshot(root),
        "the working tree or index changed"
    );
    assert_eq!(git(root, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(root, &["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(git(root, &["worktree", "list"]).lines().count(), 1);

    let outcomes: Vec<(&str, &str)> = report["patchsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["key"].as_str().unwrap(), p["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("a_alpha+b_beta", "committed"),
            ("c_gamma", "blocked"),
            ("d_delta", "blocked"),
            ("e_eps", "committed"),
            ("f_fail", "blocked"),
        ]
    );
    let patchsets = report["patchsets"].as_array().unwrap();
    assert!(
        patchsets[2]["left_out"][0]["why"]
            .as_str()
            .unwrap()
            .contains("private key block"),
        "{report:#}"
    );
    let why = patchsets[4]["why"].as_str().unwrap();
    assert!(why.starts_with("`pytest` failed"), "{why}");
    assert!(why.contains("test_total"), "{why}");

    // At most five commits on noctune/night, each with its subject and trailers.
    let branch = "noctune/night";
    assert_eq!(report["branch"], branch);
    let count: usize = git(root, &["rev-list", "--count", &format!("main..{branch}")])
        .parse()
        .unwrap();
    assert_eq!(count, 2);
    let subjects = git(
        root,
        &[
            "log",
            "--format=%s",
            "--reverse",
            &format!("main..{branch}"),
        ],
    );
    assert_eq!(
        subjects,
        "Noctune Studio: lint_fix (#night) [patchset 1/5]\n\
         Noctune Studio: lint_fix (#night) [patchset 4/5]"
    );
    let trailers = git(
        root,
        &[
            "log",
            "--format=%(trailers:key=Noctune-Run,valueonly)%(trailers:key=Noctune-Patchset,valueonly)",
            &format!("main..{branch}"),
        ],
    );
    let ids: Vec<String> = [3, 0]
        .iter()
        .map(|n| first["patchsets"][*n]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        trailers
            .lines()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>(),
        vec!["night", ids[0].as_str(), "night", ids[1].as_str()]
    );

    // The branch holds the committed rewrites and nothing blocked, secret or of the user's.
    let at = |file: &str| git(root, &["show", &format!("{branch}:{file}")]) + "\n";
    assert_eq!(at("a_alpha/a.py"), FILES[0].3);
    assert_eq!(at("e_eps/e.py"), FILES[4].3);
    assert_eq!(at("c_gamma/c.py"), FILES[2].2);
    assert_eq!(at("d_delta/d.py"), FILES[3].2);
    assert_eq!(at("f_fail/f.py"), FILES[5].2);
    let all = git(root, &["log", "-p", &format!("main..{branch}")]);
    assert!(
        !all.contains(AWS_KEY) && !all.contains("PRIVATE KEY"),
        "{all}"
    );
    let tree = git(root, &["ls-tree", "-r", "--name-only", branch]);
    assert!(
        !tree.lines().any(|f| f == ".env" || f == "notes.txt"),
        "{tree}"
    );
    assert_eq!(at("README.md"), "# demo\n");

    // The blocked patchset is an event of the run, with its reason.
    let events =
        std::fs::read_to_string(root.join(".noctune_cache/runs/night/logs/events.jsonl")).unwrap();
    let blocked: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "patchset_blocked")
        .collect();
    assert_eq!(blocked.len(), 3);
    assert!(
        blocked[2]["payload"]["detail"]["why"]
            .as_str()
            .unwrap()
            .contains("pytest"),
        "{blocked:?}"
    );
    assert!(!events.contains(AWS_KEY));
    assert!(
        root.join(".noctune_cache/runs/night/patchset_commit.json")
            .is_file()
    );

    // A second commit of the same run is refused: the branch exists.
    let again = noctune_git(root, &["patchset", "commit", "--run-id", "night"], None);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again).1.contains("already exists"),
        "{:?}",
        text(&again)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_each_approval_makes_one_commit_per_applied_change() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_after_run(
        root,
        "commit_each_approval = true\npatchset_max_commits = 2\n",
    )
    .await;
    // The pack no longer allows pytest: it is skipped (and logged), so f_fail commits too.
    let config = std::fs::read_to_string(root.join("noctune.toml")).unwrap();
    let config = config.replace(
        "tools_allowed = [\"ruff\", \"pytest\"]",
        "tools_allowed = [\"ruff\"]",
    );
    std::fs::write(root.join("noctune.toml"), config).unwrap();
    let output = noctune_git(
        root,
        &[
            "patchset",
            "commit",
            "--run-id",
            "night",
            "--output-format",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    let report = json(&output);
    assert_eq!(report["total"], 6);
    let subjects = git(
        root,
        &["log", "--format=%s", "--reverse", "main..noctune/night"],
    );
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        vec![
            "Noctune Studio: lint_fix (#night) [patchset 1/6]",
            "Noctune Studio: lint_fix (#night) [patchset 2/6]",
            "Noctune Studio: lint_fix (#night) [patchset 5/6]",
            "Noctune Studio: lint_fix (#night) [patchset 6/6]",
        ]
    );
    let events =
        std::fs::read_to_string(root.join(".noctune_cache/runs/night/logs/events.jsonl")).unwrap();
    let skipped = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "tool_skipped" && e["payload"]["tool"] == "pytest")
        .count();
    assert_eq!(
        skipped, 4,
        "pytest skipped for each patchset that reached its tools"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_llm_has_the_model_write_each_message() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_after_run(root, "").await;
    let mut script = Vec::new();
    for (analysis, subject) in [
        (
            "Type hints for area and double.",
            "refactor: add type hints",
        ),
        (
            "greet uses an f-string.",
            "refactor(e_eps): use an f-string.",
        ),
    ] {
        script.push(Reply::answer(analysis));
        script.push(json_reply(
            serde_json::json!({ "subject": subject, "body": "Behaviour unchanged." }),
        ));
    }
    let server = FakeServer::start(script).await;
    let output = noctune_git_async(
        root,
        &[
            "patchset",
            "commit",
            "--run-id",
            "night",
            "--message",
            "llm",
        ],
        &server.url(),
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    // Only the patchsets that passed their tools and kept their files asked the model.
    assert_eq!(server.remaining(), 0);
    let prompts: Vec<String> = server
        .chat_requests()
        .iter()
        .map(|r| r.prompt_text())
        .collect();
    assert_eq!(prompts.len(), 4);
    assert!(
        prompts[0].contains("+def area(w: float, h: float) -> float:"),
        "{}",
        prompts[0]
    );
    assert!(prompts.iter().all(|p| !p.contains(AWS_KEY)));

    let log = git(
        root,
        &["log", "--format=%B%x00", "--reverse", "main..noctune/night"],
    );
    let messages: Vec<&str> = log
        .split('\0')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    assert_eq!(messages.len(), 2);
    let id = |n: usize| {
        let list = noctune_git(
            root,
            &[
                "patchset",
                "list",
                "--run-id",
                "night",
                "--output-format",
                "json",
            ],
            None,
        );
        json(&list)["patchsets"][n]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        messages[0],
        format!(
            "refactor: add type hints\n\nBehaviour unchanged.\n\n\
             Noctune Studio: lint_fix (#night) [patchset 1/5]\n\n\
             Noctune-Run: night\nNoctune-Patchset: {}",
            id(0)
        )
    );
    assert!(
        messages[1].starts_with("refactor(e_eps): use an f-string\n"),
        "{}",
        messages[1]
    );
    assert!(messages[1].ends_with(&format!("Noctune-Patchset: {}", id(3))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn studio_run_page_lists_and_commits_patchsets_behind_its_token() {
    use std::time::Duration;

    use noctune_studio::{ServeOptions, WorkerCommand};

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_after_run(root, "").await;
    let studio = noctune_studio::serve(ServeOptions {
        root: root.to_path_buf(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: std::path::PathBuf::from(env!("CARGO_BIN_EXE_noctune")),
            env: IDENTITY
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        },
        stop_timeout: Duration::from_secs(10),
        max_tails: 64,
    })
    .await
    .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!(
        "http://127.0.0.1:{}/api/runs/night",
        studio.local_addr().port()
    );
    let token = studio.url().split("token=").nth(1).unwrap().to_owned();

    let listed: serde_json::Value = http
        .get(format!("{base}/patchsets"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cli = noctune_git(
        root,
        &[
            "patchset",
            "list",
            "--run-id",
            "night",
            "--output-format",
            "json",
        ],
        None,
    );
    assert_eq!(listed, json(&cli));

    // Without the token the daemon's security layer refuses, and nothing is committed.
    let refused = http
        .post(format!("{base}/patchsets/commit"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert!(
        !git_output(root, &["rev-parse", "--verify", "noctune/night"])
            .status
            .success()
    );

    let commit = |http: reqwest::Client| {
        let url = format!("{base}/patchsets/commit");
        let token = token.clone();
        async move {
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    // The run page lists the patchsets and commits them on request (cookie and CSRF token).
    let browser = crate::webdriver::Browser::start(1280, 900).await;
    browser.goto(studio.url()).await;
    browser
        .goto(&format!(
            "http://127.0.0.1:{}/#/runs/night",
            studio.local_addr().port()
        ))
        .await;
    let first_id = listed["patchsets"][0]["id"].as_str().unwrap();
    browser.wait_text("#patchsets", first_id).await;
    browser.click("#commit-patchsets").await;
    browser
        .wait_text("#patchset-branch", "Branch noctune/night from")
        .await;
    browser
        .wait_text("#patchsets", "blocked: `pytest` failed")
        .await;
    browser.close().await;
    assert_eq!(
        git(root, &["rev-list", "--count", "main..noctune/night"]),
        "2"
    );
    let (status, again) = commit(http.clone()).await;
    assert_eq!(status, 409, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{again}"
    );
    studio.shutdown();
}
