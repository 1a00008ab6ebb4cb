//! The LSP companion over a real byte stream (`switchboard_lsp::serve`, Content-Length
//! framing included), after an `initialize` whose only folder cannot be opened (its state
//! database path is unusable), so nothing is written anywhere. The first byte says what
//! the rest is:
//! - `p`: params for every custom request and argument for every command: each request is
//!   answered once, with invalid params (a bad value or "no repository open") or, for
//!   `switchboard/state`, an empty state;
//! - `b`: one message body, framed for it;
//! - anything else: raw bytes on the stream.
//!
//! Always: no panic, and the output is well-framed JSON-RPC 2.0.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use switchboard_lsp::protocol::{self, command};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INVALID_PARAMS: i64 = -32602;
const REQUESTS: &[&str] = &[
    protocol::STATE,
    protocol::THREAD,
    protocol::INBOX,
    protocol::SESSION,
    protocol::WORKTREE,
];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn frame(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}

fn message(out: &mut Vec<u8>, value: &Value) {
    frame(out, value.to_string().as_bytes());
}

/// The server's output, checked to be well-framed JSON-RPC, as messages.
fn messages(mut output: &[u8]) -> Vec<Value> {
    let mut all = Vec::new();
    while !output.is_empty() {
        let end = output
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block ends with an empty line");
        let headers = std::str::from_utf8(&output[..end]).expect("ASCII headers");
        let length: usize = headers
            .lines()
            .find_map(|h| h.strip_prefix("Content-Length: "))
            .and_then(|n| n.trim().parse().ok())
            .expect("a Content-Length header");
        let body = &output[end + 4..end + 4 + length];
        let value: Value = serde_json::from_slice(body).expect("a JSON body");
        assert_eq!(value["jsonrpc"], "2.0", "{value}");
        all.push(value);
        output = &output[end + 4 + length..];
    }
    all
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut initialize = Vec::new();
    message(
        &mut initialize,
        &json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "processId": null, "capabilities": {},
            "workspaceFolders": [{"uri": "file:///nonexistent/switchboard-fuzz", "name": "fuzz"}],
        }}),
    );
    let mut input = Vec::new();
    message(
        &mut input,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    let mut expected = HashMap::new();
    match mode {
        b'p' => {
            let Ok(params) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            for (n, method) in REQUESTS.iter().enumerate() {
                let id = format!("r{n}");
                message(
                    &mut input,
                    &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
                );
                expected.insert(id, *method);
            }
            for (n, name) in command::ALL.iter().enumerate() {
                let id = format!("c{n}");
                message(
                    &mut input,
                    &json!({"jsonrpc": "2.0", "id": id, "method": "workspace/executeCommand",
                        "params": {"command": name, "arguments": [params]}}),
                );
                expected.insert(id, *name);
            }
        }
        b'b' => frame(&mut input, rest),
        _ => input.extend_from_slice(rest),
    }
    let config = switchboard_lsp::Config {
        db: Some("/dev/null/switchboard-fuzz/state.db".into()),
        human: Some("human:fuzz".into()),
        ..Default::default()
    };
    let output = runtime().block_on(async {
        let (mut client_out, server_in) = tokio::io::duplex(64 * 1024);
        let (server_out, mut client_in) = tokio::io::duplex(64 * 1024);
        let serve = switchboard_lsp::serve(server_in, server_out, config);
        let client = async {
            // Like an editor: nothing more until `initialize` is answered.
            client_out.write_all(&initialize).await.expect("write");
            let mut output = Vec::new();
            while !output.windows(11).any(|w| w == br#""id":"init""#) {
                let read = client_in.read_buf(&mut output).await.expect("read");
                assert!(read > 0, "the server ended before answering initialize");
            }
            let send = async {
                client_out.write_all(&input).await.expect("write");
                drop(client_out);
            };
            let (_, read) = tokio::join!(send, client_in.read_to_end(&mut output));
            read.expect("read the output");
            output
        };
        tokio::join!(serve, client).1
    });
    let mut answered = HashMap::new();
    for reply in messages(&output) {
        let Some(id) = reply["id"].as_str() else {
            continue;
        };
        let Some(&method) = expected.get(id) else {
            continue;
        };
        assert!(
            answered.insert(id.to_string(), reply.clone()).is_none(),
            "{method} answered twice"
        );
        if method == protocol::STATE && reply.get("result").is_some() {
            assert_eq!(reply["result"]["repos"], json!([]), "{reply}");
            continue;
        }
        assert_eq!(reply["error"]["code"], INVALID_PARAMS, "{method}: {reply}");
    }
    assert_eq!(answered.len(), expected.len(), "unanswered requests");
});
