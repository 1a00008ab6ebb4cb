//! Unit tests of messaging: every send form, limits, threads, the inbox and its cursor,
//! read and ack state, edits and deletes, search, and the unread counter.

use super::inbox::Cursor;
use super::search::{Term, terms};
use super::*;
use crate::agent::{self, Registration};
use crate::group;
use crate::store::story::{Backend, Scratch, scratch_store};
use crate::{Error, Store};

/// A store on `backend` where lead, ann and bob (reviewers), cat and human:ada are
/// registered.
fn setup(backend: Backend) -> (Scratch, Store) {
    let (dir, mut store) = scratch_store(backend);
    for (name, role) in [
        ("lead", None),
        ("ann", Some("reviewer")),
        ("bob", Some("reviewer")),
        ("cat", None),
        ("human:ada", None),
    ] {
        agent::register(
            &mut store,
            name,
            &Registration {
                name: name.into(),
                role: role.map(Into::into),
                description: None,
            },
        )
        .unwrap();
    }
    (dir, store)
}

fn by(agent: &str) -> Author {
    Author {
        agent: agent.into(),
        session: None,
    }
}

fn draft(to: &[&str], body: &str) -> Draft {
    Draft {
        to: to.iter().map(|t| t.to_string()).collect(),
        body: body.into(),
        ..Default::default()
    }
}

crate::every_backend! {
    fn mail_an_agent_leaves_unread_too_long_is_overdue_until_read(backend) {
        let (_dir, mut store) = setup(backend);
        let to_agent = send(
            &mut store,
            &by("lead"),
            &draft(&["ann"], "Review PR 12\nsoon"),
        )
        .unwrap();
        send(
            &mut store,
            &by("lead"),
            &draft(&["human:ada"], "people are not chased"),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(
            overdue(&mut store, std::time::Duration::from_secs(3600))
                .unwrap()
                .is_empty(),
            "not overdue yet"
        );
        let late = overdue(&mut store, std::time::Duration::ZERO).unwrap();
        assert_eq!(late.len(), 1, "{late:?}");
        assert_eq!(
            (late[0].recipient.as_str(), late[0].about.as_str()),
            ("ann", "Review PR 12")
        );
        mark(&mut store, "ann", std::slice::from_ref(&to_agent.id), false).unwrap();
        assert!(
            overdue(&mut store, std::time::Duration::ZERO)
                .unwrap()
                .is_empty()
        );
    }
}

fn recipients(store: &mut Store, id: &str) -> Vec<String> {
    let mut sent = sent(store, "lead", None, Some(200)).unwrap();
    sent.retain(|s| s.message.id == id);
    sent[0]
        .deliveries
        .iter()
        .map(|d| d.recipient.clone())
        .collect()
}

#[test]
fn references_parse_from_their_short_form() {
    type Parsed<'a> = Option<(RefKind, &'a str, Option<&'a str>)>;
    let cases: &[(&str, Parsed<'_>)] = &[
        ("file:src/lib.rs", Some((RefKind::File, "src/lib.rs", None))),
        (
            "file:src/lib.rs:12-40",
            Some((RefKind::File, "src/lib.rs", Some("12-40"))),
        ),
        (
            "file:src/lib.rs:7",
            Some((RefKind::File, "src/lib.rs", Some("7"))),
        ),
        ("commit:abc123", Some((RefKind::Commit, "abc123", None))),
        (
            "session:ses_01abc",
            Some((RefKind::Session, "ses_01abc", None)),
        ),
        (
            "message:msg_01abc",
            Some((RefKind::Message, "msg_01abc", None)),
        ),
        ("src/lib.rs", None),
        ("url:http://x", None),
        ("file:", None),
    ];
    for (text, want) in cases {
        if let Ok(parsed) = text.parse::<Reference>() {
            assert_eq!(parsed.to_string(), *text, "round trip");
        }
        let got = text.parse::<Reference>().ok();
        let got = got
            .as_ref()
            .map(|r| (r.kind, r.target.as_str(), r.lines.as_deref()));
        assert_eq!(got, *want, "{text}");
    }
}

crate::every_backend! {
    fn every_send_form_reaches_the_right_agents(backend) {
        let (_dir, mut store) = setup(backend);
        let direct = send(&mut store, &by("lead"), &draft(&["ann"], "direct")).unwrap();
        assert_eq!(recipients(&mut store, &direct.id), ["ann"]);
        let human = send(
            &mut store,
            &by("lead"),
            &draft(&["human:ada"], "to a human"),
        )
        .unwrap();
        assert_eq!(recipients(&mut store, &human.id), ["human:ada"]);
        let role = send(&mut store, &by("lead"), &draft(&["@reviewer"], "reviewers")).unwrap();
        assert_eq!(recipients(&mut store, &role.id), ["ann", "bob"]);
        group::create(
            &mut store,
            "lead",
            "core",
            None,
            &["cat".into(), "role:reviewer".into(), "lead".into()],
        )
        .unwrap();
        let grouped = send(&mut store, &by("lead"), &draft(&["@core"], "the group")).unwrap();
        assert_eq!(
            recipients(&mut store, &grouped.id),
            ["ann", "bob", "cat"],
            "the author is not sent its own group message"
        );
        let all = send(&mut store, &by("lead"), &draft(&["@everyone"], "all hands")).unwrap();
        assert_eq!(
            recipients(&mut store, &all.id),
            ["ann", "bob", "cat", "human:ada"]
        );
        let mixed = send(
            &mut store,
            &by("lead"),
            &draft(&["ann", "@reviewer", "cat"], "dedup"),
        )
        .unwrap();
        assert_eq!(recipients(&mut store, &mixed.id), ["ann", "bob", "cat"]);
        assert_eq!(
            mixed.to,
            ["ann", "@reviewer", "cat"],
            "the message keeps the addresses as written"
        );
    }
}

crate::every_backend! {
    fn an_unknown_recipient_fails_the_whole_send_and_leaves_no_trace(backend) {
        let (_dir, mut store) = setup(backend);
        let before = store.latest_event_seq().unwrap();
        for bad in [
            &["ann", "ghost"][..],
            &["@nobody"],
            &["human:zed"],
            &["Not Valid"],
        ] {
            let err = send(&mut store, &by("lead"), &draft(bad, "hello")).unwrap_err();
            assert!(
                err.to_string().contains("nothing was sent"),
                "{bad:?}: {err}"
            );
        }
        let err = send(&mut store, &by("lead"), &draft(&["ann"], "x")).map(|_| ());
        assert!(err.is_ok());
        let counts = store
            .sql_rows(
                "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM threads), \
                 (SELECT COUNT(*) FROM deliveries)",
                &[],
            )
            .unwrap();
        assert_eq!(counts, [[1, 1, 1]], "only the valid send wrote anything");
        assert_eq!(store.latest_event_seq().unwrap(), before + 1);
    }
}

crate::every_backend! {
    fn limits_are_enforced_with_clear_errors(backend) {
        let (_dir, mut store) = setup(backend);
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        let err = send(&mut store, &by("lead"), &draft(&["ann"], &big)).unwrap_err();
        assert!(err.to_string().contains("limit is 65536 (64 KiB)"), "{err}");
        assert!(
            send(
                &mut store,
                &by("lead"),
                &draft(&["ann"], &"x".repeat(MAX_BODY_BYTES))
            )
            .is_ok()
        );
        assert!(
            send(&mut store, &by("lead"), &draft(&["ann"], "  "))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let mut d = draft(&["ann"], "refs");
        d.refs = vec![Reference {
            kind: RefKind::File,
            target: "../etc/passwd".into(),
            lines: None,
        }];
        assert!(
            send(&mut store, &by("lead"), &d)
                .unwrap_err()
                .to_string()
                .contains("without '..'")
        );
        d.refs = vec![Reference {
            kind: RefKind::File,
            target: "src/main.rs".into(),
            lines: Some("40-12".into()),
        }];
        assert!(
            send(&mut store, &by("lead"), &d)
                .unwrap_err()
                .to_string()
                .contains("range")
        );
        d.refs = vec![
            Reference {
                kind: RefKind::File,
                target: "src/main.rs".into(),
                lines: Some("12-40".into()),
            },
            Reference {
                kind: RefKind::Commit,
                target: "deadbeef".into(),
                lines: None,
            },
        ];
        let ok = send(&mut store, &by("lead"), &d).unwrap();
        assert_eq!(ok.refs.len(), 2);
    }
}

crate::every_backend! {
    fn threads_keep_order_and_replies_default_to_participants(backend) {
        let (_dir, mut store) = setup(backend);
        let first = send(
            &mut store,
            &by("lead"),
            &Draft {
                subject: Some("plan".into()),
                ..draft(&["ann", "bob"], "one")
            },
        )
        .unwrap();
        let second = reply(&mut store, &by("ann"), &first.id, &draft(&[], "two")).unwrap();
        assert_eq!(second.thread, first.thread);
        assert_eq!(second.reply_to.as_deref(), Some(first.id.as_str()));
        let mut to = second.to.clone();
        to.sort();
        assert_eq!(to, ["bob", "lead"]);
        let third = reply(
            &mut store,
            &by("bob"),
            &second.id,
            &draft(&["lead"], "three, privately"),
        )
        .unwrap();
        let t = thread(&mut store, "lead", &first.thread).unwrap();
        let bodies: Vec<&str> = t
            .messages
            .iter()
            .map(|m| m.body.as_deref().unwrap())
            .collect();
        assert_eq!(bodies, ["one", "two", "three, privately"]);
        assert_eq!(t.subject.as_deref(), Some("plan"));
        let seen_by_ann = thread(&mut store, "ann", &first.thread).unwrap();
        assert_eq!(
            seen_by_ann.messages.len(),
            2,
            "ann did not receive the private reply"
        );
        assert!(matches!(
            thread(&mut store, "cat", &first.thread),
            Err(Error::NotFound { .. })
        ));
        assert!(
            matches!(
                get(&mut store, "cat", &third.id),
                Err(Error::NotFound { .. })
            ),
            "no peeking"
        );
        assert!(matches!(
            reply(&mut store, &by("cat"), &first.id, &draft(&[], "x")),
            Err(Error::NotFound { .. })
        ));
    }
}

crate::every_backend! {
    fn inbox_is_unread_first_pages_by_cursor_and_does_not_mark_read(backend) {
        let (_dir, mut store) = setup(backend);
        let ids: Vec<String> = (0..5)
            .map(|i| {
                send(&mut store, &by("lead"), &draft(&["ann"], &format!("m{i}")))
                    .unwrap()
                    .id
            })
            .collect();
        mark(&mut store, "ann", std::slice::from_ref(&ids[3]), false).unwrap();
        let body = |m: &Message| m.body.clone().unwrap();
        let page = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(page.unread, 4);
        assert_eq!(
            page.messages.iter().map(body).collect::<Vec<_>>(),
            ["m4", "m2"]
        );
        let next = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                limit: Some(2),
                cursor: page.next_cursor.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            next.messages.iter().map(body).collect::<Vec<_>>(),
            ["m1", "m0"]
        );
        let last = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                limit: Some(2),
                cursor: next.next_cursor.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            last.messages.iter().map(body).collect::<Vec<_>>(),
            ["m3"],
            "read messages come after unread ones"
        );
        assert_eq!(last.next_cursor, None);
        let again = inbox(&mut store, "ann", &InboxFilter::default()).unwrap();
        assert_eq!(again.unread, 4, "listing is a peek");
        let unread = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                unread_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            unread.messages.iter().map(body).collect::<Vec<_>>(),
            ["m4", "m2", "m1", "m0"]
        );
        assert!(
            inbox(
                &mut store,
                "ann",
                &InboxFilter {
                    cursor: Some("zz".into()),
                    ..Default::default()
                }
            )
            .is_err()
        );
        for foreign in ["é1", "u", "r-", "ü7"] {
            assert!(Cursor::parse(foreign).is_err(), "{foreign}");
        }
    }
}

#[test]
fn search_words_keep_their_quotes_and_only_empty_words_are_dropped() {
    let term = |word, prefix| Term { word, prefix };
    assert_eq!(
        terms("\"unbalanced").unwrap(),
        [term("\"unbalanced", false)]
    );
    assert_eq!(
        terms("plan* * (quote** AND").unwrap(),
        [
            term("plan", true),
            term("(quote*", true),
            term("AND", false)
        ]
    );
    assert!(terms(" * ").is_err());
}

crate::every_backend! {
    fn inbox_filters_by_sender_thread_and_priority(backend) {
        let (_dir, mut store) = setup(backend);
        let a = send(
            &mut store,
            &by("lead"),
            &Draft {
                priority: Priority::Urgent,
                ..draft(&["ann"], "urgent one")
            },
        )
        .unwrap();
        send(&mut store, &by("bob"), &draft(&["ann"], "from bob")).unwrap();
        reply(
            &mut store,
            &by("lead"),
            &a.id,
            &Draft {
                priority: Priority::Low,
                ..draft(&["ann"], "low follow-up")
            },
        )
        .unwrap();
        let count = |f: InboxFilter, store: &mut Store| inbox(store, "ann", &f).unwrap().messages.len();
        assert_eq!(
            count(
                InboxFilter {
                    from: Some("bob".into()),
                    ..Default::default()
                },
                &mut store
            ),
            1
        );
        assert_eq!(
            count(
                InboxFilter {
                    thread: Some(a.thread.clone()),
                    ..Default::default()
                },
                &mut store
            ),
            2
        );
        assert_eq!(
            count(
                InboxFilter {
                    min_priority: Some(Priority::High),
                    ..Default::default()
                },
                &mut store
            ),
            1
        );
        assert_eq!(
            count(
                InboxFilter {
                    min_priority: Some(Priority::Normal),
                    ..Default::default()
                },
                &mut store
            ),
            2
        );
    }
}

crate::every_backend! {
    fn read_and_ack_are_per_recipient_and_the_sender_sees_them(backend) {
        let (_dir, mut store) = setup(backend);
        let m = send(
            &mut store,
            &by("lead"),
            &Draft {
                ack_required: true,
                ..draft(&["ann", "bob", "cat"], "please confirm")
            },
        )
        .unwrap();
        assert_eq!(
            get(&mut store, "ann", &m.id).unwrap().state,
            Some(DeliveryState::Delivered)
        );
        mark(&mut store, "ann", std::slice::from_ref(&m.id), false).unwrap();
        let acked = mark(&mut store, "bob", std::slice::from_ref(&m.id), true).unwrap();
        assert_eq!(acked[0].state, Some(DeliveryState::Acked));
        let states: Vec<(String, DeliveryState)> = sent(&mut store, "lead", None, None).unwrap()[0]
            .deliveries
            .iter()
            .map(|d| (d.recipient.clone(), d.state))
            .collect();
        assert_eq!(
            states,
            [
                ("ann".into(), DeliveryState::Read),
                ("bob".into(), DeliveryState::Acked),
                ("cat".into(), DeliveryState::Delivered)
            ]
        );
        assert!(
            sent(&mut store, "lead", None, None).unwrap()[0].deliveries[1]
                .read_at
                .is_some(),
            "ack implies read"
        );
        let before = store.latest_event_seq().unwrap();
        mark(&mut store, "ann", std::slice::from_ref(&m.id), false).unwrap();
        assert_eq!(
            store.latest_event_seq().unwrap(),
            before,
            "reading again changes nothing"
        );
        let err = mark(&mut store, "lead", std::slice::from_ref(&m.id), true).unwrap_err();
        assert!(err.to_string().contains("not a recipient"), "{err}");
        assert!(matches!(
            mark(&mut store, "human:ada", std::slice::from_ref(&m.id), false),
            Err(Error::NotFound { .. })
        ));
    }
}

crate::every_backend! {
    fn only_the_author_edits_with_history_or_deletes_to_a_tombstone(backend) {
        let (_dir, mut store) = setup(backend);
        let m = send(
            &mut store,
            &by("lead"),
            &Draft {
                subject: Some("v1 subject".into()),
                ..draft(&["ann"], "version one")
            },
        )
        .unwrap();
        let err = edit(&mut store, "ann", &m.id, "hijack", None).unwrap_err();
        assert!(err.to_string().contains("only its author (lead)"), "{err}");
        edit(&mut store, "lead", &m.id, "version two", None).unwrap();
        let edited = edit(
            &mut store,
            "lead",
            &m.id,
            "version three",
            Some("v3 subject"),
        )
        .unwrap();
        assert!(edited.edited_at.is_some());
        let versions = history(&mut store, "ann", &m.id).unwrap();
        let texts: Vec<(u32, &str)> = versions
            .iter()
            .map(|v| (v.version, v.body.as_str()))
            .collect();
        assert_eq!(
            texts,
            [(1, "version one"), (2, "version two"), (3, "version three")]
        );
        assert_eq!(versions[0].subject.as_deref(), Some("v1 subject"));
        assert!(
            delete(&mut store, "ann", &m.id)
                .unwrap_err()
                .to_string()
                .contains("only its author")
        );
        let gone = delete(&mut store, "lead", &m.id).unwrap();
        assert!(gone.body.is_none() && gone.deleted_at.is_some());
        let seen = get(&mut store, "ann", &m.id).unwrap();
        assert!(
            seen.body.is_none() && seen.deleted_at.is_some(),
            "recipients see a tombstone"
        );
        assert!(
            edit(&mut store, "lead", &m.id, "undead", None)
                .unwrap_err()
                .to_string()
                .contains("was deleted")
        );
        assert_eq!(
            inbox(&mut store, "ann", &InboxFilter::default())
                .unwrap()
                .unread,
            0,
            "tombstones are not unread"
        );
    }
}

crate::every_backend! {
    fn search_finds_visible_messages_with_snippets_and_filters(backend) {
        let (_dir, mut store) = setup(backend);
        send(
            &mut store,
            &by("lead"),
            &Draft {
                subject: Some("Parser bug".into()),
                ..draft(&["ann"], "the tokenizer drops unicode escapes")
            },
        )
        .unwrap();
        send(
            &mut store,
            &by("bob"),
            &draft(&["ann"], "unicode in the renderer too"),
        )
        .unwrap();
        send(
            &mut store,
            &by("lead"),
            &draft(&["cat"], "secret unicode plan"),
        )
        .unwrap();
        let hits = search(&mut store, "ann", "unicode", &InboxFilter::default()).unwrap();
        assert_eq!(hits.len(), 2, "cat's message is not visible to ann");
        assert!(
            hits.iter().all(|h| h.snippet.contains("[unicode]")),
            "{hits:?}"
        );
        let from_bob = search(
            &mut store,
            "ann",
            "unicode",
            &InboxFilter {
                from: Some("bob".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(from_bob.len(), 1);
        assert_eq!(
            search(&mut store, "ann", "parser", &InboxFilter::default())
                .unwrap()
                .len(),
            1,
            "subjects are searched"
        );
        assert_eq!(
            search(&mut store, "ann", "token*", &InboxFilter::default())
                .unwrap()
                .len(),
            1,
            "prefix search"
        );
        assert_eq!(
            search(
                &mut store,
                "ann",
                "\"unbalanced (quote AND",
                &InboxFilter::default()
            )
            .unwrap()
            .len(),
            0
        );
        assert!(search(&mut store, "ann", "   ", &InboxFilter::default()).is_err());
        let lead_sees = search(&mut store, "lead", "unicode", &InboxFilter::default()).unwrap();
        assert_eq!(lead_sees.len(), 2, "authors find what they sent");
        let first = &lead_sees
            .iter()
            .find(|h| h.message.subject.is_some())
            .unwrap()
            .message;
        delete(&mut store, "lead", &first.id).unwrap();
        assert_eq!(
            search(&mut store, "ann", "tokenizer", &InboxFilter::default())
                .unwrap()
                .len(),
            0,
            "deleted text is not found"
        );
    }
}

crate::every_backend! {
    fn the_unread_counter_matches_a_full_count_through_sends_reads_acks_and_deletes(backend) {
        let (_dir, mut store) = setup(backend);
        let mut ids = Vec::new();
        for i in 0..12 {
            let to = if i % 3 == 0 {
                vec!["@reviewer"]
            } else {
                vec!["ann"]
            };
            ids.push(
                send(&mut store, &by("lead"), &draft(&to, &format!("m{i}")))
                    .unwrap()
                    .id,
            );
        }
        mark(&mut store, "ann", &ids[0..3], false).unwrap();
        mark(&mut store, "ann", &ids[3..4], true).unwrap();
        delete(&mut store, "lead", &ids[5]).unwrap();
        delete(&mut store, "lead", &ids[1]).unwrap();
        mark(&mut store, "ann", &ids[5..6], false).unwrap();
        for who in ["ann", "bob", "lead"] {
            let full = store
                .sql_value(
                    "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                     WHERE d.recipient = $1 AND d.read_at IS NULL AND m.deleted_at IS NULL",
                    &[who.into()],
                )
                .unwrap();
            assert_eq!(unread(&mut store, who).unwrap(), full, "{who}");
        }
        assert_eq!(unread(&mut store, "ann").unwrap(), 7);
    }
}

crate::every_backend! {
    /// Messages are indexed for search in batches; whatever happened to a message before or
    /// after its batch, a search finds exactly the live text, and the index stays sound.
    fn search_sees_every_message_whether_its_batch_was_indexed_or_not(backend) {
        let (_dir, mut store) = setup(backend);
        let unindexed = |store: &mut Store| store.read(|tx| tx.messages_unindexed()).unwrap();
        let found = |store: &mut Store, word: &str| -> Vec<String> {
            search(store, "ann", word, &InboxFilter::default())
                .unwrap()
                .into_iter()
                .map(|h| h.message.id)
                .collect()
        };
        // Written before any batch: edited, then deleted, while still waiting.
        let early = send(&mut store, &by("lead"), &draft(&["ann"], "alpha")).unwrap();
        let doomed = send(&mut store, &by("lead"), &draft(&["ann"], "epsilon")).unwrap();
        // SQLite indexes in batches; PostgreSQL indexes every message as it is written.
        let batched = backend == Backend::Sqlite;
        assert_eq!(
            unindexed(&mut store),
            batched,
            "a single message waits for its batch"
        );
        edit(&mut store, "lead", &early.id, "beta", None).unwrap();
        delete(&mut store, "lead", &doomed.id).unwrap();
        // A batch: every waiting message is indexed when one's seq reaches a multiple of it.
        let mut fillers = Vec::new();
        while unindexed(&mut store) || fillers.len() < 2 {
            let text = format!("filler{}", fillers.len());
            fillers.push(send(&mut store, &by("lead"), &draft(&["ann"], &text)).unwrap());
            assert!(fillers.len() <= 64, "a batch is indexed within 64 messages");
        }
        // Edited and deleted after their batch: the index follows.
        edit(&mut store, "lead", &fillers[0].id, "gamma", None).unwrap();
        delete(&mut store, "lead", &fillers[1].id).unwrap();
        // One more, waiting: a search indexes it first.
        let late = send(&mut store, &by("lead"), &draft(&["ann"], "zeta")).unwrap();
        assert_eq!(unindexed(&mut store), batched);

        assert!(
            found(&mut store, "alpha").is_empty(),
            "the text before an edit is gone"
        );
        assert_eq!(found(&mut store, "beta"), [early.id]);
        assert!(
            found(&mut store, "epsilon").is_empty(),
            "deleted before its batch"
        );
        assert!(found(&mut store, "filler0").is_empty());
        assert_eq!(found(&mut store, "gamma"), [fillers[0].id.clone()]);
        assert!(
            found(&mut store, "filler1").is_empty(),
            "deleted after its batch"
        );
        assert_eq!(found(&mut store, "zeta"), [late.id]);
        assert!(!unindexed(&mut store), "a search leaves nothing waiting");
        // SQLite's index's own consistency (PostgreSQL keeps its index itself).
        if backend == Backend::Sqlite {
            store
            .sql_write(|tx| {
                // The index's own consistency (its content is the live messages only, so it is
                // not compared with the whole messages table).
                tx.execute(
                    "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
                    [],
                )?;
                Ok(())
            })
            .expect("the full-text index matches the messages");
        }
    }
}

/// Requests read as every surface sends them: absent or null is the default, references
/// come in their short form, and the editor protocol's earlier camelCase spellings count.
#[test]
fn message_requests_take_their_defaults_and_earlier_spellings() {
    let sent: Draft = serde_json::from_value(serde_json::json!({
        "to": ["ann"], "body": "hi", "priority": null, "ackRequired": true,
        "refs": ["file:src/lib.rs:3-5"]
    }))
    .unwrap();
    assert_eq!(sent.priority, Priority::Normal);
    assert!(sent.ack_required);
    assert_eq!(
        sent.refs,
        ["file:src/lib.rs:3-5".parse::<Reference>().unwrap()]
    );
    let bad = serde_json::from_value::<Draft>(
        serde_json::json!({"to": ["ann"], "body": "hi", "refs": ["src/lib.rs"]}),
    )
    .unwrap_err();
    assert!(bad.to_string().contains("write file:PATH"), "{bad}");
    let filter: InboxFilter =
        serde_json::from_value(serde_json::json!({"unreadOnly": true, "limit": null})).unwrap();
    assert!(filter.unread_only && filter.limit.is_none());
    let reply: Reply =
        serde_json::from_value(serde_json::json!({"message": "msg_1", "body": "ok", "to": null}))
            .unwrap();
    assert!(
        reply.draft().to.is_empty(),
        "no recipients: the thread's participants"
    );
}
