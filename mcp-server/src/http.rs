//! `switchboard serve`: MCP over streamable HTTP at `/mcp`, for many agents at once from
//! one process, with the same tools and resources as stdio, in both protocol eras
//! (2025-11-25 sessions and 2026-07-28 stateless requests; rmcp picks per request).
//!
//! Every request passes the [`Gate`] first: its `Host` and `Origin` must be allowed
//! (else 403, against DNS rebinding), and it must carry `Authorization: Bearer <token>`
//! for an active token (else 401). The token alone decides which agent is calling.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::ServerHandler;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use switchboard_core::{Error, Settings, Store, StoreAddress, token};
use tokio::net::TcpListener;

use crate::callers::{Caller, Callers};
use crate::server::{Hub, SwitchboardServer};

/// The address `switchboard serve` listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7411";
/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";
/// Largest request body accepted (a message body is at most 64 KiB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// How much of a body over the limit is still read (and dropped) before the 413 goes
/// out, so that a client still sending it reads the refusal rather than a reset.
const OVERSIZED_DRAIN: usize = 64 * 1024 * 1024;
/// How long a stopping server lets calls in progress finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// After the last call finished, how long its response gets to leave before the
/// remaining streams are closed.
const FLUSH_DELAY: Duration = Duration::from_millis(200);
/// JSON-RPC error code of refusals by the gate (implementation-defined server error).
const REFUSED: i32 = -32001;
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];
/// How long a client gets to send a request's headers, and then its body.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How `switchboard serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind, by default [`DEFAULT_LISTEN`]; a non-loopback one needs
    /// `allow_remote`.
    pub listen: SocketAddr,
    /// Required to listen on a non-loopback address.
    pub allow_remote: bool,
    /// Extra names (or `host:port`) accepted in `Host`; `*` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Extra browser origins (`scheme://host:port`) accepted in `Origin`; loopback
    /// origins are always accepted.
    pub allowed_origins: Vec<String>,
    /// Largest request body accepted, in bytes (default [`DEFAULT_MAX_BODY`]); a bigger one
    /// gets 413.
    pub max_body_bytes: usize,
    /// How long a client gets to send a request's headers, and then its body: a slow
    /// client's connection is closed (408 for a slow body).
    pub read_timeout: Duration,
    /// The state database shared with every other Switchboard process.
    pub store: StoreAddress,
    /// Store settings for every connection (`--stale-after`).
    pub settings: Settings,
    /// The checkout new worktrees start from.
    pub checkout: PathBuf,
}

/// A server bound to its address, not yet serving.
pub struct Bound {
    listener: TcpListener,
    callers: Arc<Callers>,
    gate: Arc<Gate>,
    max_body_bytes: usize,
    active_tokens: usize,
}

/// Checks `options` and binds. Refuses a non-loopback address without `allow_remote`,
/// and a remote-capable server while no token exists (nobody could use it, and it must
/// never run open).
pub async fn bind(options: ServeOptions) -> Result<Bound, Error> {
    let remote = !options.listen.ip().is_loopback();
    if remote && !options.allow_remote {
        return Err(Error::Invalid(format!(
            "refusing to listen on {}: it is not a loopback address. Pass --allow-remote to \
             serve other hosts (every request still needs a token), or listen on 127.0.0.1",
            options.listen
        )));
    }
    let mut auth_store = Store::open_at(&options.store, options.settings.clone())?;
    let active_tokens = token::active_count(&mut auth_store)?;
    if remote && active_tokens == 0 {
        return Err(Error::Conflict(
            "refusing to serve other hosts with no active token: create one first with \
             `switchboard token create --agent <name>`"
                .into(),
        ));
    }
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| Error::io(format!("cannot listen on {}", options.listen), e))?;
    let mut allowed_hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect();
    if remote && !options.listen.ip().is_unspecified() {
        allowed_hosts.push(host_name(&options.listen));
    }
    allowed_hosts.extend(options.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
    let gate = Gate {
        store: Mutex::new(auth_store),
        allowed_hosts,
        allowed_origins: options
            .allowed_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect(),
        max_body_bytes: options.max_body_bytes,
        read_timeout: options.read_timeout,
    };
    let callers = Callers::new(options.store, options.settings, options.checkout)?;
    Ok(Bound {
        listener,
        callers: Arc::new(callers),
        gate: Arc::new(gate),
        max_body_bytes: options.max_body_bytes,
        active_tokens,
    })
}

/// A handle on a running server, for its owner (and tests).
#[derive(Clone)]
pub struct Control {
    hub: Hub,
}

impl Control {
    /// Begins the graceful stop, as SIGTERM would.
    pub fn stop(&self) {
        self.hub.stopping.cancel();
    }

    /// `message_wait` calls waiting now, across all connections.
    pub fn active_waits(&self) -> usize {
        self.hub.waits.load(Ordering::SeqCst)
    }
}

impl Bound {
    /// A handle to stop the server or look at it while it runs.
    pub fn control(&self) -> Control {
        Control {
            hub: self.callers.hub.clone(),
        }
    }

    /// How many tokens were active when the server was bound (none: every request will
    /// be refused until one is created).
    pub fn active_tokens(&self) -> usize {
        self.active_tokens
    }

    /// The address actually bound (the port is chosen by the system for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the bound address", e))
    }

    /// Serves each connection with `wrap` of its server (`std::convert::identity`, or a
    /// decorator that adds to what the server offers and hands it the rest, as the
    /// conformance suite's fixtures do) until `shutdown` completes, then stops gracefully:
    /// no new connections; waits end with a shutdown result and listen streams with their
    /// final result; calls in progress finish (up to 10 s); then the remaining streams
    /// close.
    pub async fn run<S: ServerHandler>(
        self,
        wrap: impl Fn(SwitchboardServer) -> S + Send + Sync + 'static,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let hub = self.callers.hub.clone();
        let config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_max_request_body_bytes(self.max_body_bytes);
        let streams = config.cancellation_token.clone();
        let callers = self.callers.clone();
        let mcp = StreamableHttpService::new(
            move || Ok(wrap(SwitchboardServer::for_callers(callers.clone()))),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let app = axum::Router::new().route_service(MCP_PATH, mcp).layer(
            axum::middleware::from_fn_with_state(self.gate.clone(), admit),
        );
        let stopping = hub.stopping.clone();
        let read_timeout = self.gate.read_timeout;
        let serving = tokio::spawn(accept(self.listener, app, read_timeout, stopping.clone()));
        tokio::select! {
            () = shutdown => {}
            () = stopping.cancelled() => {}
        }
        tracing::info!("stopping: finishing calls in progress");
        stopping.cancel();
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        while hub.calls.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(FLUSH_DELAY).await;
        streams.cancel();
        match tokio::time::timeout(DRAIN_TIMEOUT, serving).await {
            Ok(Ok(result)) => result.map_err(|e| Error::io("the HTTP server failed", e)),
            Ok(Err(e)) => Err(Error::Conflict(format!("the HTTP server crashed: {e}"))),
            Err(_) => {
                tracing::warn!("connections still open after the grace period; closing them");
                Ok(())
            }
        }
    }
}

/// Serves HTTP/1 connections until `stopping`, then stops accepting and lets the open
/// connections finish. A client that does not send its request headers within
/// `read_timeout` is disconnected (axum's own `serve` sets no such limit).
async fn accept(
    listener: TcpListener,
    app: axum::Router,
    read_timeout: Duration,
    stopping: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopping.cancelled() => break,
        };
        // A response streamed in several writes (server-sent events) would otherwise wait
        // for the client's delayed ACK of the first: 40 ms on every answer.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// What every request must get past before it reaches MCP.
struct Gate {
    /// Its own connection: authentication never waits behind a tool call.
    store: Mutex<Store>,
    /// Lower-case host names or `host:port`; `*` admits any.
    allowed_hosts: Vec<String>,
    /// Lower-case `scheme://host:port` origins, besides loopback ones.
    allowed_origins: Vec<String>,
    max_body_bytes: usize,
    read_timeout: Duration,
}

/// A request turned away, with the HTTP status and what to do.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
    /// `WWW-Authenticate` for 401s.
    challenge: Option<&'static str>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = refusal_body(self.message);
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// The middleware: Host and Origin first (403), then the token (401); an admitted
/// request carries its [`Caller`].
async fn admit(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    if let Err(refusal) = gate.check_host(request.headers()) {
        return refusal.into_response();
    }
    if let Err(refusal) = gate.check_origin(request.headers()) {
        return refusal.into_response();
    }
    let secret = match bearer(request.headers()) {
        Ok(secret) => secret,
        Err(refusal) => return refusal.into_response(),
    };
    let checked = gate.clone();
    let token = tokio::task::spawn_blocking(move || {
        let mut store = checked.store.lock().unwrap_or_else(|p| p.into_inner());
        token::authenticate(&mut store, &secret)
    })
    .await;
    let token = match token {
        Ok(Ok(token)) => token,
        Ok(Err(Error::Unauthorized(message))) => {
            return Refusal {
                status: StatusCode::UNAUTHORIZED,
                message,
                challenge: Some("Bearer realm=\"switchboard\", error=\"invalid_token\""),
            }
            .into_response();
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "token check failed");
            return Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("the token could not be checked: {e}"),
                challenge: None,
            }
            .into_response();
        }
        Err(e) => {
            return Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("the token check crashed: {e}"),
                challenge: None,
            }
            .into_response();
        }
    };
    request.extensions_mut().insert(Caller {
        token: token.id,
        agent: token.agent,
    });
    if request.method() == axum::http::Method::POST {
        request = match gate.read_message(request).await {
            Ok(request) => request,
            Err(answer) => return answer,
        };
    }
    let closing = request.method() == axum::http::Method::DELETE;
    let mut response = next.run(request).await;
    // rmcp answers a closed session with 202; clients such as the Python SDK accept only
    // 200 or 204 there and would report the close as failed.
    if closing && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.body_mut() = axum::body::Body::empty();
    }
    response
}

/// A JSON-RPC error response with an HTTP status, for a POST body the server cannot take.
fn malformed(status: StatusCode, answer: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

impl Gate {
    /// Reads a POST body (within the read timeout and the size limit) and judges it as
    /// stdio does ([`crate::framing::judge`]): a message the server cannot take is
    /// answered here with 400 and the JSON-RPC error, whatever its content type.
    async fn read_message(&self, request: Request) -> Result<Request, Response> {
        let (parts, body) = request.into_parts();
        let read = read_body(body, self.max_body_bytes);
        let bytes = match tokio::time::timeout(self.read_timeout, read).await {
            // Plain text: a JSON-RPC error with a null id would leave a client waiting for
            // the answer to its (unread) request.
            Err(_) => {
                return Err((
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {} s",
                        self.read_timeout.as_secs_f64()
                    ),
                )
                    .into_response());
            }
            Ok(Err(_) | Ok(None)) => {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the request body is larger than {} bytes (serve --max-body) or was cut off",
                        self.max_body_bytes
                    ),
                )
                    .into_response());
            }
            Ok(Ok(Some(bytes))) => bytes,
        };
        // Protocol versions are dates: compared as text, they compare as dates.
        let era = match parts
            .headers
            .get("mcp-protocol-version")
            .map(|v| v.to_str())
        {
            Some(Ok(version)) if version >= "2026-07-28" => crate::framing::Era::Stateless,
            _ => crate::framing::Era::Sessions,
        };
        match crate::framing::judge_in(&bytes, era) {
            crate::framing::Verdict::Answer(answer) => {
                Err(malformed(StatusCode::BAD_REQUEST, answer))
            }
            crate::framing::Verdict::Skip => Err(malformed(
                StatusCode::BAD_REQUEST,
                refusal_body("the request body is empty: POST one JSON-RPC message".into()),
            )),
            crate::framing::Verdict::Forward => {
                Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
            }
        }
    }
}

/// Reads `body` whole if it holds at most `limit` bytes (`None` if it holds more). A
/// larger one is read on and dropped, up to [`OVERSIZED_DRAIN`] bytes past the limit:
/// closing the connection while the client still sends would reset it, and the client
/// would see a broken pipe instead of the 413.
async fn read_body(
    mut body: axum::body::Body,
    limit: usize,
) -> Result<Option<axum::body::Bytes>, axum::Error> {
    use hyper::body::Body as _;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            kept.extend_from_slice(&data);
        } else if seen > limit.saturating_add(OVERSIZED_DRAIN) {
            return Ok(None);
        } else {
            kept = Vec::new();
        }
    }
    Ok((seen <= limit).then(|| kept.into()))
}

/// The JSON-RPC error body the gate answers with.
fn refusal_body(message: String) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": REFUSED, "message": message },
    })
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer(headers: &HeaderMap) -> Result<String, Refusal> {
    let missing = || Refusal {
        status: StatusCode::UNAUTHORIZED,
        message: "switchboard serve needs a token on every request: create one with \
                  `switchboard token create --agent <name>` and send it as \
                  `Authorization: Bearer <token>` (`switchboard serve --print-config` shows \
                  client settings)"
            .into(),
        challenge: Some("Bearer realm=\"switchboard\""),
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?.trim();
    let (scheme, secret) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || secret.trim().is_empty() {
        return Err(missing());
    }
    Ok(secret.trim().to_string())
}

impl Gate {
    fn check_host(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if self.allowed_hosts.iter().any(|h| h == "*") {
            return Ok(());
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let name = strip_port(&host);
        if self
            .allowed_hosts
            .iter()
            .any(|allowed| allowed == &host || allowed == name)
        {
            return Ok(());
        }
        Err(forbidden(format!(
            "Host '{host}' is not allowed (protection against DNS rebinding): connect to \
             127.0.0.1 or localhost, or start the server with --allowed-host {name}"
        )))
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .unwrap_or_default()
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let loopback = origin
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .is_some_and(|(_, authority)| LOOPBACK_HOSTS.contains(&strip_port(authority)));
        if loopback || self.allowed_origins.contains(&origin) {
            return Ok(());
        }
        Err(forbidden(format!(
            "Origin '{origin}' is not allowed: only pages served from this machine's loopback \
             address may call this server; start it with --allowed-origin {origin} to admit it"
        )))
    }
}

fn forbidden(message: String) -> Refusal {
    Refusal {
        status: StatusCode::FORBIDDEN,
        message,
        challenge: None,
    }
}

/// `host` without a trailing `:port` (`[::1]:80` → `[::1]`).
fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && (host.starts_with('[') || !host[..i].contains(':')) =>
        {
            &host[..i]
        }
        _ => host,
    }
}

/// How `addr`'s IP appears in a `Host` header.
fn host_name(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped_from_hosts_of_both_families() {
        assert_eq!(strip_port("localhost:7411"), "localhost");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:7411"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("127.0.0.1:1"), "127.0.0.1");
    }
}
