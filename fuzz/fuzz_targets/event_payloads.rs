//! Events as read back from the log, with any JSON payload (another version may have
//! written it): `Change::read` and its questions (`mail_for`: hooks, `messages watch`,
//! the editor's urgent alerts; `affected_resources`: MCP resource notifications). Input: the event type, a
//! newline, the reader (an agent name, empty for none), a newline, the payload JSON. They
//! read leniently: no panic, and what they report follows from the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_core::clock::Timestamp;
use switchboard_core::event::{Change, Event};
use switchboard_mcp::affected_resources;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let (Some(Ok(kind_name)), Some(Ok(reader)), Some(payload)) = (
        parts.next().map(std::str::from_utf8),
        parts.next().map(std::str::from_utf8),
        parts.next(),
    ) else {
        return;
    };
    let Ok(payload) = serde_json::from_slice::<Value>(payload) else {
        return;
    };
    let change = Change::read(kind_name, payload.clone());
    let event = Event {
        seq: 7,
        id: "evt_01JD2N5Q7Z8K3M4P5R6S7T8V9W".into(),
        kind: kind_name.into(),
        actor: Some("ann".into()),
        change,
        at: Timestamp(1_780_000_000_000),
    };

    if let Some(id) = event.change.mail_for(reader) {
        assert_eq!(event.kind, "message.sent");
        assert_eq!(payload["id"].as_str(), Some(id));
        let recipients = payload["recipients"].as_array();
        assert!(recipients.is_some_and(|r| r.contains(&Value::from(reader))));
    }

    let agent = (!reader.is_empty()).then_some(reader);
    let uris = affected_resources(&event, agent);
    for uri in &uris {
        assert!(
            uri == "switchboard://inbox"
                || uri == "switchboard://sessions"
                || uri.starts_with("switchboard://threads/"),
            "{uri}"
        );
    }
    if !event.kind.starts_with("message.") && !event.kind.starts_with("session.") {
        assert!(uris.is_empty(), "{}: {uris:?}", event.kind);
    }
    if event.change == Change::Unknown {
        assert!(uris.is_empty() && event.change.topics().is_empty());
    }
    if event.kind == "message.sent" {
        let mine = agent.is_some_and(|a| event.change.mail_for(a).is_some());
        let inbox = uris.iter().any(|u| u == "switchboard://inbox");
        assert!(inbox || !mine, "{uris:?}");
    }

    // What a process writes to the log, another reads back as the same change.
    let written = serde_json::to_value(&event.change).expect("a change serialises");
    if event.change != Change::Unknown {
        assert_eq!(written["type"].as_str(), Some(kind_name));
        assert_eq!(Change::read(kind_name, written["payload"].clone()), event.change);
    }
});
