use super::*;
use crate::session::{EndRequest, NewSession, Session};
use crate::store::story::Scratch;
use crate::{Settings, StoreAddress};

fn start(store: &mut Store, agent: &str) -> Session {
    session::start(
        store,
        &NewSession {
            agent: agent.into(),
            intent: format!("{agent}'s work"),
            ..Default::default()
        },
    )
    .unwrap()
}

fn spawn(store: &mut Store, parent: &Session, agent: &str) -> Session {
    let child = NewSession {
        agent: agent.into(),
        intent: format!("{agent}'s subtask"),
        ..Default::default()
    };
    session::spawn(store, &parent.id, &child, &parent.agent).unwrap()
}

fn of(s: &Session) -> Claimant<'_> {
    Claimant {
        actor: &s.agent,
        session: Some(&s.id),
    }
}

fn ask(patterns: &[&str], mode: Mode, reason: &str) -> ClaimRequest {
    ClaimRequest {
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
        shared: mode == Mode::Shared,
        reason: reason.into(),
        ..Default::default()
    }
}

fn exclusive(patterns: &[&str]) -> ClaimRequest {
    ask(patterns, Mode::Exclusive, "refactoring auth")
}

/// The notices Switchboard left in `agent`'s inbox, oldest first: subject and body.
fn notices(store: &mut Store, agent: &str) -> Vec<(String, String)> {
    let page = crate::message::inbox(store, agent, &Default::default()).unwrap();
    page.messages
        .into_iter()
        .rev()
        .filter(|m| m.sender == crate::agent::SYSTEM)
        .map(|m| (m.subject.unwrap_or_default(), m.body.unwrap_or_default()))
        .collect()
}

/// Makes `session` stale: its last sign of life long before the stale window.
fn go_stale(store: &mut Store, session: &Session) {
    store
        .sql_rows(
            "UPDATE sessions SET last_seen_at = 0 WHERE id = $1",
            &[session.id.clone().into()],
        )
        .unwrap();
}

/// Moves claim `id`'s expiry into the past.
fn expire(store: &mut Store, id: &str) {
    store
        .sql_rows(
            "UPDATE claims SET expires_at = 1 WHERE id = $1",
            &[id.into()],
        )
        .unwrap();
}

fn kinds(store: &mut Store) -> Vec<String> {
    store
        .events_after(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| k.starts_with("claim."))
        .collect()
}

crate::every_backend! {
    fn claims_are_made_listed_renewed_and_replaced_by_their_holder(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let made = claim(&mut store, &of(&ann), &exclusive(&["src/auth/**", "./docs/"])).unwrap();
        assert_eq!(made.len(), 2);
        let first = &made[0];
        assert!(first.id.starts_with("clm_"));
        assert_eq!(
            (first.pattern.as_str(), made[1].pattern.as_str()),
            ("src/auth/**", "docs/")
        );
        assert_eq!((first.mode, first.state), (Mode::Exclusive, ClaimState::Active));
        assert_eq!((first.agent.as_str(), first.session.as_deref()), ("ann", Some(ann.id.as_str())));
        let ttl = first.expires_at.millis() - first.created_at.millis();
        assert_eq!(ttl, 3_600_000, "one hour unless asked");
        let by_id = |mut claims: Vec<Claim>| {
            claims.sort_by(|a, b| a.id.cmp(&b.id));
            claims
        };
        assert_eq!(by_id(list(&mut store, false).unwrap()), by_id(made.clone()));

        // Renewal moves the expiry; by pattern, by id prefix, or all.
        let renewed = renew(
            &mut store,
            &of(&ann),
            &Which::Pattern("src/auth/**".into()),
            Some(Duration::from_secs(7200)),
        )
        .unwrap();
        assert_eq!(renewed.len(), 1);
        assert!(renewed[0].expires_at > first.expires_at);
        let by_id = renew(&mut store, &of(&ann), &Which::Id(first.id[..22].into()), None).unwrap();
        assert_eq!(by_id[0].id, first.id);
        assert_eq!(renew(&mut store, &of(&ann), &Which::All, None).unwrap().len(), 2);
        let too_long = renew(&mut store, &of(&ann), &Which::All, Some(MAX_TTL * 2)).unwrap_err();
        assert!(too_long.to_string().contains("at most 24 hours"), "{too_long}");

        // Claiming a held pattern again replaces it: same id, new mode and reason.
        let again = claim(&mut store, &of(&ann), &ask(&["src/auth/**"], Mode::Shared, "reading")).unwrap();
        assert_eq!(again[0].id, first.id);
        assert_eq!((again[0].mode, again[0].reason.as_str()), (Mode::Shared, "reading"));
        // Own overlapping claims are fine.
        claim(&mut store, &of(&ann), &exclusive(&["src/**"])).unwrap();
        assert_eq!(list(&mut store, false).unwrap().len(), 3);

        // Another agent may not renew ann's claim.
        let bob = start(&mut store, "bob");
        let e = renew(&mut store, &of(&bob), &Which::Id(first.id.clone()), None).unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
        assert_eq!(
            kinds(&mut store),
            ["claim.made", "claim.renewed", "claim.renewed", "claim.renewed", "claim.made", "claim.made"]
        );
    }
}

crate::every_backend! {
    fn requests_are_checked_before_anything_is_written(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let refused = |store: &mut Store, claimant: &Claimant<'_>, request: &ClaimRequest| {
            claim(store, claimant, request).unwrap_err().to_string()
        };
        let e = refused(&mut store, &of(&ann), &exclusive(&["!src/gen/**"]));
        assert!(e.contains("negation"), "{e}");
        let e = refused(&mut store, &of(&ann), &exclusive(&[]));
        assert!(e.contains("at least one pattern"), "{e}");
        let e = refused(&mut store, &of(&ann), &ask(&["src/**"], Mode::Exclusive, "  "));
        assert!(e.contains("give a reason"), "{e}");
        let e = refused(&mut store, &of(&ann), &ask(&["src/**"], Mode::Exclusive, "auth\x1b[2J"));
        assert!(e.contains("without control characters"), "{e}");
        let long = ClaimRequest {
            ttl: Some(Duration::from_secs(25 * 3600)),
            ..exclusive(&["src/**"])
        };
        let e = refused(&mut store, &of(&ann), &long);
        assert!(e.contains("at most 24 hours") && e.contains("renew"), "{e}");
        let no_session = Claimant { actor: "ann", session: None };
        let e = refused(&mut store, &no_session, &exclusive(&["src/**"]));
        assert!(e.contains("start one"), "{e}");
        let e = refused(&mut store, &Claimant { actor: "bob", session: Some(&ann.id) }, &exclusive(&["src/**"]));
        assert!(e.contains("belongs to 'ann'"), "{e}");
        assert!(list(&mut store, true).unwrap().is_empty());
        assert!(kinds(&mut store).is_empty());
    }
}

crate::every_backend! {
    fn an_exclusive_claim_refuses_overlapping_claims_naming_holder_reason_and_expiry(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let bob = start(&mut store, "bob");
        let held = claim(&mut store, &of(&ann), &exclusive(&["src/**"])).unwrap();
        for pattern in ["src/auth/x.rs", "*.rs", "src/", "**"] {
            for mode in [Mode::Exclusive, Mode::Shared] {
                let e = claim(&mut store, &of(&bob), &ask(&[pattern], mode, "tests")).unwrap_err();
                assert!(matches!(e, Error::Conflict(_)), "{pattern}: {e}");
                let text = e.to_string();
                for needed in ["'ann'", &ann.id, "src/**", "refactoring auth", &held[0].expires_at.minute(crate::clock::Timestamp::now()), "message", "wait", "ask a human"] {
                    assert!(text.contains(needed), "{pattern}: no {needed} in {text}");
                }
            }
        }
        // All or nothing: one refused pattern refuses the request.
        assert!(claim(&mut store, &of(&bob), &exclusive(&["/docs/", "src/x.rs"])).is_err());
        assert_eq!(list(&mut store, false).unwrap().len(), 1);
        // What does not overlap is free.
        // (An unanchored `docs/` would overlap: src/docs/ may exist.)
        assert!(claim(&mut store, &of(&bob), &exclusive(&["docs/"])).is_err());
        claim(&mut store, &of(&bob), &exclusive(&["/docs/", "tests/**"])).unwrap();
    }
}

crate::every_backend! {
    fn shared_claims_coexist_but_exclude_exclusive_ones(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let bob = start(&mut store, "bob");
        let cat = start(&mut store, "cat");
        claim(&mut store, &of(&ann), &ask(&["docs/"], Mode::Shared, "reading docs")).unwrap();
        claim(&mut store, &of(&bob), &ask(&["docs/a.md"], Mode::Shared, "fixing a typo")).unwrap();
        let e = claim(&mut store, &of(&cat), &exclusive(&["docs/**"])).unwrap_err().to_string();
        assert!(e.contains("'ann'") && e.contains("'bob'") && e.contains("reading docs"), "{e}");
        assert_eq!(list(&mut store, false).unwrap().len(), 2);
        // Shared claims never show as conflicts in a check.
        let paths = vec!["docs/a.md".to_string()];
        assert!(check(&mut store, &paths, Some(&of(&cat))).unwrap().is_empty());
        assert_eq!(claims_on(&mut store, "docs/a.md").unwrap().len(), 2);
    }
}

crate::every_backend! {
    fn claims_expire_by_time_and_the_holder_claims_again(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let bob = start(&mut store, "bob");
        let held = claim(&mut store, &of(&ann), &exclusive(&["src/**"])).unwrap();
        expire(&mut store, &held[0].id);
        assert!(list(&mut store, false).unwrap().is_empty(), "an expired claim is not in force");
        let all = list(&mut store, true).unwrap();
        assert_eq!(all[0].state, ClaimState::Expired);
        assert!(claims_on(&mut store, "src/x.rs").unwrap().is_empty());
        let e = renew(&mut store, &of(&ann), &Which::Id(held[0].id.clone()), None).unwrap_err();
        assert!(e.to_string().contains("expired") && e.to_string().contains("claim the pattern again"), "{e}");
        assert!(renew(&mut store, &of(&ann), &Which::All, None).unwrap().is_empty());
        // Others may claim it now; the holder's claiming again drops its expired row.
        claim(&mut store, &of(&bob), &exclusive(&["src/x.rs"])).unwrap();
        claim(&mut store, &of(&ann), &exclusive(&["lib/**"])).unwrap();
        let mut patterns: Vec<String> = list(&mut store, true).unwrap().into_iter().map(|c| c.pattern).collect();
        patterns.sort();
        assert_eq!(patterns, ["lib/**", "src/x.rs"]);
    }
}

crate::every_backend! {
    fn claims_end_with_their_session_in_the_same_transaction(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let bob = start(&mut store, "bob");
        let held = claim(&mut store, &of(&ann), &exclusive(&["src/**", "/docs/"])).unwrap();
        claim(&mut store, &of(&bob), &exclusive(&["tests/**"])).unwrap();
        let before = store.latest_event_seq().unwrap();
        session::end(&mut store, &ann.id, &EndRequest::default(), "ann").unwrap();
        let left: Vec<String> = list(&mut store, true).unwrap().into_iter().map(|c| c.agent).collect();
        assert_eq!(left, ["bob"]);
        let events = store.events_after(before, 10).unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["session.ended", "claim.released"]);
        let Change::ClaimReleased(released) = &events[1].change else {
            panic!("{:?}", events[1].change)
        };
        let mut ids = released.ids.clone();
        ids.sort();
        let mut want = vec![held[0].id.clone(), held[1].id.clone()];
        want.sort();
        assert_eq!(ids, want);
        assert_eq!(released.why.as_deref(), Some("session ended"));
        assert_eq!(events[1].change.session(), Some(ann.id.as_str()));
        // An ended session claims nothing more.
        let e = claim(&mut store, &of(&ann), &exclusive(&["x"])).unwrap_err();
        assert!(e.to_string().contains("already ended"), "{e}");
        // Ending a session without claims writes no claim event.
        session::end(&mut store, &bob.id, &EndRequest::default(), "bob").unwrap();
        let end = store.latest_event_seq().unwrap();
        let last = store.events_after(end - 1, 1).unwrap();
        assert_eq!(last[0].kind, "claim.released", "bob held tests/**");
    }
}

use crate::event::Change;

crate::every_backend! {
    fn a_stale_holders_claims_are_taken_over_by_a_human_or_its_parent_only(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let lead = start(&mut store, "lead");
        let worker = spawn(&mut store, &lead, "ann");
        let bob = start(&mut store, "bob");
        let held = claim(&mut store, &of(&worker), &exclusive(&["src/**"])).unwrap();
        go_stale(&mut store, &worker);
        let listed = list(&mut store, false).unwrap();
        assert_eq!(listed[0].state, ClaimState::Stale);
        assert!(listed[0].stale_reason.as_deref().is_some_and(|r| r.contains("no heartbeat")));

        // Another agent: refused, even asking to take over, with who may.
        let take = ClaimRequest { take_over: true, ..exclusive(&["src/x.rs"]) };
        let e = claim(&mut store, &of(&bob), &take).unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
        let text = e.to_string();
        assert!(text.contains("'ann'") && text.contains("stale") && text.contains("human") && text.contains("parent"), "{text}");

        // The parent, without asking to take over: told it may.
        let e = claim(&mut store, &of(&lead), &exclusive(&["src/x.rs"])).unwrap_err();
        assert!(e.to_string().contains("take_over"), "{e}");
        // The parent taking over: the stale claim goes, the new one is made.
        let taken = claim(&mut store, &of(&lead), &take).unwrap();
        assert_eq!(taken[0].agent, "lead");
        let told = notices(&mut store, "ann");
        assert_eq!(told.len(), 1, "the stale holder is told: {told:?}");
        assert_eq!(told[0].0, "Your stale claims were taken over");
        assert!(
            told[0].1.starts_with("lead took over your claims while your session was stale:\n- src/** (")
                && told[0].1.contains("message_send"),
            "{told:?}"
        );
        let listed = list(&mut store, true).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, taken[0].id);
        let made = store.events_after(0, 100).unwrap().into_iter().rev().find(|e| e.kind == "claim.made").unwrap();
        let Change::ClaimMade(payload) = made.change else { panic!() };
        assert_eq!(payload.taken_over, [held[0].id.clone()]);

        // A human takes over a stale claim too.
        go_stale(&mut store, &lead);
        let human = Claimant { actor: "human:ada", session: None };
        let by_human = claim(&mut store, &human, &ClaimRequest { take_over: true, ..exclusive(&["src/**"]) }).unwrap();
        assert_eq!((by_human[0].agent.as_str(), by_human[0].session.as_deref()), ("human:ada", None));
        assert_eq!(list(&mut store, false).unwrap().len(), 1);
        // A person's claim is never stale.
        assert_eq!(list(&mut store, false).unwrap()[0].state, ClaimState::Active);
    }
}

crate::every_backend! {
    fn releases_by_id_pattern_or_all_and_who_may(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let lead = start(&mut store, "lead");
        let ann = spawn(&mut store, &lead, "ann");
        let bob = start(&mut store, "bob");
        let held = claim(&mut store, &of(&ann), &exclusive(&["src/**", "docs/", "tests/**"])).unwrap();
        let e = release(&mut store, &of(&bob), &Which::Id(held[0].id.clone())).unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)) && e.to_string().contains("only its holder"), "{e}");
        let e = release(&mut store, &of(&ann), &Which::Pattern("lib/**".into())).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("your claims: ") && ["src/**", "docs/", "tests/**"].iter().all(|p| e.contains(p)), "{e}");
        let gone = release(&mut store, &of(&ann), &Which::Pattern("./docs/".into())).unwrap();
        assert_eq!(gone[0].id, held[1].id);
        assert!(notices(&mut store, "ann").is_empty(), "releasing your own claims tells nobody");
        // The parent's agent releases its worker's claim by id, a human any claim; the
        // holder is told each time.
        release(&mut store, &of(&lead), &Which::Id(held[0].id.clone())).unwrap();
        let human = Claimant { actor: "human:ada", session: None };
        release(&mut store, &human, &Which::Id(held[2].id.clone())).unwrap();
        let told = notices(&mut store, "ann");
        assert_eq!(told.len(), 2, "{told:?}");
        assert_eq!(told[0].0, "Your claims were released");
        assert!(
            told[0].1.starts_with("lead released your claims:\n- src/** (")
                && told[0].1.contains(&held[0].id)
                && told[0].1.contains("claim_add"),
            "{told:?}"
        );
        assert!(told[1].1.starts_with("human:ada released your claims:\n- tests/** ("), "{told:?}");
        assert!(list(&mut store, true).unwrap().is_empty());
        claim(&mut store, &of(&ann), &exclusive(&["a/**", "b/**"])).unwrap();
        assert_eq!(release(&mut store, &of(&ann), &Which::All).unwrap().len(), 2);
        assert!(release(&mut store, &of(&ann), &Which::All).unwrap().is_empty());
        let e = release(&mut store, &of(&ann), &Which::Id("clm_0000ZZZZ".into())).unwrap_err();
        assert!(matches!(e, Error::NotFound { kind: Record::Claim, .. }), "{e}");
        assert_eq!(
            kinds(&mut store),
            ["claim.made", "claim.released", "claim.released", "claim.released", "claim.made", "claim.released"]
        );
    }
}

crate::every_backend! {
    fn check_finds_other_holders_exclusive_claims_on_a_commit(backend) {
        let (_scratch, mut store) = scratch_store(backend);
        let ann = start(&mut store, "ann");
        let bob = start(&mut store, "bob");
        claim(&mut store, &of(&ann), &exclusive(&["src/auth/**"])).unwrap();
        claim(&mut store, &of(&ann), &ask(&["README.md"], Mode::Shared, "notes")).unwrap();
        claim(&mut store, &of(&bob), &exclusive(&["/Cargo.toml", "core/*.toml"])).unwrap();
        let commit: Vec<String> = ["src/auth/login.rs", "src/auth/token.rs", "src/main.rs", "README.md", "Cargo.toml", "core/Cargo.toml"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        let for_bob = check(&mut store, &commit, Some(&of(&bob))).unwrap();
        assert_eq!(for_bob.len(), 1);
        assert_eq!(for_bob[0].claim.agent, "ann");
        assert_eq!(for_bob[0].paths, ["src/auth/login.rs", "src/auth/token.rs"]);
        let for_ann = check(&mut store, &commit, Some(&of(&ann))).unwrap();
        let mut blocked: Vec<(&str, &[String])> = for_ann
            .iter()
            .map(|c| (c.claim.pattern.as_str(), c.paths.as_slice()))
            .collect();
        blocked.sort();
        assert_eq!(
            blocked,
            [
                ("/Cargo.toml", &["Cargo.toml".to_string()][..]),
                ("core/*.toml", &["core/Cargo.toml".to_string()][..])
            ]
        );
        assert_eq!(check(&mut store, &commit, None).unwrap().len(), 3);
        let on = claims_on(&mut store, "src/auth/login.rs").unwrap();
        assert_eq!(on.len(), 1);
        let described = on[0].describe();
        assert!(
            described.starts_with(&format!("'ann' (session {}) holds src/auth/** exclusively", ann.id))
                && described.ends_with(": refactoring auth"),
            "{described}"
        );
        assert!(claims_on(&mut store, "docs/x.md").unwrap().is_empty());
    }
}

crate::every_backend! {
    fn a_store_at_schema_12_keeps_its_data_and_takes_claims(backend) {
        let scratch = Scratch::new(backend);
        let address: StoreAddress = scratch.address();
        let mut old = Store::create_at_schema(&address, Settings::default(), 12).unwrap();
        let ann = start(&mut old, "ann");
        drop(old);
        let mut store = Store::open_at(&address, Settings::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), crate::store::supported_schema_version());
        let kept = session::get(&mut store, &ann.id).unwrap();
        assert_eq!((kept.agent.as_str(), kept.intent.as_str()), ("ann", "ann's work"));
        claim(&mut store, &of(&ann), &exclusive(&["src/**"])).unwrap();
        assert_eq!(list(&mut store, false).unwrap().len(), 1);
    }
}

#[test]
fn a_commit_of_ten_thousand_paths_is_checked_against_a_hundred_claims_in_one_pass() {
    let claims: Vec<(Pattern, Claim)> = (0..100)
        .map(|i| {
            let text = match i % 4 {
                0 => format!("src/m{i}/**"),
                1 => format!("src/m{i}/*.rs"),
                2 => format!("docs/d{i}/"),
                _ => format!("src/m{i}/lib.rs"),
            };
            let claim = Claim {
                id: format!("clm_{i:04}"),
                pattern: text.clone(),
                mode: Mode::Exclusive,
                agent: "ann".into(),
                session: Some("ses_A".into()),
                reason: "r".into(),
                created_at: Timestamp(0),
                expires_at: Timestamp(1),
                state: ClaimState::Active,
                stale_reason: None,
            };
            (Pattern::parse(&text).unwrap(), claim)
        })
        .collect();
    let index = Index::new(claims).unwrap();
    let paths: Vec<String> = (0..10_000)
        .map(|i| format!("src/m{}/f{i}.rs", i % 200))
        .collect();
    let bob = Claimant {
        actor: "bob",
        session: Some("ses_B"),
    };
    let found = conflicts(&index, &paths, Some(&bob));
    // Of the modules claimed, half by `/**` or `/*.rs` cover their 50 paths each; the
    // others claim only lib.rs (which no path is) or docs.
    assert_eq!(found.len(), 50);
    assert!(found.iter().all(|c| c.paths.len() == 50));
    let ann = Claimant {
        actor: "ann",
        session: Some("ses_A"),
    };
    assert!(conflicts(&index, &paths, Some(&ann)).is_empty());
}
