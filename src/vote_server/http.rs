//! The server's thread: the accept loop with its connection caps, hyper serving each connection, the
//! routes (the embedded page, the top view's picture, `/api/...` answered by the pure `Poll`), the
//! round from the app and the tally back to it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::{CONNECTION_LIFETIME, Control, MapSource, ServerConfig, TALLY_INTERVAL, Update};
use crate::core::vote::limit::Client;
use crate::core::vote::map::{MAP_PIXELS, top_view_png};
use crate::core::vote::{ApiRequest, ApiResponse, MAX_BODY_BYTES, Poll, RoundResult};

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// The page may load only its own script, style, pictures and API: nothing inline, nothing from
/// elsewhere (initials shown as markup could not run even if the page slipped).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What every connection shares.
struct Shared {
    poll: Mutex<Poll>,
    /// The current round's top view (PNG), for "where" questions.
    map: Mutex<Option<Bytes>>,
    /// Open connections per client.
    connections: Mutex<HashMap<Client, usize>>,
    config: ServerConfig,
}

/// A poisoned lock only means a task panicked while holding it; the data is still whole (every
/// change is made in one step), so go on with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Serves until told to stop (or until the app's handle is gone).
pub(super) async fn serve(
    listener: std::net::TcpListener,
    config: ServerConfig,
    mut control: tokio::sync::mpsc::UnboundedReceiver<Control>,
    updates: mpsc::SyncSender<Update>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            let _ = updates.try_send(Update::Problem(format!(
                "the class vote cannot listen: {e}"
            )));
            return;
        }
    };
    let shared = Arc::new(Shared {
        poll: Mutex::new(Poll::new(
            config.code.clone(),
            config.limits,
            Instant::now(),
        )),
        map: Mutex::new(None),
        connections: Mutex::new(HashMap::new()),
        config,
    });
    let results: Arc<Mutex<Vec<RoundResult>>> = Arc::default();
    tokio::spawn(accept_loop(listener, shared.clone(), updates.clone()));
    tokio::spawn(send_tally(shared.clone(), results.clone(), updates));
    // the round from the app, until Stop or the handle is dropped; returning ends the runtime and
    // with it every connection
    let mut drawn: Option<(
        Arc<crate::core::Landscape>,
        crate::core::scene::SurfaceStyle,
    )> = None;
    while let Some(Control::Round(info, map)) = control.recv().await {
        let result = lock(&shared.poll).set_round(*info);
        if let Some(result) = result {
            lock(&results).push(result);
        }
        let Some(MapSource { landscape, style }) = map else {
            continue;
        };
        let same = drawn
            .as_ref()
            .is_some_and(|(l, s)| Arc::ptr_eq(l, &landscape) && *s == style);
        if same {
            continue;
        }
        drawn = Some((landscape.clone(), style.clone()));
        *lock(&shared.map) = None;
        let drawing =
            tokio::task::spawn_blocking(move || top_view_png(&landscape, &style, MAP_PIXELS));
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Ok(Ok(png)) = drawing.await {
                *lock(&shared.map) = Some(Bytes::from(png));
            }
        });
    }
}

/// Every [`TALLY_INTERVAL`]: the tally to the app if it changed, and any round's result.
async fn send_tally(
    shared: Arc<Shared>,
    results: Arc<Mutex<Vec<RoundResult>>>,
    updates: mpsc::SyncSender<Update>,
) {
    let mut ticks = tokio::time::interval(TALLY_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let tally = {
            let mut poll = lock(&shared.poll);
            poll.take_changed().then(|| poll.tally())
        };
        if let Some(tally) = tally
            && let Err(mpsc::TrySendError::Full(_)) = updates.try_send(Update::Tally(tally))
        {
            // the app has not taken the last ones: send it again next time
            let mut poll = lock(&shared.poll);
            poll.set_changed();
        }
        let mut pending = lock(&results);
        while let Some(result) = pending.first().cloned() {
            match updates.try_send(Update::Result(result)) {
                Ok(()) => {
                    pending.remove(0);
                }
                Err(mpsc::TrySendError::Full(_)) => break,
                Err(mpsc::TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

/// Counts a connection while it is open.
struct Slot {
    shared: Arc<Shared>,
    client: Client,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut connections = lock(&self.shared.connections);
        if let Some(n) = connections.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                connections.remove(&self.client);
            }
        }
    }
}

/// Takes a slot for a new connection from `client`, unless the caps are reached.
fn take_slot(shared: &Arc<Shared>, client: Client) -> Option<Slot> {
    let mut connections = lock(&shared.connections);
    let total: usize = connections.values().sum();
    let mine = connections.get(&client).copied().unwrap_or(0);
    if total >= shared.config.max_connections || mine >= shared.config.max_per_client {
        return None;
    }
    *connections.entry(client).or_insert(0) += 1;
    Some(Slot {
        shared: shared.clone(),
        client,
    })
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nConnection: close\r\n\
                      Content-Length: 0\r\n\r\n";

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    updates: mpsc::SyncSender<Update>,
) {
    let mut last_problem: Option<Instant> = None;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // out of file descriptors or a connection reset before it was taken: say so (once
                // a minute at most), wait a moment and go on
                if last_problem.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                    last_problem = Some(Instant::now());
                    let _ = updates.try_send(Update::Problem(format!(
                        "the class vote could not take a connection: {e}"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = take_slot(&shared, Client::of(peer.ip())) else {
            // full: say so without waiting for the client, and close
            let _ = stream.try_write(BUSY);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, peer, slot));
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, peer: SocketAddr, slot: Slot) {
    let shared = slot.shared.clone();
    let config = &shared.config;
    let service = {
        let shared = shared.clone();
        hyper::service::service_fn(move |request| respond(request, peer.ip(), shared.clone()))
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(16 * 1024)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    if tokio::time::timeout(CONNECTION_LIFETIME, connection.as_mut())
        .await
        .is_err()
    {
        // kept long enough: finish the request under way, then close
        connection.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
    }
    drop(slot);
}

/// A response with the headers every answer carries.
fn response(status: u16, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn json(answer: ApiResponse) -> Response<Full<Bytes>> {
    let mut r = response(
        answer.status,
        "application/json; charset=utf-8",
        Bytes::from(answer.json),
    );
    if let Some(wait) = answer.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    r
}

/// An error answered before the body was read: the connection is closed after it (what is left of
/// the body would be read as the next request).
fn refuse(status: u16, message: &str) -> Response<Full<Bytes>> {
    let mut r = json(ApiResponse::error(status, message));
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn page(
    method: &hyper::Method,
    content_type: &'static str,
    text: &'static str,
) -> Response<Full<Bytes>> {
    if method != hyper::Method::GET {
        return refuse(405, "use GET for this address");
    }
    let mut r = response(200, content_type, Bytes::from_static(text.as_bytes()));
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    r
}

async fn respond(
    request: Request<Incoming>,
    from: IpAddr,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Err(refused) = lock(&shared.poll).admit(from, Instant::now()) {
        let mut r = json(refused);
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Ok(r);
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let answer = match path.as_str() {
        "/" | "/index.html" => page(&method, "text/html; charset=utf-8", PAGE),
        "/app.js" => page(&method, "text/javascript; charset=utf-8", SCRIPT),
        "/style.css" => page(&method, "text/css; charset=utf-8", STYLE),
        "/api/map.png" => match lock(&shared.map).clone() {
            Some(png) if method == hyper::Method::GET => response(200, "image/png", png),
            Some(_) => refuse(405, "use GET for this address"),
            None => refuse(404, "this round has no picture (yet)"),
        },
        p if p.starts_with("/api/") => api(request, from, &shared).await,
        _ => refuse(404, "no such page"),
    };
    Ok(answer)
}

/// An `/api/...` request: the body read within the limits, then answered by the poll.
async fn api(request: Request<Incoming>, from: IpAddr, shared: &Shared) -> Response<Full<Bytes>> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refuse(
            413,
            &format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        );
    }
    let (parts, body) = request.into_parts();
    let limited = Limited::new(body, MAX_BODY_BYTES);
    let body = match tokio::time::timeout(shared.config.body_timeout, limited.collect()).await {
        Err(_) => return refuse(408, "the body took too long to arrive"),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse(
                413,
                &format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
        Ok(Err(_)) => return refuse(400, "the body could not be read"),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let request = ApiRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        body: &body,
    };
    json(lock(&shared.poll).handle(&request, from, Instant::now()))
}
