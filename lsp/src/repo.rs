//! One repository the editor has open: its store, the human at the editor, and the views
//! the companion builds from core functions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_core::location::{self, Inputs};
use switchboard_core::message::{self, InboxFilter};
use switchboard_core::session::{self, Filter};
use switchboard_core::{Error, Pool, Settings, Store, StoreAddress, agent, claim, git, worktree};

use crate::protocol::{InboxSummary, RepoState};

/// How many recent sessions the state view shows.
const STATE_SESSIONS: u32 = 200;
/// How many recent messages the inbox summary shows.
const RECENT_MESSAGES: u32 = 10;

/// A repository open in the editor.
#[derive(Clone)]
pub struct Repo {
    /// The main checkout's root.
    pub root: PathBuf,
    /// The store, resolved as every other process does (or `--db`, `--store`).
    pub store: StoreAddress,
    /// The human at the editor, e.g. `human:ada-lovelace`: `human:<git user.name>` unless
    /// `--human` overrides it. Registered as an agent when the repository is opened.
    pub human: String,
    /// Store settings the connections are opened with.
    pub settings: Settings,
    /// The end of the event log when the repository was opened: pushes cover everything after.
    pub opened_at: i64,
    /// After how long mail an agent leaves unread is flagged (`.switchboard.toml`).
    pub escalate_after: std::time::Duration,
    /// Raised when claims change (a `claim.*` event), so the clock loop looks again for
    /// the next expiry.
    pub claims_changed: Arc<tokio::sync::Notify>,
    stores: Arc<Pool>,
}

impl Repo {
    /// Opens the state of the repository containing `folder` (same resolution as every
    /// other process). `human` overrides the `human:<git user.name>` identity.
    pub fn open(
        folder: &Path,
        db: Option<PathBuf>,
        store: Option<String>,
        human: Option<&str>,
        settings: Settings,
    ) -> Result<Repo, Error> {
        let mut inputs = Inputs {
            cwd: folder.to_path_buf(),
            ..Inputs::from_env(db)?
        };
        if store.is_some() {
            inputs.store = store;
        }
        let address = location::address(&inputs)?;
        let root = git::repo_paths(folder)
            .map(|r| r.main_root)
            .unwrap_or_else(|_| folder.to_path_buf());
        let human = match human {
            Some(name) => name.to_string(),
            None => agent::local_human(folder)?,
        };
        let mut store = Store::open_at(&address, settings.clone())?;
        agent::register(
            &mut store,
            &human,
            &agent::Registration {
                name: human.clone(),
                ..Default::default()
            },
        )?;
        let opened_at = store.latest_event_seq()?;
        let escalate_after = switchboard_core::config::load(&root)
            .unwrap_or_default()
            .messages
            .escalate_after;
        Ok(Repo {
            root,
            store: address,
            human,
            settings,
            opened_at,
            escalate_after,
            claims_changed: Arc::new(tokio::sync::Notify::new()),
            stores: Arc::new(Pool::new(store)),
        })
    }

    /// Runs `f` on a blocking thread with a store connection of its own, so a long
    /// operation (a worktree's setup command) never holds up the others.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &Repo) -> Result<T, Error> + Send + 'static,
    {
        let repo = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = repo.stores.take()?;
            let result = f(&mut store, &repo);
            repo.stores.put(store);
            result
        })
        .await
        .unwrap_or_else(|e| Err(Error::Internal(format!("the operation crashed ({e})"))))
    }
}

/// The open repository that `path` (a folder or file) lies in, in its main checkout or
/// one of its worktrees. Reads git's files on a blocking thread.
pub async fn containing(repos: Vec<Repo>, path: PathBuf) -> Option<Repo> {
    tokio::task::spawn_blocking(move || {
        let root = git::repo_paths(&path).ok()?.main_root;
        repos.into_iter().find(|r| r.root == root)
    })
    .await
    .ok()
    .flatten()
}

/// Where a file lies: its repository, the checkout it is in, and its path in there.
pub struct Place {
    /// The open repository the file belongs to.
    pub repo: Repo,
    /// Root of the checkout holding the file: the main checkout or one of its worktrees.
    pub checkout: PathBuf,
    /// The file's path relative to `checkout`, as git names it there.
    pub relative: String,
}

/// The [`Place`] of `file` among `repos` (`None` when it is in none of them). Reads
/// git's files on a blocking thread.
pub async fn place_of(repos: Vec<Repo>, file: PathBuf) -> Option<Place> {
    tokio::task::spawn_blocking(move || {
        let paths = git::repo_paths(&file).ok()?;
        let repo = repos.into_iter().find(|r| r.root == paths.main_root)?;
        let relative = file
            .strip_prefix(&paths.checkout)
            .ok()?
            .display()
            .to_string();
        Some(Place {
            repo,
            checkout: paths.checkout,
            relative,
        })
    })
    .await
    .ok()
    .flatten()
}

/// Everything the sidebar shows for one repository.
pub fn state(store: &mut Store, repo: &Repo) -> Result<RepoState, Error> {
    let page = session::list(
        store,
        &Filter {
            limit: Some(STATE_SESSIONS),
            ..Default::default()
        },
    )?;
    let inbox = message::inbox(
        store,
        &repo.human,
        &InboxFilter {
            limit: Some(RECENT_MESSAGES),
            ..Default::default()
        },
    )?;
    Ok(RepoState {
        root: repo.root.display().to_string(),
        state_db: repo.store.to_string(),
        human: repo.human.clone(),
        sessions: session::forest(page.sessions),
        worktrees: worktree::list(store)?,
        inbox: InboxSummary {
            unread: inbox.unread,
            recent: inbox.messages,
        },
        overdue: message::overdue(store, repo.escalate_after)?,
        claims: claim::list(store, false)?,
    })
}
