//! The bundled demo repository is a valid starting point: `init` works on a copy of it and the
//! configuration it writes loads.

use noctune_core::init::{InitAction, init};
use noctune_core::{EnvOverrides, config};
use noctune_tests::{copy_tree, workspace_root};

#[test]
fn init_on_a_copy_of_the_demo_repo_loads() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&workspace_root().join("examples/demo-repo"), dir.path()).unwrap();
    let report = init(dir.path(), false).unwrap();
    assert!(
        report
            .files
            .iter()
            .all(|(_, action)| *action == InitAction::Created)
    );
    let settings = config::load(dir.path(), &EnvOverrides::default()).unwrap();
    assert!(settings.source.path().unwrap().ends_with("noctune.toml"));
    assert!(!settings.allow_apply, "a fresh init never allows applying");
}
