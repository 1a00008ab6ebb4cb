//! The framing in front of rmcp: every line a stdio client sends (and every POST body
//! over HTTP, through [`judge`]) either reaches the server or is answered with a
//! JSON-RPC error at once, so no request waits forever on input the protocol library
//! would drop or answer vaguely (not JSON, not UTF-8, too long, too deep, a lone
//! surrogate, a batch, an id that is not a string or an integer, a notification sent with
//! an id, `arguments` that are not an object).

use std::sync::Arc;

#[allow(deprecated)] // logging/setLevel and resources/subscribe still exist in 2025-11-25
use rmcp::model::{
    CallToolRequestParams, CompleteRequestParams, GetPromptRequestParams, InitializeRequestParams,
    ReadResourceRequestParams, SetLevelRequestParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

/// The longest line accepted, in bytes (newline excluded).
pub const MAX_LINE: usize = 16 * 1024 * 1024;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// What becomes of one line from the client.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// A well-formed message: the server handles it.
    Forward,
    /// A blank line: nothing to do.
    Skip,
    /// Not for the server: answer the client with this JSON-RPC error response.
    Answer(Value),
}

/// Judges one line (without its newline) the way the server would need it to be.
pub fn judge(line: &[u8]) -> Verdict {
    judge_in(line, Era::Sessions)
}

/// The protocol era of a request, as far as judging it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Sessions begun with `initialize` (stdio, and HTTP up to 2025-11-25).
    Sessions,
    /// Stateless requests (HTTP from 2026-07-28): the methods it removed are the server's
    /// to answer (404 and -32601), whatever their params.
    Stateless,
}

/// Methods the stateless era removed.
const REMOVED_WHEN_STATELESS: [&str; 4] = [
    "initialize",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// Whether the stateless era (2026-07-28) removed `method`.
pub(crate) fn removed_when_stateless(method: &str) -> bool {
    REMOVED_WHEN_STATELESS.contains(&method)
}

/// [`judge`] for a request of `era`.
pub fn judge_in(line: &[u8], era: Era) -> Verdict {
    let line = line.trim_ascii();
    if line.is_empty() {
        return Verdict::Skip;
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return answer(
            Value::Null,
            PARSE_ERROR,
            "parse error: the line is not valid UTF-8".into(),
        );
    };
    match serde_json::from_str::<Value>(text) {
        Err(e) => answer(probe_id(text), PARSE_ERROR, format!("parse error: {e}")),
        Ok(Value::Array(_)) => answer(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: batches are not supported; send one JSON-RPC message per line".into(),
        ),
        Ok(Value::Object(message)) if is_removed_in(era, &message) => Verdict::Forward,
        Ok(Value::Object(message)) => match judge_object(&message) {
            Verdict::Forward => unreadable_request(text, &message).unwrap_or(Verdict::Forward),
            verdict => verdict,
        },
        Ok(_) => answer(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: a JSON-RPC message is an object".into(),
        ),
    }
}

/// Whether `message` is a well-formed request for a method `era` removed: the server says
/// it is not found, so its params are not judged here.
fn is_removed_in(era: Era, message: &serde_json::Map<String, Value>) -> bool {
    era == Era::Stateless
        && message.get("jsonrpc") == Some(&json!("2.0"))
        && message.get("id").is_some_and(is_usable_id)
        && message
            .get("method")
            .and_then(Value::as_str)
            .is_some_and(removed_when_stateless)
}

fn judge_object(message: &serde_json::Map<String, Value>) -> Verdict {
    let id = message
        .get("id")
        .filter(|id| is_usable_id(id))
        .cloned()
        .unwrap_or(Value::Null);
    if message.get("jsonrpc") != Some(&json!("2.0")) {
        return answer(
            id,
            INVALID_REQUEST,
            "invalid request: \"jsonrpc\" must be \"2.0\"".into(),
        );
    }
    let is_response = message.contains_key("result") || message.contains_key("error");
    if is_response {
        return Verdict::Forward;
    }
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return answer(
            id,
            INVALID_REQUEST,
            "invalid request: \"method\" must be a string".into(),
        );
    };
    if let Some(bad) = message.get("id").filter(|id| !is_usable_id(id)) {
        return answer(
            Value::Null,
            INVALID_REQUEST,
            format!("invalid request: \"id\" must be a string or an integer, not {bad}"),
        );
    }
    if method.starts_with("notifications/") && message.contains_key("id") {
        return answer(
            id,
            INVALID_REQUEST,
            format!("invalid request: {method} is a notification: send it without an id"),
        );
    }
    let params = message.get("params");
    if params.is_some_and(|p| !p.is_object() && !p.is_null()) {
        return answer(
            id,
            INVALID_PARAMS,
            format!("invalid params: the params of {method} must be an object"),
        );
    }
    let arguments = params.and_then(|p| p.get("arguments"));
    if method == "tools/call" && arguments.is_some_and(|a| !a.is_object() && !a.is_null()) {
        return answer(
            id,
            INVALID_PARAMS,
            "invalid params: tools/call arguments must be an object of named arguments, like {\"intent\": \"…\"}".into(),
        );
    }
    if let Some(fault) = params_fault(method, params) {
        return answer(
            id,
            INVALID_PARAMS,
            format!("invalid params for {method}: {fault}"),
        );
    }
    Verdict::Forward
}

/// Whether `method` is one of the MCP requests this server answers.
pub(crate) fn is_known_method(method: &str) -> bool {
    const METHODS: [&str; 15] = [
        "initialize",
        "ping",
        "server/discover",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "subscriptions/listen",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
    ];
    METHODS.contains(&method)
}

/// What is wrong with the `params` of a request for `method`, when it is an MCP method
/// with required params and they do not fit: rmcp would take such a request for one of
/// an unknown method and answer it with the bare method name.
#[allow(deprecated)]
pub(crate) fn params_fault(method: &str, params: Option<&Value>) -> Option<String> {
    fn fault<T: DeserializeOwned>(params: &Value) -> Option<String> {
        T::deserialize(params).err().map(|e| e.to_string())
    }
    let empty = json!({});
    let params = params.filter(|p| !p.is_null()).unwrap_or(&empty);
    match method {
        "initialize" => fault::<InitializeRequestParams>(params),
        "tools/call" => fault::<CallToolRequestParams>(params),
        "resources/read" => fault::<ReadResourceRequestParams>(params),
        "resources/subscribe" => fault::<SubscribeRequestParams>(params),
        "resources/unsubscribe" => fault::<UnsubscribeRequestParams>(params),
        "prompts/get" => fault::<GetPromptRequestParams>(params),
        "completion/complete" => fault::<CompleteRequestParams>(params),
        "logging/setLevel" => fault::<SetLevelRequestParams>(params),
        _ => None,
    }
}

/// Whether `id` can identify a request: a string or an integer (also written as `1.0`,
/// below 2^53 where a float is still exact, as rmcp reads it), as MCP requires. Anything
/// else could not be answered under the id the client sent.
fn is_usable_id(id: &Value) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let integral = |f: f64| f.fract() == 0.0 && f.abs() < EXACT;
    id.is_string() || id.is_i64() || id.as_f64().is_some_and(integral)
}

/// The id of a line that is not valid JSON as a whole (say, a lone surrogate deep in
/// its params), if its top level still names one.
fn probe_id(text: &str) -> Value {
    #[derive(serde::Deserialize)]
    struct Probe {
        id: Option<Value>,
    }
    serde_json::from_str::<Probe>(text)
        .ok()
        .and_then(|p| p.id)
        .filter(is_usable_id)
        .unwrap_or(Value::Null)
}

/// The answer to a request that passed every check above but that rmcp still cannot
/// read (a key given twice at the top level, say): rmcp would answer it with id null,
/// never under the id the client waits on.
fn unreadable_request(text: &str, message: &serde_json::Map<String, Value>) -> Option<Verdict> {
    let is_request = message.contains_key("method")
        && !message.contains_key("result")
        && !message.contains_key("error");
    let id = message.get("id").filter(|_| is_request)?;
    let error = serde_json::from_str::<rmcp::model::ClientJsonRpcMessage>(text).err()?;
    Some(answer(
        id.clone(),
        INVALID_REQUEST,
        format!(
            "invalid request: not a JSON-RPC request MCP can read ({error}); is a key given twice?"
        ),
    ))
}

fn answer(id: Value, code: i64, message: String) -> Verdict {
    Verdict::Answer(
        json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    )
}

/// Puts the framing between a client's `input`/`output` and a server: returns the
/// reader and writer to serve on, and a task that ends once everything the server and
/// the framing said has reached `output` (await it before exiting).
pub fn guard<R, W>(
    input: R,
    output: W,
) -> (
    (tokio::io::DuplexStream, tokio::io::DuplexStream),
    JoinHandle<()>,
)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (to_server, server_reads) = tokio::io::duplex(64 * 1024);
    let (server_writes, from_server) = tokio::io::duplex(64 * 1024);
    let (answers, answered) = mpsc::unbounded_channel();
    tokio::spawn(read_client(BufReader::new(input), to_server, answers));
    let written = tokio::spawn(write_client(BufReader::new(from_server), answered, output));
    ((server_reads, server_writes), written)
}

async fn read_client<R: AsyncBufRead + Unpin>(
    mut input: R,
    mut to_server: tokio::io::DuplexStream,
    answers: mpsc::UnboundedSender<Value>,
) {
    let mut line = Vec::new();
    loop {
        let verdict = match next_line(&mut input, &mut line).await {
            Ok(Line::End) | Err(_) => return,
            Ok(Line::TooLong) => answer(
                Value::Null,
                PARSE_ERROR,
                format!(
                    "parse error: the line is longer than {} MiB; send smaller messages",
                    MAX_LINE >> 20
                ),
            ),
            Ok(Line::Complete) => judge(&line),
        };
        match verdict {
            Verdict::Skip => {}
            Verdict::Answer(error) => {
                tracing::debug!(bytes = line.len(), "answered a malformed line");
                if answers.send(error).is_err() {
                    return;
                }
            }
            Verdict::Forward => {
                if !line.ends_with(b"\n") {
                    line.push(b'\n');
                }
                if to_server.write_all(&line).await.is_err() {
                    return;
                }
            }
        }
    }
}

enum Line {
    Complete,
    TooLong,
    End,
}

/// Reads one line into `line` (keeping its newline), never holding more than
/// [`MAX_LINE`] bytes: a longer line is consumed and reported as [`Line::TooLong`].
async fn next_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    line.clear();
    let mut too_long = false;
    loop {
        let chunk = input.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Complete,
            });
        }
        let (take, ends) = match chunk.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long && line.len() + take > MAX_LINE + 1 {
            too_long = true;
            line.clear();
        }
        if !too_long {
            line.extend_from_slice(&chunk[..take]);
        }
        input.consume(take);
        if ends {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

/// Copies the server's lines and the framing's answers to `output`, a whole line at a
/// time, until the server closes its side; then writes the answers still queued.
async fn write_client<W: AsyncWrite + Unpin>(
    mut from_server: BufReader<tokio::io::DuplexStream>,
    mut answered: mpsc::UnboundedReceiver<Value>,
    output: W,
) {
    let output = Arc::new(Mutex::new(output));
    let mut line = Vec::new();
    loop {
        line.clear();
        tokio::select! {
            read = from_server.read_until(b'\n', &mut line) => {
                if matches!(read, Ok(0) | Err(_)) {
                    break;
                }
                if write_line(&output, &line).await.is_err() {
                    return;
                }
            }
            Some(error) = answered.recv() => {
                if write_line(&output, format!("{error}\n").as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
    while let Ok(error) = answered.try_recv() {
        if write_line(&output, format!("{error}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn write_line<W: AsyncWrite + Unpin>(output: &Mutex<W>, line: &[u8]) -> std::io::Result<()> {
    let mut output = output.lock().await;
    output.write_all(line).await?;
    output.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_id(verdict: Verdict) -> (i64, Value) {
        match verdict {
            Verdict::Answer(v) => (v["error"]["code"].as_i64().unwrap(), v["id"].clone()),
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn a_method_the_stateless_era_removed_is_left_to_the_server_there() {
        let line = br#"{"jsonrpc":"2.0","id":4,"method":"initialize","params":{}}"#;
        assert_eq!(code_and_id(judge(line)), (INVALID_PARAMS, json!(4)));
        assert_eq!(judge_in(line, Era::Stateless), Verdict::Forward);
        let garbage = br#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{}}"#;
        assert_eq!(
            code_and_id(judge_in(garbage, Era::Stateless)),
            (INVALID_PARAMS, json!(4)),
            "other methods are judged as ever"
        );
    }

    #[test]
    fn well_formed_messages_go_to_the_server() {
        for line in [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":"a","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#,
        ] {
            assert_eq!(judge(line.as_bytes()), Verdict::Forward, "{line}");
        }
        assert_eq!(judge(b"  \r"), Verdict::Skip);
    }

    #[test]
    fn garbage_is_answered_with_the_request_id_when_it_can_be_found() {
        assert_eq!(code_and_id(judge(b"hello")), (PARSE_ERROR, Value::Null));
        assert_eq!(
            code_and_id(judge(b"{\"jsonrpc\":\"2.0\",\"id\":1,\xff}")),
            (PARSE_ERROR, Value::Null)
        );
        assert_eq!(
            code_and_id(judge(
                br#"{"jsonrpc":"2.0","id":7,"method":"ping","params":{"a":"\ud800"}}"#
            )),
            (PARSE_ERROR, json!(7)),
            "a lone surrogate in the params"
        );
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            code_and_id(judge(deep.as_bytes())),
            (PARSE_ERROR, Value::Null)
        );
        assert_eq!(code_and_id(judge(b"[1,2]")), (INVALID_REQUEST, Value::Null));
        assert_eq!(code_and_id(judge(b"42")), (INVALID_REQUEST, Value::Null));
        assert_eq!(
            code_and_id(judge(br#"{"id":11}"#)),
            (INVALID_REQUEST, json!(11))
        );
        assert_eq!(
            code_and_id(judge(br#"{"jsonrpc":"2.0","id":12,"method":3}"#)),
            (INVALID_REQUEST, json!(12))
        );
        for bad_id in ["null", "{}", "[1]", "1.5", "1e16", "1e30", "true"] {
            let line = format!(r#"{{"jsonrpc":"2.0","id":{bad_id},"method":"ping"}}"#);
            assert_eq!(
                code_and_id(judge(line.as_bytes())),
                (INVALID_REQUEST, Value::Null),
                "{line}"
            );
        }
        assert_eq!(
            judge(br#"{"jsonrpc":"2.0","id":2.0,"method":"ping"}"#),
            Verdict::Forward,
            "an integer in float form"
        );
        assert_eq!(
            code_and_id(judge(
                br#"{"jsonrpc":"2.0","id":13,"method":"notifications/initialized"}"#
            )),
            (INVALID_REQUEST, json!(13)),
            "a notification sent as a request"
        );
        assert_eq!(
            code_and_id(judge(
                br#"{"jsonrpc":"2.0","id":14,"method":"ping","id":14}"#
            )),
            (INVALID_REQUEST, json!(14)),
            "a key given twice, which rmcp cannot read"
        );
        for arguments in ["[1]", "\"text\"", "3"] {
            let line = format!(
                r#"{{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{{"name":"whoami","arguments":{arguments}}}}}"#
            );
            assert_eq!(
                code_and_id(judge(line.as_bytes())),
                (INVALID_PARAMS, json!("c")),
                "{line}"
            );
        }
    }

    #[tokio::test]
    async fn an_over_long_line_is_consumed_and_the_next_line_still_read() {
        let mut input = format!("{}\n{{\"x\":1}}\n", "a".repeat(MAX_LINE + 10)).into_bytes();
        input.extend_from_slice(b"last");
        let mut reader = BufReader::new(&input[..]);
        let mut line = Vec::new();
        assert!(matches!(
            next_line(&mut reader, &mut line).await.unwrap(),
            Line::TooLong
        ));
        assert!(line.len() <= MAX_LINE + 1);
        assert!(matches!(
            next_line(&mut reader, &mut line).await.unwrap(),
            Line::Complete
        ));
        assert_eq!(line, b"{\"x\":1}\n");
        assert!(matches!(
            next_line(&mut reader, &mut line).await.unwrap(),
            Line::Complete
        ));
        assert_eq!(line, b"last");
        assert!(matches!(
            next_line(&mut reader, &mut line).await.unwrap(),
            Line::End
        ));
    }
}
