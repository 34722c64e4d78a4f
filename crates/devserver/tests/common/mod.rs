//! A tiny HTTP/1.1 client over a real TCP socket, and a test server on port 0.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wasm_sse_codec::{Item, Parser};
use wasm_sse_devserver::{serve, Config};

// The protocol's names, for the tests' URLs and headers (`header` here is the lookup below).
#[allow(unused_imports)]
pub use wasm_sse_codec::protocol::header::{
    LAST_EVENT_ID as LAST_EVENT_ID_HEADER, LONG_POLL_AHEAD, LONG_POLL_CURSOR,
};
#[allow(unused_imports)]
pub use wasm_sse_codec::protocol::{fault::*, path::*, query::*};

pub const T: Duration = Duration::from_secs(5);

/// A server on 127.0.0.1:0; shut down when dropped or with [`Server::stop`].
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<std::io::Result<()>>>,
    pub dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory.
pub fn scratch() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sse-devserver-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The test defaults: no demo ticking, long heartbeat, scratch static dirs.
pub fn config() -> Config {
    let dir = scratch();
    Config {
        www: dir.join("www"),
        pkg: dir.join("dist"),
        demo_interval: None,
        heartbeat: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(2),
        ..Config::default()
    }
}

pub async fn start(cfg: Config) -> Server {
    let dir = cfg.www.parent().unwrap().to_path_buf();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, cfg, async {
        let _ = rx.await;
    }));
    Server {
        addr,
        stop: Some(tx),
        task: Some(task),
        dir,
    }
}

impl Server {
    /// Sends the shutdown signal and waits for `serve` to return.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(T, task).await.unwrap().unwrap()
    }

    pub fn signal(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.addr, "GET", path, headers, None).await
    }

    pub async fn publish(&self, topic: &str, body: &str) -> Response {
        request(
            self.addr,
            "POST",
            &format!("{PUBLISH}?{TOPIC}={topic}"),
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
        .await
    }

    /// Publishes and returns the assigned id.
    pub async fn publish_ok(&self, topic: &str, body: &str) -> u64 {
        let r = self.publish(topic, body).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn open(&self, path: &str, headers: &[(&str, &str)]) -> Conn {
        let mut c = Conn::connect(self.addr).await;
        c.send_request("GET", path, headers, None).await;
        c.read_head().await;
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn events(&self) -> Vec<Item> {
        parse_all(&self.body)
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub fn parse_all(bytes: &[u8]) -> Vec<Item> {
    let mut p = Parser::new();
    let mut items = Vec::new();
    p.feed(bytes, |i| items.push(i)).unwrap();
    items
}

/// (id, event type, data) of the events among `items`.
pub fn events(items: &[Item]) -> Vec<(String, String, String)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some((
                e.id().to_owned(),
                e.event_type().to_owned(),
                e.data().to_owned(),
            )),
            _ => None,
        })
        .collect()
}

pub fn ids(items: &[Item]) -> Vec<u64> {
    events(items)
        .iter()
        .filter(|(_, ty, _)| !matches!(ty.as_str(), "reset" | "huge" | "invalid-utf8" | "request"))
        .map(|(id, _, _)| id.parse().unwrap())
        .collect()
}

/// One request on a fresh connection (`Connection: close`), whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut c = Conn::connect(addr).await;
    c.send_request(method, path, headers, body).await;
    let (status, headers) = c.read_head().await;
    let body = if method == "HEAD" || status == 204 || status == 304 {
        Vec::new()
    } else {
        c.read_to_end(T).await
    };
    Response {
        status,
        headers,
        body,
    }
}

/// A request written byte for byte on a fresh connection (for framing `request` cannot
/// produce); the whole response.
pub async fn raw(s: &Server, bytes: &[u8]) -> Response {
    let mut c = Conn::connect(s.addr).await;
    c.stream.write_all(bytes).await.unwrap();
    let (status, headers) = c.read_head().await;
    let body = c.read_to_end(T).await;
    Response {
        status,
        headers,
        body,
    }
}

enum Framing {
    Length(usize),
    Chunked,
    Eof,
}

/// A raw connection with an incremental response-body decoder.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    framing: Framing,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body ended properly (last chunk or full length).
    pub finished: bool,
    parser: Parser,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Conn {
        Self::from_stream(TcpStream::connect(addr).await.unwrap())
    }

    /// Connects with a small receive buffer (a slow reader fills up fast).
    pub async fn connect_small(addr: SocketAddr, rcvbuf: u32) -> Conn {
        let s = TcpSocket::new_v4().unwrap();
        s.set_recv_buffer_size(rcvbuf).unwrap();
        Self::from_stream(s.connect(addr).await.unwrap())
    }

    fn from_stream(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            framing: Framing::Eof,
            status: 0,
            headers: Vec::new(),
            finished: false,
            parser: Parser::new(),
        }
    }

    pub async fn send_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!("content-length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        self.stream.write_all(&bytes).await.unwrap();
    }

    async fn fill(&mut self) -> bool {
        let mut tmp = [0u8; 16384];
        let n = self.stream.read(&mut tmp).await.unwrap_or(0);
        self.buf.extend_from_slice(&tmp[..n]);
        n > 0
    }

    pub async fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        let end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            assert!(
                tokio::time::timeout(T, self.fill()).await.unwrap(),
                "EOF before response head"
            );
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        self.framing =
            if header(&headers, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
                Framing::Chunked
            } else if let Some(n) = header(&headers, "content-length") {
                Framing::Length(n.parse().unwrap())
            } else {
                Framing::Eof
            };
        self.status = status;
        self.headers = headers.clone();
        (status, headers)
    }

    /// The next decoded piece of the body (one chunk for chunked bodies), `None` at the end.
    pub async fn next_piece(&mut self) -> Option<Vec<u8>> {
        if self.finished {
            return None;
        }
        match self.framing {
            Framing::Length(n) => {
                if n == 0 {
                    self.finished = true;
                    return None;
                }
                if self.buf.is_empty() && !self.fill().await {
                    return None;
                }
                let take = n.min(self.buf.len());
                let piece: Vec<u8> = self.buf.drain(..take).collect();
                self.framing = Framing::Length(n - take);
                if n == take {
                    self.finished = true;
                }
                Some(piece)
            }
            Framing::Eof => {
                if self.buf.is_empty() && !self.fill().await {
                    return None;
                }
                Some(std::mem::take(&mut self.buf))
            }
            Framing::Chunked => {
                let line_end = loop {
                    if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break p;
                    }
                    if !self.fill().await {
                        return None;
                    }
                };
                let line = String::from_utf8(self.buf[..line_end].to_vec()).unwrap();
                let size =
                    usize::from_str_radix(line.split(';').next().unwrap().trim(), 16).unwrap();
                while self.buf.len() < line_end + 2 + size + 2 {
                    if !self.fill().await {
                        return None;
                    }
                }
                let piece = self.buf[line_end + 2..line_end + 2 + size].to_vec();
                self.buf.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    self.finished = true;
                    return None;
                }
                Some(piece)
            }
        }
    }

    /// Reads the body to its end (or `limit`).
    pub async fn read_to_end(&mut self, limit: Duration) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(limit, async {
            while let Some(p) = self.next_piece().await {
                out.extend_from_slice(&p);
            }
        })
        .await;
        out
    }

    /// Parses body pieces until `n` items (events, comments, retries) arrived, the body ended
    /// or `limit` passed.
    pub async fn items(&mut self, n: usize, limit: Duration) -> Vec<Item> {
        let mut items = Vec::new();
        let _ = tokio::time::timeout(limit, async {
            while items.len() < n {
                let Some(p) = self.next_piece().await else {
                    break;
                };
                let parser = &mut self.parser;
                parser.feed(&p, |i| items.push(i)).unwrap();
            }
        })
        .await;
        items
    }

    /// Like [`Conn::items`] but counts only dispatched events.
    pub async fn events(&mut self, n: usize, limit: Duration) -> Vec<Item> {
        let mut items = Vec::new();
        let _ = tokio::time::timeout(limit, async {
            while items.iter().filter(|i| matches!(i, Item::Event(_))).count() < n {
                let Some(p) = self.next_piece().await else {
                    break;
                };
                let parser = &mut self.parser;
                parser.feed(&p, |i| items.push(i)).unwrap();
            }
        })
        .await;
        items
    }
}
