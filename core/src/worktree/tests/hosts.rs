//! Several hosts on one store: a worktree's files are on the host that made it. Other hosts
//! refuse to touch them, list it from its record, leave it to its host's prune, and judge
//! its work by what its session reported. A worktree is moved to another host by setting
//! `host` on its row (`SWITCHBOARD_HOST` is process-wide: tests run in parallel).

use super::*;
use crate::session::{self, NewSession};

/// Another host's name, never this one's.
const AWAY: &str = "build-2-of-the-hosts-test";

/// Records worktree `name` as made on [`AWAY`].
fn move_away(f: &mut Fixture, name: &str) {
    f.store
        .sql_rows(
            "UPDATE worktrees SET host = $1 WHERE name = $2",
            &[AWAY.into(), name.into()],
        )
        .unwrap();
}

/// Asserts `result` is the refusal of worktree `name`, naming its host and what to do.
fn assert_refused<T: std::fmt::Debug>(result: Result<T>, name: &str, doing: &str) {
    let err = result.expect_err(doing);
    assert!(matches!(err, Error::Conflict(_)), "{doing}: {err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("worktree '{name}' is on host '{AWAY}'"))
            && text.contains(&format!("run this on {AWAY}")),
        "{doing}: {text}"
    );
}

fn session_for(f: &mut Fixture, agent: &str) -> session::Session {
    session::start(
        &mut f.store,
        &NewSession {
            agent: agent.into(),
            intent: format!("{agent}'s work"),
            process: Some(crate::process::ProcessInfo::current()),
            ..Default::default()
        },
    )
    .unwrap()
}

fn create_bound(f: &mut Fixture, name: &str, session: &str, agent: &str) -> Worktree {
    let root = f.root.clone();
    create(
        &mut f.store,
        agent,
        &root,
        &NewWorktree {
            name: name.into(),
            session: Some(session.into()),
            ..Default::default()
        },
    )
    .unwrap()
    .worktree
}

crate::every_backend! {
    fn another_hosts_worktree_is_refused_here_listed_from_its_record_and_left_by_prune(backend) {
        let mut f = Fixture::new(backend);
        let here = f.create("here").worktree;
        assert_eq!(here.host.as_deref(), Some(crate::process::this_host().as_str()));
        let away = f.create("away").worktree;
        f.commit_in(Path::new(&away.path), "away.txt", "x\n", "work there");
        move_away(&mut f, "away");

        let request = MergeRequest::with(Strategy::Merge);
        assert_refused(merge(&mut f.store, "tester", "away", &request), "away", "merge");
        assert_refused(sync(&mut f.store, "tester", "away", false), "away", "sync");
        let force = RemoveRequest {
            force: true,
            delete_branch: true,
        };
        assert_refused(remove(&mut f.store, "tester", "away", &force), "away", "remove");
        assert_refused(diff(&mut f.store, "away", true), "away", "diff");
        assert_refused(status(&mut f.store, "away"), "away", "status");
        let record = get(&mut f.store, "away").unwrap();
        assert_refused(base_conflicts(&record), "away", "base_conflicts");
        assert!(Path::new(&away.path).exists(), "nothing was removed");
        assert!(!f.git(&["branch", "--list", "sb/away"]).is_empty());
        assert_eq!(
            containing(&mut f.store, Path::new(&away.path)).unwrap(),
            None,
            "a folder here is not another host's worktree"
        );

        // Listed from its record: its folder is not read (here, it is not even there).
        std::fs::remove_dir_all(&away.path).unwrap();
        let listed = list(&mut f.store).unwrap();
        let there = listed.iter().find(|s| s.worktree.name == "away").unwrap();
        assert_eq!(there.other_host.as_deref(), Some(AWAY));
        assert_eq!(there.worktree.host.as_deref(), Some(AWAY));
        assert!(there.git.exists && there.git.head.is_none(), "{there:?}");
        let mine = listed.iter().find(|s| s.worktree.name == "here").unwrap();
        assert_eq!((mine.other_host.as_deref(), mine.git.exists), (None, true));
        assert!(mine.git.head.is_some());
        let table = crate::render::worktrees(&listed);
        assert!(table.contains(&format!("on host {AWAY}")), "{table}");

        // Prune leaves it (and says so), and still cleans up what is gone here.
        std::fs::remove_dir_all(&here.path).unwrap();
        let root = f.root.clone();
        let report = prune(
            &mut f.store,
            "tester",
            &root,
            &PruneRequest {
                apply: true,
                ended_days: None,
            },
        )
        .unwrap();
        assert_eq!(report.missing_folders, ["here"]);
        assert_eq!(report.other_hosts, [format!("away (on {AWAY})")]);
        let names: Vec<String> = list(&mut f.store)
            .unwrap()
            .into_iter()
            .map(|s| s.worktree.name)
            .collect();
        assert_eq!(names, ["away"], "the other host's record is kept");
    }
}

crate::every_backend! {
    fn a_session_cannot_fork_here_from_a_worktree_on_another_host_nor_brief_on_it(backend) {
        let mut f = Fixture::new(backend);
        let source = session_for(&mut f, "gamma");
        create_bound(&mut f, "gamma-work", &source.id, "gamma");
        move_away(&mut f, "gamma-work");
        let source = session::get(&mut f.store, &source.id).unwrap();
        // Its agent's briefing here does not read it, and says where it is.
        let brief = crate::briefing::of(&mut f.store, "gamma", Some(&source.id)).unwrap();
        assert_eq!(brief.worktree, None);
        assert!(
            brief.needs_you.iter().any(|n| n.contains(&format!("on host {AWAY}"))),
            "{:?}",
            brief.needs_you
        );
        let fork = session_for(&mut f, "delta");
        let root = f.root.clone();
        let made = create_for_session(&mut f.store, "delta", &root, &fork, Some(&source));
        assert_refused(made, "gamma-work", "fork");
        let ended = session::get(&mut f.store, &fork.id).unwrap();
        assert_eq!(ended.status, session::Status::Abandoned);
        assert!(
            ended.end_reason.unwrap_or_default().contains(AWAY),
            "the session says why it ended"
        );
    }
}

crate::every_backend! {
    fn who_has_and_the_radar_read_another_hosts_work_from_the_shared_rows(backend) {
        let mut f = Fixture::new(backend);
        f.commit("shared.rs", "a\n", "shared");
        let me = crate::process::ProcessInfo::current();
        let alpha = session_for(&mut f, "alpha");
        let beta = session_for(&mut f, "beta");
        let wa = create_bound(&mut f, "wa", &alpha.id, "alpha");
        let wb = create_bound(&mut f, "wb", &beta.id, "beta");
        f.commit_in(Path::new(&wa.path), "shared.rs", "a\nalpha\n", "alpha edits");
        f.commit_in(Path::new(&wb.path), "shared.rs", "a\nbeta\n", "beta edits");
        heartbeat(&mut f.store, &alpha.id, "alpha", Some(&me)).unwrap();
        heartbeat(&mut f.store, &beta.id, "beta", Some(&me)).unwrap();

        // wb moves to another host, as if beta's host had made it and reported its work:
        // its folder and branch are only there.
        move_away(&mut f, "wb");
        f.store
            .sql_rows(
                "UPDATE work_context SET host = $1 WHERE session_id = $2",
                &[AWAY.into(), beta.id.clone().into()],
            )
            .unwrap();
        f.git(&["worktree", "remove", "--force", &wb.path]);
        f.git(&["branch", "-D", "sb/wb"]);

        // A heartbeat here does not read it, nor replace what its host reported.
        heartbeat(&mut f.store, &beta.id, "beta", Some(&me)).unwrap();
        let holders = session::who_has(&mut f.store, "shared.rs").unwrap();
        let hosts: Vec<(&str, Option<&str>)> = holders
            .iter()
            .map(|h| (h.agent.as_str(), h.host.as_deref()))
            .collect();
        let this = crate::process::this_host();
        assert_eq!(hosts.len(), 2, "{hosts:?}");
        assert!(
            hosts.contains(&("alpha", Some(this.as_str())))
                && hosts.contains(&("beta", Some(AWAY))),
            "{hosts:?}"
        );
        let found = crate::claim::who_has(&mut f.store, "shared.rs").unwrap();
        let shown = crate::render::who_has(
            &found.path,
            &found.claims,
            &found.changing,
            crate::clock::Timestamp::now(),
        );
        assert!(shown.contains(&format!("beta in wb on host {AWAY}")), "{shown}");

        // The radar compares wb by its reported files, and says it could not try a merge.
        let report = conflicts(&mut f.store).unwrap();
        assert_eq!(report.worktrees, 2);
        let pair = report
            .findings
            .iter()
            .find(|c| c.a == "wa" && c.b == "wb")
            .unwrap_or_else(|| panic!("{report:?}"));
        assert_eq!(pair.overlapping, ["shared.rs"]);
        assert!(!pair.would_conflict && pair.conflicting_files.is_empty());
        let why = pair.overlap_only.as_deref().unwrap_or_default();
        assert!(
            why.starts_with("overlap only") && why.contains(&format!("wb is on host {AWAY}")),
            "{why}"
        );
        assert!(
            report.findings.iter().all(|c| c.a != "wb" || !c.b.starts_with("base:")),
            "no merge is tried with its base either"
        );
        let shown = crate::render::conflicts(&report);
        assert!(shown.contains("overlap only"), "{shown}");
    }
}

crate::every_backend! {
    fn a_store_at_schema_11_keeps_its_worktrees_as_made_on_this_host(backend) {
        let scratch = Scratch::new(backend);
        let address = scratch.address();
        let mut old = Store::create_at_schema(&address, Settings::default(), 11).unwrap();
        assert_eq!(old.schema_version().unwrap(), 11);
        let session = session::start(
            &mut old,
            &NewSession {
                agent: "ann".into(),
                intent: "before hosts".into(),
                ..Default::default()
            },
        )
        .unwrap();
        for sql in [
            "INSERT INTO worktrees (name, repo, path, branch, base_commit, base_ref, session_id, \
             port, ports, created_by, created_at) VALUES ('old', '/nowhere/repo', \
             '/nowhere/repo/.worktrees/old', 'sb/old', 'abc', 'main', $1, 41000, 10, 'ann', 1)",
            "INSERT INTO work_context (session_id, worktree, branch, head, unmerged, updated_at) \
             VALUES ($1, 'old', 'sb/old', 'abc', 1, 2)",
            "INSERT INTO work_files (session_id, path, added, removed, uncommitted) \
             VALUES ($1, 'src/old.rs', 3, 1, 0)",
        ] {
            old.sql_rows(sql, &[session.id.clone().into()]).unwrap();
        }
        drop(old);

        let mut store = Store::open_at(&address, Settings::default()).unwrap();
        assert!(store.schema_version().unwrap() >= 12);
        let kept = get(&mut store, "old").unwrap();
        assert_eq!((kept.host.as_deref(), kept.other_host()), (None, None));
        assert_eq!(kept.session.as_deref(), Some(session.id.as_str()));
        require_here(&kept).unwrap();
        let listed = list(&mut store).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].other_host, None);
        let holders = session::who_has(&mut store, "src/old.rs").unwrap();
        assert_eq!(holders.len(), 1);
        let holder = &holders[0];
        assert_eq!(
            (holder.worktree.as_deref(), holder.host.as_deref()),
            (Some("old"), None)
        );
    }
}
