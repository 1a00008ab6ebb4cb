//! Claims beside the work: who_has names claims and changes, the radar marks worktrees
//! changing files others claim, and a merge over a claim goes ahead and says so.

use std::path::Path;

use super::*;
use crate::claim::{self, ClaimRequest, Claimant, Which};
use crate::session::{self, NewSession, Session};

/// A live session of `agent` with a worktree named after it.
fn working(f: &mut Fixture, agent: &str) -> (Session, Worktree) {
    let session = session::start(
        &mut f.store,
        &NewSession {
            agent: agent.into(),
            intent: format!("{agent}'s part"),
            process: Some(crate::process::ProcessInfo::current()),
            ..Default::default()
        },
    )
    .unwrap();
    let root = f.root.clone();
    let worktree = create(
        &mut f.store,
        agent,
        &root,
        &NewWorktree {
            name: format!("w{agent}"),
            session: Some(session.id.clone()),
            ..Default::default()
        },
    )
    .unwrap()
    .worktree;
    (session, worktree)
}

/// `session` claims `patterns` exclusively, for `reason`.
fn claim_for(f: &mut Fixture, session: &Session, patterns: &[&str], reason: &str) -> String {
    let made = claim::claim(
        &mut f.store,
        &Claimant {
            actor: &session.agent,
            session: Some(&session.id),
        },
        &ClaimRequest {
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            reason: reason.into(),
            ..Default::default()
        },
    )
    .unwrap();
    made[0].id.clone()
}

crate::every_backend! {
    fn who_has_names_the_claims_on_a_file_and_who_is_changing_it(backend) {
        let mut f = Fixture::new(backend);
        f.commit("src/auth.rs", "a\n", "auth");
        let (alpha, _) = working(&mut f, "alpha");
        let (beta, wb) = working(&mut f, "beta");
        claim_for(&mut f, &alpha, &["src/**"], "refactoring auth");
        std::fs::write(Path::new(&wb.path).join("src/auth.rs"), "a\nbeta\n").unwrap();
        heartbeat(&mut f.store, &beta.id, "beta", None).unwrap();

        let found = claim::who_has(&mut f.store, "./src/auth.rs").unwrap();
        let claims: Vec<(&str, &str)> =
            found.claims.iter().map(|c| (c.agent.as_str(), c.pattern.as_str())).collect();
        assert_eq!(claims, [("alpha", "src/**")]);
        let changing: Vec<&str> = found.changing.iter().map(|h| h.agent.as_str()).collect();
        assert_eq!(changing, ["beta"]);

        let elsewhere = claim::who_has(&mut f.store, "README.md").unwrap();
        assert!(elsewhere.claims.is_empty() && elsewhere.changing.is_empty(), "{elsewhere:?}");
        assert!(claim::who_has(&mut f.store, "../outside").is_err());
    }
}

crate::every_backend! {
    fn the_radar_marks_worktrees_changing_files_another_claims_exclusively(backend) {
        let mut f = Fixture::new(backend);
        f.commit("src/auth.rs", "a\n", "auth");
        let (alpha, wa) = working(&mut f, "alpha");
        let (_beta, wb) = working(&mut f, "beta");
        let id = claim_for(&mut f, &alpha, &["src/**"], "refactoring auth");
        f.commit_in(Path::new(&wa.path), "src/auth.rs", "a\nalpha\n", "alpha's own claim");
        f.commit_in(Path::new(&wb.path), "src/auth.rs", "a\nbeta\n", "beta over it");
        f.commit_in(Path::new(&wb.path), "docs.md", "free\n", "beta elsewhere");

        let report = conflicts(&mut f.store).unwrap();
        let marked: Vec<(&str, &str, &str, Vec<String>)> = report
            .claimed
            .iter()
            .map(|c| (c.worktree.as_str(), c.holder.as_str(), c.claim.as_str(), c.files.clone()))
            .collect();
        assert_eq!(
            marked,
            [("wbeta", "alpha", id.as_str(), vec!["src/auth.rs".to_string()])],
            "only beta's change is over another's claim"
        );
        let shown = crate::render::conflicts(&report);
        assert!(
            shown.contains("wbeta changes files claimed by another: alpha's src/** (")
                && shown.contains("refactoring auth) covers src/auth.rs"),
            "{shown}"
        );

        // A shared claim is not in the way.
        claim::release(
            &mut f.store,
            &Claimant { actor: "alpha", session: Some(&alpha.id) },
            &Which::All,
        )
        .unwrap();
        claim::claim(
            &mut f.store,
            &Claimant { actor: "alpha", session: Some(&alpha.id) },
            &ClaimRequest {
                patterns: vec!["src/**".into()],
                reason: "reading".into(),
                shared: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(conflicts(&mut f.store).unwrap().claimed.is_empty());
    }
}

crate::every_backend! {
    fn a_merge_over_another_sessions_claim_goes_ahead_and_names_it(backend) {
        let mut f = Fixture::new(backend);
        f.commit("src/auth.rs", "a\n", "auth");
        let (alpha, _) = working(&mut f, "alpha");
        let (beta, wb) = working(&mut f, "beta");
        claim_for(&mut f, &beta, &["docs/**"], "beta's own notes");
        let id = claim_for(&mut f, &alpha, &["src/**"], "refactoring auth");
        f.commit_in(Path::new(&wb.path), "src/auth.rs", "a\nbeta\n", "beta edits");
        f.commit_in(Path::new(&wb.path), "docs/notes.md", "n\n", "beta notes");

        let merged = merge(&mut f.store, "beta", "wbeta", &MergeRequest::default()).unwrap();
        assert_eq!(merged.files.len(), 2, "the merge went ahead: {merged:?}");
        assert_eq!(f.git(&["show", "main:src/auth.rs"]), "a\nbeta\n");
        let warned: Vec<(&str, &str, Vec<String>)> = merged
            .claimed
            .iter()
            .map(|c| (c.holder.as_str(), c.claim.as_str(), c.files.clone()))
            .collect();
        assert_eq!(
            warned,
            [("alpha", id.as_str(), vec!["src/auth.rs".to_string()])],
            "alpha's claim is named; beta's own claim of docs/** is not"
        );
        let shown = crate::render::merged(&merged);
        assert!(
            shown.contains("merged over a claim (its holder is told): alpha's src/** ("),
            "{shown}"
        );
        let page = crate::message::inbox(&mut f.store, "alpha", &Default::default()).unwrap();
        let told: Vec<String> = page
            .messages
            .iter()
            .filter(|m| m.sender == crate::agent::SYSTEM)
            .map(|m| m.body.clone().unwrap_or_default())
            .collect();
        assert_eq!(told.len(), 1, "alpha is told once: {told:?}");
        assert!(
            told[0].starts_with("beta merged worktree wbeta into main (commit ")
                && told[0].contains(&format!("- src/** ({id}): src/auth.rs")),
            "{told:?}"
        );
        let beta_inbox = crate::message::inbox(&mut f.store, "beta", &Default::default()).unwrap();
        assert!(
            beta_inbox.messages.iter().all(|m| m.sender != crate::agent::SYSTEM),
            "the one merging is not told of its own merge"
        );
    }
}
