//! Worktree statuses kept between listings, keyed by what changes them.
//!
//! A status is a working-tree scan plus a walk of history, so a long-running process (the
//! editor companion, a server) that lists worktrees at every change would rescan every
//! worktree each time. Instead it keeps each worktree's git state and watches what can
//! change it, with one inotify instance for the process:
//! - the worktree's folders (not ignored ones, not `.git`): an edit, a new, removed or
//!   renamed file makes that worktree's entry stale;
//! - its git admin directory (`HEAD`, `index`): a commit, checkout, `git add` there
//!   makes it stale;
//! - the repository's common directory and `refs/heads/` (branch tips, `packed-refs`):
//!   a moved branch may be any worktree's branch or base, so every entry goes stale.
//!
//! An entry is used only if no notification about it arrived since the scan it holds
//! began, and only for the same record (base commit and branch). A lost notification
//! (queue overflow) makes every entry stale. Where a folder cannot be watched (no inotify,
//! the watch limit reached), its worktree is scanned every time, as without the cache.
//! The process takes at most a quarter of the user's inotify watches ([`watch_budget`]),
//! leaving the rest to editors and build tools.

use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, Reader, WatchFlags};

use super::{GitState, Worktree};

/// A scan about to start: what to record its outcome against.
pub(super) struct Ticket {
    path: PathBuf,
    changes: u64,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq)]
enum Scope {
    /// A folder of this worktree.
    Worktree(PathBuf),
    /// The git admin directory of this worktree (`HEAD`, `index`).
    Admin(PathBuf),
    /// Branch tips or the repository's shared state: any worktree.
    Repository,
}

/// One watched directory.
struct Watch {
    scope: Scope,
    dir: PathBuf,
}

#[derive(Default)]
struct Entry {
    /// Notifications about this worktree so far.
    changes: u64,
    /// Every folder of it is watched (a scan can be kept).
    watched: bool,
    /// The state of the last scan, the record it was for, and `changes` when it began.
    kept: Option<(Key, GitState, u64)>,
}

/// What, besides the files, a state depends on: the record's base and branch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    base_commit: String,
    base_ref: Option<String>,
    branch: String,
}

impl Key {
    fn of(w: &Worktree) -> Key {
        Key {
            base_commit: w.base_commit.clone(),
            base_ref: w.base_ref.clone(),
            branch: w.branch.clone(),
        }
    }
}

struct Cache {
    notify: Option<OwnedFd>,
    watches: HashMap<i32, Watch>,
    entries: HashMap<PathBuf, Entry>,
    /// Common directories of the repositories already watched.
    repositories: Vec<PathBuf>,
}

const CHANGES: WatchFlags = WatchFlags::MODIFY
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::CREATE)
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF);

fn cache() -> MutexGuard<'static, Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let notify = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
                .inspect_err(
                    |e| tracing::info!(error = %e, "worktree statuses are not kept: no inotify"),
                )
                .ok();
            Mutex::new(Cache {
                notify,
                watches: HashMap::new(),
                entries: HashMap::new(),
                repositories: Vec::new(),
            })
        })
        .lock()
        // The cache is consistent whatever panicked while it was held: at worst an entry
        // is stale and scanned again.
        .unwrap_or_else(|p| p.into_inner())
}

/// The kept state of `w`, if nothing that changes it has happened since it was scanned.
pub(super) fn kept(w: &Worktree) -> Option<GitState> {
    kept_all(std::slice::from_ref(w)).pop().flatten()
}

/// [`kept`] for each of `ws`, in order, with one look at the notifications.
pub(super) fn kept_all(ws: &[Worktree]) -> Vec<Option<GitState>> {
    let mut cache = cache();
    cache.drain();
    ws.iter()
        .map(|w| {
            let entry = cache.entries.get(Path::new(&w.path))?;
            match &entry.kept {
                Some((key, state, since))
                    if entry.watched && *since == entry.changes && *key == Key::of(w) =>
                {
                    Some(state.clone())
                }
                _ => None,
            }
        })
        .collect()
}

/// Starts a scan of `w`: watches it if it is not yet watched, and notes where its
/// notifications stand, so that a change during the scan makes its outcome stale.
pub(super) fn begin(w: &Worktree) -> Ticket {
    let path = PathBuf::from(&w.path);
    let mut cache = cache();
    cache.drain();
    let watched = cache.entries.get(&path).is_some_and(|e| e.watched);
    if !watched && path.is_dir() {
        let ok = cache.watch_worktree(&path);
        cache.entries.entry(path.clone()).or_default().watched = ok;
    }
    let changes = cache.entries.entry(path.clone()).or_default().changes;
    Ticket { path, changes }
}

/// Keeps the outcome of the scan `ticket` began, unless something changed meanwhile.
pub(super) fn finish(ticket: Ticket, w: &Worktree, state: &GitState) {
    let mut cache = cache();
    cache.drain();
    let Some(entry) = cache.entries.get_mut(&ticket.path) else {
        return;
    };
    if entry.watched && entry.changes == ticket.changes {
        entry.kept = Some((Key::of(w), state.clone(), ticket.changes));
    }
}

/// Forgets worktrees not in `current` and stops watching their folders.
pub(super) fn retain(current: &[Worktree]) {
    let keep: HashSet<PathBuf> = current.iter().map(|w| PathBuf::from(&w.path)).collect();
    let mut cache = cache();
    let before = cache.entries.len();
    cache.entries.retain(|path, _| keep.contains(path));
    if cache.entries.len() == before {
        return;
    }
    let gone: Vec<i32> = cache
        .watches
        .iter()
        .filter(|(_, w)| match &w.scope {
            Scope::Worktree(p) | Scope::Admin(p) => !keep.contains(p),
            Scope::Repository => false,
        })
        .map(|(wd, _)| *wd)
        .collect();
    for wd in gone {
        cache.watches.remove(&wd);
        if let Some(fd) = &cache.notify {
            let _ = inotify::remove_watch(fd, wd);
        }
    }
}

impl Cache {
    /// Reads every pending notification and counts it against what it is about.
    fn drain(&mut self) {
        let Some(fd) = &self.notify else {
            return;
        };
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 8192];
        let mut reader = Reader::new(fd, &mut buf);
        let mut touched: Vec<Scope> = Vec::new();
        let mut new_dirs: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut overflow = false;
        while let Ok(event) = reader.next() {
            let flags = event.events();
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                overflow = true;
                continue;
            }
            let Some(watch) = self.watches.get(&event.wd()) else {
                continue;
            };
            touched.push(watch.scope.clone());
            if let (Scope::Worktree(root), Some(name)) = (&watch.scope, event.file_name())
                && flags.contains(ReadFlags::ISDIR)
                && flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO)
            {
                let name = std::ffi::OsStr::from_bytes(name.to_bytes());
                new_dirs.push((root.clone(), watch.dir.join(name)));
            }
            if flags.contains(ReadFlags::IGNORED) {
                self.watches.remove(&event.wd());
            }
        }
        if overflow || touched.contains(&Scope::Repository) {
            for entry in self.entries.values_mut() {
                entry.changes += 1;
            }
        }
        for scope in touched {
            if let Scope::Worktree(root) | Scope::Admin(root) = scope
                && let Some(entry) = self.entries.get_mut(&root)
            {
                entry.changes += 1;
            }
        }
        for (root, dir) in new_dirs {
            self.watch_new_folder(&root, &dir);
        }
    }

    /// Watches every folder of the worktree at `root` that git does not ignore, its git
    /// admin directory and its repository's shared state. False when some folder could
    /// not be watched.
    fn watch_worktree(&mut self, root: &Path) -> bool {
        if self.notify.is_none() {
            return false;
        }
        let Ok(repo) = git2::Repository::open(root) else {
            return false;
        };
        let admin = self.add(repo.path(), Scope::Admin(root.to_path_buf()));
        let common = repo.commondir().to_path_buf();
        let shared = self.repositories.contains(&common) || self.watch_repository(&common);
        admin && shared && self.watch_tree(&repo, root, root)
    }

    /// Watches a repository's common directory and every folder of `refs/heads`.
    fn watch_repository(&mut self, common: &Path) -> bool {
        let mut ok = self.add(common, Scope::Repository);
        let mut stack = vec![common.join("refs").join("heads")];
        while let Some(dir) = stack.pop() {
            ok &= self.add(&dir, Scope::Repository);
            stack.extend(subfolders(&dir));
        }
        if ok {
            self.repositories.push(common.to_path_buf());
        }
        ok
    }

    /// Watches `top` and the folders below it that git does not ignore (never `.git`).
    fn watch_tree(&mut self, repo: &git2::Repository, root: &Path, top: &Path) -> bool {
        let scope = Scope::Worktree(root.to_path_buf());
        let mut ok = true;
        let mut stack = vec![top.to_path_buf()];
        while let Some(dir) = stack.pop() {
            ok &= self.add(&dir, scope.clone());
            for child in subfolders(&dir) {
                let is_git = child.file_name().is_some_and(|n| n == ".git");
                if !is_git && !ignored(repo, root, &child) {
                    stack.push(child);
                }
            }
        }
        ok
    }

    /// A folder created (or moved in) in a watched worktree: watched too, with what is
    /// already in it, unless git ignores it.
    fn watch_new_folder(&mut self, root: &Path, dir: &Path) {
        let Some(entry) = self.entries.get(root) else {
            return;
        };
        if !entry.watched {
            return;
        }
        let done = git2::Repository::open(root)
            .map(|repo| ignored(&repo, root, dir) || self.watch_tree(&repo, root, dir));
        if !matches!(done, Ok(true))
            && let Some(entry) = self.entries.get_mut(root)
        {
            entry.watched = false;
            entry.kept = None;
        }
    }

    /// Adds one watch; false when it cannot be added (a missing folder counts as
    /// watched: there is nothing in it to change).
    fn add(&mut self, dir: &Path, scope: Scope) -> bool {
        let Some(fd) = &self.notify else {
            return false;
        };
        if self.watches.len() >= watch_budget() {
            return false;
        }
        match inotify::add_watch(fd, dir, CHANGES) {
            Ok(wd) => {
                self.watches.insert(
                    wd,
                    Watch {
                        scope,
                        dir: dir.to_path_buf(),
                    },
                );
                true
            }
            Err(rustix::io::Errno::NOENT) => true,
            Err(e) => {
                tracing::info!(error = %e, dir = %dir.display(), "cannot watch a worktree folder; it is scanned at every listing");
                false
            }
        }
    }
}

/// How many folders this process may watch: a quarter of the user's inotify watches
/// (`fs.inotify.max_user_watches`), at most 16,384.
fn watch_budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
            .ok()
            .and_then(|text| text.trim().parse::<usize>().ok())
            .map_or(2048, |limit| limit / 4)
            .min(16_384)
    })
}

/// Whether git ignores the folder `dir` of the worktree at `root`.
fn ignored(repo: &git2::Repository, root: &Path, dir: &Path) -> bool {
    let Ok(rel) = dir.strip_prefix(root) else {
        return false;
    };
    // A trailing slash: the rules for folders (`target/`) apply.
    let rel = format!("{}/", rel.display());
    repo.is_path_ignored(rel).unwrap_or(false)
}

/// The folders directly in `dir` (not following symbolic links).
fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(children) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    children
        .flatten()
        .filter(|c| c.file_type().is_ok_and(|t| t.is_dir()))
        .map(|c| c.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use switchboard_testutils::{ScratchRepo, commit, git};

    use super::super::{WorktreeStatus, git_state, list};
    use super::*;
    use crate::worktree::{NewWorktree, create};
    use crate::{Settings, Store};

    /// Lists the worktrees; checks every status against one read afresh from git.
    fn listed(store: &mut Store) -> Vec<WorktreeStatus> {
        let all = list(store).unwrap();
        for s in &all {
            let fresh = git_state(&s.worktree).unwrap();
            assert_eq!(
                s.git, fresh,
                "the listed status of {} is stale",
                s.worktree.name
            );
        }
        all
    }

    fn is_kept(s: &WorktreeStatus) -> bool {
        kept(&s.worktree).is_some()
    }

    #[test]
    fn a_kept_status_is_used_until_something_that_changes_it_happens() {
        let repo = ScratchRepo::empty();
        commit(repo.path(), "src/lib.rs", "fn a() {}\n", "first");
        commit(repo.path(), ".gitignore", "target/\n", "ignore target");
        let mut store = Store::open(repo.db(), Settings::default()).unwrap();
        for name in ["one", "two"] {
            let new = NewWorktree {
                name: name.into(),
                ..Default::default()
            };
            create(&mut store, "tester", repo.path(), &new).unwrap();
        }
        let all = listed(&mut store);
        assert!(all.iter().all(is_kept), "a listing keeps what it read");
        let one = Path::new(&all[0].worktree.path).to_path_buf();
        let two = &all[1];

        // Files an ignored folder holds change nothing.
        std::fs::create_dir_all(one.join("target/debug")).unwrap();
        std::fs::write(one.join("target/debug/out"), "x").unwrap();
        let all = listed(&mut store);
        assert!(all.iter().all(is_kept), "an ignored folder is not a change");

        // An edit in place (same size) is seen, and only that worktree is read again.
        std::fs::write(one.join("src/lib.rs"), "fn b() {}\n").unwrap();
        assert!(!is_kept(&all[0]) && is_kept(two));
        assert_eq!(listed(&mut store)[0].git.dirty, 1);

        // New folders are watched from then on.
        std::fs::create_dir_all(one.join("docs/api")).unwrap();
        std::fs::write(one.join("docs/api/a.md"), "a").unwrap();
        let before = listed(&mut store);
        assert_eq!(before[0].git.dirty, 2);
        std::fs::write(one.join("docs/api/b.md"), "b").unwrap();
        assert!(!is_kept(&before[0]), "a file in a new folder is seen");
        assert_eq!(listed(&mut store)[0].git.dirty, 3);

        // A commit in the worktree moves its head.
        git(&one, &["add", "-A"]);
        git(&one, &["commit", "-q", "-m", "work"]);
        let after = listed(&mut store);
        assert_eq!((after[0].git.dirty, after[0].git.ahead), (0, 1));

        // The base branch moving in the main checkout is seen by every worktree.
        commit(repo.path(), "main.txt", "m\n", "main moves");
        assert!(!is_kept(&after[0]) && !is_kept(&after[1]));
        let after = listed(&mut store);
        assert_eq!((after[0].git.behind, after[1].git.behind), (1, 1));

        // A folder deleted from under the worktree.
        std::fs::remove_dir_all(&one).unwrap();
        assert!(!listed(&mut store)[0].git.exists);
    }
}
