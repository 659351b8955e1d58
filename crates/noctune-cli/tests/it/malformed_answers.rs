//! The answers small models really give (SPEC §1: wrong fences, prose around JSON, truncated
//! streams, tabs, a different symbol than asked...) through a whole `noctune run` with the real
//! binary, the real ruff and a fake server that does not enforce schemas or grammars. One file
//! per case; for each: the real file is its original or a valid approved version, the task's
//! artifacts say why in words a human reads, and the run itself ends with 0 or 1, never a panic.

use std::path::Path;
use std::sync::Arc;

use noctune_core::TaskId;
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use pretty_assertions::assert_eq;

use crate::fake_model::{classify, code, pipeline_config, plan, python_parses, review, verdict};
use crate::{noctune_with_env, text};

const AREA: &str = "def area(w, h):\n    return w * h\n";
const AREA_TYPED: &str = "def area(w: float, h: float) -> float:\n    return w * h\n";
const SHAPE: &str = "class Shape:\n    def __init__(self, w, h):\n        self.w = w\n        self.h = h\n\n    def area(self):\n        return self.w * self.h\n";
const SHAPE_TYPED: &str = "class Shape:\n    def __init__(self, w, h):\n        self.w = w\n        self.h = h\n\n    def area(self) -> float:\n        return self.w * self.h\n";
const MODULE: &str = "import math\n\n\ndef area(w, h):\n    return w * h\n\n\ndef circle(r):\n    return math.pi * r * r\n";

/// How a case must end for its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The real file keeps its original content.
    Unchanged,
    /// The real file is exactly this approved text.
    Applied(&'static str),
}

/// One malformed answer.
struct Case {
    /// The file (its name says the case).
    file: &'static str,
    source: &'static str,
    /// The symbol the plan names.
    target: &'static str,
    review: Reply,
    plan: Reply,
    /// The answer to every code call (draft and edit).
    code: Reply,
    approve: Reply,
    expect: Expect,
    /// What the task's artifacts, state or events must say.
    reason: &'static str,
}

fn case(file: &'static str, source: &'static str, target: &'static str) -> Case {
    Case {
        file,
        source,
        target,
        review: review("P"),
        plan: plan(&[target]),
        code: code(AREA_TYPED),
        approve: verdict("approve", 0.1),
        expect: Expect::Unchanged,
        reason: "",
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            review: Reply::answer(
                "The file looks fine overall. I would add type hints to `area` and a docstring.",
            ),
            reason: "no JSON object or array in the answer",
            ..case("review_prose.py", AREA, "area")
        },
        Case {
            plan: Reply::answer(
                "I would change `area` first: it needs type hints. Then nothing else.",
            ),
            reason: "no JSON object or array in the answer",
            ..case("plan_prose.py", AREA, "area")
        },
        Case {
            plan: plan(&["volume"]),
            reason: "`volume`: no such symbol in the file",
            ..case("plan_unknown_symbol.py", AREA, "area")
        },
        Case {
            code: code("def perimeter(w, h):\n    return 2 * (w + h)\n"),
            reason: "the answer has no function `area` (it defines: perimeter)",
            ..case("wrong_symbol.py", AREA, "area")
        },
        Case {
            code: Reply::answer_with(
                "```python\ndef area(w: float, h: float) -> flo",
                None,
                "length",
            ),
            reason: "the fenced python block is not closed (the answer was cut off) (cut by max_tokens)",
            ..case("truncated.py", AREA, "area")
        },
        Case {
            code: code("def area(w, h):\n\tresult = w * h\n        return result\n"),
            reason: "Unexpected indentation",
            ..case("mixed_indentation.py", AREA, "area")
        },
        Case {
            code: code("def area(w: float, h: float) -> float:\n\treturn w * h\n"),
            expect: Expect::Applied(AREA_TYPED),
            reason: "indentation converted from tabs to 4 spaces",
            ..case("tabs.py", AREA, "area")
        },
        Case {
            code: code(
                "import math\n\n\ndef area(w: float, h: float) -> float:\n    return w * h\n\n\ndef circle(r):\n    return math.pi * r * r\n",
            ),
            expect: Expect::Applied(
                "import math\n\n\ndef area(w: float, h: float) -> float:\n    return w * h\n\n\ndef circle(r):\n    return math.pi * r * r\n",
            ),
            reason: "dropped a re-declaration of `circle` (already in the file)",
            ..case("whole_file.py", MODULE, "area")
        },
        Case {
            code: code(
                "class Shape:\n    def area(self) -> float:\n        return self.w * self.h\n",
            ),
            expect: Expect::Applied(SHAPE_TYPED),
            reason: "took `Shape.area` out of a re-declared `Shape`",
            ..case("redeclared_class.py", SHAPE, "Shape.area")
        },
        Case {
            code: code("def Shape.area(self) -> float:\n    return self.w * self.h\n"),
            expect: Expect::Applied(SHAPE_TYPED),
            reason: "fixed `def Shape.area` header",
            ..case("qualified_header.py", SHAPE, "Shape.area")
        },
        Case {
            code: code(
                "from typing import *\n\ndef area(w: float, h: float) -> float:\n    return w * h\n",
            ),
            expect: Expect::Applied(AREA_TYPED),
            reason: "dropped star import `from typing import *`",
            ..case("star_import.py", AREA, "area")
        },
        Case {
            code: Reply::answer(""),
            reason: "no fenced python code block in the answer",
            ..case("empty_answer.py", AREA, "area")
        },
        Case {
            code: Reply::answer("```javascript\nfunction area(w, h) { return w * h; }\n```"),
            reason: "no fenced python code block in the answer",
            ..case("other_language.py", AREA, "area")
        },
        Case {
            code: Reply::answer(format!(
                "First:\n```python\n{AREA_TYPED}```\nOr:\n```python\n{AREA}```"
            )),
            reason: "expected exactly one fenced python block, found 2",
            ..case("two_blocks.py", AREA, "area")
        },
        Case {
            review: Reply::answer(
                "{'label': 'P', 'summary': 'Untyped.', 'checklist': ['add hints to area',],}",
            ),
            plan: Reply::answer(
                "Plan:\n```json\n{'targets': [{'symbol': 'area', 'edit_prompt': 'Add type hints.',},],}\n```",
            ),
            expect: Expect::Applied(AREA_TYPED),
            reason: r#""type":"applied""#,
            ..case("json_trailing_commas.py", AREA, "area")
        },
        Case {
            approve: Reply::answer("Looks good to me, the hints are right."),
            reason: "no JSON object or array in the answer",
            ..case("approve_prose.py", AREA, "area")
        },
    ]
}

/// Everything a human could read about why a task ended as it did: its state's `error`, its
/// artifacts (draft `dropped`, edit ops `error`/`notes`, gate errors, repair steps) and the
/// payloads of its events.
fn reasons(root: &Path, file: &str) -> String {
    let run = root.join(".noctune_cache/runs/malformed");
    let task = TaskId::for_path(Path::new(file));
    let mut out = String::new();
    let state = std::fs::read_to_string(run.join(format!("state/tasks/{task}.json"))).unwrap();
    out.push_str(&state);
    for name in [
        "draft.json",
        "edit_ops_p1.json",
        "apply_report_p1.json",
        "gates_p1.json",
        "gate_parse_error.txt",
        "gate_ruff_error.json",
        "approval_p1.json",
    ] {
        if let Ok(text) =
            std::fs::read_to_string(run.join("artifacts").join(task.as_str()).join(name))
        {
            out.push_str(&format!("\n--- {name}\n{text}"));
        }
    }
    let events = std::fs::read_to_string(run.join("logs/events.jsonl")).unwrap();
    for line in events.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["task_id"] == task.as_str() && event["type"] != "llm_call" {
            out.push_str(&format!("\n{}", event));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_never_break_a_file_and_always_say_why() {
    let cases = Arc::new(cases());
    let files: Vec<&'static str> = cases.iter().map(|c| c.file).collect();
    let model = cases.clone();
    let server = FakeServer::start_responder(FakeOptions::default(), move |request| {
        let Some(asked) = classify(request, &files) else {
            return Reply::error(400, "not a pipeline request");
        };
        let case = model.iter().find(|c| c.file == asked.file).unwrap();
        match asked.what {
            "review" => case.review.clone(),
            "plan" => case.plan.clone(),
            "code" | "repair" => case.code.clone(),
            "approve" => case.approve.clone(),
            _ => Reply::error(400, "unknown request"),
        }
    })
    .await;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    for case in cases.iter() {
        std::fs::write(root.join(case.file), case.source).unwrap();
        assert_eq!(case.target.is_empty(), false);
    }
    let url = server.url();
    let run_root = root.clone();
    let output = tokio::task::spawn_blocking(move || {
        noctune_with_env(
            &run_root,
            &[
                "run",
                "--yes",
                "--run-id",
                "malformed",
                "--output-format",
                "json",
            ],
            &[("NOCTUNE_BASE_URL", &url)],
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "the run ends with 0 or 1, not {:?}\n{stdout}\n{stderr}",
        output.status.code()
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["status"], "completed", "{stdout}");

    let mut outcomes = Vec::new();
    let mut wanted = Vec::new();
    for case in cases.iter() {
        let path = root.join(case.file);
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(
            python_parses(&path),
            "`{}` no longer parses:\n{now}",
            case.file
        );
        outcomes.push((case.file, now));
        wanted.push((
            case.file,
            match case.expect {
                Expect::Unchanged => case.source.to_owned(),
                Expect::Applied(text) => text.to_owned(),
            },
        ));
        let why = reasons(&root, case.file);
        assert!(
            why.contains(case.reason),
            "`{}`: no {:?} in what the run left:\n{why}",
            case.file,
            case.reason
        );
    }
    assert_eq!(outcomes, wanted);
}
