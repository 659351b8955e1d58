//! `docstrings`: only docstrings (and comments) changed.
//!
//! The ASTs are equal once the docstring of the module and of every class and function is
//! removed (a docstring is the first statement of a body when it is a plain string literal;
//! an f-string is not one). Comments are not in the AST at all. What changes is `__doc__`,
//! which the class accepts as documentation.

use noctune_core::Proof;

use super::analysis::Analysis;

/// The class name.
pub const DOCSTRINGS: &str = "docstrings";

/// Proves the change when the ASTs are equal without docstrings.
pub fn prove(analysis: &Analysis) -> Option<Proof> {
    analysis.docstrings.then(|| Proof {
        class: DOCSTRINGS.to_owned(),
        argument: "the ASTs are equal once the module, class and function docstrings are \
                   removed: only docstrings and comments changed"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn proven_only_when_equal_without_docstrings() {
        let equal = Analysis {
            docstrings: true,
            ..Analysis::default()
        };
        assert_eq!(
            prove(&equal).map(|p| p.class),
            Some("docstrings".to_owned())
        );
        assert_eq!(prove(&Analysis::default()), None);
    }
}
