//! Snapshots of every rendering: what people and agents read, for realistic records and
//! for the edge cases (empty lists, long lists, deleted messages, priorities, unicode).
//! Records are written in their JSON form (absent optional fields are null); all times
//! are fixed, so nothing needs redacting.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

const LEAD: &str = "ses_01JD2N5Q7Z8K3M4P5R6S7T8V9W";
const WORKER: &str = "ses_01JD2N8B2C3D4E5F6G7H8J9K0M";
const REVIEWER: &str = "ses_01JD2NA3XQ4R5S6T7V8W9X0Y1Z";
const FORK: &str = "ses_01JD2NC7MN1P2Q3R4S5T6V7W8X";
const THREAD: &str = "thr_01JD2NF0AB1CD2EF3GH4JK5MN6";
const MSG: &str = "msg_01JD2NF0AB1CD2EF3GH4JK5MN7";
const SHA: &str = "3f2a9c4b1d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a";
const BASE: &str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d";
/// A long intent in several scripts, with a line break, to show clipping by characters.
const LONG_INTENT: &str = "Réécrire le lexer — 字句解析器を書き直す —\nso that ünïcödé identifiers 🚀 parse and errors point at the right column";

/// The moment every rendering here is made at.
fn now() -> Timestamp {
    at("2025-11-21T10:00:00Z")
}

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap()
}

/// A record from its JSON form.
fn from<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// A session of `agent` with `status`, started 2 h and last seen 5 min before [`now`];
/// `extra` members are added (or replace the defaults).
fn session(id: &str, agent: &str, status: &str, intent: &str, extra: Value) -> Value {
    with(
        json!({
            "id": id, "agent": agent, "intent": intent, "status": status,
            "started_at": "2025-11-21T08:00:00Z", "last_seen_at": "2025-11-21T09:55:00Z",
        }),
        extra,
    )
}

/// `base` with the members of `extra` added or replaced.
fn with(mut base: Value, extra: Value) -> Value {
    let Value::Object(extra) = extra else {
        panic!("extra members must be an object: {extra}")
    };
    base.as_object_mut().unwrap().extend(extra);
    base
}

/// A message from `lead` to `worker`, sent at 09:30, as the recipient sees it unread;
/// `extra` members are added (or replace the defaults).
fn message_json(id: &str, body: &str, extra: Value) -> Value {
    with(
        json!({
            "id": id, "seq": 7, "thread": THREAD, "sender": "lead", "sender_session": LEAD,
            "to": ["worker"], "body": body, "priority": "normal", "ack_required": false,
            "refs": [], "sent_at": "2025-11-21T09:30:00Z", "state": "delivered",
        }),
        extra,
    )
}

/// The id of the `n`th message of a list (a valid 26-character ULID after the prefix).
fn message_id(n: usize) -> String {
    format!("msg_01JD2NG{n:019}")
}

fn msg(id: &str, body: &str, extra: Value) -> Message {
    from(message_json(id, body, extra))
}

fn worktree_json(name: &str, agent: Option<&str>) -> Value {
    json!({
        "name": name, "repo": "/home/ada/parser", "path": format!("/home/ada/parser/.worktrees/{name}"),
        "branch": format!("sb/{name}"), "base_commit": BASE, "base_ref": "main",
        "session": agent.map(|_| WORKER), "agent": agent, "port": 41200, "ports": 10,
        "created_by": "lead", "created_at": "2025-11-21T08:05:00Z",
    })
}

#[test]
fn a_table_pads_columns_to_the_widest_cell_and_trims_line_ends() {
    let rows = vec![
        vec!["alpha".to_string(), "1".to_string(), String::new()],
        vec!["b".to_string(), "22222".to_string(), "last".to_string()],
    ];
    assert_eq!(
        table(&["NAME", "N", "NOTE"], &rows),
        "NAME   N      NOTE\nalpha  1\nb      22222  last"
    );
}

#[test]
fn a_session_line_names_id_agent_role_status_and_the_clipped_intent() {
    let plain: Session = from(session(
        LEAD,
        "lead",
        "active",
        "ship the parser",
        json!({}),
    ));
    let long: Session = from(session(
        WORKER,
        "alpha",
        "stale",
        LONG_INTENT,
        json!({"role": "lexer"}),
    ));
    insta::assert_snapshot!(format!("{}\n{}", session_line(&plain), session_line(&long)));
}

#[test]
fn a_session_detail_shows_lineage_process_ages_and_how_it_ended() {
    let live: Session = from(session(
        WORKER,
        "alpha",
        "stale",
        "rewrite the lexer",
        json!({"role": "lexer", "parent": LEAD, "stale_reason": "no heartbeat for 12 min",
               "process": {"pid": 4242, "host": "build-01"},
               "worktree": {"name": "lexer", "path": "/src/repo/.worktrees/lexer", "branch": "sb/lexer", "port": 21850},
               "work": {"branch": "sb/lexer", "head": "9e8d7c6b5a", "unmerged": 2, "changed_files": 3,
                        "uncommitted_files": 1, "updated_at": "2025-11-21T09:50:00Z"}}),
    ));
    let ended: Session = from(session(
        FORK,
        "beta",
        "completed",
        "try the other approach",
        json!({"forked_from": WORKER, "ended_at": "2025-11-21T09:58:30Z",
               "end_reason": "merged into main"}),
    ));
    let ended_silently: Session = from(session(
        REVIEWER,
        "gamma",
        "abandoned",
        "review",
        json!({"ended_at": "2025-11-19T10:00:00Z"}),
    ));
    insta::assert_snapshot!(
        [&live, &ended, &ended_silently]
            .map(|s| session_detail(s, now()))
            .join("\n\n")
    );
}

#[test]
fn a_sessions_table_shows_parents_forks_and_a_truncation_note() {
    let page: SessionPage = from(json!({
        "sessions": [
            session(LEAD, "lead", "active", "ship the parser", json!({"started_at": "2025-11-18T10:00:00Z"})),
            session(WORKER, "alpha", "stale", LONG_INTENT, json!({"parent": LEAD})),
            session(FORK, "beta", "failed", "try the other approach", json!({"forked_from": WORKER, "last_seen_at": "2025-11-21T09:59:58Z"})),
        ],
        "truncated": true,
    }));
    insta::assert_snapshot!(sessions_table(&page, now()));
}

#[test]
fn an_empty_sessions_table_says_so() {
    let page: SessionPage = from(json!({"sessions": [], "truncated": false}));
    assert_eq!(sessions_table(&page, now()), "no sessions");
}

#[test]
fn an_agents_table_shows_kind_role_live_sessions_and_description() {
    let agents: Vec<Agent> = from(json!([
        {"name": "lead", "kind": "agent", "role": "coordinator", "description": "Plans the work and merges it",
         "registered_at": "2025-11-20T09:00:00Z", "last_seen_at": "2025-11-21T09:59:00Z", "live_sessions": 1},
        {"name": "human:ada", "kind": "human", "registered_at": "2025-11-01T09:00:00Z",
         "last_seen_at": "2025-11-18T10:00:00Z", "live_sessions": 0},
        {"name": "alpha", "kind": "agent", "description": LONG_INTENT,
         "registered_at": "2025-11-21T06:00:00Z", "last_seen_at": "2025-11-21T07:00:00Z", "live_sessions": 2},
    ]));
    insta::assert_snapshot!(agents_table(&agents, now()));
    assert_eq!(agents_table(&[], now()), "no agents registered");
}

#[test]
fn a_tree_draws_guides_marks_forks_statuses_and_the_focus() {
    let node = |depth: u32, s: Value| json!({"depth": depth, "session": s});
    let t: SessionTree = from(json!({
        "root": LEAD,
        "focus": WORKER,
        "nodes": [
            node(0, session(LEAD, "lead", "active", "ship the parser", json!({}))),
            node(1, session(WORKER, "alpha", "stale", "rewrite the lexer", json!({"parent": LEAD}))),
            node(2, session("ses_01JD2NE1111111111111111111", "alpha-2", "failed", "unicode identifiers", json!({"parent": WORKER}))),
            node(2, session("ses_01JD2NE2222222222222222222", "alpha-3", "completed", "error columns", json!({"parent": WORKER}))),
            node(1, session(FORK, "beta", "abandoned", "try the other approach", json!({"forked_from": WORKER}))),
            node(1, session(REVIEWER, "gamma", "active", LONG_INTENT, json!({"parent": LEAD}))),
            node(2, session("ses_01JD2NE3333333333333333333", "gamma-2", "active", "check the docs", json!({"parent": REVIEWER}))),
        ],
        "truncated": true,
    }));
    insta::assert_snapshot!(tree(&t));
}

#[test]
fn a_message_in_full_has_its_header_thread_body_edit_and_refs() {
    let m = msg(
        MSG,
        "The lexer is ready for review.\nSee the token table.",
        json!({
            "to": ["alpha", "@reviewers"], "subject": "lexer ready", "priority": "high",
            "ack_required": true, "state": "notified", "edited_at": "2025-11-21T09:45:00Z",
            "refs": [
                {"kind": "file", "target": "src/lexer.rs", "lines": "12-40"},
                {"kind": "commit", "target": SHA},
                {"kind": "session", "target": WORKER},
            ],
        }),
    );
    insta::assert_snapshot!(message(&m));
}

#[test]
fn a_deleted_message_shows_when_it_was_deleted_instead_of_its_body() {
    let m = msg(
        MSG,
        "",
        json!({"body": null, "deleted_at": "2025-11-21T09:50:00Z", "state": "read"}),
    );
    insta::assert_snapshot!(message(&m));
}

#[test]
fn messages_are_separated_by_blank_lines_and_every_state_and_priority_is_named() {
    let states = [
        ("delivered", "low"),
        ("notified", "normal"),
        ("read", "high"),
        ("acked", "urgent"),
    ];
    let mut list: Vec<Message> = states
        .iter()
        .enumerate()
        .map(|(i, (state, priority))| {
            msg(
                &message_id(i + 1),
                &format!("{state}, {priority}"),
                json!({"state": state, "priority": priority}),
            )
        })
        .collect();
    list.push(msg(
        &message_id(9),
        "as its sender sees it",
        json!({"state": null, "sender": "worker", "to": ["lead"]}),
    ));
    insta::assert_snapshot!(messages(&list));
    assert_eq!(messages(&[]), "no messages");
}

#[test]
fn an_inbox_counts_unread_clips_bodies_marks_deletions_and_offers_the_next_page() {
    let page: InboxPage = from(json!({
        "messages": [
            message_json(MSG, LONG_INTENT, json!({"priority": "urgent", "subject": "⚠ prod is down"})),
            message_json(&message_id(1), "", json!({"body": null, "deleted_at": "2025-11-21T09:40:00Z"})),
            message_json(&message_id(2), "done", json!({"state": "read", "sender": "human:ada"})),
        ],
        "unread": 2,
        "next_cursor": "c:41",
    }));
    insta::assert_snapshot!(inbox(&page));
    let empty: InboxPage = from(json!({"messages": [], "unread": 0}));
    assert_eq!(inbox(&empty), "0 unread");
}

#[test]
fn a_thread_names_its_subject_and_participants_then_its_messages() {
    let with_subject: Thread = from(json!({
        "id": THREAD, "subject": "lexer ready", "participants": ["lead", "alpha"],
        "messages": [
            message_json(MSG, "Ready for review.", json!({"subject": "lexer ready"})),
            message_json(&message_id(1), "Looks good, merging.",
                json!({"sender": "alpha", "to": ["lead"], "reply_to": MSG, "state": null})),
        ],
    }));
    let without: Thread = from(json!({
        "id": THREAD, "participants": ["lead"], "messages": [],
    }));
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        thread(&with_subject),
        thread(&without)
    ));
}

#[test]
fn sent_messages_list_every_recipients_state() {
    let list: Vec<SentMessage> = from(json!([
        {
            "message": message_json(MSG, "Please review", json!({"sender": "lead", "to": ["@reviewers"], "state": null, "ack_required": true})),
            "deliveries": [
                {"recipient": "alpha", "state": "acked", "read_at": "2025-11-21T09:35:00Z", "acked_at": "2025-11-21T09:36:00Z"},
                {"recipient": "beta", "state": "notified", "notified_at": "2025-11-21T09:31:00Z"},
                {"recipient": "gamma", "state": "delivered"},
            ],
        },
        {
            "message": message_json(&message_id(1), "FYI", json!({"to": ["human:ada"], "state": null, "priority": "low"})),
            "deliveries": [{"recipient": "human:ada", "state": "read"}],
        },
    ]));
    insta::assert_snapshot!(sent(&list));
    assert_eq!(sent(&[]), "nothing sent");
}

#[test]
fn groups_list_agents_and_roles() {
    let list: Vec<Group> = from(json!([
        {"name": "reviewers", "description": "who reviews", "created_by": "lead", "created_at": "2025-11-20T09:00:00Z",
         "members": [{"name": "alpha", "kind": "agent"}, {"name": "reviewer", "kind": "role"}]},
        {"name": "empty", "created_by": "lead", "created_at": "2025-11-20T09:00:00Z", "members": []},
    ]));
    insta::assert_snapshot!(groups(&list));
    assert_eq!(groups(&[]), "no groups");
}

#[test]
fn a_worktree_table_shows_status_owner_port_and_last_commit() {
    let list: Vec<WorktreeStatus> = from(json!([
        {"worktree": worktree_json("lexer", Some("alpha")), "exists": true, "head": SHA, "dirty": 2,
         "ahead": 3, "behind": 1, "session_live": true,
         "last_commit": {"sha": SHA, "subject": "lexer: accept ünïcödé identifiers in every position of a token", "at": "2025-11-21T09:20:00Z", "files": []}},
        {"worktree": worktree_json("docs", Some("beta")), "exists": true, "dirty": 0, "ahead": 0,
         "behind": 0, "session_live": false},
        {"worktree": worktree_json("gone", None), "exists": false, "dirty": 0, "ahead": 0,
         "behind": 0, "session_live": false},
        {"worktree": with(worktree_json("remote", Some("gamma")), json!({"host": "build-2"})),
         "exists": true, "dirty": 0, "ahead": 0, "behind": 0, "session_live": true,
         "other_host": "build-2"},
    ]));
    insta::assert_snapshot!(worktrees(&list));
    assert_eq!(worktrees(&[]), "no worktrees");
}

#[test]
fn a_created_worktree_shows_branch_base_ports_copies_and_setup() {
    let created_with = |setup: Value| -> Created {
        from(json!({
            "worktree": worktree_json("lexer", Some("alpha")),
            "copied": [".env", "config/local.toml"],
            "setup": setup,
        }))
    };
    let setup = |success: bool, exit_code: Option<i32>, timed_out: bool| {
        json!({"command": ["npm", "ci"], "success": success, "exit_code": exit_code,
               "timed_out": timed_out, "output": "added 312 packages in 4s\n\n"})
    };
    let plain: Created = from(json!({
        "worktree": with(worktree_json("detached", None), json!({"base_ref": null})),
        "copied": [],
    }));
    insta::assert_snapshot!(
        [
            created_with(setup(true, Some(0), false)),
            created_with(setup(false, Some(1), false)),
            created_with(setup(false, None, true)),
            plain,
        ]
        .iter()
        .map(created)
        .collect::<Vec<_>>()
        .join("\n---\n")
    );
}

#[test]
fn a_worktree_diff_lists_files_commits_and_the_patch() {
    let d: WorktreeDiff = from(json!({
        "worktree": worktree_json("lexer", Some("alpha")),
        "merge_base": BASE,
        "changed": [
            {"path": "src/lexer.rs", "added": 40, "removed": 12, "uncommitted": false},
            {"path": "src/token.rs", "added": 3, "removed": 0, "uncommitted": true},
        ],
        "uncommitted": ["src/token.rs"],
        "commits": [{"sha": SHA, "subject": "lexer: unicode identifiers", "at": "2025-11-21T09:20:00Z",
                     "files": ["src/lexer.rs", "tests/lexer.rs"]}],
        "patch": "diff --git a/src/token.rs b/src/token.rs\n+    Ident(String),",
        "patch_truncated": false,
    }));
    insta::assert_snapshot!(worktree_diff(&d));
}

#[test]
fn a_merge_names_the_move_the_backup_what_stayed_behind_and_what_was_recovered() {
    let m: MergeOutcome = from(json!({
        "worktree": "lexer", "branch": "sb/lexer", "into": "main", "strategy": "squash",
        "previous": BASE, "commit": SHA, "backup": "refs/switchboard/backup/lexer/into-main/2",
        "files": ["src/lexer.rs", "tests/lexer.rs"], "checkout": "/home/ada/parser",
        "left_uncommitted": ["notes.md"],
        "recovered": ["completed the merge of docs into main interrupted at 2025-11-21T09:00:00Z"],
        "claimed": [
            {"worktree": "lexer", "claim": "clm_01JD2NH0000000000000000000", "holder": "claude",
             "pattern": "src/*.rs", "reason": "renaming tokens", "expires_at": "2025-11-21T14:05:00Z",
             "stale": true, "files": ["src/lexer.rs"]},
        ],
    }));
    insta::assert_snapshot!(merged(&m));
}

#[test]
fn the_conflict_radar_says_which_pairs_overlap_and_which_would_conflict() {
    let report: ConflictReport = from(json!({
        "worktrees": 3,
        "findings": [
            {"a": "lexer", "b": "parser", "overlapping": ["src/token.rs", "src/lib.rs"],
             "would_conflict": true, "conflicting_files": ["src/token.rs"]},
            {"a": "lexer", "b": "base:main", "overlapping": ["README.md"],
             "would_conflict": false, "conflicting_files": []},
            {"a": "lexer", "b": "remote", "overlapping": ["src/lib.rs"],
             "would_conflict": false, "conflicting_files": [],
             "overlap_only": "overlap only: remote is on host build-2 (its branch is not here to try the merge)"},
        ],
        "claimed": [
            {"worktree": "parser", "claim": "clm_01JD2NH0000000000000000000", "holder": "claude",
             "pattern": "src/token.rs", "reason": "new token kinds", "expires_at": "2025-11-21T14:05:00Z",
             "files": ["src/token.rs"]},
        ],
    }));
    insta::assert_snapshot!(conflicts(&report));
    let quiet: ConflictReport = from(json!({"worktrees": 2, "findings": []}));
    assert_eq!(conflicts(&quiet), "2 worktrees: no overlapping changes");
}

#[test]
fn holders_name_agent_worktree_session_counts_and_liveness() {
    let list: Vec<Holder> = from(json!([
        {"session": WORKER, "agent": "alpha", "worktree": "lexer", "branch": "sb/lexer", "added": 40,
         "removed": 12, "uncommitted": true, "live": true, "reported_at": "2025-11-21T09:59:00Z"},
        {"session": FORK, "agent": "beta", "uncommitted": false, "live": false,
         "reported_at": "2025-11-21T08:00:00Z"},
        {"session": LEAD, "agent": "gamma", "worktree": "remote", "host": "build-2",
         "added": 1, "removed": 0, "uncommitted": false, "live": true,
         "reported_at": "2025-11-21T09:58:00Z"},
    ]));
    insta::assert_snapshot!(who_has("src/lexer.rs", &[], &list, now()));
    assert_eq!(
        who_has("src/lexer.rs", &[], &[], now()),
        "nobody claims or is changing src/lexer.rs"
    );
    let claims: Vec<Claim> = vec![
        from(claim_json(
            "src/**",
            "claude",
            "2025-11-21T14:05:00Z",
            json!({}),
        )),
        from(claim_json(
            "src/*.rs",
            "codex",
            "2025-11-22T10:30:00Z",
            json!({"mode": "shared", "state": "stale", "stale_reason": "no heartbeat for 45m"}),
        )),
    ];
    insta::assert_snapshot!(
        "who_has_claims_and_changes",
        format!(
            "{}\n\n{}",
            who_has("src/lexer.rs", &claims, &list[..1], now()),
            who_has("src/lexer.rs", &claims, &[], now())
        )
    );
}

#[test]
fn tokens_show_state_label_and_times_and_an_empty_list_says_how_to_make_one() {
    let list: Vec<Token> = from(json!([
        {"id": "tok_01JD2NH0000000000000000000", "agent": "alpha", "label": "CI runner", "created_by": "human:ada",
         "created_at": "2025-11-14T10:00:00Z", "expires_at": "2025-12-21T10:00:00Z",
         "last_used_at": "2025-11-21T09:59:30Z", "state": "active"},
        {"id": "tok_01JD2NH1111111111111111111", "agent": "beta", "created_by": "human:ada",
         "created_at": "2025-10-01T10:00:00Z", "revoked_at": "2025-10-02T10:00:00Z", "state": "revoked"},
        {"id": "tok_01JD2NH2222222222222222222", "agent": "gamma", "created_by": "human:ada",
         "created_at": "2025-09-01T10:00:00Z", "expires_at": "2025-10-01T10:00:00Z", "state": "expired"},
    ]));
    insta::assert_snapshot!(tokens(&list, now()));
    assert_eq!(
        tokens(&[], now()),
        "no tokens: create one with `switchboard token create --agent <name>`"
    );
}

#[test]
fn a_full_briefing_says_who_you_are_your_mail_worktree_overlaps_children_and_needs() {
    let b: crate::briefing::Briefing = from(json!({
        "agent": "alpha",
        "session": {"id": WORKER, "intent": LONG_INTENT, "status": "active", "parent": LEAD, "parent_agent": "lead"},
        "unread": 3,
        "newest": [
            {"id": MSG, "sender": "lead", "subject": "lexer ready?", "preview": "How far", "priority": "high"},
            {"id": message_id(1), "sender": "human:ada", "preview": "no subject: the preview stands in", "priority": "normal"},
        ],
        "worktree": {"name": "lexer", "path": "/home/ada/parser/.worktrees/lexer", "branch": "sb/lexer",
                     "dirty": 2, "ahead": 3, "behind": 1, "conflicts": ["src/token.rs"]},
        "shared": [{"path": "src/token.rs", "agents": ["beta", "gamma"]}],
        "children": [{"id": FORK, "agent": "alpha-2", "intent": "unicode tables", "status": "completed",
                      "worktree": "tables", "unmerged": 2}],
        "needs_you": ["merge alpha-2's worktree tables (2 commits)", "answer lead (high priority)"],
    }));
    insta::assert_snapshot!(briefing(&b));
}

#[test]
fn a_briefing_without_a_session_says_so_and_counts_no_mail() {
    let b: crate::briefing::Briefing = from(json!({"agent": "newcomer", "unread": 0}));
    assert_eq!(
        briefing(&b),
        "You are 'newcomer', with no session yet.\n0 unread message(s)."
    );
}

#[test]
fn news_names_the_newest_message_by_subject_or_body_with_its_priority() {
    let news_of =
        |count: u64, m: Value| -> String { news(&from(json!({"count": count, "newest": m}))) };
    insta::assert_snapshot!(
        [
            news_of(
                1,
                message_json(MSG, "body unused", json!({"subject": "lexer ready?"}))
            ),
            news_of(
                4,
                message_json(MSG, LONG_INTENT, json!({"priority": "urgent"}))
            ),
            news_of(
                2,
                message_json(
                    MSG,
                    "",
                    json!({"body": null, "deleted_at": "2025-11-21T09:50:00Z"})
                )
            ),
        ]
        .join("\n")
    );
}

#[test]
fn an_overdue_message_says_exactly_how_long_it_waited() {
    let o: crate::message::Overdue = from(json!({
        "id": MSG, "thread": THREAD, "sender": "lead", "recipient": "alpha",
        "about": "lexer ready?", "priority": "high", "delivered_at": "2025-11-21T09:30:00Z",
    }));
    let normal: crate::message::Overdue = from(json!({
        "id": MSG, "thread": THREAD, "sender": "human:ada", "recipient": "beta",
        "about": LONG_INTENT, "priority": "normal", "delivered_at": "2025-11-21T09:30:00Z",
    }));
    insta::assert_snapshot!(format!(
        "{}\n{}",
        overdue(&o, std::time::Duration::from_secs(15 * 60)),
        overdue(&normal, std::time::Duration::from_secs(61))
    ));
}

#[test]
fn a_long_list_names_ten_and_counts_the_rest() {
    let items: Vec<String> = (0..300).map(|i| format!("f{i}")).collect();
    assert_eq!(
        capped_list(&items),
        "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9 and 290 more"
    );
    assert_eq!(
        capped_list(&items[..10]),
        "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9"
    );
    assert_eq!(capped_list(&items[..2]), "f0, f1");
    assert_eq!(capped_list(&[]), "");
}

/// A claim of `pattern` by `agent` made at 09:00 that expires at `expires_at`; `extra`
/// members are added (or replace the defaults).
fn claim_json(pattern: &str, agent: &str, expires_at: &str, extra: Value) -> Value {
    with(
        json!({
            "id": "clm_01JD2NH4AB1CD2EF3GH4JK5MN8", "pattern": pattern, "mode": "exclusive",
            "agent": agent, "session": LEAD, "reason": "refactoring auth",
            "created_at": "2025-11-21T09:00:00Z", "expires_at": expires_at, "state": "active",
        }),
        extra,
    )
}

#[test]
fn a_claims_table_shows_mode_holder_expiry_reason_and_stale_holders() {
    let list: Vec<Claim> = vec![
        from(claim_json(
            "src/auth/**",
            "claude",
            "2025-11-21T14:05:00Z",
            json!({}),
        )),
        from(claim_json(
            "docs/",
            "human:ada",
            "2025-11-22T09:30:00Z",
            json!({"mode": "shared", "session": null, "reason": LONG_INTENT}),
        )),
        from(claim_json(
            "Cargo.toml",
            "codex",
            "2025-11-21T10:30:00Z",
            json!({"state": "stale", "stale_reason": "no heartbeat for 45m"}),
        )),
    ];
    insta::assert_snapshot!(format!(
        "{}\n\n{}\n\n{}\n\n{}\n{}",
        claims(&list, now()),
        claims(&[], now()),
        claimed(&list[..2], now()),
        released(&list[..1]),
        released(&[])
    ));
}
