//! The plan of a request (`plan.json`): steps with their targets, acceptance criteria and tests,
//! as the model answers it, and the check that refuses a plan naming what does not exist.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most steps a plan may have.
pub const MAX_STEPS: usize = 3;

/// The model's plan for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskPlan {
    /// The steps, in order (at most [`MAX_STEPS`]).
    pub steps: Vec<PlanStep>,
    /// What could go wrong.
    #[serde(default)]
    pub risks: Vec<String>,
}

/// One step: what it achieves, what it writes or changes, how to tell it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanStep {
    /// What the step achieves, in a sentence.
    pub objective: String,
    /// The functions or classes to write or change.
    pub targets: Vec<PlanTarget>,
    /// Short, testable sentences.
    #[serde(default)]
    pub acceptance: Vec<String>,
    /// The pytest tests to add.
    #[serde(default)]
    pub tests: Vec<PlanTest>,
}

/// A function or class the step writes (`new`) or changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanTarget {
    /// The file, repo-relative with `/` separators.
    pub file: String,
    /// The symbol's name (`Class.method` for a method).
    pub symbol: String,
    /// Whether it does not exist yet (it goes at the end of its file, which may be new too).
    #[serde(default)]
    pub new: bool,
}

/// A test function the step adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanTest {
    /// The test file, repo-relative (`tests/test_x.py`).
    pub file: String,
    /// The test function's name (`test_...`).
    pub name: String,
}

/// What the plan check knows of the repository: each Python file's top-level and nested symbol
/// names, by repo-relative path with `/` separators.
pub type RepoSymbols = BTreeMap<String, Vec<String>>;

impl TaskPlan {
    /// Why this plan cannot be carried out, one reason a line; empty when it can. A plan is
    /// refused when it has no step or too many, when a step has no target, when it names a file
    /// or symbol that does not exist without marking it new, when a path leaves the repository
    /// or is not a `.py` file, or when a test is not a `test_` function in a test file.
    pub fn problems(&self, repo: &RepoSymbols) -> Vec<String> {
        let mut problems = Vec::new();
        if self.steps.is_empty() {
            problems.push("the plan has no step".to_owned());
        }
        if self.steps.len() > MAX_STEPS {
            problems.push(format!(
                "the plan has {} steps; at most {MAX_STEPS} are allowed",
                self.steps.len()
            ));
        }
        for (n, step) in self.steps.iter().enumerate() {
            let at = format!("step {}", n + 1);
            if step.targets.is_empty() {
                problems.push(format!("{at} names no target"));
            }
            for target in &step.targets {
                if let Err(why) = plain_python_path(&target.file) {
                    problems.push(format!("{at}: target file `{}` {why}", target.file));
                    continue;
                }
                if !is_identifier_path(&target.symbol) {
                    problems.push(format!(
                        "{at}: `{}` is not a function or class name",
                        target.symbol
                    ));
                    continue;
                }
                match repo.get(&target.file) {
                    None if !target.new => problems.push(format!(
                        "{at}: file `{}` does not exist and the target `{}` is not marked new",
                        target.file, target.symbol
                    )),
                    Some(symbols) if !target.new && !symbols.contains(&target.symbol) => {
                        problems.push(format!(
                            "{at}: `{}` has no symbol `{}` and it is not marked new",
                            target.file, target.symbol
                        ));
                    }
                    _ => {}
                }
                if target.new && target.symbol.contains('.') {
                    problems.push(format!(
                        "{at}: the new symbol `{}` must be a top-level function or class",
                        target.symbol
                    ));
                }
            }
            for test in &step.tests {
                if let Err(why) = plain_python_path(&test.file) {
                    problems.push(format!("{at}: test file `{}` {why}", test.file));
                } else if !is_test_file(&test.file) {
                    problems.push(format!(
                        "{at}: `{}` is not a test file (`test_*.py` or `*_test.py`)",
                        test.file
                    ));
                }
                if !test.name.starts_with("test") || !is_identifier_path(&test.name) {
                    problems.push(format!(
                        "{at}: `{}` is not a pytest test function name (`test_...`)",
                        test.name
                    ));
                }
            }
        }
        problems
    }

    /// The plan as people read it before it runs.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (n, step) in self.steps.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", n + 1, step.objective.trim()));
            for target in &step.targets {
                let what = if target.new { "new" } else { "change" };
                out.push_str(&format!(
                    "   {what}: {} in {}\n",
                    target.symbol, target.file
                ));
            }
            for criterion in &step.acceptance {
                out.push_str(&format!("   accept: {}\n", criterion.trim()));
            }
            for test in &step.tests {
                out.push_str(&format!("   test: {}::{}\n", test.file, test.name));
            }
        }
        for risk in &self.risks {
            out.push_str(&format!("risk: {}\n", risk.trim()));
        }
        out
    }
}

/// The most targets, criteria, tests and risks per step the schema lets a model write.
const MAX_ITEMS: usize = 3;

/// The fewest words an acceptance criterion has (`inventory/report.py` alone is not one).
const MIN_CRITERION_WORDS: usize = 3;

/// The plan's JSON Schema as the model is held to it: at most [`MAX_STEPS`] steps and
/// three of everything else (a small model otherwise repeats a step until it runs out of
/// tokens), test files under `tests/` named `test_*.py`.
pub fn plan_schema() -> serde_json::Value {
    let strings = serde_json::json!({
        "type": "array",
        "maxItems": MAX_ITEMS,
        "items": { "type": "string" }
    });
    serde_json::json!({
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STEPS,
                "items": {
                    "type": "object",
                    "properties": {
                        "objective": { "type": "string" },
                        "targets": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_ITEMS,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "file": { "type": "string" },
                                    "symbol": { "type": "string" },
                                    "new": { "type": "boolean" }
                                },
                                "required": ["file", "symbol", "new"]
                            }
                        },
                        "acceptance": strings,
                        "tests": {
                            "type": "array",
                            "maxItems": MAX_ITEMS,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "file": { "type": "string", "pattern": "^tests/test_[a-z0-9_]+[.]py$" },
                                    "name": { "type": "string", "pattern": "^test_[A-Za-z0-9_]+$" }
                                },
                                "required": ["file", "name"]
                            }
                        }
                    },
                    "required": ["objective", "targets", "acceptance", "tests"]
                }
            },
            "risks": strings
        },
        "required": ["steps", "risks"]
    })
}

impl TaskPlan {
    /// The plan with what a small model says twice taken out: a step whose targets an earlier
    /// step already has is merged into it (its criteria and tests kept once), repeated targets,
    /// criteria, tests and risks dropped. Returns a note per change, for the report.
    pub fn normalised(mut self) -> (TaskPlan, Vec<String>) {
        let mut notes = Vec::new();
        let mut steps: Vec<PlanStep> = Vec::new();
        for (n, mut step) in self.steps.drain(..).enumerate() {
            dedup(&mut step.targets);
            // A criterion is a sentence; a bare file or symbol name pins nothing.
            let before = step.acceptance.len();
            step.acceptance
                .retain(|c| c.split_whitespace().count() >= MIN_CRITERION_WORDS);
            if step.acceptance.len() < before {
                notes.push(format!(
                    "plan: step {}: {} acceptance criteria that were not sentences were dropped",
                    n + 1,
                    before - step.acceptance.len()
                ));
            }
            if step.acceptance.is_empty() {
                step.acceptance.push(step.objective.clone());
            }
            dedup(&mut step.acceptance);
            dedup(&mut step.tests);
            let same = steps.iter_mut().find(|s| {
                !step.targets.is_empty() && step.targets.iter().all(|t| s.targets.contains(t))
            });
            match same {
                Some(earlier) => {
                    earlier.acceptance.extend(step.acceptance);
                    earlier.tests.extend(step.tests);
                    dedup(&mut earlier.acceptance);
                    dedup(&mut earlier.tests);
                    notes.push(format!(
                        "plan: step {} repeated the targets of an earlier step and was merged into it",
                        n + 1
                    ));
                }
                None => steps.push(step),
            }
        }
        self.steps = steps;
        dedup(&mut self.risks);
        (self, notes)
    }
}

/// Removes repeated items, keeping the first of each.
fn dedup<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut kept: Vec<T> = Vec::new();
    for item in items.drain(..) {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    *items = kept;
}

/// Whether `name` is a dotted Python identifier (`f`, `Class.method`).
fn is_identifier_path(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// A relative `.py` path that stays inside the repository.
fn plain_python_path(file: &str) -> Result<(), &'static str> {
    let path = Path::new(file);
    if file.is_empty()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err("is not a plain path inside the repository");
    }
    if path.extension().and_then(|e| e.to_str()) != Some("py") {
        return Err("is not a .py file");
    }
    Ok(())
}

/// `test_*.py` or `*_test.py`, the names pytest collects.
pub fn is_test_file(file: &str) -> bool {
    let name = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.starts_with("test_") || name.ends_with("_test.py")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn repo() -> RepoSymbols {
        RepoSymbols::from([(
            "pkg/maths.py".to_owned(),
            vec!["add".to_owned(), "Calc".to_owned(), "Calc.mul".to_owned()],
        )])
    }

    fn step(targets: Vec<PlanTarget>, tests: Vec<PlanTest>) -> PlanStep {
        PlanStep {
            objective: "o".into(),
            targets,
            acceptance: vec!["it returns the sum".into()],
            tests,
        }
    }

    fn target(file: &str, symbol: &str, new: bool) -> PlanTarget {
        PlanTarget {
            file: file.into(),
            symbol: symbol.into(),
            new,
        }
    }

    #[test]
    fn a_plan_that_repeats_itself_is_merged_into_one_step() {
        let target = target("pkg/maths.py", "fib", true);
        let test = PlanTest {
            file: "tests/test_maths.py".into(),
            name: "test_fib".into(),
        };
        let repeated = TaskPlan {
            steps: vec![
                step(vec![target.clone(), target.clone()], vec![test.clone()]),
                step(vec![target.clone()], vec![test.clone()]),
                step(vec![target.clone()], vec![]),
            ],
            risks: vec!["r".into(), "r".into()],
        };
        let (plan, notes) = repeated.normalised();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].targets, vec![target]);
        assert_eq!(plan.steps[0].tests, vec![test]);
        assert_eq!(
            plan.steps[0].acceptance,
            vec!["it returns the sum".to_owned()]
        );
        assert_eq!(plan.risks, vec!["r".to_owned()]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(plan.problems(&repo()).is_empty());
        let schema = plan_schema();
        assert_eq!(schema["properties"]["steps"]["maxItems"], MAX_STEPS);
    }

    #[test]
    fn existing_and_new_targets_pass_missing_ones_are_named() {
        let good = TaskPlan {
            steps: vec![step(
                vec![
                    target("pkg/maths.py", "Calc.mul", false),
                    target("pkg/maths.py", "fib", true),
                    target("pkg/new.py", "helper", true),
                ],
                vec![PlanTest {
                    file: "tests/test_maths.py".into(),
                    name: "test_fib".into(),
                }],
            )],
            risks: vec![],
        };
        assert_eq!(good.problems(&repo()), Vec::<String>::new());

        let bad = TaskPlan {
            steps: vec![step(
                vec![
                    target("pkg/maths.py", "fib", false),
                    target("pkg/other.py", "g", false),
                    target("../etc/x.py", "g", true),
                    target("pkg/maths.py", "Calc.div", true),
                ],
                vec![PlanTest {
                    file: "pkg/maths.py".into(),
                    name: "check".into(),
                }],
            )],
            risks: vec![],
        };
        assert_eq!(
            bad.problems(&repo()),
            vec![
                "step 1: `pkg/maths.py` has no symbol `fib` and it is not marked new",
                "step 1: file `pkg/other.py` does not exist and the target `g` is not marked new",
                "step 1: target file `../etc/x.py` is not a plain path inside the repository",
                "step 1: the new symbol `Calc.div` must be a top-level function or class",
                "step 1: `pkg/maths.py` is not a test file (`test_*.py` or `*_test.py`)",
                "step 1: `check` is not a pytest test function name (`test_...`)",
            ]
        );
        let empty = TaskPlan {
            steps: vec![],
            risks: vec![],
        };
        assert_eq!(empty.problems(&repo()), vec!["the plan has no step"]);
    }
}
