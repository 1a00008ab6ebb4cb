//! The messaging tools over MCP, including waits across servers on one database.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Harness, connect, ok, refused};

/// Three agents with sessions: lead, ann (reviewer) and bob (reviewer).
async fn team(h: &Harness) -> [switchboard_mcp::client::AgentClient; 3] {
    let lead = h.client(Some("lead")).await;
    let ann = h.client(Some("ann")).await;
    let bob = h.client(Some("bob")).await;
    ok(&lead, "session_start", json!({"intent": "lead the work"})).await;
    ok(
        &ann,
        "session_start",
        json!({"intent": "review", "role": "reviewer"}),
    )
    .await;
    ok(
        &bob,
        "session_start",
        json!({"intent": "review too", "role": "reviewer"}),
    )
    .await;
    [lead, ann, bob]
}

fn ids(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

crate::every_backend! {
    async fn send_reply_thread_inbox_read_ack_and_sent(backend) {
        let h = Harness::on(backend);
        let [lead, ann, bob] = team(&h).await;
        let sent = ok(
            &lead,
            "message_send",
            json!({
                "to": ["@reviewer"], "subject": "Review PR 12", "body": "Please look at `parser.rs`.",
                "priority": "high", "ack_required": true,
                "refs": ["file:src/parser.rs:10-40"]
            }),
        )
        .await;
        // The answer says where it went; it does not echo what was just written.
        assert_eq!(sent["to"], json!(["@reviewer"]));
        assert!(
            sent["thread"].as_str().unwrap().starts_with("thr_"),
            "{sent}"
        );
        assert_eq!(sent.get("body"), None, "{sent}");
        let got = ok(&lead, "message_get", json!({"message": sent["id"]})).await;
        assert_eq!(got["message"]["sender"], "lead");
        assert_eq!(
            got["message"]["refs"],
            json!(["file:src/parser.rs:10-40"]),
            "refs come back in the form they are given"
        );
        assert_eq!(got["message"]["ack_required"], true);

        let inbox = ok(&ann, "inbox_read", json!({})).await;
        assert_eq!(inbox["unread"], 1);
        assert_eq!(inbox["messages"][0]["state"], "delivered");
        assert_eq!(inbox["messages"][0]["priority"], "high");
        let started = ok(&ann, "session_start", json!({"intent": "review PR 12"})).await;
        assert_eq!(
            started["unread"], 1,
            "session_start reports unread messages"
        );

        let answer = ok(
            &ann,
            "message_reply",
            json!({"message": sent["id"], "body": "Looks good."}),
        )
        .await;
        assert_eq!(answer["thread"], sent["thread"]);
        let mut to: Vec<String> = answer["to"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().into())
            .collect();
        to.sort();
        assert_eq!(
            to,
            ["bob", "lead"],
            "a reply goes to the thread's other participants"
        );

        let thread = ok(&bob, "thread_get", json!({"thread": sent["thread"]})).await;
        let bodies: Vec<&str> = thread["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["Please look at `parser.rs`.", "Looks good."]);

        // Ann replied, which read the message for her; bob acknowledges it.
        let read = ok(&ann, "message_read", json!({"ids": [sent["id"]]})).await;
        assert_eq!(read["marked"], json!([sent["id"]]));
        assert_eq!(read["unread"], 0);
        let acked = ok(
            &bob,
            "message_read",
            json!({"ids": [sent["id"]], "ack": true}),
        )
        .await;
        assert_eq!(acked["marked"], json!([sent["id"]]));
        let mine = ok(&lead, "message_sent", json!({})).await;
        let states: Vec<(String, String)> = mine["sent"][0]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["recipient"].as_str().unwrap().into(),
                    d["state"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("ann".into(), "read".into()),
                ("bob".into(), "acked".into())
            ]
        );
        let msg = refused(
            &lead,
            "message_read",
            json!({"ids": [sent["id"]], "ack": true}),
        )
        .await;
        assert!(msg.contains("not a recipient"), "{msg}");
    }
}

crate::every_backend! {
    async fn send_refusals_are_tool_errors_that_name_the_problem(backend) {
        let h = Harness::on(backend);
        let [lead, _ann, _bob] = team(&h).await;
        let msg = refused(
            &lead,
            "message_send",
            json!({"to": ["ann", "ghost"], "body": "hi"}),
        )
        .await;
        assert!(
            msg.contains("unknown recipient 'ghost'")
                && msg.contains("nothing was sent")
                && ["ann", "bob", "lead"].iter().all(|n| msg.contains(n))
                && msg.contains("Known:")
                && msg.contains("@everyone"),
            "{msg}"
        );
        let msg = refused(
            &lead,
            "message_send",
            json!({"to": ["@nobody"], "body": "hi"}),
        )
        .await;
        assert!(msg.contains("unknown recipient '@nobody'"), "{msg}");
        let big = "x".repeat(64 * 1024 + 1);
        let msg = refused(&lead, "message_send", json!({"to": ["ann"], "body": big})).await;
        assert!(msg.contains("64 KiB"), "{msg}");
        let msg = refused(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "x", "priority": "asap"}),
        )
        .await;
        assert!(msg.contains("failed to deserialize parameters"), "{msg}");
        let msg = refused(&lead, "thread_get", json!({"thread": "thr_0000000000"})).await;
        assert!(msg.contains("no thread matches"), "{msg}");
        assert_eq!(
            ok(&lead, "message_sent", json!({})).await["sent"],
            json!([]),
            "nothing was sent"
        );
    }
}

crate::every_backend! {
    async fn edit_history_delete_tombstone_and_permissions(backend) {
        let h = Harness::on(backend);
        let [lead, ann, _bob] = team(&h).await;
        let m = ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "first draft"}),
        )
        .await;
        let msg = refused(
            &ann,
            "message_edit",
            json!({"message": m["id"], "body": "hijacked"}),
        )
        .await;
        assert!(msg.contains("only its author (lead)"), "{msg}");
        ok(
            &lead,
            "message_edit",
            json!({"message": m["id"], "body": "second draft"}),
        )
        .await;
        let detail = ok(
            &ann,
            "message_get",
            json!({"message": m["id"], "history": true}),
        )
        .await;
        assert_eq!(detail["message"]["body"], "second draft");
        let versions: Vec<&str> = detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["body"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["first draft", "second draft"]);
        let msg = refused(&ann, "message_delete", json!({"message": m["id"]})).await;
        assert!(msg.contains("only its author"), "{msg}");
        let gone = ok(&lead, "message_delete", json!({"message": m["id"]})).await;
        assert_eq!(gone["body"], Value::Null);
        let seen = ok(&ann, "message_get", json!({"message": m["id"]})).await;
        assert_eq!(seen["message"]["body"], Value::Null);
        assert!(
            seen["message"]["deleted_at"].is_string(),
            "recipients see a tombstone"
        );
    }
}

crate::every_backend! {
    async fn search_and_groups(backend) {
        let h = Harness::on(backend);
        let [lead, ann, bob] = team(&h).await;
        let g = ok(
            &lead,
            "group_create",
            json!({"name": "core", "members": ["ann", "role:reviewer"]}),
        )
        .await;
        assert_eq!(g["members"].as_array().unwrap().len(), 2);
        let g = ok(
            &lead,
            "group_update",
            json!({"name": "core", "remove": ["role:reviewer"]}),
        )
        .await;
        assert_eq!(g["members"], json!([{"name": "ann", "kind": "agent"}]));
        ok(
            &lead,
            "message_send",
            json!({"to": ["@core"], "body": "the flaky integration test is fixed"}),
        )
        .await;
        ok(
            &lead,
            "message_send",
            json!({"to": ["bob"], "body": "another flaky thing"}),
        )
        .await;
        let hits = ok(&ann, "message_search", json!({"query": "flaky"})).await;
        assert_eq!(
            hits["hits"].as_array().unwrap().len(),
            1,
            "only visible messages are found"
        );
        assert!(
            hits["hits"][0]["snippet"]
                .as_str()
                .unwrap()
                .contains("[flaky]")
        );
        assert_eq!(
            ok(
                &bob,
                "message_search",
                json!({"query": "flaky", "from": "ann"})
            )
            .await["hits"],
            json!([])
        );
        let msg = refused(&bob, "message_search", json!({"query": "fla\0ky"})).await;
        assert!(msg.contains("search contains a NUL"), "{msg}");
        assert_eq!(
            ok(&lead, "group_list", json!({})).await["groups"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        ok(&lead, "group_delete", json!({"name": "core"})).await;
        let msg = refused(&lead, "group_delete", json!({"name": "core"})).await;
        assert!(msg.contains("no group matches 'core'"), "{msg}");
        let msg = refused(&lead, "group_create", json!({"name": "everyone"})).await;
        assert!(msg.contains("reserved"), "{msg}");
    }
}

crate::every_backend! {
    async fn wait_returns_at_once_for_unread_and_wakes_for_a_send_from_another_server(backend) {
        let h = Harness::on(backend);
        let [lead, ann, _bob] = team(&h).await;
        let early = ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "already here"}),
        )
        .await;
        let got = ok(&ann, "message_wait", json!({"timeout_secs": 5})).await;
        assert_eq!(ids(&got["messages"]), [early["id"].as_str().unwrap()]);
        assert_eq!(got["timed_out"], false);

        let waiting = tokio::spawn(async move {
            let started = Instant::now();
            let out = ann
                .call_ok("message_wait", json!({"timeout_secs": 30}))
                .await
                .unwrap();
            (out, started.elapsed(), ann)
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let later = ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "wake up"}),
        )
        .await;
        let (out, waited, ann) = waiting.await.unwrap();
        assert_eq!(ids(&out["messages"]), [later["id"].as_str().unwrap()]);
        assert!(waited < Duration::from_secs(10), "woke after {waited:?}");
        let filtered = ok(
            &ann,
            "message_wait",
            json!({"from": "bob", "timeout_secs": 1}),
        )
        .await;
        assert_eq!(
            filtered,
            json!({"messages": [], "older_unread": 2, "timed_out": true}),
            "a timeout is a normal result, and says what else is unread"
        );
    }
}

crate::every_backend! {
    async fn cancelling_a_wait_ends_it_promptly(backend) {
        let h = Harness::on(backend);
        let server = h.server(Some("ann"));
        let client = connect(server.clone()).await;
        ok(&client, "session_start", json!({"intent": "wait"})).await;
        let call = client.call("message_wait", json!({"timeout_secs": 300}));
        assert!(
            tokio::time::timeout(Duration::from_millis(300), call)
                .await
                .is_err(),
            "the wait should still be waiting"
        );
        // Dropping the call sent notifications/cancelled; the server must stop waiting.
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.active_waits() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            server.active_waits(),
            0,
            "the cancelled wait is still running"
        );
        assert_eq!(
            ok(&client, "whoami", json!({})).await["agent"],
            "ann",
            "the server still answers"
        );
    }
}

crate::every_backend! {
    async fn many_waiters_all_wake(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        ok(&lead, "session_start", json!({"intent": "broadcast"})).await;
        let mut waiters = Vec::new();
        for i in 0..10 {
            let name = format!("w{i}");
            let client = h.client(Some(&name)).await;
            ok(&client, "session_start", json!({"intent": "wait"})).await;
            waiters.push(tokio::spawn(async move {
                client
                    .call_ok("message_wait", json!({"timeout_secs": 30}))
                    .await
                    .unwrap()
            }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let m = ok(
            &lead,
            "message_send",
            json!({"to": ["@everyone"], "body": "stand-up in 5"}),
        )
        .await;
        for waiter in waiters {
            let out = waiter.await.unwrap();
            assert_eq!(ids(&out["messages"]), [m["id"].as_str().unwrap()]);
        }
    }
}

crate::every_backend! {
    async fn new_mail_is_announced_once_at_the_end_of_any_tool_result(backend) {
        let h = Harness::on(backend);
        let [lead, ann, _bob] = team(&h).await;
        let sent = ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "subject": "PR 12", "body": "review please", "priority": "urgent"}),
        )
        .await;
        let out = ann.call("agent_list", json!({})).await.unwrap();
        let mail = out.structured.unwrap()["mail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            mail.contains("1 new message")
                && mail.contains("from lead [urgent]")
                && mail.contains("PR 12")
                && mail.contains(sent["id"].as_str().unwrap()),
            "{mail}"
        );
        assert!(out.text.contains(&mail), "the text says it too");
        let again = ok(&ann, "agent_list", json!({})).await;
        assert_eq!(again.get("mail"), None, "announced once");
        // The sender sees that the message was put in front of ann, not yet read.
        let sent_view = ok(&lead, "message_sent", json!({})).await;
        assert_eq!(
            sent_view["sent"][0]["deliveries"],
            json!([{"recipient": "ann", "state": "notified"}]),
            "{sent_view}"
        );
        // Being told is not being handed the message: the wait still returns it.
        let got = ok(&ann, "message_wait", json!({"timeout_secs": 1})).await;
        assert_eq!(ids(&got["messages"]), [sent["id"].as_str().unwrap()]);
        // What an inbox look or a briefing showed is not announced again.
        ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "second"}),
        )
        .await;
        ok(&ann, "inbox_read", json!({})).await;
        ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "third"}),
        )
        .await;
        ok(&ann, "status", json!({})).await;
        let quiet = ok(&ann, "group_list", json!({})).await;
        assert_eq!(quiet.get("mail"), None, "{quiet}");
        // The sender is not told of its own messages.
        let lead_view = ok(&lead, "group_list", json!({})).await;
        assert_eq!(lead_view.get("mail"), None, "{lead_view}");
    }
}

/// A client that records Claude Code channel notifications.
#[derive(Clone)]
struct ChannelClient {
    pushed: tokio::sync::mpsc::UnboundedSender<Value>,
}

impl rmcp::ClientHandler for ChannelClient {
    async fn on_custom_notification(
        &self,
        notification: rmcp::model::CustomNotification,
        _: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        if notification.method == "notifications/claude/channel" {
            let _ = self.pushed.send(notification.params.unwrap_or_default());
        }
    }
}

crate::every_backend! {
    async fn with_a_channel_new_mail_is_pushed_to_the_client_once(backend) {
        use rmcp::ServiceExt;
        let h = Harness::on(backend);
        let server = h.server(Some("ann")).with_channel();
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let (tx, mut pushed) = tokio::sync::mpsc::unbounded_channel();
        let ann = ChannelClient { pushed: tx }.serve(client_io).await.unwrap();
        let caps = ann.peer_info().unwrap().capabilities.clone();
        assert!(
            caps.experimental
                .as_ref()
                .is_some_and(|e| e.contains_key("claude/channel")),
            "{caps:?}"
        );
        let start = rmcp::model::CallToolRequestParams::new("session_start")
            .with_arguments(json!({"intent": "listen"}).as_object().unwrap().clone());
        ann.call_tool(start).await.unwrap();
        let lead = h.client(Some("lead")).await;
        ok(&lead, "session_start", json!({"intent": "lead"})).await;
        ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "CHANNEL-MARK"}),
        )
        .await;
        let note = tokio::time::timeout(Duration::from_secs(10), pushed.recv())
            .await
            .expect("a push within 10 s")
            .unwrap();
        assert!(
            note["content"].as_str().unwrap().contains("CHANNEL-MARK"),
            "{note}"
        );
        assert_eq!(note["meta"]["source"], "switchboard");
        // Told once: a later change pushes nothing about it.
        ok(&lead, "session_update", json!({"intent": "lead on"})).await;
        let again = tokio::time::timeout(Duration::from_millis(500), pushed.recv()).await;
        assert!(again.is_err(), "pushed twice: {again:?}");
    }
}
