//! `annotations`: only type annotations changed, and none of the changes can be seen at run
//! time.
//!
//! The ASTs are equal once annotations are stripped (parameter and return annotations removed,
//! `x: T = v` turned into `x = v`, a bare `x: T` at module or class level removed; in a function
//! a bare `x: T` stays as a marker, since it makes `x` local). Then every annotation present on
//! one side only must be harmless to evaluate, because CPython evaluates annotations of
//! parameters, returns, and module and class variables when the `def` or the assignment runs:
//!
//! - under `from __future__ import annotations` in both versions nothing is evaluated;
//! - otherwise the annotation is built only of constants, names bound at module level before
//!   it (or builtins), attributes, subscripts, `|` (Python 3.10 on) and tuples or lists of
//!   those; a call (`register()`) is never proven;
//! - such an annotation is then evaluated in the helper, with the standard library's own
//!   objects for names imported from it and a plain class for every other name: it must not
//!   raise (`Config[str]` on a plain class, `typing.Lisst`, `np.ndarray` through an import the
//!   helper does not run are all refused);
//! - annotations of a function's local variables are never evaluated (PEP 526).
//!
//! Some code reads annotations and changes behaviour with them. Not proven: a class-level
//! annotation in a class with decorators, bases or keywords (dataclasses, `NamedTuple`,
//! `TypedDict`, pydantic, attrs and enums define fields or members from them); a function with
//! a decorator outside a short list, or one whose name is used as a value in the file
//! (`typer.run(main)`), that does not read annotations (`staticmethod`,
//! `classmethod`, `property`, `abstractmethod`, `overload`, `functools.cache`, ...), since
//! `functools.singledispatch`, FastAPI or typer dispatch on them; and any file that mentions
//! `__annotations__`, `get_type_hints`, `get_annotations` or `signature`.
//!
//! An annotation that keeps behaviour can still be wrong, and a wrong one is not an upgrade.
//! An annotation the change adds is refused when it contradicts the code it annotates, as far
//! as the function's own body shows: a return type that excludes None (a builtin, a `typing`
//! alias, a class of the file; not `Optional`, `| None`, `Any`, `object`, a TypeVar or a name
//! from elsewhere) on a function that has `return`, `return None` or can reach the end of its
//! body; `-> None` on one that returns a value; a generator not annotated as an iterator; and
//! `x: int = None`. Stubs (`...`, `pass`, `raise NotImplementedError`, `@overload`,
//! `@abstractmethod`) are not judged.

use noctune_core::Proof;

use super::analysis::{Analysis, AnnotationsAnalysis};

/// The class name.
pub const ANNOTATIONS: &str = "annotations";

/// How many changed annotations the argument lists by name.
const LISTED: usize = 6;

/// Proves the change when only harmless annotations changed.
pub fn prove(analysis: &Analysis) -> Option<Proof> {
    let annotations = &analysis.annotations;
    if !annotations.equal_when_stripped || annotations.changed.is_empty() {
        return None;
    }
    if let Some(refusal) = refusal(annotations) {
        tracing::debug!(%refusal, "annotations: not proven");
        return None;
    }
    let mut sites: Vec<String> = annotations
        .changed
        .iter()
        .take(LISTED)
        .map(|c| {
            let sign = if c.side == "before" { "-" } else { "+" };
            format!("{} {sign}`{}`", c.site, c.annotation)
        })
        .collect();
    if annotations.changed.len() > LISTED {
        sites.push(format!("{} more", annotations.changed.len() - LISTED));
    }
    let evaluation = if annotations.future_annotations {
        "`from __future__ import annotations` is in force in both versions, so none is evaluated"
    } else {
        "each is a local variable's (never evaluated) or is built of constants, names bound \
         before it, attributes, subscripts and `|` only and evaluates without error (standard \
         library names as themselves, others as plain classes), so evaluating it has no side \
         effect"
    };
    Some(Proof {
        class: ANNOTATIONS.to_owned(),
        argument: format!(
            "the ASTs are equal once annotations are stripped; {} annotation(s) differ ({}); \
             {evaluation}; none is in a class whose annotations may define fields or on a \
             function with a decorator that may read them, and none added contradicts the code \
             it annotates",
            annotations.changed.len(),
            sites.join(", "),
        ),
    })
}

/// Why the changed annotations are not proven harmless, if they are not.
fn refusal(annotations: &AnnotationsAnalysis) -> Option<String> {
    annotations.refusal.clone().or_else(|| {
        annotations.changed.iter().find_map(|c| {
            c.refusal
                .as_ref()
                .map(|r| format!("{} `{}`: {r}", c.site, c.annotation))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::analysis::ChangedAnnotation;
    use pretty_assertions::assert_eq;

    fn changed(side: &str, annotation: &str, refusal: Option<&str>) -> ChangedAnnotation {
        ChangedAnnotation {
            side: side.to_owned(),
            site: "f: parameter `x`".to_owned(),
            annotation: annotation.to_owned(),
            refusal: refusal.map(str::to_owned),
        }
    }

    fn analysis(changes: Vec<ChangedAnnotation>) -> Analysis {
        Analysis {
            annotations: AnnotationsAnalysis {
                equal_when_stripped: true,
                future_annotations: false,
                changed: changes,
                refusal: None,
            },
            ..Analysis::default()
        }
    }

    #[test]
    fn lists_each_changed_annotation_in_the_argument() {
        let proof = prove(&analysis(vec![
            changed("before", "List[int]", None),
            changed("after", "list[int]", None),
        ]))
        .unwrap();
        assert_eq!(proof.class, "annotations");
        assert!(
            proof.argument.contains(
                "2 annotation(s) differ (f: parameter `x` -`List[int]`, f: parameter `x` +`list[int]`)"
            ),
            "{}",
            proof.argument
        );
    }

    #[test]
    fn one_refused_annotation_refuses_the_change() {
        assert_eq!(
            prove(&analysis(vec![
                changed("after", "int", None),
                changed("after", "register()", Some("may have side effects")),
            ])),
            None
        );
        let mut whole_file = analysis(vec![changed("after", "int", None)]);
        whole_file.annotations.refusal = Some("reads annotations".to_owned());
        assert_eq!(prove(&whole_file), None);
    }

    #[test]
    fn nothing_changed_or_more_than_annotations_is_not_this_class() {
        assert_eq!(prove(&analysis(Vec::new())), None);
        let mut more = analysis(vec![changed("after", "int", None)]);
        more.annotations.equal_when_stripped = false;
        assert_eq!(prove(&more), None);
    }
}
