//! The one way Noctune runs another program (ruff, ripgrep, git, python3): an argument vector,
//! never a shell; stdin piped from bytes or null; stdout and stderr captured; a timeout; the child
//! killed when the future is dropped.
//!
//! A non-zero exit status is not an error here (ruff exits 1 when it finds something): callers
//! read [`ProcessOutput::code`]. Errors are for a program that is missing, cannot start, or
//! runs past its timeout.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

/// Why a program could not be run to completion.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program is not on `PATH` (or the path does not exist).
    #[error("`{program}` was not found on PATH")]
    NotFound {
        /// The program.
        program: String,
    },
    /// The program exists but could not be started, or its pipes failed.
    #[error("cannot run `{program}`: {source}")]
    Io {
        /// The program.
        program: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The program ran past its timeout and was killed.
    #[error("`{program}` did not finish within {timeout:?} and was killed; stderr: {stderr}")]
    Timeout {
        /// The program.
        program: String,
        /// The timeout.
        timeout: Duration,
        /// What it had written to stderr (may be empty).
        stderr: String,
    },
}

/// What a finished program produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOutput {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

impl ProcessOutput {
    /// Whether it exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (lossy), trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_owned()
    }
}

/// Builds and runs one program invocation.
#[derive(Debug, Clone)]
pub struct ProcessBuilder {
    program: OsString,
    args: Vec<OsString>,
    current_dir: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl ProcessBuilder {
    /// The default timeout: long enough for ruff on a huge file, short enough to notice a hang.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    /// A builder for `program` (looked up on `PATH` unless it is a path).
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            current_dir: None,
            env: Vec::new(),
            stdin: None,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Sets an environment variable for the child only.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Pipes these bytes to stdin (otherwise stdin is null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The program's name, for messages.
    pub fn program(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }

    /// The command line, for logs (`ruff check --stdin-filename a.py -`).
    pub fn display(&self) -> String {
        let mut text = self.program();
        for arg in &self.args {
            text.push(' ');
            text.push_str(&arg.to_string_lossy());
        }
        text
    }

    /// Runs the program to completion.
    pub async fn run(self) -> Result<ProcessOutput, ProcessError> {
        let program = self.program();
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        tracing::debug!(command = %self.display(), "spawning");
        let started = Instant::now();
        let mut child = command.spawn().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ProcessError::NotFound {
                    program: program.clone(),
                }
            } else {
                ProcessError::Io {
                    program: program.clone(),
                    source,
                }
            }
        })?;
        // Feed stdin concurrently with reading the output, so a large input cannot deadlock
        // against a full stdout pipe.
        let feeder = match (self.stdin, child.stdin.take()) {
            (Some(bytes), Some(mut pipe)) => Some(tokio::spawn(async move {
                let result = pipe.write_all(&bytes).await;
                drop(pipe);
                result
            })),
            _ => None,
        };
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(source)) => return Err(ProcessError::Io { program, source }),
            Err(_) => {
                // `wait_with_output` owned the child; dropping it killed it (kill_on_drop).
                return Err(ProcessError::Timeout {
                    program,
                    timeout: self.timeout,
                    stderr: String::new(),
                });
            }
        };
        if let Some(feeder) = feeder {
            match feeder.await {
                Ok(Ok(())) => {}
                // A program may exit without reading all of stdin; that is its business.
                Ok(Err(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
                Ok(Err(source)) => return Err(ProcessError::Io { program, source }),
                Err(join) => {
                    return Err(ProcessError::Io {
                        program,
                        source: std::io::Error::other(join.to_string()),
                    });
                }
            }
        }
        Ok(ProcessOutput {
            code: output.status.code(),
            stdout: output.stdout,
            stderr: output.stderr,
            elapsed: started.elapsed(),
        })
    }

    /// Runs the program to completion from synchronous code. Called from inside an async
    /// runtime (synchronous code that an async task runs, such as evidence gathering), it runs
    /// on a thread of its own and blocks the caller until it is done; async code should use
    /// [`ProcessBuilder::run`] instead.
    pub fn run_blocking(self) -> Result<ProcessOutput, ProcessError> {
        let program = self.program();
        let failed = program.clone();
        let run = move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| ProcessError::Io {
                    program: program.clone(),
                    source,
                })?;
            runtime.block_on(self.run())
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return run();
        }
        std::thread::scope(|scope| {
            scope.spawn(run).join().unwrap_or_else(|_| {
                Err(ProcessError::Io {
                    program: failed,
                    source: std::io::Error::other("the thread running the process panicked"),
                })
            })
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn run_blocking_works_inside_a_runtime() {
        let output = ProcessBuilder::new("sh")
            .args(["-c", "echo inside"])
            .run_blocking()
            .unwrap();
        assert_eq!(output.stdout_text().trim(), "inside");
    }

    #[test]
    fn captures_output_and_exit_code_without_a_shell() {
        let output = ProcessBuilder::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .run_blocking()
            .unwrap();
        assert_eq!(output.code, Some(3));
        assert_eq!(output.stdout_text(), "out\n");
        assert_eq!(output.stderr_text(), "err");
        // Arguments are passed as they are: no globbing, no expansion.
        let output = ProcessBuilder::new("echo")
            .args(["*", "$HOME"])
            .run_blocking()
            .unwrap();
        assert_eq!(output.stdout_text(), "* $HOME\n");
    }

    #[test]
    fn pipes_large_stdin() {
        let input = "x".repeat(4 * 1024 * 1024);
        let output = ProcessBuilder::new("cat")
            .stdin(input.clone())
            .run_blocking()
            .unwrap();
        assert!(output.success());
        assert_eq!(output.stdout.len(), input.len());
    }

    #[test]
    fn missing_program_is_named() {
        let err = ProcessBuilder::new("noctune-no-such-program")
            .run_blocking()
            .unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }));
        assert!(err.to_string().contains("noctune-no-such-program"));
    }

    #[test]
    fn timeout_kills_the_child() {
        let started = Instant::now();
        let err = ProcessBuilder::new("sleep")
            .arg("30")
            .timeout(Duration::from_millis(200))
            .run_blocking()
            .unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn runs_in_the_given_directory_with_env() {
        let dir = tempfile::tempdir().unwrap();
        let output = ProcessBuilder::new("sh")
            .args(["-c", "pwd; echo $NOCTUNE_TEST_VAR"])
            .current_dir(dir.path())
            .env("NOCTUNE_TEST_VAR", "set")
            .run_blocking()
            .unwrap();
        let text = output.stdout_text();
        let canonical = dir.path().canonicalize().unwrap();
        assert!(text.starts_with(canonical.to_str().unwrap()), "{text}");
        assert!(text.ends_with("set\n"), "{text}");
    }
}
