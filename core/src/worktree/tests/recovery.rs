//! Merges interrupted by a crash: each test leaves git and the store as a crash at one
//! moment would, then checks that the next call completes or undoes it and says which.

use std::process::Command;
use std::time::{Duration, SystemTime};

use super::*;
use crate::worktree::recovery::{MergePlan, recover};

/// A worktree `w1` with one commit (`w1.txt`, and a change to `README.md`), and a merge of
/// it into `main` recorded as begun by a process that is gone, before git changed anything.
/// With `checked_out`, `main` is checked out in the main checkout (git merges there);
/// otherwise the main checkout is on another branch (the merge only moves a ref).
fn interrupted(f: &mut Fixture, strategy: Strategy, checked_out: bool) -> MergePlan {
    let w = f.create("w1").worktree;
    std::fs::write(Path::new(&w.path).join("README.md"), "hello from w1\n").unwrap();
    git_in(Path::new(&w.path), &["add", "README.md"]);
    f.commit_in(Path::new(&w.path), "w1.txt", "work\n", "w1 work");
    f.commit("main.txt", "main moves on\n", "main work");
    if !checked_out {
        f.git(&["checkout", "-q", "-b", "elsewhere"]);
    }
    let previous = f.git(&["rev-parse", "main"]).trim().to_string();
    let tip = f.git(&["rev-parse", "sb/w1"]).trim().to_string();
    let merged = f.git(&["merge-tree", "--write-tree", &previous, &tip]);
    let tree = merged.lines().next().unwrap().to_string();
    let files = f.git(&["diff", "--name-only", &previous, &tree]);
    let backup = "refs/switchboard/backup/w1/into-main/1".to_string();
    f.git(&["update-ref", &backup, &previous]);
    let plan = MergePlan {
        repo: f.root.display().to_string(),
        worktree: "w1".into(),
        branch: "sb/w1".into(),
        into: "main".into(),
        strategy,
        previous,
        tip,
        tree,
        backup,
        files: files.lines().map(str::to_string).collect(),
        checkout: checked_out.then(|| f.root.display().to_string()),
        message: "merge w1".into(),
    };
    record(f, &plan, crate::process::gone().pid, None);
    plan
}

/// Records `plan` as the intent of process `pid` (started at `ticks`).
fn record(f: &mut Fixture, plan: &MergePlan, pid: u32, ticks: Option<u64>) {
    let text = serde_json::to_string(plan).unwrap();
    f.store
        .sql_rows(
            "INSERT INTO operations (id, repo, kind, plan, pid, host, start_ticks, started_at)
             VALUES ($1, $2, 'merge', $3, $4, $5, $6, 0)",
            &[
                ulid::Ulid::generate().to_string().into(),
                plan.repo.clone().into(),
                text.into(),
                pid.into(),
                crate::process::this_host().into(),
                ticks.into(),
            ],
        )
        .unwrap();
}

fn intents(f: &mut Fixture) -> i64 {
    let count = f.store.sql_value("SELECT COUNT(*) FROM operations", &[]);
    count.unwrap().as_i64().unwrap()
}

fn event_types(f: &mut Fixture) -> Vec<String> {
    f.store
        .events_after(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// An `index.lock` in the main checkout, written `age` ago.
fn plant_lock(f: &Fixture, age: Duration) -> PathBuf {
    let lock = f.root.join(".git/index.lock");
    let file = std::fs::File::create(&lock).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    lock
}

/// Someone's own merge of a branch `side` into `main`, stopped before its commit (as while
/// they resolve it): `MERGE_HEAD` in the main checkout, not ours.
fn start_their_merge(f: &Fixture) {
    f.git(&["checkout", "-q", "-b", "side"]);
    f.commit("side.txt", "side\n", "side work");
    f.git(&["checkout", "-q", "main"]);
    f.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
}

fn assert_fsck_clean(f: &Fixture) {
    let out = Command::new("git")
        .args(["fsck", "--no-dangling"])
        .current_dir(&f.root)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "git fsck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

crate::every_backend! {
    fn a_merge_git_finished_but_nobody_recorded_is_completed(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Merge, true);
        f.git(&[
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            "-m",
            "merge w1",
            "sb/w1",
        ]);
        let merged = f.head(&f.root);
        let err = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("nothing to merge: main already contains sb/w1")
                && err.contains(&format!(
                    "the interrupted merge of w1 into main had gone through (commit {}) but was not \
                     recorded: completed it",
                    &merged[..10]
                )),
            "{err}"
        );
        assert_eq!(intents(&mut f), 0);
        let recorded = f
            .store
            .events_after(0, 1000)
            .unwrap()
            .into_iter()
            .find_map(|e| match e.change {
                event::Change::WorktreeMerged(m) => Some(m),
                _ => None,
            })
            .expect("the merge is recorded");
        assert_eq!(recorded.commit, merged);
        assert_eq!(recorded.backup, plan.backup);
    }
}

crate::every_backend! {
    fn a_half_done_merge_with_a_stale_lock_is_undone_and_the_merge_then_goes_through(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Merge, true);
        f.git(&["merge", "-q", "--no-ff", "--no-commit", "sb/w1"]);
        let lock = plant_lock(&f, Duration::from_secs(60));
        let outcome = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap();
        let note = outcome.recovered.join("\n");
        assert!(
            note.contains("the interrupted merge of w1 into main was undone")
                && note.contains(&format!("removed {}", lock.display()))
                && note.contains("undid the half-done merge (git merge --abort)")
                && note.contains(&plan.backup),
            "{note}"
        );
        assert!(!lock.exists());
        assert_eq!(
            f.git(&["rev-parse", "HEAD^1"]).trim(),
            plan.previous,
            "the new merge starts from where main was"
        );
        assert_eq!(f.git(&["status", "--porcelain"]), "");
        assert!(event_types(&mut f).contains(&event::Kind::WorktreeRecovered.as_str().to_string()));
        assert_eq!(intents(&mut f), 0);
        assert_fsck_clean(&f);
    }
}

crate::every_backend! {
    fn a_squash_staged_as_planned_is_committed(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Squash, true);
        f.git(&["merge", "-q", "--squash", "sb/w1"]);
        let root = f.root.clone();
        let notes = recover(&mut f.store, "tester", &root).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with(
                "the interrupted merge of w1 into main was completed: committed the squash it had staged"
            ),
            "{notes:?}"
        );
        assert_eq!(f.git(&["rev-parse", "HEAD^{tree}"]).trim(), plan.tree);
        assert_eq!(f.git(&["rev-parse", "HEAD^1"]).trim(), plan.previous);
        assert_eq!(f.git(&["log", "-1", "--format=%s"]).trim(), "merge w1");
        assert_eq!(f.git(&["status", "--porcelain"]), "");
        assert_eq!(intents(&mut f), 0);
    }
}

crate::every_backend! {
    fn undoing_keeps_a_file_edited_after_the_crash_and_puts_back_the_others(backend) {
        let mut f = Fixture::new(backend);
        // Git died halfway through applying the merge: the files are on disk and staged, with
        // no MERGE_HEAD; then someone edited one of them.
        let plan = interrupted(&mut f, Strategy::Merge, true);
        f.git(&["merge", "-q", "--squash", "sb/w1"]);
        std::fs::write(f.root.join("README.md"), "edited after the crash\n").unwrap();
        let root = f.root.clone();
        let notes = recover(&mut f.store, "tester", &root).unwrap();
        assert!(
            notes[0].contains("was undone: put back w1.txt")
                && notes[0].contains("left README.md as they are (changed since the merge began)"),
            "{notes:?}"
        );
        assert!(
            !f.root.join("w1.txt").exists(),
            "the merge's new file is gone"
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("README.md")).unwrap(),
            "edited after the crash\n",
            "nothing written after the crash is lost"
        );
        assert_eq!(f.head(&f.root), plan.previous);
        assert!(!f.root.join(".git/SQUASH_MSG").exists());
    }
}

crate::every_backend! {
    fn a_ref_only_merge_is_completed_when_the_ref_moved_and_dropped_when_not(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Squash, false);
        let root = f.root.clone();
        let notes = recover(&mut f.store, "tester", &root).unwrap();
        assert_eq!(
            notes,
            ["the interrupted merge of w1 into main had not moved main yet: nothing to undo"]
        );
        assert_eq!(f.git(&["rev-parse", "main"]).trim(), plan.previous);

        record(&mut f, &plan, crate::process::gone().pid, None);
        let commit = f.git(&[
            "commit-tree",
            &plan.tree,
            "-p",
            &plan.previous,
            "-m",
            "merge w1",
        ]);
        f.git(&["update-ref", "refs/heads/main", commit.trim()]);
        let notes = recover(&mut f.store, "tester", &root).unwrap();
        assert!(
            notes[0].contains("had gone through") && notes[0].ends_with("completed it"),
            "{notes:?}"
        );
        assert_eq!(intents(&mut f), 0);
    }
}

crate::every_backend! {
    fn the_merge_of_a_process_that_still_runs_is_left_alone(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Merge, true);
        f.store
            .sql_rows("DELETE FROM operations", &[])
            .unwrap();
        let mut other = Command::new("sleep").arg("30").spawn().unwrap();
        record(
            &mut f,
            &plan,
            other.id(),
            crate::process::start_ticks(other.id()),
        );
        let root = f.root.clone();
        assert!(recover(&mut f.store, "tester", &root).unwrap().is_empty());
        assert_eq!(intents(&mut f), 1);
        other.kill().unwrap();
        other.wait().unwrap();
        assert_eq!(recover(&mut f.store, "tester", &root).unwrap().len(), 1);
        assert_eq!(intents(&mut f), 0);
    }
}

crate::every_backend! {
    fn a_lock_a_running_git_may_hold_is_never_deleted(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("w1").worktree;
        f.commit_in(Path::new(&w.path), "w1.txt", "work\n", "w1 work");
        // A git that runs in the checkout, started before the lock was written.
        let mut running = Command::new("git")
            .args(["cat-file", "--batch"])
            .current_dir(&f.root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let lock = plant_lock(&f, Duration::ZERO);
        let err = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(&format!("git is busy in {}", f.root.display()))
                && err.contains("Try again when it has finished"),
            "{err}"
        );
        assert!(lock.exists(), "a lock a live git may hold stays");
        running.kill().unwrap();
        running.wait().unwrap();
        let outcome = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap();
        assert!(!lock.exists(), "once no git can hold it, it is removed");
        assert_eq!(outcome.files, ["w1.txt"]);
    }
}

crate::every_backend! {
    fn a_merge_someone_is_resolving_in_the_target_checkout_is_not_touched(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("w1").worktree;
        f.commit_in(Path::new(&w.path), "w1.txt", "work\n", "w1 work");
        start_their_merge(&f);
        let err = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("is in the middle of a merge (MERGE_HEAD exists)")
                && err.contains("git merge --abort"),
            "{err}"
        );
        assert!(
            f.root.join(".git/MERGE_HEAD").exists(),
            "their merge is kept"
        );
    }
}

crate::every_backend! {
    fn someone_elses_merge_in_the_checkout_is_never_aborted_by_recovery(backend) {
        let mut f = Fixture::new(backend);
        interrupted(&mut f, Strategy::Merge, true);
        start_their_merge(&f);
        let root = f.root.clone();
        let notes = recover(&mut f.store, "tester", &root).unwrap();
        assert!(
            notes[0].contains("cannot be completed or undone yet")
                && notes[0].contains("in the middle of a merge"),
            "{notes:?}"
        );
        assert!(
            f.root.join(".git/MERGE_HEAD").exists(),
            "their merge is kept"
        );
        assert_eq!(intents(&mut f), 1, "the interrupted one stays recorded");
        let err = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not recovered yet"), "{err}");
    }
}

crate::every_backend! {
    fn a_checkout_switched_to_another_branch_is_left_as_it_is(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Squash, true);
        f.git(&["checkout", "-q", "-b", "elsewhere"]);
        std::fs::write(f.root.join("README.md"), "mine\n").unwrap();
        let root = f.root.clone();
        let notes = recover(&mut f.store, "tester", &root).unwrap();
        assert!(
            notes[0].contains("is no longer on main and was left as it is"),
            "{notes:?}"
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("README.md")).unwrap(),
            "mine\n"
        );
        assert_eq!(f.git(&["rev-parse", "main"]).trim(), plan.previous);
        assert_eq!(intents(&mut f), 0);
    }
}

crate::every_backend! {
    fn staged_changes_in_the_target_checkout_stop_a_merge_and_are_kept(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("w1").worktree;
        f.commit_in(Path::new(&w.path), "w1.txt", "work\n", "w1 work");
        std::fs::write(f.root.join("README.md"), "staged by me\n").unwrap();
        f.git(&["add", "README.md"]);
        let err = merge(
            &mut f.store,
            "tester",
            "w1",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("has staged changes (README.md): commit or unstage them"),
            "{err}"
        );
        assert_eq!(f.git(&["diff", "--cached", "--name-only"]), "README.md\n");
        assert_eq!(intents(&mut f), 0);
    }
}

crate::every_backend! {
    fn two_processes_recovering_at_once_recover_a_merge_once(backend) {
        let mut f = Fixture::new(backend);
        interrupted(&mut f, Strategy::Merge, true);
        f.git(&[
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            "-m",
            "merge w1",
            "sb/w1",
        ]);
        let db = f.store.address().clone();
        let root = f.root.clone();
        let start = std::sync::Arc::new(std::sync::Barrier::new(2));
        let recoverers: Vec<_> = (0..2)
            .map(|_| {
                let (db, root, start) = (db.clone(), root.clone(), start.clone());
                std::thread::spawn(move || {
                    let mut store = Store::open_at(&db, Settings::default()).unwrap();
                    start.wait();
                    recover(&mut store, "tester", &root).unwrap()
                })
            })
            .collect();
        let notes: Vec<String> = recoverers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        let merged = event_types(&mut f)
            .iter()
            .filter(|k| *k == event::Kind::WorktreeMerged.as_str())
            .count();
        assert_eq!(merged, 1);
    }
}

crate::every_backend! {
    fn a_merge_that_cannot_be_recovered_can_be_dropped_leaving_git_alone(backend) {
        let mut f = Fixture::new(backend);
        let plan = interrupted(&mut f, Strategy::Merge, true);
        start_their_merge(&f);
        let root = f.root.clone();
        let notes = drop_interrupted(&mut f.store, "tester", &root).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("dropped the record of the interrupted merge of w1 into main")
                && notes[0].contains(&plan.backup),
            "{notes:?}"
        );
        assert_eq!(intents(&mut f), 0);
        assert!(f.root.join(".git/MERGE_HEAD").exists(), "git is untouched");
        assert!(
            drop_interrupted(&mut f.store, "tester", &root)
                .unwrap()
                .is_empty()
        );
    }
}
