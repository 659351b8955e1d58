//! Real sockets on 127.0.0.1:0: the served daemon, slowloris headers, an endless chunked
//! body, 500 parallel tails, and `stop`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use noctune_core::RunStatus;
use noctune_studio::{ServeOptions, Studio, WorkerCommand};
use pretty_assertions::assert_eq;

use crate::common::worker_script;

async fn start(root: &Path, max_tails: usize) -> Studio {
    let program = worker_script(root.parent().unwrap(), "exit 0");
    noctune_studio::serve(ServeOptions {
        root: root.to_path_buf(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program,
            env: Vec::new(),
        },
        stop_timeout: Duration::from_millis(500),
        max_tails,
    })
    .await
    .unwrap()
}

fn repo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    (dir, root)
}

fn token_of(studio: &Studio) -> String {
    studio.url().split("token=").nth(1).unwrap().to_owned()
}

/// Sends raw bytes, returns everything read until the server closes (or 10 s pass).
fn raw(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_writes_a_private_token_and_stop_shuts_it_down() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, root) = repo();
    let studio = start(&root, 4).await;
    let port = studio.local_addr().port();
    let token = token_of(&studio);
    let first = token.clone();
    assert_eq!(
        studio.url(),
        format!("http://127.0.0.1:{port}/?token={token}")
    );
    let token_file = root.join(".noctune_cache/studio/token");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let answer = tokio::task::spawn_blocking(move || {
        raw(port, format!("GET /?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes())
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 302 Found\r\n"), "{answer}");
    // A second daemon on the same root is refused (it would replace the token).
    let second = noctune_studio::serve(ServeOptions {
        root: root.clone(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: "/bin/true".into(),
            env: Vec::new(),
        },
        stop_timeout: Duration::from_millis(500),
        max_tails: 4,
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(
        second.contains("a Studio daemon already runs for"),
        "{second}"
    );
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), first);
    let root2 = root.clone();
    let stopped =
        tokio::task::spawn_blocking(move || noctune_studio::stop(&root2, Duration::from_secs(20)))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        stopped,
        noctune_studio::Stopped::Stopped {
            pid: std::process::id()
        }
    );
    tokio::time::timeout(Duration::from_secs(10), studio.wait())
        .await
        .unwrap();
    assert!(!root.join(".noctune_cache/studio/daemon.json").exists());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    // A second start writes a new token.
    let again = start(&root, 4).await;
    assert_ne!(token_of(&again), first);
    assert_eq!(
        token_of(&again),
        std::fs::read_to_string(&token_file).unwrap()
    );
    again.shutdown();
    again.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_are_cut_off() {
    let (_dir, root) = repo();
    let studio = start(&root, 4).await;
    let port = studio.local_addr().port();
    let elapsed = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let started = Instant::now();
        stream
            .write_all(b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        let mut buf = [0u8; 256];
        loop {
            // One header byte a second, forever.
            if stream.write_all(b"X").is_err() {
                return started.elapsed();
            }
            match stream.read(&mut buf) {
                Ok(0) => return started.elapsed(),
                Ok(_) => {}
                Err(err)
                    if err.kind() == std::io::ErrorKind::WouldBlock
                        || err.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return started.elapsed(),
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still open after 30 s"
            );
            std::thread::sleep(Duration::from_millis(800));
        }
    })
    .await
    .unwrap();
    assert!(
        elapsed < Duration::from_secs(10),
        "closed after {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(4),
        "closed after {elapsed:?}"
    );
    studio.shutdown();
    studio.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_chunked_body_is_413() {
    let (_dir, root) = repo();
    let studio = start(&root, 4).await;
    let port = studio.local_addr().port();
    let token = token_of(&studio);
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let head = format!(
            "POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
        // Up to 64 MiB, stopping when the server stops reading.
        for _ in 0..1024 {
            if stream.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(!root.join(".noctune_cache/runs").exists());
    studio.shutdown();
    studio.wait().await;
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_parallel_tails_are_capped() {
    let (_dir, root) = repo();
    // A run held by a live "worker" (this test holds its lock), so tails stay open.
    let store = noctune_core::store::RunStore::new(&root);
    let mut run = store
        .create(noctune_core::store::RunSpec {
            run_id: Some(noctune_core::RunId::new("live").unwrap()),
            ..Default::default()
        })
        .unwrap();
    run.set_status(RunStatus::Running, None).unwrap();
    let studio = start(&root, 16).await;
    let port = studio.local_addr().port();
    let token = token_of(&studio);
    let before = rss_kib();
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let request = format!(
                "GET /api/runs/live/events/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
                 Authorization: Bearer {token}\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut buf = vec![0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            (
                head.split_whitespace().nth(1).unwrap_or("").to_owned(),
                stream,
            )
        }));
    }
    let mut streams = Vec::new();
    let mut ok = 0;
    let mut busy = 0;
    for task in tasks {
        let (status, stream) = task.await.unwrap();
        match status.as_str() {
            "200" => ok += 1,
            "503" => busy += 1,
            other => panic!("unexpected status {other}"),
        }
        streams.push(stream);
    }
    assert_eq!((ok, busy), (16, 484));
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 64, "memory grew by {grown_mib} MiB");
    drop(streams);
    // Closed tails give their permits back.
    let deadline = Instant::now() + Duration::from_secs(20);
    while studio.state().tails.available_permits() < 16 {
        assert!(Instant::now() < deadline, "permits not returned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(run);
    studio.shutdown();
    studio.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_reconciles_runs_whose_worker_died_and_leaves_live_ones() {
    let (_dir, root) = repo();
    let store = noctune_core::store::RunStore::new(&root);
    let mut dead = store
        .create(noctune_core::store::RunSpec {
            run_id: Some(noctune_core::RunId::new("dead").unwrap()),
            ..Default::default()
        })
        .unwrap();
    dead.set_status(RunStatus::Running, None).unwrap();
    drop(dead); // its worker died without a final status
    let mut live = store
        .create(noctune_core::store::RunSpec {
            run_id: Some(noctune_core::RunId::new("live").unwrap()),
            ..Default::default()
        })
        .unwrap();
    live.set_status(RunStatus::Running, None).unwrap();
    let studio = start(&root, 4).await;
    let dead = store
        .read(&noctune_core::RunId::new("dead").unwrap())
        .unwrap();
    assert_eq!(
        (dead.status, dead.error.as_deref()),
        (
            RunStatus::Failed,
            Some("the worker died (no process holds the run lock)")
        )
    );
    assert_eq!(store.read(live.id()).unwrap().status, RunStatus::Running);
    // When the other process dies later, the daemon notices within a few seconds.
    let live_id = live.id().clone();
    drop(live);
    let deadline = Instant::now() + Duration::from_secs(15);
    while store.read(&live_id).unwrap().status != RunStatus::Failed {
        assert!(Instant::now() < deadline, "the orphan was never settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    studio.shutdown();
    studio.wait().await;
}
