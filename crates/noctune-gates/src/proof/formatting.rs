//! `formatting`: BEFORE and AFTER have the same AST.
//!
//! `ast.dump` without positions is what CPython compiles; comments, layout, quotes, parentheses,
//! implicit string concatenation and `u` prefixes are not in it. Docstrings are (a changed
//! docstring is not formatting), and so is every string literal's content.

use noctune_core::Proof;

use super::analysis::Analysis;

/// The class name.
pub const FORMATTING: &str = "formatting";

/// Proves the change when both texts have the same AST.
pub fn prove(analysis: &Analysis) -> Option<Proof> {
    analysis.formatting.then(|| Proof {
        class: FORMATTING.to_owned(),
        argument: "the ASTs are equal (Python's `ast.dump`, positions ignored): only layout, \
                   comments or the spelling of literals changed, which CPython compiles the same"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn proven_only_when_the_asts_are_equal() {
        let equal = Analysis {
            formatting: true,
            ..Analysis::default()
        };
        assert_eq!(
            prove(&equal).map(|p| p.class),
            Some("formatting".to_owned())
        );
        assert_eq!(prove(&Analysis::default()), None);
    }
}
