//! One stdio line (or HTTP body) → `framing::judge`. What it promises: a blank line is
//! skipped; what it forwards is a JSON-RPC 2.0 object rmcp can read (so a request never
//! gets an uncorrelated answer or none); anything else is answered at once with a
//! one-line JSON-RPC error carrying the request's id when the line names one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_mcp::framing::{Verdict, judge};

const PARSE_ERROR: i64 = -32700;

fn is_id(id: &Value) -> bool {
    id.is_string() || id.is_number()
}

fuzz_target!(|line: &[u8]| {
    let trimmed = line.trim_ascii();
    let parsed = std::str::from_utf8(trimmed)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(text).ok());
    match judge(line) {
        Verdict::Skip => assert!(trimmed.is_empty(), "skipped a non-blank line"),
        Verdict::Forward => {
            let Some(Value::Object(message)) = parsed else {
                panic!("forwarded a line that is not a JSON object");
            };
            assert_eq!(message.get("jsonrpc"), Some(&Value::from("2.0")));
            let is_request = message.get("id").is_some_and(is_id)
                && message.get("method").is_some_and(Value::is_string)
                && !message.contains_key("result")
                && !message.contains_key("error");
            if is_request {
                // rmcp answers a request it cannot read with id null: the client would
                // wait forever for the answer to its own id.
                let read = serde_json::from_slice::<rmcp::model::ClientJsonRpcMessage>(trimmed);
                assert!(
                    read.is_ok(),
                    "forwarded a request rmcp cannot read: {read:?}"
                );
            }
        }
        Verdict::Answer(answer) => {
            assert!(!trimmed.is_empty(), "answered a blank line");
            assert!(
                !answer.to_string().contains('\n'),
                "a stdio answer is one line"
            );
            let object = answer.as_object().expect("an answer is an object");
            assert_eq!(object.len(), 3, "{answer}");
            assert_eq!(answer["jsonrpc"], "2.0");
            let code = answer["error"]["code"].as_i64().expect("an error code");
            assert!([PARSE_ERROR, -32600, -32602].contains(&code), "{answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{answer}");
            assert_eq!(code == PARSE_ERROR, parsed.is_none(), "{answer}");
            // The request's id when it is a string or an integer (what MCP allows), else
            // null: never another id. (A line that is not JSON may still name its id.)
            let id = &answer["id"];
            let sent = parsed.as_ref().and_then(|p| p.get("id"));
            assert!(
                id.is_null() || Some(id) == sent || (parsed.is_none() && is_id(id)),
                "{answer}"
            );
            if let Some(sent) = sent.filter(|id| id.is_string() || id.is_i64()) {
                assert_eq!(id, sent, "the answer must carry the request's id");
            }
            // The answer itself is a JSON-RPC message a client library reads.
            let read = serde_json::from_value::<rmcp::model::ServerJsonRpcMessage>(answer.clone());
            assert!(read.is_ok(), "{answer}: {read:?}");
        }
    }
});
