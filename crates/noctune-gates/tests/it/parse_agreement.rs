//! The parse gate agrees with CPython's `ast.parse` on real files and broken variants of them:
//! standard-library modules of the machine's python3, each with a line deleted, a paren
//! removed, a colon removed, a line indented or dedented (seeded, so every run checks the same
//! variants).

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use noctune_core::process::ProcessBuilder;
use noctune_core::{Gate, GateInput, GateOutcome};
use noctune_gates::{ParseBackend, ParseGate, ProjectConfig};

use crate::support::tools;

/// Files sampled from the stdlib; each gives itself plus `MUTATIONS_PER_FILE` variants.
const FILES: usize = 120;
const MUTATIONS_PER_FILE: usize = 8;
const MAX_FILE_BYTES: u64 = 80_000;

/// A small deterministic PRNG (xorshift64*), so the sample never changes between runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    DeleteLine,
    RemoveParen,
    RemoveColon,
    Indent,
    Dedent,
}

const KINDS: [Mutation; 5] = [
    Mutation::DeleteLine,
    Mutation::RemoveParen,
    Mutation::RemoveColon,
    Mutation::Indent,
    Mutation::Dedent,
];

fn mutate(text: &str, kind: Mutation, rng: &mut Rng) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let pick = |rng: &mut Rng, pred: &dyn Fn(&str) -> bool| -> Option<usize> {
        let candidates: Vec<usize> = (0..lines.len()).filter(|&i| pred(lines[i])).collect();
        (!candidates.is_empty()).then(|| candidates[rng.below(candidates.len())])
    };
    let replace = |index: usize, new: String| -> String {
        let mut out = String::with_capacity(text.len() + 8);
        for (i, line) in lines.iter().enumerate() {
            if i == index {
                out.push_str(&new);
            } else {
                out.push_str(line);
            }
        }
        out
    };
    match kind {
        Mutation::DeleteLine => {
            let i = pick(rng, &|l| !l.trim().is_empty())?;
            Some(replace(i, String::new()))
        }
        Mutation::RemoveParen => {
            let positions: Vec<usize> = text
                .char_indices()
                .filter(|(_, c)| *c == '(' || *c == ')')
                .map(|(i, _)| i)
                .collect();
            if positions.is_empty() {
                return None;
            }
            let at = positions[rng.below(positions.len())];
            Some(format!("{}{}", &text[..at], &text[at + 1..]))
        }
        Mutation::RemoveColon => {
            let i = pick(rng, &|l| l.trim_end().ends_with(':'))?;
            let line = lines[i];
            let trimmed = line.trim_end();
            let without = &trimmed[..trimmed.len() - 1];
            Some(replace(i, format!("{without}{}", &line[trimmed.len()..])))
        }
        Mutation::Indent => {
            let i = pick(rng, &|l| !l.trim().is_empty())?;
            Some(replace(i, format!("    {}", lines[i])))
        }
        Mutation::Dedent => {
            let i = pick(rng, &|l| l.starts_with("    ") && !l.trim().is_empty())?;
            Some(replace(i, lines[i][4..].to_owned()))
        }
    }
}

/// Every `.py` file under `dir`, sorted, skipping tests, site-packages and files that are
/// broken on purpose (lib2to3's test data).
fn stdlib_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if ["test", "tests", "site-packages", "idle_test", "__pycache__"]
                .contains(&name.as_str())
            {
                continue;
            }
            stdlib_files(&path, out);
        } else if name.ends_with(".py") && path.metadata().is_ok_and(|m| m.len() <= MAX_FILE_BYTES)
        {
            out.push(path);
        }
    }
}

/// `ast.parse` on every file of `dir` (named `0.py`, `1.py`, ...), in one python3 process.
async fn ast_verdicts(dir: &Path, count: usize) -> Vec<bool> {
    let script = r#"
import ast, json, sys, os
out = []
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"{i}.py"), "rb") as f:
        src = f.read()
    try:
        ast.parse(src)
        out.append(True)
    except (SyntaxError, ValueError):
        out.append(False)
print(json.dumps(out))
"#;
    let output = ProcessBuilder::new("python3")
        .args(["-I", "-c", script])
        .arg(dir)
        .arg(count.to_string())
        .run()
        .await
        .unwrap();
    assert!(output.success(), "{}", output.stderr_text());
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_gate_agrees_with_ast_parse_on_broken_stdlib_files() {
    let tools = tools().await;
    let python = tools.python.clone().unwrap();
    let stdlib = ProcessBuilder::new("python3")
        .args([
            "-I",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .run()
        .await
        .unwrap()
        .stdout_text();
    let mut files = Vec::new();
    stdlib_files(Path::new(stdlib.trim()), &mut files);
    assert!(
        files.len() > FILES,
        "only {} stdlib files found",
        files.len()
    );

    let mut rng = Rng(0x5EED_1190_766A_0325);
    let mut variants: Vec<(String, String)> = Vec::new();
    let mut sampled = 0;
    while sampled < FILES {
        let path = files.swap_remove(rng.below(files.len()));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not UTF-8 (a few modules declare latin-1)
        };
        sampled += 1;
        let name = path
            .strip_prefix(stdlib.trim())
            .unwrap()
            .display()
            .to_string();
        variants.push((format!("{name} (original)"), text.clone()));
        for m in 0..MUTATIONS_PER_FILE {
            let kind = KINDS[(m + sampled) % KINDS.len()];
            if let Some(mutated) = mutate(&text, kind, &mut rng) {
                variants.push((format!("{name} ({kind:?} #{m})"), mutated));
            }
        }
    }

    let work = tempfile::tempdir().unwrap();
    for (i, (_, text)) in variants.iter().enumerate() {
        std::fs::write(work.path().join(format!("{i}.py")), text).unwrap();
    }
    let expected = ast_verdicts(work.path(), variants.len()).await;

    // The gate judges for the python3 on PATH (no configuration in the temp root).
    let config = std::sync::Arc::new(ProjectConfig::new(work.path(), Some(python.version())));
    let gate = ParseGate::new(ParseBackend::Ruff(tools.ruff.clone().unwrap()), config);
    let verdicts: Vec<GateOutcome> = futures_util::stream::iter(variants.iter().enumerate())
        .map(|(i, (_, text))| {
            let gate = &gate;
            async move {
                let path = PathBuf::from(format!("v{i}.py"));
                gate.check(GateInput {
                    path: &path,
                    before: None,
                    after: text,
                })
                .await
                .unwrap()
                .outcome
            }
        })
        .buffered(4)
        .collect()
        .await;

    let mut disagreements = Vec::new();
    for (i, ((name, _), outcome)) in variants.iter().zip(&verdicts).enumerate() {
        let gate_ok = match outcome {
            GateOutcome::Pass => true,
            GateOutcome::Fail => false,
            GateOutcome::Undecided => panic!("{name}: undecided with ruff present"),
        };
        if gate_ok != expected[i] {
            disagreements.push(format!(
                "{name}: gate says {}, ast.parse says {}",
                if gate_ok { "valid" } else { "invalid" },
                if expected[i] { "valid" } else { "invalid" },
            ));
        }
    }
    let invalid = expected.iter().filter(|ok| !**ok).count();
    assert!(
        disagreements.is_empty(),
        "{} of {} variants disagree:\n{}",
        disagreements.len(),
        variants.len(),
        disagreements.join("\n")
    );
    // The sample must exercise both verdicts in earnest.
    assert!(variants.len() >= 900, "{} variants", variants.len());
    assert!(
        invalid * 3 > variants.len() && invalid * 4 < variants.len() * 3,
        "{invalid} of {} variants invalid: the mutations are not testing much",
        variants.len()
    );
    eprintln!(
        "parse gate agreed with ast.parse on {} variants ({invalid} invalid)",
        variants.len()
    );
}
