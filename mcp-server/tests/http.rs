//! The shared HTTP server in-process: real rmcp clients over real HTTP on 127.0.0.1, in
//! both protocol eras; the token deciding the agent; every refusal of the gate; the
//! body limit; and the graceful stop.

use std::time::Duration;

use rmcp::model::{
    ProtocolVersion, ServerNotification, SubscribeRequestParams, SubscriptionFilter,
};
use rmcp::service::ClientLifecycleMode;
use rmcp::{ServerHandler, ServiceExt};
use serde_json::{Value, json};
use switchboard_core::{Settings, Store, StoreAddress, token};
use switchboard_mcp::SwitchboardServer;
use switchboard_mcp::client::{AgentClient, ResourceWatcher, http_transport};
use switchboard_mcp::http::{self, Control, ServeOptions};

use crate::harness::ok;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// One `switchboard serve` running in this process on a free port.
struct Served {
    _dir: tempfile::TempDir,
    address: StoreAddress,
    url: String,
    control: Control,
    task: tokio::task::JoinHandle<()>,
}

fn legacy() -> ClientLifecycleMode {
    ClientLifecycleMode::Initialize
}

fn discover() -> ClientLifecycleMode {
    ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    }
}

impl Served {
    async fn start() -> Served {
        Self::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut ServeOptions)) -> Served {
        Self::start_as(adjust, std::convert::identity).await
    }

    /// Like [`Served::start_with`], serving each connection with `wrap` of its server.
    async fn start_as<S: ServerHandler>(
        adjust: impl FnOnce(&mut ServeOptions),
        wrap: impl Fn(SwitchboardServer) -> S + Send + Sync + 'static,
    ) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let mut options = ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            allow_remote: false,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: http::DEFAULT_MAX_BODY,
            read_timeout: http::DEFAULT_READ_TIMEOUT,
            store: StoreAddress::file(&db),
            settings: Settings::default(),
            checkout: dir.path().to_path_buf(),
        };
        adjust(&mut options);
        let address = options.store.clone();
        let bound = http::bind(options).await.unwrap();
        let url = format!("http://{}{}", bound.local_addr().unwrap(), http::MCP_PATH);
        let control = bound.control();
        let task = tokio::spawn(async move {
            bound.run(wrap, std::future::pending()).await.unwrap();
        });
        Served {
            _dir: dir,
            address,
            url,
            control,
            task,
        }
    }

    fn store(&self) -> Store {
        Store::open_at(&self.address, Settings::default()).unwrap()
    }

    /// A token for `agent`, expiring after `expires_in` if given.
    fn token(&self, agent: &str, expires_in: Option<Duration>) -> token::Issued {
        token::create(
            &mut self.store(),
            &token::NewToken {
                agent,
                expires_in,
                label: None,
                created_by: "human:ada",
            },
        )
        .unwrap()
    }

    async fn client(&self, agent: &str, lifecycle: ClientLifecycleMode) -> AgentClient {
        let secret = self.token(agent, None).secret;
        AgentClient::http(&self.url, &secret, lifecycle)
            .await
            .unwrap()
    }

    /// A raw POST of `body` with `headers`; returns the status, headers and body.
    async fn post(
        &self,
        headers: &[(&str, &str)],
        body: String,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }
}

/// The JSON-RPC error message of a refusal body.
fn refusal_message(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(value["jsonrpc"], "2.0");
    value["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn two_agents_with_two_tokens_in_two_eras_see_each_others_messages() {
    let served = Served::start().await;
    let claude = served.client("claude", legacy()).await;
    let codex = served.client("codex", discover()).await;
    let started = ok(&claude, "session_start", json!({"intent": "backend"})).await;
    assert_eq!(started["agent"], "claude", "the token names the agent");
    let started = ok(&codex, "session_start", json!({"intent": "frontend"})).await;
    assert_eq!(started["agent"], "codex");

    ok(
        &claude,
        "message_send",
        json!({"to": ["codex"], "body": "API is ready"}),
    )
    .await;
    let inbox = ok(&codex, "inbox_read", json!({})).await;
    assert_eq!(inbox["messages"][0]["body"], "API is ready");
    assert_eq!(inbox["messages"][0]["sender"], "claude");
    let id = inbox["messages"][0]["id"].as_str().unwrap().to_string();
    ok(
        &codex,
        "message_reply",
        json!({"message": id, "body": "thanks"}),
    )
    .await;
    let inbox = ok(&claude, "inbox_read", json!({})).await;
    assert_eq!(inbox["messages"][0]["body"], "thanks");
    assert_eq!(inbox["messages"][0]["sender"], "codex");

    // The 2026-07-28 client is stateless, yet its session is remembered between requests.
    let me = ok(&codex, "whoami", json!({})).await;
    assert_eq!(me["agent"], "codex");
    assert!(me["session"].is_object(), "{me}");
    let sessions = ok(&claude, "session_list", json!({})).await;
    let agents: Vec<&str> = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["agent"].as_str().unwrap())
        .collect();
    assert!(
        agents.contains(&"claude") && agents.contains(&"codex"),
        "{agents:?}"
    );
}

#[tokio::test]
async fn closing_a_session_answers_204_and_ends_it() {
    let served = Served::start().await;
    let secret = served.token("claude", None).secret;
    let bearer = format!("Bearer {secret}");
    let (status, headers, _) = served
        .post(&[("authorization", &bearer)], INIT.into())
        .await;
    assert_eq!(status, 200);
    let session = headers["mcp-session-id"].to_str().unwrap().to_string();
    let closed = reqwest::Client::new()
        .delete(&served.url)
        .header("authorization", &bearer)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status().as_u16(), 204);
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let (status, _, _) = served
        .post(
            &[
                ("authorization", &bearer),
                ("mcp-session-id", &session),
                ("mcp-protocol-version", "2025-11-25"),
            ],
            list.into(),
        )
        .await;
    assert_eq!(status, 404, "the closed session is gone");
}

/// The names of the tools `client` is offered.
async fn tool_names(client: &AgentClient) -> Vec<String> {
    let tools = client.tools().await.unwrap();
    tools.into_iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn the_server_offers_no_conformance_fixtures() {
    let plain = Served::start().await;
    let client = plain.client("claude", legacy()).await;
    let names = tool_names(&client).await;
    assert!(names.contains(&"message_wait".to_string()));
    assert!(!names.iter().any(|n| n.starts_with("test_")), "{names:?}");
}

/// The fixture server of the conformance suite (`--features conformance-fixtures` only):
/// the suite's tools beside the real ones, which still work.
#[cfg(feature = "conformance-fixtures")]
#[tokio::test]
async fn the_conformance_fixtures_wrap_the_real_server() {
    let wrap = switchboard_mcp::conformance::wrapper().unwrap();
    let fixtures = Served::start_as(|_| {}, wrap).await;
    let client = fixtures.client("claude", discover()).await;
    let names = tool_names(&client).await;
    assert!(
        names.contains(&"message_wait".to_string())
            && names.contains(&"test_simple_text".to_string())
    );
    let out = client.call("test_simple_text", json!({})).await.unwrap();
    assert_eq!(out.text, "This is a simple text response for testing.");
    ok(
        &client,
        "session_start",
        json!({"intent": "real tools still work"}),
    )
    .await;
}

#[tokio::test]
async fn the_token_not_the_client_decides_who_is_calling() {
    let served = Served::start().await;
    let claude = served.client("claude", discover()).await;
    let out = claude
        .call(
            "session_start",
            json!({"agent": "mallory", "intent": "impersonate"}),
        )
        .await
        .unwrap();
    assert!(out.is_error, "{out:?}");
    assert!(out.text.contains("'claude'"), "{}", out.text);
    let sent = ok(
        &claude,
        "message_send",
        json!({"to": ["claude"], "body": "note to self"}),
    )
    .await;
    let got = ok(&claude, "message_get", json!({"message": sent["id"]})).await;
    assert_eq!(got["message"]["sender"], "claude");
}

#[tokio::test]
async fn missing_wrong_revoked_and_expired_tokens_get_401_saying_what_to_do() {
    let served = Served::start().await;
    let (status, headers, body) = served.post(&[], INIT.into()).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert!(refusal_message(&body).contains("switchboard token create"));

    let (status, _, body) = served
        .post(&[("authorization", "Bearer sbt_0123")], INIT.into())
        .await;
    assert_eq!(status, 401);
    assert!(refusal_message(&body).contains("not known"), "{body}");

    let (status, _, body) = served
        .post(&[("authorization", "Basic YWRhOnB3")], INIT.into())
        .await;
    assert_eq!(status, 401, "{body}");

    let revoked = served.token("claude", None);
    let connected = AgentClient::http(&served.url, &revoked.secret, discover())
        .await
        .unwrap();
    ok(&connected, "agent_list", json!({})).await;
    token::revoke(&mut served.store(), &revoked.token.id, "human:ada").unwrap();
    assert!(
        connected.call("agent_list", json!({})).await.is_err(),
        "a revoked token stops working at once, even on an open connection"
    );
    let bearer = format!("Bearer {}", revoked.secret);
    let (status, _, body) = served
        .post(&[("authorization", &bearer)], INIT.into())
        .await;
    assert_eq!(status, 401);
    assert!(refusal_message(&body).contains("revoked"), "{body}");

    let expired = served.token("codex", Some(Duration::from_millis(1)));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let bearer = format!("Bearer {}", expired.secret);
    let (status, _, body) = served
        .post(&[("authorization", &bearer)], INIT.into())
        .await;
    assert_eq!(status, 401);
    assert!(refusal_message(&body).contains("expired"), "{body}");
}

#[tokio::test]
async fn foreign_host_and_origin_get_403_before_anything_else() {
    let served = Served::start().await;
    let secret = served.token("claude", None).secret;
    let bearer = format!("Bearer {secret}");
    let (status, _, body) = served
        .post(
            &[("authorization", &bearer), ("host", "evil.example:7411")],
            INIT.into(),
        )
        .await;
    assert_eq!(status, 403);
    assert!(refusal_message(&body).contains("DNS rebinding"), "{body}");
    let (status, _, _) = served.post(&[("host", "evil.example")], INIT.into()).await;
    assert_eq!(status, 403, "Host is checked before the token");

    let (status, _, body) = served
        .post(
            &[
                ("authorization", &bearer),
                ("origin", "http://evil.example"),
            ],
            INIT.into(),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        refusal_message(&body).contains("--allowed-origin"),
        "{body}"
    );

    let (status, _, body) = served
        .post(
            &[
                ("authorization", &bearer),
                ("origin", "http://localhost:5173"),
            ],
            INIT.into(),
        )
        .await;
    assert_eq!(status, 200, "a loopback page may call: {body}");

    let open =
        Served::start_with(|o| o.allowed_origins = vec!["https://tool.example:8443".into()]).await;
    let secret = open.token("claude", None).secret;
    let bearer = format!("Bearer {secret}");
    let (status, _, body) = open
        .post(
            &[
                ("authorization", &bearer),
                ("origin", "https://tool.example:8443"),
            ],
            INIT.into(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn malformed_bodies_get_400_with_the_json_rpc_error_and_the_server_keeps_serving() {
    let served = Served::start().await;
    let secret = served.token("claude", None).secret;
    let bearer = format!("Bearer {secret}");
    let cases = [
        ("not json".to_string(), -32700, Value::Null),
        (r#"{"jsonrpc":"2.0","id":3,"method":"ping","params":{"a":"\ud800"}}"#.to_string(), -32700, json!(3)),
        (format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)), -32700, Value::Null),
        ("[1, 2]".to_string(), -32600, Value::Null),
        (r#"{"id":6}"#.to_string(), -32600, json!(6)),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"whoami","arguments":[1]}}"#.to_string(),
            -32602,
            json!(4),
        ),
        (String::new(), -32001, Value::Null),
    ];
    for (body, code, id) in cases {
        let (status, headers, answer) = served
            .post(&[("authorization", &bearer)], body.clone())
            .await;
        let shown = &body[..body.len().min(80)];
        assert_eq!(status, 400, "{shown}: {answer}");
        assert_eq!(headers["content-type"], "application/json");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            (answer["error"]["code"].as_i64(), &answer["id"]),
            (Some(code), &id),
            "{shown}"
        );
    }
    let (status, _, _) = served.post(&[], "not json".into()).await;
    assert_eq!(status, 401, "the token is checked before the body is read");
    let client = served.client("claude", discover()).await;
    ok(&client, "whoami", json!({})).await;
}

/// Sends `sent` on a fresh connection to `url`'s server, then reads what comes back
/// until the server closes the connection (failing after `patience`).
async fn slow_client(url: &str, sent: String, patience: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches(http::MCP_PATH);
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(sent.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(patience, stream.read_to_end(&mut answer))
        .await
        .expect("the server kept a slow connection open past its read timeout")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_are_cut_off_after_the_read_timeout() {
    let served = Served::start_with(|o| o.read_timeout = Duration::from_millis(500)).await;
    let secret = served.token("claude", None).secret;
    let unfinished_headers = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_string();
    let answer = slow_client(&served.url, unfinished_headers, Duration::from_secs(10)).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    let unfinished_body = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: 100\r\n\r\n{{\"jsonrpc\""
    );
    let answer = slow_client(&served.url, unfinished_body, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");

    let client = served.client("claude", discover()).await;
    ok(&client, "whoami", json!({})).await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_changes_nothing() {
    let served = Served::start_with(|o| o.max_body_bytes = 16 * 1024).await;
    let secret = served.token("claude", None).secret;
    let client = AgentClient::http(&served.url, &secret, discover())
        .await
        .unwrap();
    ok(&client, "session_start", json!({"intent": "big"})).await;
    let bearer = format!("Bearer {secret}");
    let huge = json!({
        "jsonrpc": "2.0", "id": 7, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "x".repeat(32 * 1024), "version": "1"}},
    });
    let (status, _, _) = served
        .post(&[("authorization", &bearer)], huge.to_string())
        .await;
    assert_eq!(status, 413);
    let big = client
        .call(
            "message_send",
            json!({"to": ["claude"], "body": "y".repeat(20 * 1024)}),
        )
        .await;
    assert!(
        big.is_err(),
        "an oversized tool call is refused by the transport"
    );
    let inbox = ok(&client, "inbox_read", json!({})).await;
    assert_eq!(
        inbox["messages"].as_array().unwrap().len(),
        0,
        "nothing was sent"
    );
}

#[tokio::test]
#[allow(deprecated)] // resources/subscribe is the 2025-11-25 style, tested on purpose
async fn resource_updates_reach_http_clients_in_both_eras() {
    let served = Served::start().await;
    let lead = served.client("lead", legacy()).await;
    ok(&lead, "session_start", json!({"intent": "lead"})).await;

    let (watcher, mut updates) = ResourceWatcher::new();
    let ann_secret = served.token("ann", None).secret;
    let ann = watcher
        .serve(http_transport(&served.url, &ann_secret))
        .await
        .unwrap();
    ann.subscribe(SubscribeRequestParams::new("switchboard://inbox"))
        .await
        .unwrap();

    let bob_secret = served.token("bob", None).secret;
    let bob = rmcp::ClientServiceExt::serve_with_lifecycle(
        (),
        http_transport(&served.url, &bob_secret),
        discover(),
    )
    .await
    .unwrap();
    let filter = SubscriptionFilter::builder()
        .resource_subscription("switchboard://inbox")
        .build();
    let mut listening = bob.listen(filter).await.unwrap();

    ok(
        &lead,
        "message_send",
        json!({"to": ["ann", "bob"], "body": "standup"}),
    )
    .await;
    let uri = tokio::time::timeout(Duration::from_secs(10), updates.recv())
        .await
        .expect("no legacy update")
        .unwrap();
    assert_eq!(uri, "switchboard://inbox");
    let note = tokio::time::timeout(Duration::from_secs(10), listening.next())
        .await
        .expect("no listen update")
        .unwrap();
    match note {
        Some(ServerNotification::ResourceUpdatedNotification(n)) => {
            assert_eq!(n.params.uri, "switchboard://inbox")
        }
        other => panic!("expected a resource update, got {other:?}"),
    }
    listening.cancel().await.unwrap();
}

#[tokio::test]
async fn a_graceful_stop_wakes_waiters_with_a_shutdown_result_and_refuses_new_work() {
    let served = Served::start().await;
    let legacy_waiter = served.client("claude", legacy()).await;
    let stateless_waiter = served.client("codex", discover()).await;
    let wait = |client: AgentClient| {
        tokio::spawn(async move {
            let out = client
                .call_ok("message_wait", json!({"timeout_secs": 120}))
                .await
                .unwrap();
            (client, out)
        })
    };
    let first = wait(legacy_waiter);
    let second = wait(stateless_waiter);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while served.control.active_waits() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the waits never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    served.control.stop();
    for waiter in [first, second] {
        let (_, out) = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the wait was not woken")
            .unwrap();
        assert_eq!(out["shutdown"], true, "{out}");
        assert_eq!(out["timed_out"], false);
    }
    tokio::time::timeout(Duration::from_secs(15), served.task)
        .await
        .expect("the server did not stop")
        .unwrap();
    let refused = reqwest::Client::new()
        .post(&served.url)
        .body(INIT)
        .send()
        .await;
    assert!(refused.is_err(), "a stopped server accepts no connection");
}

/// A shared server started in a spawned worktree serves that worktree's session to its
/// agent, as a stdio server started there does.
#[tokio::test]
async fn a_server_started_in_a_worktree_serves_its_session_to_its_agent() {
    let repo = switchboard_testutils::ScratchRepo::new();
    let mut store = Store::open(repo.db(), Settings::default()).unwrap();
    let new = switchboard_core::session::NewSession {
        agent: "alpha".into(),
        intent: "in its worktree".into(),
        ..Default::default()
    };
    let session = switchboard_core::session::start(&mut store, &new).unwrap();
    let wanted = switchboard_core::worktree::NewWorktree {
        name: "wa".into(),
        session: Some(session.id.clone()),
        ..Default::default()
    };
    let created = switchboard_core::worktree::create(&mut store, "alpha", repo.path(), &wanted);
    let path = std::path::PathBuf::from(created.unwrap().worktree.path);
    let served = Served::start_with(|o| {
        o.store = StoreAddress::file(repo.db());
        o.checkout = path;
    })
    .await;
    let alpha = served.client("alpha", legacy()).await;
    let status = alpha.call_ok("status", json!({})).await.unwrap();
    assert_eq!(status["session"]["id"], session.id.as_str(), "{status}");
    let beta = served.client("beta", legacy()).await;
    let status = beta.call_ok("status", json!({})).await.unwrap();
    assert_eq!(
        status.get("session"),
        None,
        "another agent gets no session: {status}"
    );
}
