//! The index survives a kill -9 in the middle of a refresh: the next open finds a consistent
//! database and a refresh brings it to exactly what a clean build gives.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use noctune_index::{Index, IndexOptions};
use pretty_assertions::assert_eq;

fn make_repo(root: &Path, files: usize) {
    for i in 0..files {
        let dir = root.join(format!("pkg{}", i % 20));
        fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("import os\n\n");
        for j in 0..30 {
            text.push_str(&format!(
                "class C{j}:\n    def m{j}(self, x):\n        return os.path.join(x, '{i}')\n\n\ndef f{j}():\n    return C{j}()\n\n\n"
            ));
        }
        fs::write(dir.join(format!("mod{i}.py")), text).unwrap();
    }
}

#[test]
fn kill_9_mid_refresh_leaves_a_consistent_index() {
    let repo = tempfile::tempdir().unwrap();
    make_repo(repo.path(), 600);
    let reference_db = repo.path().join("reference.db");
    let reference = {
        let mut index =
            Index::open_at(repo.path(), &reference_db, IndexOptions::default()).unwrap();
        index.refresh().unwrap();
        index.stats().unwrap()
    };
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("index.db");
    for delay_ms in [30, 120, 400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_noctune-index-bench"))
            .arg("index")
            .arg(repo.path())
            .arg(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok", "after a kill at {delay_ms} ms");
        drop(conn);
        // Every recorded file has its rows: stats after a refresh equal a clean build's.
        let mut index = Index::open_at(repo.path(), &db, IndexOptions::default()).unwrap();
        index.refresh().unwrap();
        assert_eq!(
            index.stats().unwrap(),
            reference,
            "after a kill at {delay_ms} ms"
        );
        // Change a third of the files (a comment: the counts stay those of the reference) so
        // that the next round's refresh has work to interrupt.
        for i in (0..600).step_by(3) {
            let path = repo.path().join(format!("pkg{}/mod{i}.py", i % 20));
            let text = fs::read_to_string(&path).unwrap();
            fs::write(&path, format!("{text}\n# {delay_ms}\n")).unwrap();
        }
    }
}
