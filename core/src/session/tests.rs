//! Unit tests of sessions: starts and refused starts, the lifecycle (heartbeat, update,
//! end), default end statuses, list filters, staleness, spawn, fork, claim, supersession
//! and genealogy.

use std::time::Duration;

use super::*;
use crate::Settings;
use crate::agent;
use crate::event::Kind;
use crate::process::{self, ProcessInfo};
use crate::{Error, Store};

fn new(agent: &str, intent: &str) -> NewSession {
    NewSession {
        agent: agent.into(),
        intent: intent.into(),
        ..Default::default()
    }
}

fn me() -> Option<ProcessInfo> {
    Some(ProcessInfo::current())
}

crate::every_backend! {
    fn start_registers_the_agent_and_records_process_and_event(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let s = start(
            &mut store,
            &NewSession {
                role: Some("lead".into()),
                process: me(),
                ..new("claude", "build the thing")
            },
        )
        .unwrap();
        assert!(s.id.starts_with("ses_"));
        assert_eq!(
            (s.status, s.role.as_deref()),
            (Status::Active, Some("lead"))
        );
        assert_eq!(s.process, me());
        let agent = agent::get(&mut store, "claude").unwrap();
        assert_eq!(agent.live_sessions, 1);
        let events = store.events_after(0, 10).unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                Kind::AgentRegistered.as_str(),
                Kind::SessionStarted.as_str()
            ]
        );
        assert_eq!(events[1].change.session(), Some(s.id.as_str()));
    }
}

crate::every_backend! {
    fn refused_starts_leave_nothing_behind(backend) {
        let (_dir, mut store) = scratch_store(backend);
        assert!(matches!(
            start(&mut store, &new("Bad Name", "x")),
            Err(Error::Invalid(_))
        ));
        assert!(
            start(&mut store, &new("ok", "   "))
                .unwrap_err()
                .to_string()
                .contains("intent is empty")
        );
        let orphan = NewSession {
            parent: Some("ses_0000".into()),
            ..new("ok", "child")
        };
        assert!(matches!(
            start(&mut store, &orphan),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(store.latest_event_seq().unwrap(), 0);
        assert!(
            agent::list(&mut store).unwrap().is_empty(),
            "the agent of a refused start is not registered"
        );
    }
}

crate::every_backend! {
    fn lifecycle_heartbeat_update_end(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let s = start(
            &mut store,
            &NewSession {
                process: me(),
                ..new("codex", "first idea")
            },
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let beat = heartbeat(&mut store, &s.id, "codex", None, None).unwrap();
        assert!(beat.last_seen_at > s.last_seen_at);
        let changed = update(
            &mut store,
            &s.id[..10],
            &SessionUpdate {
                intent: Some("better idea".into()),
                role: None,
            },
            "codex",
        )
        .unwrap();
        assert_eq!(changed.intent, "better idea");
        assert!(update(&mut store, &s.id, &SessionUpdate::default(), "codex").is_err());
        let ended = end(
            &mut store,
            &s.id,
            &EndRequest {
                status: Some(EndStatus::Failed),
                reason: Some("tests never passed".into()),
            },
            "codex",
        )
        .unwrap();
        assert_eq!(
            (ended.status, ended.end_reason.as_deref()),
            (Status::Failed, Some("tests never passed"))
        );
        assert!(ended.ended_at.is_some());
        let again = end(
            &mut store,
            &s.id,
            &EndRequest::with(EndStatus::Completed),
            "codex",
        )
        .unwrap_err();
        assert!(
            again.to_string().contains("already ended (failed"),
            "{again}"
        );
        assert!(heartbeat(&mut store, &s.id, "codex", None, None).is_err());
        assert_eq!(agent::get(&mut store, "codex").unwrap().live_sessions, 0);
    }
}

crate::every_backend! {
    /// Every surface leaves the status to the core when the caller gives none.
    fn an_end_without_a_status_is_completed_by_its_agent_and_abandoned_by_others(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let own = start(&mut store, &new("codex", "mine")).unwrap();
        let ended = end(&mut store, &own.id, &EndRequest::default(), "codex").unwrap();
        assert_eq!(ended.status, Status::Completed);
        let parent = start(&mut store, &new("lead", "plan")).unwrap();
        let child = spawn(
            &mut store,
            &parent.id,
            &NewSession {
                parent: Some(parent.id.clone()),
                ..new("worker", "part")
            },
            "lead",
        );
        let child = child.unwrap();
        let stopped = end(&mut store, &child.id, &EndRequest::default(), "lead").unwrap();
        assert_eq!(stopped.status, Status::Abandoned);
        let other = start(&mut store, &new("codex", "another")).unwrap();
        let by_human = end(&mut store, &other.id, &EndRequest::default(), "human:ada").unwrap();
        assert_eq!(by_human.status, Status::Abandoned);
    }
}

crate::every_backend! {
    fn list_filters_by_agent_status_liveness_and_parent(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let root = start(
            &mut store,
            &NewSession {
                process: me(),
                ..new("lead", "plan")
            },
        )
        .unwrap();
        let child = spawn(&mut store, &root.id, &new("worker", "part one"), "lead").unwrap();
        let done = start(&mut store, &new("worker", "old job")).unwrap();
        end(
            &mut store,
            &done.id,
            &EndRequest::with(EndStatus::Completed),
            "worker",
        )
        .unwrap();
        let ids = |f: Filter, store: &mut Store| -> Vec<String> {
            list(store, &f)
                .unwrap()
                .sessions
                .into_iter()
                .map(|s| s.id)
                .collect()
        };
        assert_eq!(
            ids(Filter::default(), &mut store),
            [done.id.clone(), child.id.clone(), root.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    agent: Some("worker".into()),
                    ..Default::default()
                },
                &mut store
            ),
            [done.id.clone(), child.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    status: Some(Status::Completed),
                    ..Default::default()
                },
                &mut store
            ),
            vec![done.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    live_only: true,
                    ..Default::default()
                },
                &mut store
            ),
            [child.id.clone(), root.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    parent: Some(root.id.clone()),
                    ..Default::default()
                },
                &mut store
            ),
            vec![child.id.clone()]
        );
        let page = list(
            &mut store,
            &Filter {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((page.sessions.len(), page.truncated), (2, true));
    }
}

crate::every_backend! {
    fn a_session_whose_process_is_gone_is_reported_stale_without_rewriting_it(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let gone = process::gone();
        let s = start(
            &mut store,
            &NewSession {
                process: Some(gone),
                ..new("ghost", "vanished")
            },
        )
        .unwrap();
        assert_eq!(s.status, Status::Stale);
        assert!(s.stale_reason.as_deref().unwrap().contains("is gone"));
        let stale = list(
            &mut store,
            &Filter {
                status: Some(Status::Stale),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(stale.sessions.len(), 1);
        assert!(
            list(
                &mut store,
                &Filter {
                    live_only: true,
                    ..Default::default()
                }
            )
            .unwrap()
            .sessions
            .is_empty()
        );
        let stored = store
            .sql_value("SELECT status FROM sessions WHERE id = $1", &[s.id.clone().into()])
            .unwrap();
        assert_eq!(stored, "active", "staleness is computed, never written");
        // A stale session can still be ended explicitly.
        assert_eq!(
            end(
                &mut store,
                &s.id,
                &EndRequest::with(EndStatus::Abandoned),
                "human:ada"
            )
            .unwrap()
            .status,
            Status::Abandoned
        );
    }
}

#[test]
fn a_session_without_a_recent_heartbeat_is_stale_until_it_beats_again() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        stale_after: Duration::from_millis(40),
    };
    let mut store = Store::open(&dir.path().join("s.db"), settings).unwrap();
    let s = start(
        &mut store,
        &NewSession {
            process: me(),
            ..new("sleepy", "nap")
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::Active);
    std::thread::sleep(Duration::from_millis(60));
    let later = get(&mut store, &s.id).unwrap();
    assert_eq!(later.status, Status::Stale);
    assert!(later.stale_reason.unwrap().contains("no heartbeat since"));
    assert_eq!(
        heartbeat(&mut store, &s.id, "sleepy", None, None)
            .unwrap()
            .status,
        Status::Active
    );
}

crate::every_backend! {
    fn spawn_needs_an_open_parent_and_fork_keeps_the_parent(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let root = start(&mut store, &new("lead", "plan")).unwrap();
        let child = spawn(&mut store, &root.id, &new("worker", "try A"), "lead").unwrap();
        assert_eq!(child.parent.as_deref(), Some(root.id.as_str()));
        assert!(
            child.process.is_none(),
            "a spawned session waits to be claimed"
        );
        let alt = fork(&mut store, &child.id, &new("worker-2", "try B"), "lead").unwrap();
        assert_eq!(
            (alt.parent.as_deref(), alt.forked_from.as_deref()),
            (Some(root.id.as_str()), Some(child.id.as_str()))
        );
        end(
            &mut store,
            &child.id,
            &EndRequest {
                status: Some(EndStatus::Failed),
                reason: Some("A is a dead end".into()),
            },
            "worker",
        )
        .unwrap();
        let alt2 = fork(&mut store, &child.id, &new("worker-3", "try C"), "lead").unwrap();
        assert_eq!(
            alt2.forked_from.as_deref(),
            Some(child.id.as_str()),
            "forking an ended session is allowed"
        );
        let err = spawn(&mut store, &child.id, &new("x", "y"), "worker").unwrap_err();
        assert!(err.to_string().contains("already ended"), "{err}");
    }
}

crate::every_backend! {
    fn claim_attaches_a_process_to_its_own_agents_open_session_only(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let root = start(&mut store, &new("lead", "plan")).unwrap();
        let child = spawn(&mut store, &root.id, &new("worker", "part"), "lead").unwrap();
        let me = ProcessInfo::current();
        let by = |agent| Claim {
            agent,
            process: &me,
            intent: None,
            role: None,
        };
        let stolen = claim(&mut store, &child.id, &by(Some("intruder"))).unwrap_err();
        assert!(
            stolen.to_string().contains("belongs to agent 'worker'"),
            "{stolen}"
        );
        let refined = Claim {
            intent: Some("part, refined"),
            role: Some("dev"),
            ..by(None)
        };
        let claimed = claim(&mut store, &child.id, &refined).unwrap();
        assert_eq!(claimed.process.as_ref(), Some(&me));
        assert_eq!(
            (claimed.intent.as_str(), claimed.role.as_deref()),
            ("part, refined", Some("dev"))
        );
        // Another process may not take over a session this live process serves…
        let other = ProcessInfo {
            pid: me.pid + 1,
            host: me.host.clone(),
        };
        let taken = claim(
            &mut store,
            &child.id,
            &Claim {
                process: &other,
                ..by(Some("worker"))
            },
        )
        .unwrap_err();
        assert!(
            taken.to_string().contains("already served by live process"),
            "{taken}"
        );
        // …but may take over one whose process is gone.
        let dead = process::gone();
        let orphan = start(
            &mut store,
            &NewSession {
                process: Some(dead),
                ..new("worker", "orphaned")
            },
        )
        .unwrap();
        assert_eq!(orphan.status, Status::Stale);
        let adopted = claim(&mut store, &orphan.id, &by(Some("worker"))).unwrap();
        assert_eq!(adopted.status, Status::Active);
    }
}

crate::every_backend! {
    fn heartbeats_come_from_the_owner_and_follow_a_restarted_process(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let me = ProcessInfo::current();
        let dead = process::gone();
        let s = start(
            &mut store,
            &NewSession {
                process: Some(dead),
                ..new("codex", "work")
            },
        )
        .unwrap();
        assert_eq!(s.status, Status::Stale);
        let err = heartbeat(&mut store, &s.id, "claude", Some(&me), None).unwrap_err();
        assert!(
            err.to_string().contains("belongs to agent 'codex'"),
            "{err}"
        );
        let beat = heartbeat(&mut store, &s.id, "codex", Some(&me), None).unwrap();
        assert_eq!(
            (beat.status, beat.process.as_ref()),
            (Status::Active, Some(&me))
        );
    }
}

crate::every_backend! {
    fn a_superseded_session_is_abandoned_in_the_same_transaction(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let first = start(&mut store, &new("claude", "first task")).unwrap();
        let second = start(
            &mut store,
            &NewSession {
                supersedes: Some(first.id.clone()),
                ..new("claude", "second task")
            },
        )
        .unwrap();
        let old = get(&mut store, &first.id).unwrap();
        assert_eq!(old.status, Status::Abandoned);
        assert_eq!(old.end_reason, Some(format!("superseded by {}", second.id)));
        let refused = start(
            &mut store,
            &NewSession {
                supersedes: Some("ses_0000000000".into()),
                ..new("claude", "third")
            },
        );
        assert!(refused.is_err());
        assert_eq!(
            list(&mut store, &Filter::default()).unwrap().sessions.len(),
            2,
            "the refused start left nothing"
        );
    }
}

crate::every_backend! {
    fn genealogy_of_twelve_levels_with_forks_in_preorder(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let root = start(&mut store, &new("a0", "level 0")).unwrap();
        let mut chain = vec![root.clone()];
        for level in 1..12 {
            let parent = chain.last().unwrap().id.clone();
            chain.push(
                spawn(
                    &mut store,
                    &parent,
                    &new(&format!("a{level}"), &format!("level {level}")),
                    "a0",
                )
                .unwrap(),
            );
        }
        let fork_of_root = fork(&mut store, &root.id, &new("alt", "other plan"), "a0").unwrap();
        let fork_mid = fork(&mut store, &chain[5].id, &new("alt", "other level 5"), "a0").unwrap();
        let deepest = chain.last().unwrap();

        let t = tree(&mut store, &deepest.id, None).unwrap();
        assert_eq!(
            (t.root.as_str(), t.focus.as_str(), t.truncated),
            (root.id.as_str(), deepest.id.as_str(), false)
        );
        assert_eq!(t.nodes.len(), 14);
        let order: Vec<(&str, u32)> = t
            .nodes
            .iter()
            .map(|n| (n.session.id.as_str(), n.depth))
            .collect();
        // Pre-order: a fork of level 5 is a child of level 4, after level 5's whole subtree.
        assert_eq!(order[0], (root.id.as_str(), 0));
        let pos = |id: &str| order.iter().position(|(i, _)| *i == id).unwrap();
        assert_eq!(
            order[pos(&fork_mid.id)].1,
            5,
            "a fork is a sibling of its source"
        );
        assert!(
            pos(&fork_mid.id) > pos(&deepest.id),
            "younger siblings come after older subtrees"
        );
        assert_eq!(
            order[pos(&fork_of_root.id)].1,
            1,
            "a parentless fork hangs under its source"
        );
        assert_eq!(order[pos(&deepest.id)].1, 11);

        let shallow = tree(&mut store, &root.id, Some(3)).unwrap();
        assert!(shallow.truncated);
        assert!(shallow.nodes.iter().all(|n| n.depth <= 3));
        let from_below = tree(&mut store, &deepest.id, Some(4)).unwrap();
        assert!(from_below.truncated, "the walk up stopped before the root");
        assert_eq!(from_below.root, chain[7].id);
    }
}

crate::every_backend! {
    fn tree_text_draws_guides_forks_and_focus(backend) {
        let (_dir, mut store) = scratch_store(backend);
        let root = start(&mut store, &new("lead", "plan")).unwrap();
        let a = spawn(&mut store, &root.id, &new("w1", "part A"), "lead").unwrap();
        spawn(&mut store, &a.id, &new("w1", "part A.1"), "w1").unwrap();
        fork(&mut store, &a.id, &new("w2", "part A, other way"), "lead").unwrap();
        let t = tree(&mut store, &a.id, None).unwrap();
        let text = crate::render::tree(&t);
        let shape: Vec<String> = text
            .lines()
            .map(|l| l.split("ses_").next().unwrap().to_string())
            .collect();
        assert_eq!(shape, ["● ", "├─ ● ", "│  └─ ● ", "└─ ⑂ ● "], "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with("◀"));
    }
}
