//! `type_comparison`: `type(x) == T` became `type(x) is T` (E721's advice), nothing else.
//!
//! A class compares with `==` through its metaclass; `type`'s own `__eq__` is identity, so the
//! two spellings are the same unless a metaclass defines `__eq__`. The condition rules that
//! out: no class in the repository defines a comparison method, and the repository imports only
//! the standard library (whose metaclasses, `ABCMeta` and `EnumType` among them, keep `type`'s)
//! and its own modules. Ruff offers no fix for E721, so the check is CPython's `ast`: both
//! trees are equal once every `==`/`!=` with a call of the builtin `type` on one side is read
//! as `is`/`is not` (`prove.py`, `type_identity`).

use noctune_core::Proof;

use super::analysis::Analysis;

/// The class name.
pub const TYPE_COMPARISON: &str = "type_comparison";

/// Proves the change when it only turns `type(..)` equality into identity, where comparisons
/// in the repository are plain (`plain_comparisons`).
pub fn prove(analysis: &Analysis, plain_comparisons: bool) -> Option<Proof> {
    (analysis.type_identity && plain_comparisons).then(|| Proof {
        class: TYPE_COMPARISON.to_owned(),
        argument: "`type(x) == T` became `type(x) is T` (`!=` became `is not`) and nothing else \
                   changed: a class compares by identity unless its metaclass defines `__eq__`; \
                   no class in the repository defines a comparison method and it imports only \
                   the standard library and its own modules"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proven_only_when_the_comparisons_are_plain() {
        let changed = Analysis {
            type_identity: true,
            ..Analysis::default()
        };
        assert_eq!(
            prove(&changed, true).map(|p| p.class),
            Some("type_comparison".to_owned())
        );
        assert_eq!(prove(&changed, false), None);
        assert_eq!(prove(&Analysis::default(), true), None);
    }
}
