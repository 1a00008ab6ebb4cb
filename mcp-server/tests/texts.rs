//! Snapshots of the text content of the main tools' results: what a model reads. Each
//! test records a short session as a transcript (call, then the text that came back),
//! with ids, times, ages, shas and scratch paths redacted.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;
use switchboard_testutils::{Redactions, str_at};

use crate::harness::{Harness, RepoHarness};

/// Tool calls and the redacted text of their results, in order.
struct Transcript {
    redactions: Redactions,
    text: String,
}

impl Transcript {
    fn new(redactions: Redactions) -> Transcript {
        Transcript {
            redactions,
            text: String::new(),
        }
    }

    /// Calls `tool` as `who`, records the call and its text, and returns the structured
    /// content (null for an `isError` result, which is recorded as such). Each call
    /// starts in a later millisecond than the one before, so lists ordered by time (agents
    /// by last seen, holders by last report) come out in the order of the calls.
    async fn call(&mut self, who: &str, client: &AgentClient, tool: &str, args: Value) -> Value {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let out = client.call(tool, args.clone()).await.unwrap();
        let mark = if out.is_error { " → isError" } else { "" };
        let call = self.redactions.text(&format!("{who}: {tool} {args}{mark}"));
        let text = self.redactions.text(&out.text);
        self.text.push_str(&format!("> {call}\n{text}\n\n"));
        out.structured.unwrap_or(Value::Null)
    }
}

crate::every_backend! {
    async fn session_tools_brief_list_and_draw_the_genealogy(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        let mut t = Transcript::new(h.redactions());
        t.call("lead", &lead, "whoami", json!({})).await;
        let started = t
            .call(
                "lead",
                &lead,
                "session_start",
                json!({"intent": "ship the parser rewrite", "role": "coordinator"}),
            )
            .await;
        let child = t
            .call(
                "lead",
                &lead,
                "session_spawn",
                json!({"intent": "rewrite the lexer", "agent": "alpha"}),
            )
            .await;
        let alpha = h.client(Some("alpha")).await;
        t.call(
            "alpha",
            &alpha,
            "session_start",
            json!({"session": str_at(&child, "/id")}),
        )
        .await;
        t.call("alpha", &alpha, "whoami", json!({})).await;
        t.call("lead", &lead, "status", json!({})).await;
        t.call(
            "lead",
            &lead,
            "session_get",
            json!({"session": str_at(&started, "/session/id")}),
        )
        .await;
        t.call("lead", &lead, "session_list", json!({})).await;
        t.call("alpha", &alpha, "session_tree", json!({})).await;
        t.call("lead", &lead, "agent_list", json!({})).await;
        t.call(
            "alpha",
            &alpha,
            "session_end",
            json!({"status": "completed", "reason": "lexer merged"}),
        )
        .await;
        t.call(
            "lead",
            &lead,
            "session_get",
            json!({"session": "ses_01JD2N5Q"}),
        )
        .await;
        assert!(
            t.text.contains("ended [ago] (completed): lexer merged"),
            "the end and its reason are shown:\n{}",
            t.text
        );
        insta::assert_snapshot!(t.text);
    }
}

crate::every_backend! {
    async fn messaging_tools_show_headers_bodies_states_and_new_mail_notices(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        let ann = h.client(Some("ann")).await;
        let mut t = Transcript::new(h.redactions());
        t.call(
            "lead",
            &lead,
            "session_start",
            json!({"intent": "lead the work"}),
        )
        .await;
        t.call(
            "ann",
            &ann,
            "session_start",
            json!({"intent": "review the lexer", "role": "reviewer"}),
        )
        .await;
        t.call(
            "lead",
            &lead,
            "group_create",
            json!({"name": "reviewers", "members": ["ann", "role:reviewer"]}),
        )
        .await;
        t.call("lead", &lead, "group_list", json!({})).await;
        let sent = t
            .call(
                "lead",
                &lead,
                "message_send",
                json!({"to": ["@reviewers"], "subject": "lexer ready", "priority": "high",
                       "ack_required": true, "body": "The lexer is ready — please review ünïcödé handling.",
                       "refs": ["file:src/lexer.rs:12-40"]}),
            )
            .await;
        // Ann's next call, whatever it is, ends with a notice of the new mail.
        t.call("ann", &ann, "agent_list", json!({})).await;
        t.call("ann", &ann, "inbox_read", json!({})).await;
        let message = str_at(&sent, "/id");
        t.call("ann", &ann, "message_get", json!({"message": message}))
            .await;
        t.call(
            "ann",
            &ann,
            "message_reply",
            json!({"message": message, "body": "Looks good; one nit in the token table."}),
        )
        .await;
        t.call(
            "lead",
            &lead,
            "thread_get",
            json!({"thread": str_at(&sent, "/thread")}),
        )
        .await;
        t.call(
            "ann",
            &ann,
            "message_read",
            json!({"ids": [message], "ack": true}),
        )
        .await;
        t.call("lead", &lead, "message_sent", json!({})).await;
        t.call("lead", &lead, "message_search", json!({"query": "token"}))
            .await;
        t.call("lead", &lead, "message_delete", json!({"message": message}))
            .await;
        t.call("ann", &ann, "message_get", json!({"message": message}))
            .await;
        t.call(
            "lead",
            &lead,
            "message_send",
            json!({"to": ["ghost"], "body": "hi"}),
        )
        .await;
        t.call("ann", &ann, "message_wait", json!({"timeout_secs": 0}))
            .await;
        assert!(
            t.text.contains("new message(s) for you"),
            "a notice of new mail ends a result:\n{}",
            t.text
        );
        insta::assert_snapshot!(t.text);
    }
}

crate::every_backend! {
    async fn worktree_tools_show_status_diffs_overlaps_and_merges(backend) {
        let h = RepoHarness::on(backend);
        let alpha = h.agent("alpha").await;
        let beta = h.agent("beta").await;
        let mut t = Transcript::new(h.redactions());
        let wa = t
            .call("alpha", &alpha, "worktree_create", json!({"name": "lexer"}))
            .await;
        let wb = t
            .call("beta", &beta, "worktree_create", json!({"name": "docs"}))
            .await;
        let lexer = std::path::PathBuf::from(str_at(&wa, "/worktree/path"));
        let docs = std::path::PathBuf::from(str_at(&wb, "/worktree/path"));
        switchboard_testutils::commit(&lexer, "shared.txt", "base\nlexer\n", "lexer: tokens");
        std::fs::write(lexer.join("draft.rs"), "fn lex() {}\n").unwrap();
        switchboard_testutils::commit(&docs, "shared.txt", "base\ndocs\n", "docs: intro");
        t.call("alpha", &alpha, "session_heartbeat", json!({}))
            .await;
        t.call("beta", &beta, "session_heartbeat", json!({})).await;
        t.call("alpha", &alpha, "worktree_list", json!({})).await;
        t.call(
            "alpha",
            &alpha,
            "worktree_diff",
            json!({"name": "lexer", "patch": true}),
        )
        .await;
        t.call("alpha", &alpha, "who_has", json!({"path": "shared.txt"}))
            .await;
        t.call("alpha", &alpha, "worktree_conflicts", json!({}))
            .await;
        t.call("alpha", &alpha, "worktree_merge", json!({"name": "lexer"}))
            .await;
        t.call("beta", &beta, "worktree_merge", json!({"name": "docs"}))
            .await;
        t.call("beta", &beta, "worktree_remove", json!({"name": "nope"}))
            .await;
        assert!(
            t.text.contains("WOULD CONFLICT in shared.txt"),
            "the radar predicts the conflict:\n{}",
            t.text
        );
        insta::assert_snapshot!(t.text);
    }
}
