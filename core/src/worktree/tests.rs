//! The git safety suite: one test per promise, on temporary repositories.

use std::path::{Path, PathBuf};

use switchboard_testutils::{ScratchRepo, git as git_in};

use super::*;
use crate::Settings;
use crate::store::story::{Backend, Scratch};

/// A scratch repository (main branch `main`, one commit) with a state database.
struct Fixture {
    _repo: ScratchRepo,
    /// The store's place, when it is not in the repository (on PostgreSQL).
    _scratch: Option<Scratch>,
    /// The main checkout.
    root: PathBuf,
    store: Store,
}

impl Fixture {
    fn new(backend: Backend) -> Fixture {
        Self::with_first_commit(backend, |f| {
            f.commit("README.md", "hello\n", "first commit")
        })
    }

    /// A fixture with its store on `backend` (SQLite's in the repository's git directory).
    fn with_first_commit(backend: Backend, first: impl FnOnce(&Fixture)) -> Fixture {
        let repo = ScratchRepo::empty();
        let (scratch, address) = Scratch::at_file_or(backend, repo.db());
        let store = Store::open_at(&address, Settings::default()).unwrap();
        let f = Fixture {
            root: repo.path().to_path_buf(),
            _repo: repo,
            _scratch: scratch,
            store,
        };
        first(&f);
        f
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.root, args)
    }

    fn commit_in(&self, dir: &Path, file: &str, content: &str, message: &str) {
        switchboard_testutils::commit(dir, file, content, message);
    }

    fn commit(&self, file: &str, content: &str, message: &str) {
        self.commit_in(&self.root, file, content, message);
    }

    fn create(&mut self, name: &str) -> Created {
        let root = self.root.clone();
        create(
            &mut self.store,
            "tester",
            &root,
            &NewWorktree {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn head(&self, dir: &Path) -> String {
        git_in(dir, &["rev-parse", "HEAD"]).trim().to_string()
    }

    fn refs(&self) -> String {
        self.git(&[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
            "refs/switchboard",
        ])
    }
}

crate::every_backend! {
    fn base_defaults_to_the_callers_head_not_main(backend) {
        let mut f = Fixture::new(backend);
        f.git(&["checkout", "-q", "-b", "feature"]);
        f.commit("feature.txt", "x\n", "feature work");
        let created = f.create("w1");
        let w = &created.worktree;
        assert_eq!(w.base_commit, f.head(&f.root));
        assert_eq!(w.base_ref.as_deref(), Some("feature"));
        assert_eq!(w.branch, "sb/w1");
        assert_eq!(PathBuf::from(&w.path), f.root.join(".worktrees/w1"));
        assert_eq!(f.head(Path::new(&w.path)), w.base_commit);
        let exclude = std::fs::read_to_string(f.root.join(".git/info/exclude")).unwrap();
        assert!(
            exclude.contains("/.worktrees/") && exclude.contains("/.switchboard.env"),
            "{exclude}"
        );
        assert!(
            f.git(&["status", "--porcelain"]).is_empty(),
            "the main checkout stays clean"
        );
        let env = std::fs::read_to_string(Path::new(&w.path).join(ENV_FILE)).unwrap();
        assert!(
            env.contains(&format!("SWITCHBOARD_PORT={}", w.port)),
            "{env}"
        );
        let second = f.create("w2").worktree;
        assert_ne!(second.port, w.port, "each worktree gets its own ports");
    }
}

crate::every_backend! {
    fn an_explicit_base_and_an_existing_branch_can_be_used(backend) {
        let mut f = Fixture::new(backend);
        let first = f.head(&f.root);
        f.commit("b.txt", "b\n", "second");
        f.git(&["branch", "topic", &first]);
        let root = f.root.clone();
        let reuse = create(
            &mut f.store,
            "me",
            &root,
            &NewWorktree {
                name: "t".into(),
                branch: Some("topic".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            f.head(Path::new(&reuse.worktree.path)),
            first,
            "the existing branch is checked out"
        );
        let based = create(
            &mut f.store,
            "me",
            &root,
            &NewWorktree {
                name: "old".into(),
                base: Some(first.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(based.worktree.base_commit, first);
        assert_eq!(based.worktree.base_ref, None);
        f.git(&["branch", "sb/taken"]);
        let err = create(
            &mut f.store,
            "me",
            &root,
            &NewWorktree {
                name: "taken".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("already exists; pass branch"),
            "{err}"
        );
        let err = create(
            &mut f.store,
            "me",
            &root,
            &NewWorktree {
                name: "nob".into(),
                base: Some("no-such-ref".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not name a commit"), "{err}");
    }
}

crate::every_backend! {
    fn worktreeinclude_files_are_copied_and_others_are_not(backend) {
        let mut f = Fixture::new(backend);
        f.commit(
            ".gitignore",
            ".env\nsecret.txt\nconfig/local.toml\n",
            "ignore",
        );
        f.commit(".worktreeinclude", ".env\nconfig/*.toml\n", "include list");
        std::fs::write(f.root.join(".env"), "TOKEN=1\n").unwrap();
        std::fs::write(f.root.join("secret.txt"), "no\n").unwrap();
        std::fs::create_dir_all(f.root.join("config")).unwrap();
        std::fs::write(f.root.join("config/local.toml"), "x = 1\n").unwrap();
        let created = f.create("inc");
        assert_eq!(created.copied, [".env", "config/local.toml"]);
        let path = PathBuf::from(&created.worktree.path);
        assert_eq!(
            std::fs::read_to_string(path.join(".env")).unwrap(),
            "TOKEN=1\n"
        );
        assert!(!path.join("secret.txt").exists());
    }
}

crate::every_backend! {
    fn a_failing_setup_command_is_reported_and_the_worktree_kept(backend) {
        let mut f = Fixture::new(backend);
        f.commit(
            ".switchboard.toml",
            "[worktrees]\nsetup = [\"sh\", \"-c\", \"echo installing; echo oops >&2; exit 3\"]\n",
            "config",
        );
        let created = f.create("s");
        let setup = created.setup.unwrap();
        assert!(!setup.success && !setup.timed_out);
        assert_eq!(setup.exit_code, Some(3));
        assert!(
            setup.output.contains("installing") && setup.output.contains("oops"),
            "{}",
            setup.output
        );
        assert!(Path::new(&created.worktree.path).exists());
        assert_eq!(list(&mut f.store).unwrap().len(), 1);
        f.commit(
            ".switchboard.toml",
            "[worktrees]\nsetup = [\"sleep\", \"5\"]\nsetup_timeout_secs = 1\n",
            "slow",
        );
        let slow = f.create("slow").setup.unwrap();
        assert!(slow.timed_out && !slow.success);
    }
}

/// A repo where `main` and the worktree's branch change the same line.
fn conflicting(f: &mut Fixture) -> Worktree {
    f.commit("a.txt", "one\n", "a");
    let w = f.create("c").worktree;
    f.commit_in(Path::new(&w.path), "a.txt", "branch\n", "branch edit");
    f.commit("a.txt", "main\n", "main edit");
    w
}

crate::every_backend! {
    fn a_conflicting_merge_is_refused_and_changes_no_ref_or_file(backend) {
        let mut f = Fixture::new(backend);
        let w = conflicting(&mut f);
        let refs = f.refs();
        let status = f.git(&["status", "--porcelain"]);
        let err = merge(
            &mut f.store,
            "tester",
            &w.name,
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("would conflict in: a.txt"),
            "{err}"
        );
        assert_eq!(
            f.refs(),
            refs,
            "no ref moved (not even a backup was needed)"
        );
        assert_eq!(f.git(&["status", "--porcelain"]), status);
        assert_eq!(
            std::fs::read_to_string(f.root.join("a.txt")).unwrap(),
            "main\n"
        );
    }
}

crate::every_backend! {
    fn merging_a_squash_merged_worktree_again_changes_nothing_and_says_why(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("sq").worktree;
        f.commit_in(Path::new(&w.path), "sq.txt", "work\n", "sq work");
        merge(
            &mut f.store,
            "tester",
            "sq",
            &MergeRequest::with(Strategy::Squash),
        )
        .unwrap();
        let head = f.head(&f.root);
        let err = merge(
            &mut f.store,
            "tester",
            "sq",
            &MergeRequest::with(Strategy::Squash),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("nothing to merge: main already has every change of sb/sq"),
            "{err}"
        );
        assert_eq!(f.head(&f.root), head, "no empty commit");
    }
}

crate::every_backend! {
    fn a_merge_touching_dirty_target_files_is_refused(backend) {
        let mut f = Fixture::new(backend);
        f.commit("b.txt", "base\n", "b");
        let w = f.create("d").worktree;
        f.commit_in(
            Path::new(&w.path),
            "b.txt",
            "from branch\n",
            "branch changes b",
        );
        std::fs::write(f.root.join("b.txt"), "my local edit\n").unwrap();
        let refs = f.refs();
        let err = merge(
            &mut f.store,
            "tester",
            "d",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("uncommitted changes to files the merge would change: b.txt"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("b.txt")).unwrap(),
            "my local edit\n"
        );
        assert_eq!(f.refs(), refs);
    }
}

crate::every_backend! {
    fn untracked_and_unrelated_dirty_files_in_the_target_survive_a_merge(backend) {
        let mut f = Fixture::new(backend);
        f.commit("keep.txt", "keep\n", "keep");
        let w = f.create("m").worktree;
        f.commit_in(Path::new(&w.path), "c.txt", "new\n", "add c");
        std::fs::write(f.root.join("notes.txt"), "my notes\n").unwrap();
        std::fs::write(f.root.join("keep.txt"), "edited, not committed\n").unwrap();
        let out = merge(
            &mut f.store,
            "tester",
            "m",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap();
        assert_eq!(out.files, ["c.txt"]);
        assert_eq!(
            out.checkout.as_deref(),
            Some(f.root.display().to_string().as_str())
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("notes.txt")).unwrap(),
            "my notes\n"
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("keep.txt")).unwrap(),
            "edited, not committed\n"
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("c.txt")).unwrap(),
            "new\n"
        );
        let parents = f.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
        assert_eq!(
            parents.split_whitespace().count(),
            3,
            "a merge commit has two parents"
        );
        assert_eq!(
            f.git(&["rev-parse", &out.backup]).trim(),
            out.previous,
            "the backup ref holds the old tip"
        );
    }
}

crate::every_backend! {
    fn fast_forward_and_squash_give_the_right_history(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("ff").worktree;
        f.commit_in(Path::new(&w.path), "x.txt", "1\n", "step one");
        f.commit_in(Path::new(&w.path), "x.txt", "2\n", "step two");
        let out = merge(
            &mut f.store,
            "tester",
            "ff",
            &MergeRequest::with(Strategy::Ff),
        )
        .unwrap();
        assert_eq!(
            f.head(&f.root),
            f.head(Path::new(&w.path)),
            "main fast-forwarded to the branch"
        );
        assert_eq!(out.commit, f.head(&f.root));

        let s = f.create("sq").worktree;
        f.commit_in(Path::new(&s.path), "y.txt", "1\n", "add y");
        f.commit_in(Path::new(&s.path), "y.txt", "2\n", "tune y");
        f.commit("z.txt", "main moves on\n", "main commit");
        let before = f.head(&f.root);
        let err = merge(
            &mut f.store,
            "tester",
            "sq",
            &MergeRequest::with(Strategy::Ff),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot fast-forward"), "{err}");
        let out = merge(
            &mut f.store,
            "tester",
            "sq",
            &MergeRequest::with(Strategy::Squash),
        )
        .unwrap();
        let parents = f.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
        assert_eq!(
            parents.split_whitespace().collect::<Vec<_>>(),
            [out.commit.as_str(), before.as_str()],
            "one new commit on main"
        );
        let message = f.git(&["log", "-1", "--format=%B"]);
        assert!(message.contains("- add y\n- tune y"), "{message}");
        assert_eq!(
            std::fs::read_to_string(f.root.join("y.txt")).unwrap(),
            "2\n"
        );
    }
}

crate::every_backend! {
    fn a_merge_into_a_branch_nobody_has_checked_out_moves_only_that_ref(backend) {
        let mut f = Fixture::new(backend);
        f.git(&["branch", "release"]);
        let root = f.root.clone();
        let w = create(
            &mut f.store,
            "tester",
            &root,
            &NewWorktree {
                name: "r".into(),
                base: Some("release".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .worktree;
        f.commit_in(Path::new(&w.path), "r.txt", "r\n", "release fix");
        let main_before = f.head(&f.root);
        let out = merge(
            &mut f.store,
            "tester",
            "r",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap();
        assert_eq!(out.into, "release");
        assert_eq!(out.checkout, None);
        assert_eq!(f.git(&["rev-parse", "release"]).trim(), out.commit);
        assert_eq!(f.head(&f.root), main_before);
        assert!(f.git(&["show", "release:r.txt"]).contains('r'));
    }
}

crate::every_backend! {
    fn a_conflicting_rebase_is_aborted_and_the_worktree_left_as_it_was(backend) {
        let mut f = Fixture::new(backend);
        f.commit("a.txt", "one\n", "a");
        let w = f.create("rb").worktree;
        let path = PathBuf::from(&w.path);
        // The branch changes a line and changes it back: its tip merges cleanly, but replaying
        // its first commit onto main conflicts.
        f.commit_in(&path, "a.txt", "branch\n", "change");
        f.commit_in(&path, "a.txt", "one\n", "change back");
        f.commit("a.txt", "main\n", "main edit");
        let head = f.head(&path);
        let err = sync(&mut f.store, "tester", "rb", false).unwrap_err();
        assert!(
            err.to_string()
                .contains("aborted and the worktree is as it was"),
            "{err}"
        );
        assert_eq!(f.head(&path), head);
        assert!(git_in(&path, &["status", "--porcelain"]).is_empty());
        assert!(!path.join(".git").is_dir());
        let git_dir = git_in(&path, &["rev-parse", "--git-dir"]);
        assert!(
            !Path::new(git_dir.trim()).join("rebase-merge").exists(),
            "no rebase left in progress"
        );

        let clean = f.create("ok").worktree;
        f.commit_in(Path::new(&clean.path), "o.txt", "o\n", "own file");
        f.commit("m.txt", "m\n", "main moves");
        let synced = sync(&mut f.store, "tester", "ok", false).unwrap();
        assert!(!synced.up_to_date);
        assert_eq!(
            f.git(&["merge-base", "main", "sb/ok"]).trim(),
            f.head(&f.root),
            "rebased onto main's tip"
        );
    }
}

crate::every_backend! {
    fn only_the_owner_its_parent_and_humans_may_merge_sync_or_remove(backend) {
        let mut f = Fixture::new(backend);
        let w = conflicting(&mut f);
        let err = merge(
            &mut f.store,
            "intruder",
            &w.name,
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("may not merge worktree") && err.contains("'tester'"),
            "{err}"
        );
        let err = sync(&mut f.store, "intruder", &w.name, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("may not sync"), "{err}");
        let err = remove(
            &mut f.store,
            "intruder",
            &w.name,
            &RemoveRequest {
                force: true,
                delete_branch: false,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("may not remove"), "{err}");
        assert!(
            Path::new(&w.path).exists(),
            "a refused remove removed nothing"
        );
        // A human may (here the merge is refused for its conflict, not for who asks).
        let err = merge(
            &mut f.store,
            "human:ada",
            &w.name,
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("would conflict"), "{err}");
    }
}

crate::every_backend! {
    fn remove_refuses_dirty_and_unmerged_work_and_lists_it(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("rm").worktree;
        let path = PathBuf::from(&w.path);
        std::fs::write(path.join("draft.txt"), "unsaved idea\n").unwrap();
        let err = remove(&mut f.store, "tester", "rm", &RemoveRequest::default()).unwrap_err();
        assert!(err.to_string().contains("uncommitted: draft.txt"), "{err}");
        git_in(&path, &["add", "draft.txt"]);
        git_in(&path, &["commit", "-q", "-m", "precious commit"]);
        let err = remove(&mut f.store, "tester", "rm", &RemoveRequest::default()).unwrap_err();
        assert!(err.to_string().contains("precious commit"), "{err}");
        assert!(path.exists(), "refusals change nothing");
        assert_eq!(list(&mut f.store).unwrap().len(), 1);
    }
}

crate::every_backend! {
    fn a_forced_remove_leaves_a_backup_ref_to_restore_from(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("gone").worktree;
        let path = PathBuf::from(&w.path);
        f.commit_in(&path, "work.txt", "work\n", "work to keep");
        std::fs::write(path.join("wip.txt"), "wip\n").unwrap();
        git_in(&path, &["add", "wip.txt"]);
        let removed = remove(
            &mut f.store,
            "tester",
            "gone",
            &RemoveRequest {
                force: true,
                delete_branch: true,
            },
        )
        .unwrap();
        assert!(removed.branch_deleted && !path.exists());
        assert!(f.git(&["branch", "--list", "sb/gone"]).is_empty());
        let branch_backup = removed
            .backups
            .iter()
            .find(|b| b.contains("/branch/"))
            .unwrap();
        f.git(&["branch", "restored", branch_backup]);
        assert!(
            f.git(&["log", "--format=%s", "restored"])
                .contains("work to keep")
        );
        let wip_backup = removed
            .backups
            .iter()
            .find(|b| b.contains("/uncommitted/"))
            .unwrap();
        assert!(
            f.git(&["show", &format!("{wip_backup}:wip.txt")])
                .contains("wip"),
            "staged work is in the snapshot"
        );
        assert!(list(&mut f.store).unwrap().is_empty());
    }
}

crate::every_backend! {
    fn prune_dry_run_changes_nothing_and_apply_cleans_up(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("lost").worktree;
        std::fs::remove_dir_all(&w.path).unwrap();
        let root = f.root.clone();
        let before = f.git(&["worktree", "list", "--porcelain"]);
        let report = prune(
            &mut f.store,
            "tester",
            &root,
            &PruneRequest {
                apply: false,
                ended_days: Some(1),
            },
        )
        .unwrap();
        assert!(report.dry_run);
        assert_eq!(report.missing_folders, ["lost"]);
        assert!(!report.stale_admin_entries.is_empty());
        assert_eq!(f.git(&["worktree", "list", "--porcelain"]), before);
        assert_eq!(list(&mut f.store).unwrap().len(), 1);
        prune(
            &mut f.store,
            "tester",
            &root,
            &PruneRequest {
                apply: true,
                ended_days: Some(1),
            },
        )
        .unwrap();
        assert!(list(&mut f.store).unwrap().is_empty());
        assert!(!f.git(&["worktree", "list"]).contains("lost"));
    }
}

crate::every_backend! {
    fn bad_names_and_branches_are_refused(backend) {
        let mut f = Fixture::new(backend);
        let root = f.root.clone();
        let long = "a".repeat(300);
        for bad in [
            "../x",
            "a b",
            "-rf",
            "x.lock",
            long.as_str(),
            "ｘ",
            "a\u{202e}b",
            "é",
            "a/b",
            ".hidden",
            "a..b",
            "",
        ] {
            let err = create(
                &mut f.store,
                "me",
                &root,
                &NewWorktree {
                    name: bad.into(),
                    ..Default::default()
                },
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("not a valid worktree name"),
                "{bad:?}: {err}"
            );
        }
        for bad in ["-rf", "a..b", "a b", "x.lock", "ü", "a~1"] {
            let err = create(
                &mut f.store,
                "me",
                &root,
                &NewWorktree {
                    name: "ok".into(),
                    branch: Some(bad.into()),
                    ..Default::default()
                },
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("not a valid branch name"),
                "{bad:?}: {err}"
            );
        }
        assert!(!root.join(".worktrees").exists(), "nothing was created");
    }
}

crate::every_backend! {
    fn a_worktree_made_from_inside_another_starts_from_its_head(backend) {
        let mut f = Fixture::new(backend);
        let outer = f.create("outer").worktree;
        f.commit_in(Path::new(&outer.path), "o.txt", "o\n", "outer work");
        let inner = create(
            &mut f.store,
            "me",
            Path::new(&outer.path),
            &NewWorktree {
                name: "inner".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .worktree;
        assert_eq!(inner.base_commit, f.head(Path::new(&outer.path)));
        assert_eq!(inner.base_ref.as_deref(), Some("sb/outer"));
        assert_eq!(
            PathBuf::from(&inner.path),
            f.root.join(".worktrees/inner"),
            "worktrees are not nested"
        );
    }
}

crate::every_backend! {
    fn a_repository_whose_first_commit_is_empty_works(backend) {
        let mut f = Fixture::with_first_commit(backend, |f| {
            f.git(&["commit", "-q", "--allow-empty", "-m", "empty start"]);
        });
        let w = f.create("e").worktree;
        f.commit_in(Path::new(&w.path), "f.txt", "f\n", "first file");
        let d = diff(&mut f.store, "e", true).unwrap();
        let changed: Vec<&str> = d.changed.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            changed,
            ["f.txt"],
            "the env file is excluded, the new file is changed"
        );
        merge(
            &mut f.store,
            "tester",
            "e",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap();
        assert!(f.root.join("f.txt").exists());
    }
}

crate::every_backend! {
    fn list_and_diff_report_live_status(backend) {
        let mut f = Fixture::new(backend);
        f.commit("src/lib.rs", "fn a() {}\n", "lib");
        let w = f.create("st").worktree;
        let path = PathBuf::from(&w.path);
        f.commit_in(&path, "src/lib.rs", "fn a() {}\nfn b() {}\n", "add b");
        std::fs::write(path.join("src/lib.rs"), "fn a() {}\nfn b() {}\nfn c() {}\n").unwrap();
        std::fs::write(path.join("todo.md"), "later\n").unwrap();
        f.commit("main.txt", "m\n", "main moves");
        let all = list(&mut f.store).unwrap();
        let s = &all[0];
        assert!(s.git.exists);
        assert_eq!((s.git.ahead, s.git.behind), (1, 1));
        assert_eq!(s.git.last_commit.as_ref().unwrap().subject, "add b");
        assert!(s.git.dirty >= 2, "{s:?}");
        let d = diff(&mut f.store, "st", true).unwrap();
        let lib = d.changed.iter().find(|c| c.path == "src/lib.rs").unwrap();
        assert_eq!((lib.added, lib.removed, lib.uncommitted), (2, 0, true));
        assert!(d.uncommitted.contains(&"todo.md".to_string()));
        assert_eq!(d.commits.len(), 1);
        assert_eq!(d.commits[0].files, ["src/lib.rs"]);
        assert!(d.patch.unwrap().contains("+fn c() {}"));
        assert!(!d.patch_truncated);
    }
}

crate::every_backend! {
    fn the_conflict_radar_finds_overlaps_and_real_conflicts(backend) {
        let mut f = Fixture::new(backend);
        f.commit("shared.txt", "line\n", "shared");
        let a = f.create("a").worktree;
        let b = f.create("b").worktree;
        let c = f.create("c").worktree;
        f.commit_in(Path::new(&a.path), "shared.txt", "from a\n", "a edits");
        f.commit_in(Path::new(&b.path), "shared.txt", "from b\n", "b edits");
        f.commit_in(Path::new(&c.path), "other.txt", "c\n", "c alone");
        let report = conflicts(&mut f.store).unwrap();
        assert_eq!(report.worktrees, 3);
        let ab = report
            .findings
            .iter()
            .find(|x| x.a == "a" && x.b == "b")
            .unwrap();
        assert!(ab.would_conflict && ab.overlapping.contains(&"shared.txt".to_string()));
        assert_eq!(ab.conflicting_files, ["shared.txt"]);
        assert!(
            !report
                .findings
                .iter()
                .any(|x| x.conflicting_files.contains(&"other.txt".to_string()))
        );
    }
}

crate::every_backend! {
    fn heartbeats_record_work_so_who_has_can_answer(backend) {
        use crate::session::{self, NewSession};
        let mut f = Fixture::new(backend);
        f.commit("shared.rs", "a\n", "shared");
        let me = crate::process::ProcessInfo::current();
        let alpha = session::start(
            &mut f.store,
            &NewSession {
                agent: "alpha".into(),
                intent: "x".into(),
                process: Some(me.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let beta = session::start(
            &mut f.store,
            &NewSession {
                agent: "beta".into(),
                intent: "y".into(),
                process: Some(me.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let root = f.root.clone();
        let wa = create(
            &mut f.store,
            "alpha",
            &root,
            &NewWorktree {
                name: "wa".into(),
                session: Some(alpha.id.clone()),
                ..Default::default()
            },
        )
        .unwrap()
        .worktree;
        let wb = create(
            &mut f.store,
            "beta",
            &root,
            &NewWorktree {
                name: "wb".into(),
                session: Some(beta.id.clone()),
                ..Default::default()
            },
        )
        .unwrap()
        .worktree;
        f.commit_in(
            Path::new(&wa.path),
            "shared.rs",
            "a\nalpha\n",
            "alpha edits",
        );
        std::fs::write(
            Path::new(&wb.path).join("shared.rs"),
            "a\nbeta, not committed\n",
        )
        .unwrap();
        let seen = heartbeat(&mut f.store, &alpha.id, "alpha", Some(&me)).unwrap();
        heartbeat(&mut f.store, &beta.id, "beta", Some(&me)).unwrap();
        let work = seen.work.unwrap();
        assert_eq!(
            (work.unmerged, work.changed_files, work.uncommitted_files),
            (1, 1, 0)
        );
        assert_eq!(seen.worktree.unwrap().name, "wa");
        let holders = session::who_has(&mut f.store, "shared.rs").unwrap();
        let who: Vec<(&str, bool)> = holders
            .iter()
            .map(|h| (h.agent.as_str(), h.uncommitted))
            .collect();
        assert_eq!(who.len(), 2);
        assert!(
            who.contains(&("alpha", false)) && who.contains(&("beta", true)),
            "{who:?}"
        );
        assert!(holders.iter().all(|h| h.live && h.added == Some(1)));
        assert!(
            session::who_has(&mut f.store, "other.rs")
                .unwrap()
                .is_empty()
        );
        session::end(
            &mut f.store,
            &beta.id,
            &session::EndRequest::with(session::EndStatus::Completed),
            "beta",
        )
        .unwrap();
        assert_eq!(
            session::who_has(&mut f.store, "./shared.rs").unwrap().len(),
            1,
            "ended sessions no longer hold files"
        );
    }
}

crate::every_backend! {
    fn a_squash_merged_worktree_is_removed_without_force(backend) {
        let mut f = Fixture::new(backend);
        let s = f.create("sq").worktree;
        f.commit_in(Path::new(&s.path), "y.txt", "1\n", "add y");
        f.commit("z.txt", "main moves on\n", "main commit");
        merge(
            &mut f.store,
            "tester",
            "sq",
            &MergeRequest::with(Strategy::Squash),
        )
        .unwrap();
        // Its commits are not on main (the squash made a new one), but its changes are.
        let removed = remove(&mut f.store, "tester", "sq", &RemoveRequest::default()).unwrap();
        assert!(!Path::new(&s.path).exists());
        assert!(
            !removed.backups.is_empty(),
            "the branch tip is still backed up"
        );
    }
}

crate::every_backend! {
    fn a_conflicting_sync_can_be_kept_stopped_for_the_agent_to_resolve(backend) {
        let mut f = Fixture::new(backend);
        f.commit("a.txt", "one\n", "a");
        let w = f.create("kc").worktree;
        let path = PathBuf::from(&w.path);
        f.commit_in(&path, "a.txt", "branch\n", "branch edit");
        f.commit("a.txt", "main\n", "main edit");
        let err = sync(&mut f.store, "tester", "kc", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("keep_conflict: true"), "{err}");
        let out = sync(&mut f.store, "tester", "kc", true).unwrap();
        let stop = out.stopped.expect("stopped at the conflict");
        assert_eq!(stop.files, ["a.txt"]);
        assert!(
            stop.resolve.contains("git rebase --continue")
                && stop.resolve.contains("git rebase --abort"),
            "{}",
            stop.resolve
        );
        assert!(
            std::fs::read_to_string(path.join("a.txt"))
                .unwrap()
                .contains("<<<<<<<")
        );
        // A rebase stopped at a conflict does not break the radar or the briefing.
        conflicts(&mut f.store).unwrap();
        base_conflicts(&w).unwrap();
        git_in(&path, &["rebase", "--abort"]);
    }
}

crate::every_backend! {
    fn merging_work_that_is_only_uncommitted_says_what_to_commit(backend) {
        let mut f = Fixture::new(backend);
        let w = f.create("uc").worktree;
        std::fs::write(Path::new(&w.path).join("new.txt"), "new\n").unwrap();
        let err = merge(
            &mut f.store,
            "tester",
            "uc",
            &MergeRequest::with(Strategy::Merge),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("not committed") && err.contains("new.txt") && err.contains(&w.path),
            "{err}"
        );
    }
}

crate::every_backend! {
    fn a_failed_git_command_says_why(backend) {
        let f = Fixture::new(backend);
        let err = git::run(&f.root, &["commit", "-m", "nothing here"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing to commit"), "{err}");
    }
}

mod claims;
mod hosts;
mod recovery;

/// Requests read as every surface sends them: absent or null is the default, and the
/// editor protocol's earlier camelCase spelling still counts.
#[test]
fn merge_and_remove_requests_take_their_defaults_and_earlier_spellings() {
    let merge: MergeRequest =
        serde_json::from_value(serde_json::json!({"strategy": null, "into": null})).unwrap();
    assert_eq!(merge, MergeRequest::with(Strategy::default()));
    let remove: RemoveRequest =
        serde_json::from_value(serde_json::json!({"deleteBranch": true, "force": null})).unwrap();
    assert_eq!(
        remove,
        RemoveRequest {
            force: false,
            delete_branch: true
        }
    );
}
