//! The class vote's web server (issue 27): the phones' page and the JSON interface, served from this
//! binary on a thread of its own, beside the frame loop. No files are read or written, nothing outside
//! the classroom's network is reached.
//!
//! [`VoteServer::start`] binds the address at once (so a busy port is an error the caller can show),
//! then runs hyper on a current-thread tokio runtime on the thread `class-vote`. The app talks to it
//! through two channels: [`VoteServer::set_round`] sends the round on the projector (question,
//! choices, open or closed, the answer once revealed); [`VoteServer::updates`] brings back the tally
//! (at most ten times a second, only when it changed) and each round's result once its answer is
//! known. Every `/api/...` request is answered by the pure [`Poll`](crate::core::vote::Poll); this
//! module adds what only a network server needs:
//!
//! - at most [`ServerConfig::max_connections`] connections, [`ServerConfig::max_per_client`] from
//!   one address; more are answered 503 and closed at once;
//! - request headers within [`ServerConfig::header_timeout`] (also the longest an idle keep-alive
//!   connection stays open), bodies within [`ServerConfig::body_timeout`], a connection at most
//!   [`CONNECTION_LIFETIME`];
//! - bodies of at most [`MAX_BODY_BYTES`](crate::core::vote::MAX_BODY_BYTES) (larger: 413, unread),
//!   headers of at most 16 KiB;
//! - every request takes a token from its address's bucket first (429 without one).

mod http;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::core::Landscape;
use crate::core::scene::SurfaceStyle;
use crate::core::vote::{JoinCode, Limits, RoundInfo, RoundResult, Tally};

/// The port tried first when the teacher turns the vote on in the panel (then the next few).
pub const DEFAULT_PORT: u16 = 8642;
/// The longest one connection is kept, however busy (then it is closed gracefully; a browser opens
/// another).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How often the tally goes to the app at most.
pub const TALLY_INTERVAL: Duration = Duration::from_millis(100);

/// How the server listens and what it allows.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen (`0.0.0.0:8642`: every network of this computer).
    pub bind: SocketAddr,
    pub code: JoinCode,
    pub limits: Limits,
    /// Connections open at once, in all.
    pub max_connections: usize,
    /// Connections open at once from one address (a browser opens up to six).
    pub max_per_client: usize,
    /// The longest a request's headers may take to arrive, and an idle connection may stay open.
    pub header_timeout: Duration,
    /// The longest a request's body may take to arrive.
    pub body_timeout: Duration,
}

impl ServerConfig {
    /// The defaults: 512 connections (a class of 300 with room, well under the usual limit of 1,024
    /// open files), 16 per address, 10 s for headers, 5 s for a body.
    pub fn new(bind: SocketAddr, code: JoinCode) -> Self {
        Self {
            bind,
            code,
            limits: Limits::default(),
            max_connections: 512,
            max_per_client: 16,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(5),
        }
    }
}

/// What the top view of a "where" question is drawn from (the picture is drawn on the server's
/// thread, once per landscape and style).
#[derive(Clone)]
pub struct MapSource {
    pub landscape: Arc<Landscape>,
    pub style: SurfaceStyle,
}

/// What the server tells the app.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// The count now.
    Tally(Tally),
    /// A round's result, once its answer came.
    Result(RoundResult),
    /// Something went wrong that the teacher should know (the server goes on where it can).
    Problem(String),
}

/// Messages to the server's thread.
enum Control {
    Round(Box<RoundInfo>, Option<MapSource>),
    Stop,
}

/// The running server; stopped when dropped.
pub struct VoteServer {
    addr: SocketAddr,
    code: JoinCode,
    control: tokio::sync::mpsc::UnboundedSender<Control>,
    /// Only the app takes from it (the lock is never contended); a lock so that the app can keep
    /// the server in a resource, which must be `Sync`.
    updates: Mutex<mpsc::Receiver<Update>>,
    thread: Option<JoinHandle<()>>,
}

impl VoteServer {
    /// Binds `config.bind` and starts serving on the thread `class-vote`.
    pub fn start(config: ServerConfig) -> Result<Self, String> {
        let listener = TcpListener::bind(config.bind).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (another program uses that port: pick another)"
            } else if e.kind() == std::io::ErrorKind::PermissionDenied {
                " (ports below 1024 need administrator rights: pick a higher one)"
            } else {
                ""
            };
            format!("cannot listen on {}: {e}{hint}", config.bind)
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the address listened on: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot set up the listener: {e}"))?;
        let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
        // a short queue: the tally is sent again later when the app has not taken the last one
        let (updates_tx, updates) = mpsc::sync_channel(16);
        let code = config.code.clone();
        let thread = std::thread::Builder::new()
            .name("class-vote".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .enable_time()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        runtime.block_on(http::serve(listener, config, control_rx, updates_tx))
                    }
                    Err(e) => {
                        let _ = updates_tx.try_send(Update::Problem(format!(
                            "the class vote could not start: {e}"
                        )));
                    }
                }
            })
            .map_err(|e| format!("cannot start the server's thread: {e}"))?;
        Ok(Self {
            addr,
            code,
            control,
            updates: Mutex::new(updates),
            thread: Some(thread),
        })
    }

    /// Binds the first free port of `port ..= port + 9` on every network of this computer.
    pub fn start_on_free_port(ip: IpAddr, port: u16, code: JoinCode) -> Result<Self, String> {
        let mut last = String::new();
        for p in port..=port.saturating_add(9) {
            match Self::start(ServerConfig::new(SocketAddr::new(ip, p), code.clone())) {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The address listened on (the port the system chose, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn code(&self) -> &JoinCode {
        &self.code
    }

    /// The round on the projector now; `map` for a "where" question.
    pub fn set_round(&self, info: RoundInfo, map: Option<MapSource>) {
        // the thread only ends when told to or when this handle is dropped: nothing to report
        let _ = self.control.send(Control::Round(Box::new(info), map));
    }

    /// What arrived since the last call (never waits).
    pub fn updates(&self) -> Vec<Update> {
        self.updates
            .lock()
            .map(|updates| updates.try_iter().collect())
            .unwrap_or_default()
    }

    /// Whether the server's thread still runs.
    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops serving and waits for the thread (connections are closed; a few milliseconds).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for VoteServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The addresses a phone can open for a server listening on `addr`, best first: for `0.0.0.0` (or
/// `::`) this computer's network addresses (private IPv4 ones first, then other IPv4, then IPv6;
/// loopback only when there is nothing else), else `addr` itself.
pub fn reachable_addresses(addr: SocketAddr) -> Vec<IpAddr> {
    let ip = addr.ip();
    if !ip.is_unspecified() {
        return vec![ip];
    }
    let mut found: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback() && !i.is_link_local())
        .map(|i| i.ip())
        .filter(|a| ip.is_ipv6() || a.is_ipv4())
        .collect();
    let rank = |a: &IpAddr| match a {
        IpAddr::V4(v4) if v4.is_private() => 0,
        IpAddr::V4(_) => 1,
        IpAddr::V6(_) => 2,
    };
    found.sort_by_key(rank);
    found.dedup();
    if found.is_empty() {
        found.push(if ip.is_ipv6() {
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        });
    }
    found
}

/// The address to open on a phone: `http://HOST:PORT/#CODE` (the code after `#` never reaches the
/// network; the page fills it in).
pub fn join_url(ip: IpAddr, port: u16, code: &JoinCode) -> String {
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    format!("http://{host}:{port}/#{}", code.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_join_url_carries_the_code_after_the_hash() {
        let code = JoinCode::parse("ABCDE").unwrap();
        assert_eq!(
            join_url("192.168.1.20".parse().unwrap(), 8642, &code),
            "http://192.168.1.20:8642/#ABCDE"
        );
        assert_eq!(
            join_url("fd00::5".parse().unwrap(), 80, &code),
            "http://[fd00::5]:80/#ABCDE"
        );
        let listening: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(reachable_addresses(listening), [listening.ip()]);
        let everywhere: SocketAddr = "0.0.0.0:9".parse().unwrap();
        let found = reachable_addresses(everywhere);
        assert!(!found.is_empty() && found.iter().all(IpAddr::is_ipv4));
    }
}
