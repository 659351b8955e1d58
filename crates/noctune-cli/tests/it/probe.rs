//! The calibration probe through the binary: a run probes the model once (the server's fake
//! answers the probe's asks itself), uses the first working format from its first call, keeps
//! the record with the run and in the report; `noctune probe` shows the cached record, and
//! re-probes with `--force` or when the cached file is damaged (naming it).

use std::path::Path;

use noctune_llm::fake::{FakeOptions, FakeServer, echo_model};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::fake_model::pipeline_config;
use crate::{noctune_async, text};

const TOOL: &str = "def area(w, h):\n    return w * h\n";

fn repo(root: &Path) {
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    std::fs::write(root.join("tool.py"), TOOL).unwrap();
}

/// A llama.cpp-like server with a 4096 window that refuses GBNF grammars.
async fn no_grammar_server() -> FakeServer {
    FakeServer::start_responder(
        FakeOptions {
            n_ctx: Some(4096),
            reject_grammar: true,
            ..FakeOptions::default()
        },
        echo_model,
    )
    .await
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {:?}", text(output)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_probes_once_and_never_sends_the_refused_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root);
    let server = no_grammar_server().await;
    let args = |id: &'static str| ["edit", "tool.py", "--output-format", "json", "--run-id", id];
    let first = noctune_async(root, &args("one"), &server.url()).await;
    assert_eq!(
        json_of(&first)["summary"]["failed"],
        0,
        "{:?}",
        text(&first)
    );

    let probes = server.probe_requests();
    assert_eq!(probes.len(), 5, "four formats and the speed ask");
    assert!(probes[0].has_grammar());
    let work = server.chat_requests();
    assert!(
        work.iter().any(|r| r.schema_name().is_none()),
        "the edit asked for code"
    );
    assert!(
        work.iter().all(|r| !r.has_grammar()),
        "no call of the run tried the refused grammar"
    );

    // The record goes with the run, and the report shows it in its header.
    let record: Value = serde_json::from_slice(
        &std::fs::read(root.join(".noctune_cache/runs/one/state/model.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record[0]["context_tokens"], json!(4096));
    assert_eq!(record[0]["model"], json!("fake-model"));
    let report = std::fs::read_to_string(root.join(".noctune_cache/runs/one/report.md")).unwrap();
    assert!(
        report.contains(
            "- model: `fake-model` at http://127.0.0.1:\
             "
        ) && report.contains(
            "formats grammar no, json_schema ok, json_object ok, fenced ok; 400.0 tok/s prompt, \
             50.0 tok/s answer (timings); context 4096"
        ),
        "{report}"
    );

    // A second run on the same server: the cache answers, no probe ask.
    let second = noctune_async(root, &args("two"), &server.url()).await;
    assert_eq!(
        json_of(&second)["summary"]["failed"],
        0,
        "{:?}",
        text(&second)
    );
    assert_eq!(server.probe_requests().len(), 5);

    let shown = noctune_async(root, &["probe", "--output-format", "json"], &server.url()).await;
    let shown = json_of(&shown);
    assert_eq!(shown["fresh"], json!(false));
    assert_eq!(shown["calibration"], record[0]);
    assert_eq!(server.probe_requests().len(), 5);

    let forced = noctune_async(root, &["probe", "--force"], &server.url()).await;
    let (stdout, stderr) = text(&forced);
    assert_eq!(forced.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("model fake-model at http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  grammar      fails: HTTP 400: Unrecognized request argument supplied: grammar"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("  answers as   json_schema (structured), fenced (code)"),
        "{stdout}"
    );
    assert!(stdout.contains("  context      4096 tokens"), "{stdout}");
    assert_eq!(server.probe_requests().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_record_is_named_and_probed_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root);
    let server = no_grammar_server().await;
    let probed = noctune_async(root, &["probe", "--output-format", "json"], &server.url()).await;
    let probed = json_of(&probed);
    assert_eq!(probed["fresh"], json!(true));
    let path = probed["path"].as_str().unwrap().to_owned();
    assert!(path.contains(".noctune_cache/models/fake-model-"), "{path}");
    assert!(root.join(".noctune_cache/.gitignore").is_file());

    std::fs::write(&path, "{\"key\": 1").unwrap();
    let again = noctune_async(root, &["probe", "--output-format", "json"], &server.url()).await;
    let (_, stderr) = text(&again);
    assert!(
        stderr.contains(&format!(
            "warning: the model probe record `{path}` is not valid"
        )),
        "{stderr}"
    );
    assert_eq!(json_of(&again)["fresh"], json!(true));
    assert_eq!(server.probe_requests().len(), 10);
    let stored: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored["model"], json!("fake-model"));
}

/// A stage with its own model profile: that model is probed too, and its client starts from
/// its own record (this one refuses `json_schema`, so the review goes as `json_object` at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_profile_model_is_probed_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root);
    let big = FakeServer::start_responder(
        FakeOptions {
            n_ctx: Some(8192),
            reject_json_schema: true,
            ..FakeOptions::default()
        },
        echo_model,
    )
    .await;
    let config = format!(
        "{}\n[llm.profiles.big]\nbase_url = \"{}\"\n\n[stages]\nreview = \"big\"\n",
        pipeline_config(1),
        big.url()
    );
    std::fs::write(root.join("noctune.toml"), config).unwrap();
    let default = no_grammar_server().await;
    let output = noctune_async(
        root,
        &[
            "review",
            "tool.py",
            "--run-id",
            "big",
            "--output-format",
            "json",
        ],
        &default.url(),
    )
    .await;
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}",
        text(&output)
    );
    assert_eq!(default.probe_requests().len(), 5);
    assert_eq!(big.probe_requests().len(), 5);
    let reviews = big.chat_requests();
    assert!(
        !reviews.is_empty(),
        "the review went to the profile's model"
    );
    for request in &reviews {
        assert_eq!(
            request.body["response_format"]["type"],
            json!("json_object"),
            "{:?}",
            request.body
        );
    }
    assert!(default.chat_requests().is_empty());
}

/// With several servers (`endpoints`), `noctune probe` probes each and keeps a record of each;
/// the one that refuses grammars says so, the other does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_is_probed_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let refusing = no_grammar_server().await;
    let plain = FakeServer::start_responder(FakeOptions::default(), echo_model).await;
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "[llm]\nendpoints = [{{ base_url = \"{}\" }}, {{ base_url = \"{}\" }}]\n",
            refusing.url(),
            plain.url()
        ),
    )
    .unwrap();
    let root_path = root.to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        crate::noctune(&root_path, &["probe", "--output-format", "json"])
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let json = json_of(&output);
    let endpoints = json["endpoints"]
        .as_array()
        .expect("one record per endpoint");
    assert_eq!(endpoints.len(), 2);
    let grammar = |record: &Value| {
        record["calibration"]["formats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["format"] == "grammar")
            .unwrap()["works"]
            .clone()
    };
    assert_eq!(
        endpoints[0]["calibration"]["base_url"],
        refusing.url().as_str()
    );
    assert_eq!(grammar(&endpoints[0]), json!(false));
    assert_eq!(
        endpoints[1]["calibration"]["base_url"],
        plain.url().as_str()
    );
    assert_eq!(grammar(&endpoints[1]), json!(true));
    assert_ne!(endpoints[0]["path"], endpoints[1]["path"]);
    assert_eq!(json["calibration"], endpoints[0]["calibration"]);
    assert_eq!(refusing.probe_requests().len(), 5);
    assert_eq!(plain.probe_requests().len(), 5);
}
