//! The `SymbolEditor` contract with a minimal editor ([`noctune_examples::toy_editor`]): refuse
//! with a reason, apply the rest, identity on own text.
//! Run: `cargo run -p noctune-examples --example symbol_editor`.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use noctune_core::{EditOp, Result, SymbolEditor};
use noctune_examples::toy_editor::TopLevelDefs;

fn main() -> Result<()> {
    let editor: Arc<dyn SymbolEditor> = Arc::new(TopLevelDefs);
    let source =
        "import os\n\ndef area(w, h):\n    return w * h\n\ndef main():\n    print(area(2, 3))\n";
    let area = editor.outline(source)?.symbol("area").cloned();
    let own = area
        .map(|s| source[s.start_byte..s.end_byte].to_owned())
        .unwrap_or_default();
    let same = editor.apply(
        source,
        &[EditOp::ReplaceSymbol {
            symbol: "area".into(),
            code: own,
        }],
    )?;
    assert_eq!(
        same.text, source,
        "replacing a symbol with its own text changes nothing"
    );
    let result = editor.apply(
        source,
        &[
            EditOp::ReplaceSymbol {
                symbol: "area".into(),
                code: "def area(w: float, h: float) -> float:\n    return w * h\n\n".into(),
            },
            EditOp::ReplaceSymbol {
                symbol: "aera".into(),
                code: "def aera(): ...\n".into(),
            },
        ],
    )?;
    print!("{}", result.text);
    for op in result.report.refused() {
        println!(
            "refused op {}: {}",
            op.index,
            op.refused
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
    Ok(())
}
