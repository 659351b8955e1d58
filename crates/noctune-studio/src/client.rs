//! `noctune studio stop`: asks the running daemon of a root to shut down, over its own API
//! (`POST /api/shutdown` with the token from the token file), and waits until it is gone.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::daemon_file::{read_daemon_file, remove_daemon_file};
use crate::error::{Error, Result};
use crate::state::studio_dir;
use crate::token::read_token_file;

/// What `stop` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The daemon shut down.
    Stopped {
        /// Its process id.
        pid: u32,
    },
    /// `daemon.json` named a daemon that no longer listens; the file was removed.
    WasNotRunning,
}

/// Stops the daemon of `root` gracefully, waiting up to `wait` for it to finish (its workers
/// stop at a safe point first).
pub fn stop(root: &Path, wait: Duration) -> Result<Stopped> {
    let dir = studio_dir(root);
    let Some(info) = read_daemon_file(&dir)? else {
        return Err(Error::Refused(format!(
            "no Studio daemon runs for `{}` (no {})",
            root.display(),
            dir.join(crate::daemon_file::DAEMON_FILE).display()
        )));
    };
    let token = read_token_file(&dir.join("token"))?;
    let authority = format!("{}:{}", info.host, info.port);
    let addr = authority
        .to_socket_addrs()
        .map_err(|err| Error::io("resolve", &authority, err))?
        .next()
        .ok_or_else(|| Error::Refused(format!("cannot resolve `{authority}`")))?;
    let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
        Ok(stream) => stream,
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
            remove_daemon_file(&dir);
            return Ok(Stopped::WasNotRunning);
        }
        Err(err) => return Err(Error::io("connect to", &authority, err)),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "POST /api/shutdown HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|err| Error::io("write to", &authority, err))?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.split_whitespace().nth(1).unwrap_or("");
    if status != "202" {
        return Err(Error::Refused(format!(
            "the daemon at {authority} refused to shut down: {}",
            response.lines().next().unwrap_or("no answer")
        )));
    }
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if read_daemon_file(&dir)?.is_none() {
            return Ok(Stopped::Stopped { pid: info.pid });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::Refused(format!(
        "the daemon (pid {}) did not finish shutting down within {} s",
        info.pid,
        wait.as_secs()
    )))
}
