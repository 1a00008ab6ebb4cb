//! The adversarial input suite (issue 13): hostile names, ids, message bodies,
//! references, paths, types, sizes, protocol garbage and branch names, sent the way an
//! agent's client sends requests, to one `switchboard mcp` process over stdio and to one
//! `switchboard serve` over HTTP. After every case the answer must be a clear refusal (a
//! JSON-RPC error, or a tool result with `isError` saying what was wrong) and the server
//! must still answer a ping; at the end nothing may have been written outside the
//! repository, and the server must not have panicked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use crate::common::{Repo, bin};

/// How long a server may take to answer one case before it counts as hanging.
const PATIENCE: Duration = Duration::from_secs(30);
const PROTOCOL_VERSION: &str = "2025-11-25";
/// The environment a server gets, each pointed at a folder of its own in the sandbox.
const ELSEWHERE: [(&str, &str); 7] = [
    ("HOME", "home"),
    ("TMPDIR", "tmp"),
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_DATA_HOME", "data"),
    ("XDG_STATE_HOME", "state"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_RUNTIME_DIR", "runtime"),
];
const CANARY: &str = "written before the suite; must stay as it is\n";
/// What no refusal may look like: a bare internal failure, or Rust's insides.
const UNCLEAR: [&str; 10] = [
    "database error",
    "internal error",
    "switchboard failed",
    "crashed",
    "panicked",
    "RUST_BACKTRACE",
    ".rs:",
    "ErrorData",
    "Error {",
    "Some(",
];

// ---------------------------------------------------------------------------------------
// The cases

/// One hostile request and the kind of answer it must get.
struct Case {
    name: &'static str,
    payload: Payload,
    expect: Expect,
}

enum Payload {
    /// A `tools/call` of this tool with these arguments.
    Tool(&'static str, Value),
    /// This JSON-RPC message, with its own id (if any).
    Message(Value),
    /// These bytes as one message; the answer carries this id (null: none can be found).
    Bytes(Vec<u8>, Value),
}

enum Expect {
    /// A tool result with `isError: true` whose text contains this.
    Refused(&'static str),
    /// A JSON-RPC error with this code whose message contains this.
    RpcError(i64, &'static str),
    /// A plain result whose text contains this: hostile-looking input that is only data.
    Served(&'static str),
    /// No answer: notifications and responses are not answered.
    Silence,
    /// Over HTTP, refused by the transport with this status and text before it becomes a
    /// JSON-RPC message; over stdio, the answer given.
    OverHttp(u16, &'static str, &'static Expect),
}

fn tool(name: &'static str, tool: &'static str, arguments: Value, expect: Expect) -> Case {
    Case {
        name,
        payload: Payload::Tool(tool, arguments),
        expect,
    }
}

fn message(name: &'static str, message: Value, expect: Expect) -> Case {
    Case {
        name,
        payload: Payload::Message(message),
        expect,
    }
}

fn bytes(name: &'static str, bytes: impl Into<Vec<u8>>, answer_id: Value, expect: Expect) -> Case {
    Case {
        name,
        payload: Payload::Bytes(bytes.into(), answer_id),
        expect,
    }
}

impl Case {
    /// The bytes to send (`id` numbers a tool call) and the id the answer must carry
    /// (`None`: no answer is due).
    fn wire(&self, id: i64) -> (Vec<u8>, Option<Value>) {
        let (line, answer_id) = match &self.payload {
            Payload::Tool(tool, arguments) => (
                call(id, tool, arguments.clone()).to_string().into_bytes(),
                json!(id),
            ),
            Payload::Message(message) => {
                let answer_id = message
                    .get("id")
                    .filter(|id| id.is_string() || id.is_i64())
                    .cloned()
                    .unwrap_or(Value::Null);
                (message.to_string().into_bytes(), answer_id)
            }
            Payload::Bytes(bytes, answer_id) => (bytes.clone(), answer_id.clone()),
        };
        let silent = matches!(self.expect, Expect::Silence);
        (line, (!silent).then_some(answer_id))
    }
}

fn call(id: impl Into<Value>, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id.into(), "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "adversary", "version": "1"}}})
}

/// Requests sent before the client initialized its session.
fn before_initialize() -> Vec<Case> {
    const NO_SESSION: u16 = 400;
    vec![
        tool(
            "a tool call before initialize",
            "whoami",
            json!({}),
            Expect::OverHttp(
                NO_SESSION,
                "Session ID is required",
                &Expect::RpcError(-32602, "protocolVersion"),
            ),
        ),
        message(
            "tools/list before initialize",
            json!({"jsonrpc": "2.0", "id": "early-list", "method": "tools/list"}),
            Expect::OverHttp(
                NO_SESSION,
                "Session ID is required",
                &Expect::RpcError(-32602, "protocolVersion"),
            ),
        ),
        message(
            "initialize without clientInfo",
            json!({"jsonrpc": "2.0", "id": "bad-init", "method": "initialize",
                   "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}}}),
            Expect::RpcError(-32602, "clientInfo"),
        ),
    ]
}

/// Everything an agent might send once connected, one case a line. `outside` is a
/// folder outside the repository holding the canary; `mine` is a message the agent sent.
#[rustfmt::skip]
fn hostile(outside: &Path, mine: &str) -> Vec<Case> {
    use Expect::*;
    const NOT_AN_AGENT_NAME: Expect = Refused("is not a valid agent name");
    const NOT_A_GROUP_NAME: Expect = Refused("is not a valid group name");
    const NOT_A_ROLE: Expect = Refused("is not a valid role");
    const NOT_IN_THE_REPOSITORY: Expect = Refused("is not inside the repository");
    const NOT_A_WORKTREE_NAME: Expect = Refused("is not a valid worktree name");
    const NOT_A_BRANCH_NAME: Expect = Refused("is not a valid branch name");
    const NUL: Expect = Refused("NUL character");
    const TOO_LARGE_FOR_HTTP: &str = "larger than";
    let canary = outside.join("canary").display().to_string();
    let pwned = format!("--output={}", outside.join("pwned").display());
    let long = "x".repeat(10_000);
    let deep_argument = (0..100).fold(json!("thr_0000"), |inner, _| json!([inner]));
    vec![
        // Names of agents, groups and roles.
        tool("agent name with NUL", "agent_register", json!({"name": "cla\0ude"}), NOT_AN_AGENT_NAME),
        tool("agent name with an escape sequence", "agent_register", json!({"name": "\u{1b}[31mred"}), NOT_AN_AGENT_NAME),
        tool("agent name of 10k characters", "agent_register", json!({"name": long}), NOT_AN_AGENT_NAME),
        tool("agent name with a Cyrillic letter", "agent_register", json!({"name": "сlaude"}), NOT_AN_AGENT_NAME),
        tool("registering a human", "agent_register", json!({"name": "human:root"}), Refused("may not register")),
        tool("empty agent name", "agent_register", json!({"name": ""}), NOT_AN_AGENT_NAME),
        tool("agent name with path separators", "agent_register", json!({"name": "../../etc"}), NOT_AN_AGENT_NAME),
        tool("role with a slash", "agent_register", json!({"role": "a/b"}), NOT_A_ROLE),
        tool("role with NUL", "agent_register", json!({"role": "rev\0iewer"}), NOT_A_ROLE),
        tool("role with the human prefix", "session_start", json!({"role": "human:x"}), NOT_A_ROLE),
        tool("joining as a name with NUL", "session_start", json!({"agent": "a\0b"}), NOT_AN_AGENT_NAME),
        tool("joining as an empty name", "session_start", json!({"agent": ""}), NOT_AN_AGENT_NAME),
        tool("joining as a human", "session_start", json!({"agent": "human:ada-lovelace"}), Refused("this server acts for agent 'claude'")),
        tool("group name with NUL", "group_create", json!({"name": "ops\0"}), NOT_A_GROUP_NAME),
        tool("group name of 10k characters", "group_create", json!({"name": long}), NOT_A_GROUP_NAME),
        tool("group name with path separators", "group_create", json!({"name": "../x"}), NOT_A_GROUP_NAME),
        tool("empty group name", "group_create", json!({"name": ""}), NOT_A_GROUP_NAME),
        tool("group named like a human", "group_create", json!({"name": "human:ops"}), NOT_A_GROUP_NAME),
        tool("group member with a control character", "group_create", json!({"name": "ops", "members": ["a\u{7}"]}), NOT_AN_AGENT_NAME),
        tool("recipient human: without a name", "message_send", json!({"to": ["human:"], "body": "hi"}), Refused("is not a valid human name")),
        tool("recipient with a Cyrillic letter", "message_send", json!({"to": ["сlaude"], "body": "hi"}), NOT_AN_AGENT_NAME),
        tool("recipient group with path separators", "message_send", json!({"to": ["@../x"], "body": "hi"}), Refused("unknown recipient")),
        tool("a thousand recipients", "message_send", json!({"to": (0..1000).map(|i| format!("a{i}")).collect::<Vec<_>>(), "body": "hi"}), Refused("at most 100 recipients")),
        // Ids.
        tool("unknown message id", "message_get", json!({"message": "msg_01ZZZZZZZZZZZZZZZZZZZZZZZZ"}), Refused("no message matches")),
        tool("SQL in a message id", "message_get", json!({"message": "' OR 1=1 --"}), Refused("is not a message id")),
        tool("LIKE wildcard as a session id", "session_get", json!({"session": "ses_%"}), Refused("is not a session id")),
        tool("session id of 100k characters", "session_get", json!({"session": format!("ses_{}", "0".repeat(100_000))}), Refused("is longer than a session id")),
        tool("SQL in a thread id", "thread_get", json!({"thread": "thr_' OR ''='"}), Refused("is not a thread id")),
        tool("SQL among ids to mark read", "message_read", json!({"ids": ["' OR 1=1"]}), Refused("is not a message id")),
        tool("ending an unknown session", "session_end", json!({"session": "ses_0000"}), Refused("no session matches")),
        tool("SQL as an inbox cursor", "inbox_read", json!({"cursor": "' OR 1=1"}), Refused("is not a cursor")),
        tool("inbox cursor starting with a multi-byte character", "inbox_read", json!({"cursor": "é1"}), Refused("is not a cursor")),
        tool("replying to a wildcard id", "message_reply", json!({"message": "msg_%", "body": "hi"}), Refused("is not a message id")),
        tool("SQL as a search sender", "message_search", json!({"query": "plan", "from": "' OR 1=1"}), NOT_AN_AGENT_NAME),
        tool("SQL as a parent session", "session_list", json!({"parent": "'; DROP TABLE sessions; --"}), Refused("is not a session id")),
        // Message bodies and subjects.
        tool("empty body", "message_send", json!({"to": ["claude"], "body": ""}), Refused("body is empty")),
        tool("10 MB body", "message_send", json!({"to": ["claude"], "body": "x".repeat(10 << 20)}), OverHttp(413, TOO_LARGE_FOR_HTTP, &Refused("the limit is 65536"))),
        tool("body with NUL", "message_send", json!({"to": ["claude"], "body": "a\0b"}), NUL),
        bytes("body with a lone surrogate escape", r#"{"jsonrpc":"2.0","id":"surrogate","method":"tools/call","params":{"name":"message_send","arguments":{"to":["claude"],"body":"\udc00x"}}}"#, json!("surrogate"), RpcError(-32700, "hex escape")),
        tool("subject with NUL", "message_send", json!({"to": ["claude"], "body": "hi", "subject": "a\0"}), Refused("without control characters")),
        tool("edit to a body with NUL", "message_edit", json!({"message": mine, "body": "a\0b"}), NUL),
        tool("reply with a body with NUL", "message_reply", json!({"message": mine, "body": "a\0b"}), NUL),
        tool("search with NUL", "message_search", json!({"query": "a\0b"}), NUL),
        tool("search in full-text syntax", "message_search", json!({"query": "\") OR 1=1 NEAR(x -- *"}), Served("no messages match")),
        // References.
        tool("file reference climbing out", "message_send", json!({"to": ["claude"], "body": "see", "refs": ["file:../../etc/passwd"]}), Refused("relative to the repository root")),
        tool("absolute file reference", "message_send", json!({"to": ["claude"], "body": "see", "refs": [format!("file:{canary}")]}), Refused("relative to the repository root")),
        tool("file reference with NUL", "message_send", json!({"to": ["claude"], "body": "see", "refs": ["file:a\0b"]}), NUL),
        tool("commit reference with a shell command", "message_send", json!({"to": ["claude"], "body": "see", "refs": ["commit:$(rm -rf ~)"]}), Refused("must be a hex sha")),
        tool("session reference with SQL", "message_send", json!({"to": ["claude"], "body": "see", "refs": ["session:' OR 1=1"]}), Refused("is not a session id")),
        tool("file reference with reversed lines", "message_send", json!({"to": ["claude"], "body": "see", "refs": ["file:src/x.rs:40-12"]}), Refused("a range like 12-40")),
        // Paths.
        tool("who_has an absolute path", "who_has", json!({"path": "/etc/passwd"}), NOT_IN_THE_REPOSITORY),
        tool("who_has the canary by absolute path", "who_has", json!({"path": canary}), NOT_IN_THE_REPOSITORY),
        tool("who_has a parent path", "who_has", json!({"path": "../x"}), NOT_IN_THE_REPOSITORY),
        tool("who_has a root path behind ./", "who_has", json!({"path": ".//etc/passwd"}), NOT_IN_THE_REPOSITORY),
        tool("who_has a path climbing out midway", "who_has", json!({"path": "src/../../x"}), NOT_IN_THE_REPOSITORY),
        tool("who_has a path with NUL", "who_has", json!({"path": "a\0b"}), NUL),
        tool("who_has an empty path", "who_has", json!({"path": ""}), Refused("give a file path")),
        tool("who_has through a symlink leaving the repository", "who_has", json!({"path": "escape/canary"}), Served("nobody claims or is changing escape/canary")),
        // Types.
        tool("limit as a string", "inbox_read", json!({"limit": "ten"}), Refused("parameter `limit`")),
        tool("negative limit", "session_list", json!({"limit": -5}), Refused("parameter `limit`")),
        tool("limit of 1e30", "inbox_read", json!({"limit": 1e30}), Refused("parameter `limit`")),
        tool("limit of a billion", "inbox_read", json!({"limit": 1_000_000_000}), Refused("most allowed")),
        tool("float for an integer", "message_wait", json!({"timeout_secs": 1.5}), Refused("parameter `timeout_secs`")),
        tool("prune after 10^15 days", "worktree_prune", json!({"ended_days": 1_000_000_000_000_000_u64}), Refused("ended_days")),
        tool("recipients as a string", "message_send", json!({"to": "claude", "body": "hi"}), Refused("parameter `to`")),
        tool("body as a number", "message_send", json!({"to": ["claude"], "body": 5}), Refused("parameter `body`")),
        tool("body as null", "message_send", json!({"to": ["claude"], "body": null}), Refused("parameter `body`")),
        tool("ids as an object", "message_read", json!({"ids": {"a": "b"}}), Refused("parameter `ids`")),
        tool("references as an object", "message_send", json!({"to": ["claude"], "body": "hi", "refs": {"file": "x"}}), Refused("parameter `refs`")),
        tool("boolean as a string", "inbox_read", json!({"unread_only": "yes"}), Refused("parameter `unread_only`")),
        tool("unknown argument", "inbox_read", json!({"bogus": 1}), Refused("unknown field `bogus`")),
        tool("unknown priority", "message_send", json!({"to": ["claude"], "body": "hi", "priority": "mega"}), Refused("unknown variant `mega`")),
        message("arguments as an array", call("args-array", "whoami", json!([1])), RpcError(-32602, "arguments must be an object")),
        // Sizes.
        bytes("line over 16 MiB", format!(r#"{{"jsonrpc":"2.0","id":"huge","method":"ping","params":{{"a":"{}"}}}}"#, "x".repeat(17 << 20)), Value::Null, OverHttp(413, TOO_LARGE_FOR_HTTP, &RpcError(-32700, "longer than 16 MiB"))),
        bytes("5000 nested arrays", format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)), Value::Null, RpcError(-32700, "recursion limit")),
        tool("100 nested arrays as an argument", "inbox_read", json!({"thread": deep_argument}), Refused("parameter `thread`")),
        // Protocol garbage.
        bytes("not JSON", "hello, server", Value::Null, RpcError(-32700, "parse error")),
        bytes("invalid UTF-8", b"{\"jsonrpc\":\"2.0\",\"id\":\"utf8\",\"method\":\"ping\",\"params\":{\"a\":\"\xff\xfe\"}}".to_vec(), Value::Null, RpcError(-32700, "not valid UTF-8")),
        bytes("lone surrogate", r#"{"jsonrpc":"2.0","id":"lone","method":"ping","params":{"a":"\ud800"}}"#, json!("lone"), RpcError(-32700, "hex escape")),
        message("batch of requests", json!([{"jsonrpc": "2.0", "id": "in-batch", "method": "ping"}]), RpcError(-32600, "batches are not supported")),
        message("a bare number", json!(42), RpcError(-32600, "is an object")),
        message("missing jsonrpc", json!({"id": "no-version", "method": "ping"}), RpcError(-32600, "\"jsonrpc\" must be \"2.0\"")),
        message("method as a number", json!({"jsonrpc": "2.0", "id": "method-number", "method": 5}), RpcError(-32600, "\"method\" must be a string")),
        message("misspelled method", json!({"jsonrpc": "2.0", "id": "typo", "method": "tools/cal"}), RpcError(-32601, "unknown method 'tools/cal'")),
        message("notification sent with an id", json!({"jsonrpc": "2.0", "id": "notified", "method": "notifications/initialized"}), RpcError(-32600, "is a notification")),
        message("tool call without a name", json!({"jsonrpc": "2.0", "id": "nameless", "method": "tools/call", "params": {"arguments": {}}}), RpcError(-32602, "missing field `name`")),
        message("unknown tool", call("no-tool", "rm_rf", json!({})), RpcError(-32602, "no tool named 'rm_rf'")),
        message("id as an object", json!({"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}), RpcError(-32600, "\"id\" must be a string or an integer")),
        message("id as null", json!({"jsonrpc": "2.0", "id": null, "method": "ping"}), RpcError(-32600, "\"id\" must be a string or an integer")),
        message("id as a fraction", json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}), RpcError(-32600, "\"id\" must be a string or an integer")),
        message("params as an array", json!({"jsonrpc": "2.0", "id": "params-array", "method": "ping", "params": [1]}), RpcError(-32602, "must be an object")),
        message("unknown log level", json!({"jsonrpc": "2.0", "id": "level", "method": "logging/setLevel", "params": {"level": "loud"}}), RpcError(-32602, "invalid params for logging/setLevel")),
        message("reading a file as a resource", json!({"jsonrpc": "2.0", "id": "passwd", "method": "resources/read", "params": {"uri": "file:///etc/passwd"}}), RpcError(-32002, "no resource matches")),
        message("unknown notification", json!({"jsonrpc": "2.0", "method": "notifications/bogus"}), Silence),
        message("response nobody asked for", json!({"jsonrpc": "2.0", "id": "unasked", "result": {}}), Silence),
        // Branch and worktree names.
        tool("worktree name climbing out", "worktree_create", json!({"name": "../x"}), NOT_A_WORKTREE_NAME),
        tool("worktree name like an option", "worktree_create", json!({"name": "-rf"}), NOT_A_WORKTREE_NAME),
        tool("worktree name with a space", "worktree_create", json!({"name": "a b"}), NOT_A_WORKTREE_NAME),
        tool("worktree name with ~^:", "worktree_create", json!({"name": "a~b^c:d"}), NOT_A_WORKTREE_NAME),
        tool("branch refs/heads/..", "worktree_create", json!({"name": "ok", "branch": "refs/heads/.."}), NOT_A_BRANCH_NAME),
        tool("branch like an option", "worktree_create", json!({"name": "ok", "branch": "-rf"}), NOT_A_BRANCH_NAME),
        tool("branch with NUL", "worktree_create", json!({"name": "ok", "branch": "a\0b"}), NOT_A_BRANCH_NAME),
        tool("branch writing a file through git", "worktree_create", json!({"name": "ok", "branch": pwned}), NOT_A_BRANCH_NAME),
        tool("branch with a space", "worktree_create", json!({"name": "ok", "branch": "a b"}), NOT_A_BRANCH_NAME),
        tool("branch with ~^:", "worktree_create", json!({"name": "ok", "branch": "a~b^c:d"}), NOT_A_BRANCH_NAME),
        tool("base writing a file through git", "worktree_create", json!({"name": "ok", "base": pwned}), Refused("is not a commit")),
        tool("merge message with NUL", "worktree_merge", json!({"name": "nope", "message": "a\0b"}), NUL),
        tool("removing a worktree by a path outside", "worktree_remove", json!({"name": outside.display().to_string()}), Refused("no worktree matches")),
    ]
}

// ---------------------------------------------------------------------------------------
// Judging answers

/// How a server answered one message.
#[derive(Debug)]
enum Answer {
    /// A JSON-RPC response.
    Response(Value),
    /// No answer.
    Nothing,
    /// Refused by the HTTP transport before any JSON-RPC: its status and text.
    Http { status: u16, text: String },
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Response(response) => write!(f, "{}", excerpt(&response.to_string())),
            Answer::Nothing => write!(f, "no answer"),
            Answer::Http { status, text } => write!(f, "HTTP {status}: {}", excerpt(text)),
        }
    }
}

/// Asserts that the answer to the case `name` is what `expect` says, over HTTP or not.
fn assert_answer(name: &str, expect: &Expect, answer: &Answer, over_http: bool) {
    match (expect, answer) {
        (Expect::OverHttp(status, needle, _), Answer::Http { status: got, text }) if over_http => {
            assert_eq!(got, status, "{name}: {answer}");
            assert_clear(name, text, needle);
        }
        (Expect::OverHttp(.., over_stdio), answer) if !over_http => {
            assert_answer(name, over_stdio, answer, over_http)
        }
        (Expect::Refused(needle), Answer::Response(response)) => {
            assert_eq!(
                response["result"]["isError"], true,
                "{name}: not refused: {answer}"
            );
            assert_clear(name, &tool_text(response), needle);
        }
        (Expect::Served(needle), Answer::Response(response)) => {
            assert_ne!(response["result"]["isError"], true, "{name}: {answer}");
            assert!(tool_text(response).contains(needle), "{name}: {answer}");
        }
        (Expect::RpcError(code, needle), Answer::Response(response)) => {
            let error = &response["error"];
            assert_eq!(error["code"], *code, "{name}: {answer}");
            assert_clear(name, error["message"].as_str().unwrap_or(""), needle);
        }
        (Expect::Silence, Answer::Nothing) => {}
        _ => panic!("{name}: unexpected answer: {answer}"),
    }
}

/// Asserts that a refusal says what was wrong (contains `needle`) and nothing else a
/// caller could not use.
fn assert_clear(case: &str, text: &str, needle: &str) {
    let shown = excerpt(text);
    assert!(
        text.contains(needle),
        "{case}: the refusal does not say {needle:?}: {shown}"
    );
    for unclear in UNCLEAR {
        assert!(
            !text.contains(unclear),
            "{case}: the refusal contains {unclear:?}: {shown}"
        );
    }
}

/// The start of a long answer, for failure messages.
fn excerpt(text: &str) -> String {
    text.chars().take(500).collect()
}

/// The text content of a tool result.
fn tool_text(response: &Value) -> String {
    let content = response["result"]["content"].as_array();
    content
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------
// The attack

/// The whole attack on one connection: the cases before initialize, an agent's start (a
/// session and a message of its own), every hostile case, and a last look at the server.
async fn survive(sandbox: &Sandbox, connection: &mut impl Connection) {
    attack(connection, &before_initialize(), 1).await;
    connection.initialize().await;
    use_tool(
        connection,
        "session_start",
        json!({"intent": "survive hostile input"}),
    )
    .await;
    let mine = use_tool(
        connection,
        "message_send",
        json!({"to": ["claude"], "body": "a message of my own"}),
    )
    .await;
    let cases = hostile(&sandbox.watched(), mine["id"].as_str().unwrap());
    attack(connection, &cases, 100).await;

    let listed = request(
        connection,
        json!({"jsonrpc": "2.0", "id": "list", "method": "tools/list"}),
    )
    .await;
    assert!(
        listed["tools"].as_array().is_some_and(|t| t.len() > 30),
        "{listed}"
    );
    assert_eq!(
        use_tool(connection, "whoami", json!({})).await["agent"],
        "claude"
    );
}

/// Sends each case, asserts its answer, and asserts that the server still answers a ping.
async fn attack<C: Connection>(connection: &mut C, cases: &[Case], first_id: i64) {
    for (id, case) in (first_id..).zip(cases) {
        let (message, answer_id) = case.wire(id);
        let answer = connection.exchange(&message, answer_id.as_ref()).await;
        assert_answer(case.name, &case.expect, &answer, C::OVER_HTTP);
        connection.assert_alive(case.name).await;
    }
}

/// Sends a JSON-RPC request that must succeed and returns its result.
async fn request(connection: &mut impl Connection, message: Value) -> Value {
    let id = message["id"].clone();
    match connection
        .exchange(message.to_string().as_bytes(), Some(&id))
        .await
    {
        Answer::Response(response) if response.get("result").is_some() => {
            response["result"].clone()
        }
        other => panic!("{message}: {other}"),
    }
}

/// Calls a tool that must succeed and returns its structured result.
async fn use_tool(connection: &mut impl Connection, tool: &str, arguments: Value) -> Value {
    let result = request(connection, call(format!("use-{tool}"), tool, arguments)).await;
    assert_ne!(result["isError"], true, "{tool}: {result}");
    result["structuredContent"].clone()
}

fn ping(id: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

// ---------------------------------------------------------------------------------------
// The sandbox

/// A repository in a scratch root whose other folders stand for the rest of the machine:
/// the home, configuration and temporary folders the servers are given, and a watched
/// folder with a canary that hostile requests aim at (the repository holds a symlink to
/// it). Everything in the root but the repository's `.git` is recorded at the start.
struct Sandbox {
    repo: Repo,
    root: PathBuf,
    untouched: BTreeMap<PathBuf, (u64, SystemTime)>,
}

impl Sandbox {
    fn new() -> Sandbox {
        let repo = Repo::new();
        let root = repo.path.parent().unwrap().to_path_buf();
        for (_, folder) in ELSEWHERE {
            std::fs::create_dir(root.join(folder)).unwrap();
        }
        std::fs::create_dir(root.join("watched")).unwrap();
        std::fs::write(root.join("watched/canary"), CANARY).unwrap();
        std::os::unix::fs::symlink("../watched", repo.path.join("escape")).unwrap();
        let mut sandbox = Sandbox {
            repo,
            root,
            untouched: BTreeMap::new(),
        };
        sandbox.untouched = sandbox.files();
        sandbox
    }

    fn watched(&self) -> PathBuf {
        self.root.join("watched")
    }

    /// `switchboard ARGS` in the repository, with its home, configuration and temporary
    /// folders in the sandbox and its stdio piped.
    fn switchboard(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin());
        command
            .args(args)
            .current_dir(&self.repo.path)
            .env_remove("SWITCHBOARD_DB")
            .env_remove("SWITCHBOARD_AGENT")
            .env_remove("SWITCHBOARD_SESSION")
            .envs(ELSEWHERE.map(|(var, folder)| (var, self.root.join(folder))))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Every file and folder of the sandbox but the repository's `.git` (where the state
    /// database lives), with its size and modification time.
    fn files(&self) -> BTreeMap<PathBuf, (u64, SystemTime)> {
        let git = self.repo.path.join(".git");
        let mut found = BTreeMap::new();
        let mut folders = vec![self.root.clone()];
        while let Some(folder) = folders.pop() {
            let meta = std::fs::metadata(&folder).unwrap();
            found.insert(folder.clone(), (meta.len(), meta.modified().unwrap()));
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    if path != git {
                        folders.push(path);
                    }
                } else {
                    found.insert(path, (meta.len(), meta.modified().unwrap()));
                }
            }
        }
        found
    }

    /// Asserts that nothing was written in the sandbox outside the repository's `.git`.
    fn assert_untouched(&self) {
        let now = self.files();
        let changed: BTreeSet<_> = now
            .keys()
            .chain(self.untouched.keys())
            .filter(|path| now.get(*path) != self.untouched.get(*path))
            .collect();
        assert!(
            changed.is_empty(),
            "written outside the state directory: {changed:?}"
        );
        let canary = std::fs::read_to_string(self.watched().join("canary")).unwrap();
        assert_eq!(canary, CANARY);
    }
}

/// Everything a child process writes to stderr, once it closes it.
fn log_of(child: &mut Child) -> JoinHandle<String> {
    let mut stderr = child.stderr.take().unwrap();
    tokio::spawn(async move {
        let mut log = Vec::new();
        stderr.read_to_end(&mut log).await.ok();
        String::from_utf8_lossy(&log).into_owned()
    })
}

/// Asserts that a server's log shows no panic.
fn assert_no_panic(log: &str) {
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
}

// ---------------------------------------------------------------------------------------
// Connections

/// One client's connection to a server under attack.
trait Connection {
    const OVER_HTTP: bool;

    /// Sends `message` as one message and returns the answer, which must carry
    /// `answer_id` (`None`: no answer is due).
    async fn exchange(&mut self, message: &[u8], answer_id: Option<&Value>) -> Answer;

    /// Initializes the MCP session the next messages are sent in.
    async fn initialize(&mut self);

    /// Asserts that the server still answers a ping, `after` the case named.
    async fn assert_alive(&mut self, after: &str);
}

/// `switchboard mcp` over its stdin and stdout, one JSON-RPC message per line.
struct OverStdio {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    log: JoinHandle<String>,
}

impl OverStdio {
    fn start(sandbox: &Sandbox) -> OverStdio {
        let mut child = sandbox
            .switchboard(&["mcp", "--agent", "claude"])
            .spawn()
            .unwrap();
        OverStdio {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
            log: log_of(&mut child),
            child,
        }
    }

    /// Closes stdin, asserts that the server exits cleanly, and returns its log.
    async fn finish(mut self) -> String {
        drop(self.stdin);
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the server kept running after stdin closed")
            .unwrap();
        let log = self.log.await.unwrap();
        assert!(status.success(), "exit {status}:\n{log}");
        log
    }

    async fn read_answer(&mut self, id: &Value) -> Value {
        loop {
            let line = tokio::time::timeout(PATIENCE, self.stdout.next_line())
                .await
                .unwrap_or_else(|_| panic!("no answer with id {id} within {PATIENCE:?}"))
                .unwrap()
                .unwrap_or_else(|| panic!("the server closed stdout before answering {id}"));
            let answer: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {}", excerpt(&line)));
            if answer.get("method").is_some() {
                continue; // a notification of the server's own
            }
            assert_eq!(
                &answer["id"],
                id,
                "an answer to another message: {}",
                excerpt(&line)
            );
            return answer;
        }
    }
}

impl Connection for OverStdio {
    const OVER_HTTP: bool = false;

    async fn exchange(&mut self, message: &[u8], answer_id: Option<&Value>) -> Answer {
        self.stdin.write_all(message).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
        match answer_id {
            Some(id) => Answer::Response(self.read_answer(id).await),
            None => Answer::Nothing,
        }
    }

    async fn initialize(&mut self) {
        request(self, initialize()).await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.exchange(initialized.to_string().as_bytes(), None)
            .await;
    }

    async fn assert_alive(&mut self, after: &str) {
        let pong = request(self, ping("alive")).await;
        assert_eq!(pong, json!({}), "after {after}");
    }
}

/// `switchboard serve` with a bearer token, one POST per message. Its MCP session is
/// opened at the start (the pings need it); messages go without it until `initialize`.
struct OverHttp {
    child: Child,
    /// The server's stdout after its first line, kept open.
    _stdout: Lines<BufReader<ChildStdout>>,
    log: JoinHandle<String>,
    client: reqwest::Client,
    url: String,
    bearer: String,
    session: String,
    in_session: bool,
}

/// What came back for one POST.
struct Reply {
    status: u16,
    content_type: String,
    session: Option<String>,
    text: String,
}

impl OverHttp {
    async fn start(sandbox: &Sandbox) -> OverHttp {
        let created = sandbox
            .switchboard(&["token", "create", "--agent", "claude"])
            .output()
            .await
            .unwrap();
        assert!(created.status.success(), "{created:?}");
        let secret = String::from_utf8(created.stdout).unwrap();
        let mut child = sandbox
            .switchboard(&["serve", "--listen", "127.0.0.1:0"])
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = stdout.next_line().await.unwrap().unwrap_or_default();
        let url = first
            .strip_prefix("switchboard serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_string();
        let mut served = OverHttp {
            log: log_of(&mut child),
            child,
            _stdout: stdout,
            client: reqwest::Client::new(),
            url,
            bearer: format!("Bearer {}", secret.trim()),
            session: String::new(),
            in_session: false,
        };
        let opened = served
            .post(initialize().to_string().into_bytes(), false)
            .await;
        assert_eq!(opened.status, 200, "{}", opened.text);
        served.session = opened.session.expect("no mcp-session-id");
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let accepted = served
            .post(initialized.to_string().into_bytes(), true)
            .await;
        assert_eq!(accepted.status, 202, "{}", accepted.text);
        served
    }

    /// Stops the server with SIGTERM, asserts that it exits cleanly, and returns its log.
    async fn finish(mut self) -> String {
        let pid = rustix::process::Pid::from_raw(self.child.id().unwrap() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the server did not stop on SIGTERM")
            .unwrap();
        let log = self.log.await.unwrap();
        assert!(status.success(), "exit {status}:\n{log}");
        log
    }

    async fn post(&self, body: Vec<u8>, in_session: bool) -> Reply {
        let mut post = self
            .client
            .post(&self.url)
            .header("authorization", &self.bearer)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if in_session {
            post = post
                .header("mcp-session-id", &self.session)
                .header("mcp-protocol-version", PROTOCOL_VERSION);
        }
        let sent = async {
            let response = post.send().await.unwrap_or_else(|e| panic!("{e:?}"));
            let header = |name: &str| {
                let value = response.headers().get(name)?;
                Some(value.to_str().unwrap().to_string())
            };
            Reply {
                status: response.status().as_u16(),
                content_type: header("content-type").unwrap_or_default(),
                session: header("mcp-session-id"),
                text: response.text().await.unwrap(),
            }
        };
        tokio::time::timeout(PATIENCE, sent)
            .await
            .unwrap_or_else(|_| panic!("no answer within {PATIENCE:?}"))
    }
}

impl Connection for OverHttp {
    const OVER_HTTP: bool = true;

    async fn exchange(&mut self, message: &[u8], answer_id: Option<&Value>) -> Answer {
        let reply = self.post(message.to_vec(), self.in_session).await;
        if reply.status == 202 && reply.text.is_empty() {
            return Answer::Nothing;
        }
        let response = if reply.content_type.starts_with("text/event-stream") {
            reply
                .text
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .filter_map(|data| serde_json::from_str::<Value>(data).ok())
                .find(|message| message.get("method").is_none())
        } else if reply.content_type.starts_with("application/json") {
            serde_json::from_str(&reply.text).ok()
        } else {
            None
        };
        match response {
            Some(response) => {
                if let Some(id) = answer_id {
                    assert_eq!(
                        &response["id"],
                        id,
                        "an answer to another message: {}",
                        excerpt(&response.to_string())
                    );
                }
                Answer::Response(response)
            }
            None => Answer::Http {
                status: reply.status,
                text: reply.text,
            },
        }
    }

    async fn initialize(&mut self) {
        self.in_session = true;
    }

    async fn assert_alive(&mut self, after: &str) {
        let reply = self
            .post(ping("alive").to_string().into_bytes(), true)
            .await;
        assert!(
            reply.status == 200 && reply.text.contains(r#""result":{}"#),
            "after {after}: {} {}",
            reply.status,
            reply.text
        );
    }
}

// ---------------------------------------------------------------------------------------
// The tests

#[tokio::test]
async fn hostile_input_over_stdio_is_refused_clearly_and_changes_nothing_outside() {
    let sandbox = Sandbox::new();
    let mut stdio = OverStdio::start(&sandbox);
    survive(&sandbox, &mut stdio).await;
    assert_no_panic(&stdio.finish().await);
    sandbox.assert_untouched();
}

#[tokio::test]
async fn hostile_input_over_http_is_refused_clearly_and_changes_nothing_outside() {
    let sandbox = Sandbox::new();
    let mut http = OverHttp::start(&sandbox).await;
    survive(&sandbox, &mut http).await;
    assert_no_panic(&http.finish().await);
    sandbox.assert_untouched();
}
