//! Test support for the wasm-sse workspace, written once for every Rust test and tool that
//! runs the dev server as a separate process:
//!
//! - [`DevServer`]: a server process started on a free loopback port, found through the one
//!   line it prints (`... listening on http://HOST:PORT`), checked through `GET /healthz`,
//!   and killed when dropped.
//! - [`devserver_bin`]: where the built `sse-devserver` binary is.
//! - [`run_to_exit`]: runs a binary that is expected to exit by itself, with a time limit.
//! - [`http_get`]: one blocking `GET` on a fresh connection.
//!
//! - [`browser`] (wasm32 only): for browser and Node tests of the client and its hooks, the
//!   dev server `scripts/test.sh` started, publishing to it and timeouts.
//!
//! Natively it needs the standard library only; no async runtime. The dev server's own tests
//! start it in-process instead where they need its configuration types
//! (`crates/devserver/tests/common`).
//!
//! ```no_run
//! use wasm_sse_test_support::{devserver_bin, http_get, DevServer};
//!
//! let server = DevServer::start(devserver_bin(), ["--demo-interval-ms", "0"])?;
//! let (status, body) = http_get(server.addr(), "/healthz")?;
//! assert_eq!(status, 200, "{body}");
//! // Dropping `server` kills the process.
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
pub mod browser;

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wasm_sse_codec::protocol::path;

/// How long a server may take to print its address, and then to answer `GET /healthz`.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The environment variable that names the `sse-devserver` binary to use.
pub const DEVSERVER_BIN_ENV: &str = "SSE_DEVSERVER_BIN";

/// The `sse-devserver` binary: `$SSE_DEVSERVER_BIN` when set, else the one next to the
/// running executable (a tool in `target/<profile>/`) or one directory up (a test in
/// `target/<profile>/deps/`), else `sse-devserver` on the `PATH`.
///
/// A test of the dev server's own package should pass `env!("CARGO_BIN_EXE_sse-devserver")`
/// instead: Cargo builds that binary before the test.
pub fn devserver_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os(DEVSERVER_BIN_ENV).filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let name = format!("sse-devserver{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .skip(1)
                .take(2)
                .map(|dir| dir.join(&name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| PathBuf::from(name))
}

/// A server process listening on a loopback port; killed (`SIGKILL`) and reaped when dropped.
#[derive(Debug)]
pub struct DevServer {
    name: String,
    child: Child,
    addr: SocketAddr,
    stdout: Option<BufReader<ChildStdout>>,
}

/// How to start a [`DevServer`]: the binary, its arguments, what to do with stderr.
#[derive(Debug)]
pub struct Builder {
    name: String,
    command: Command,
    args: Vec<OsString>,
    healthz: bool,
}

impl Builder {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable of the process.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.command.env(key, value.into());
        self
    }

    /// Where the process's stderr goes (default: this process's stderr). With
    /// [`Stdio::piped`], read it through [`DevServer::child_mut`].
    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Self {
        self.command.stderr(stderr);
        self
    }

    /// Starts the process with `--addr 127.0.0.1:0` unless the arguments name an address,
    /// waits for its `listening on` line, then for `GET /healthz` to answer `200`.
    pub fn start(mut self) -> io::Result<DevServer> {
        let names_addr = |a: &OsString| a == "--addr" || a.to_string_lossy().starts_with("--addr=");
        if !self.args.iter().any(names_addr) {
            self.command.args(["--addr", "127.0.0.1:0"]);
        }
        self.command.args(&self.args);
        let server = DevServer::spawn(&self.name, self.command)?;
        if self.healthz {
            server.wait_healthy(START_TIMEOUT)?;
        }
        Ok(server)
    }
}

impl DevServer {
    /// `sse-devserver` (`bin`) with `args` on `127.0.0.1:0` (unless `args` has `--addr`),
    /// once it answers `GET /healthz`. `RUST_LOG` is removed from its environment, so its
    /// stderr holds only warnings and errors.
    pub fn start<I, S>(bin: impl Into<PathBuf>, args: I) -> io::Result<DevServer>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self::builder(bin).args(args).start()
    }

    /// A [`Builder`] for `sse-devserver` (`bin`), for more control than [`DevServer::start`].
    pub fn builder(bin: impl Into<PathBuf>) -> Builder {
        let mut command = Command::new(bin.into());
        command.env_remove("RUST_LOG");
        Builder {
            name: "sse-devserver".to_owned(),
            command,
            args: Vec::new(),
            healthz: true,
        }
    }

    /// Any server process that prints `... listening on http://HOST:PORT` as its first line
    /// of stdout once bound (the dev server, the better-sse peer of the load benchmark).
    /// `command` keeps its stderr setting; its stdout is taken over. No health check.
    pub fn spawn(name: &str, mut command: Command) -> io::Result<DevServer> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {name}: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other(format!("{name}: no stdout")))?;
        // The first line is read on a thread, so that a server that never prints it fails
        // the start after START_TIMEOUT instead of hanging it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            let _ = tx.send((read, line, reader));
        });
        let (line, reader) = match rx.recv_timeout(START_TIMEOUT) {
            Ok((Ok(_), line, reader)) => (line, reader),
            Ok((Err(e), _, _)) => {
                stop(&mut child);
                return Err(io::Error::new(e.kind(), format!("{name}: {e}")));
            }
            Err(_) => {
                stop(&mut child);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{name} printed no address within {START_TIMEOUT:?}"),
                ));
            }
        };
        let Some(addr) = parse_listening_line(&line) else {
            stop(&mut child);
            return Err(io::Error::other(format!(
                "{name} printed {line:?}, expected `... listening on http://HOST:PORT`"
            )));
        };
        Ok(DevServer {
            name: name.to_owned(),
            child,
            addr,
            stdout: Some(reader),
        })
    }

    /// The name given at the start (`sse-devserver` for [`DevServer::start`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL, `http://HOST:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child process, e.g. to take a piped stderr.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Polls `GET /healthz` until it answers `200`, for at most `timeout`.
    pub fn wait_healthy(&self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match http_get(self.addr, path::HEALTHZ) {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => format!("status {status}: {body}"),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{}: GET /healthz failed for {timeout:?}: {last}", self.name),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process (`SIGKILL`: no graceful shutdown) and reaps it.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        self.child.kill()?;
        self.child.wait()
    }

    /// Asks the process to stop (`SIGTERM`) and waits for it; kills it after `grace`.
    pub fn terminate(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status()?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill()
    }

    /// [`DevServer::terminate`] with 5 s of grace, for callers with nothing to check.
    pub fn stop(mut self) {
        let _ = self.terminate(Duration::from_secs(5));
    }

    /// Whatever the process wrote to stdout after its `listening on` line, up to its end
    /// (call it after the process exited, or it waits for the exit).
    pub fn rest_of_stdout(&mut self) -> io::Result<String> {
        let mut rest = String::new();
        if let Some(mut stdout) = self.stdout.take() {
            stdout.read_to_string(&mut rest)?;
        }
        Ok(rest)
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn stop(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The address in a `... listening on http://HOST:PORT` line.
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    let (_, addr) = line.trim().rsplit_once(" listening on http://")?;
    addr.trim_end_matches('/').parse().ok()
}

/// Runs `bin` with `args` to its exit, which must come within `limit` (else the process is
/// killed and this panics): for binaries expected to refuse to start. `RUST_LOG` and
/// `SSE_PUBLISH_TOKEN` are removed from its environment.
pub fn run_to_exit<I, S>(bin: impl Into<PathBuf>, args: I, limit: Duration) -> Output
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let bin = bin.into();
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut child = match Command::new(&bin)
        .args(&args)
        .env_remove("RUST_LOG")
        .env_remove("SSE_PUBLISH_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot start {}: {e}", bin.display()),
    };
    let t0 = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if t0.elapsed() > limit => {
                stop(&mut child);
                panic!("{args:?}: still running after {limit:?} (it should have exited)");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }
    // It has exited: this only collects what it wrote.
    match child.wait_with_output() {
        Ok(output) => output,
        Err(e) => panic!("{args:?}: {e}"),
    }
}

/// One `GET path` on a fresh connection (`Connection: close`): the status and the body as
/// sent (not de-chunked), for short answers such as `/healthz`. Fails after 5 s.
pub fn http_get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let limit = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, limit)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP response: {head:?}")))?;
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_lines() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap_or_else(|e| panic!("{e}"));
        for line in [
            "sse-devserver listening on http://127.0.0.1:8080\n",
            "better-sse listening on http://127.0.0.1:8080",
        ] {
            assert_eq!(parse_listening_line(line), Some(addr), "{line:?}");
        }
        assert_eq!(parse_listening_line("listening on 127.0.0.1:8080"), None);
        assert_eq!(
            parse_listening_line("x listening on http://localhost:1"),
            None
        );
    }
}
