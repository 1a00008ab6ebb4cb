//! Events as read back from the log, with any JSON payload (another version may have
//! written it): `Event::mail_for` (hooks, `messages watch`, the editor's urgent alerts)
//! and `affected_resources` (MCP resource notifications). Input: the event type, a
//! newline, the reader (an agent name, empty for none), a newline, the payload JSON. They
//! read leniently: no panic, and what they report follows from the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_core::clock::Timestamp;
use switchboard_core::event::{Event, kind};
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
    let event = Event {
        seq: 7,
        id: "evt_01JD2N5Q7Z8K3M4P5R6S7T8V9W".into(),
        kind: kind_name.into(),
        actor: Some("ann".into()),
        payload,
        at: Timestamp(1_780_000_000_000),
    };

    if let Some(id) = event.mail_for(reader) {
        assert_eq!(event.kind, kind::MESSAGE_SENT);
        assert_eq!(event.payload["id"].as_str(), Some(id));
        let recipients = event.payload["recipients"].as_array();
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
    if event.kind == kind::MESSAGE_SENT {
        let mine = agent.is_some_and(|a| event.mail_for(a).is_some());
        let inbox = uris.iter().any(|u| u == "switchboard://inbox");
        // The inbox changes for the recipients; an event without a message id still
        // names them.
        assert!(inbox || !mine, "{uris:?}");
    }

    // What a process writes to the log, another reads back.
    let text = serde_json::to_string(&event).expect("an event serialises");
    let back: Event = serde_json::from_str(&text).expect("an event reads back");
    assert_eq!(
        (back.seq, &back.kind, back.at),
        (event.seq, &event.kind, event.at)
    );
});
