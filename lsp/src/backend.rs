//! The language server: lifecycle, custom requests, commands, live pushes, diagnostics and
//! code lenses. Every action calls the same core functions as the MCP tools and the CLI,
//! with the human at the editor as the actor.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_core::event::{Change, Event};
use switchboard_core::feed::{ChangeFeed, Watch};
use switchboard_core::message::{self, Author, Draft, InboxFilter, Priority};
use switchboard_core::session::{self, Holder};
use switchboard_core::worktree::{self, NewWorktree};
use switchboard_core::{Error, Settings};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::protocol::{self, command, *};
use crate::repo::{self, Repo};

/// Batches of changes a repository's feed may hold for the push loop before it waits
/// (back-pressure: the events stay in the log meanwhile).
const FEED_BATCHES: usize = 64;
/// After a push, further changes within this window are merged into one push.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// How often the companion looks for mail agents have left unread too long.
const OVERDUE_INTERVAL: Duration = Duration::from_secs(30);

/// How the companion was started.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `--db`: one state database for every folder.
    pub db: Option<PathBuf>,
    /// Overrides `human:<git user.name>`.
    pub human: Option<String>,
    pub settings: Settings,
}

/// `switchboard/stateChanged`.
pub enum StateChangedNotification {}

impl Notification for StateChangedNotification {
    type Params = StateChanged;
    const METHOD: &'static str = protocol::STATE_CHANGED;
}

/// The companion for one editor connection.
pub struct Backend {
    client: Client,
    config: Config,
    repos: Mutex<Vec<Repo>>,
    /// Open documents: URI → file path.
    docs: Mutex<HashMap<Uri, PathBuf>>,
    version: AtomicI64,
    code_lens_refresh: std::sync::atomic::AtomicBool,
}

fn to_rpc(e: Error) -> jsonrpc::Error {
    let mut err = if e.is_user_error() {
        jsonrpc::Error::invalid_params(e.to_string())
    } else {
        jsonrpc::Error::internal_error()
    };
    err.message = e.to_string().into();
    err
}

fn ok_value<T: Serialize>(value: T) -> jsonrpc::Result<Option<Value>> {
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| jsonrpc::Error::invalid_params(e.to_string()))
}

impl Backend {
    pub fn new(client: Client, config: Config) -> Backend {
        Backend {
            client,
            config,
            repos: Mutex::new(Vec::new()),
            docs: Mutex::new(HashMap::new()),
            version: AtomicI64::new(0),
            code_lens_refresh: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn repos(&self) -> Vec<Repo> {
        self.repos.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The repository a request names (a folder or file path or `file://` URI), or the first.
    /// The repository a request names (its root, or a path or file URI inside one of its
    /// checkouts), else the first one open. Finding the repository of a path reads git's
    /// files, so it runs on a blocking thread.
    async fn repo(&self, which: Option<&str>) -> jsonrpc::Result<Repo> {
        let repos = self.repos();
        let chosen = match which {
            None => repos.first().cloned(),
            Some(text) => {
                let path = text
                    .parse::<Uri>()
                    .ok()
                    .and_then(|u| u.to_file_path().map(|p| p.into_owned()))
                    .unwrap_or_else(|| PathBuf::from(text));
                match repos.iter().find(|r| r.root == path) {
                    Some(repo) => Some(repo.clone()),
                    None => repo::containing(repos, path).await,
                }
            }
        };
        chosen.ok_or_else(|| {
            jsonrpc::Error::invalid_params(format!(
                "no Switchboard repository is open for {}; open a folder inside a git repository",
                which.unwrap_or("this workspace")
            ))
        })
    }

    /// Opens the repositories of the workspace folders (duplicates and failures skipped,
    /// failures reported to the user).
    async fn open_folders(&self, folders: Vec<PathBuf>) {
        let mut opened: Vec<Repo> = Vec::new();
        for folder in folders {
            let config = self.config.clone();
            let result = tokio::task::spawn_blocking(move || {
                Repo::open(
                    &folder,
                    config.db.clone(),
                    config.human.as_deref(),
                    config.settings.clone(),
                )
                .map_err(|e| (folder, e))
            })
            .await;
            match result {
                Ok(Ok(repo))
                    if !opened
                        .iter()
                        .any(|r| r.db == repo.db && r.root == repo.root) =>
                {
                    opened.push(repo)
                }
                Ok(Ok(_)) => {}
                Ok(Err((folder, e))) => {
                    self.client
                        .show_message(
                            MessageType::WARNING,
                            format!(
                                "Switchboard: cannot open the state for {}: {e}",
                                folder.display()
                            ),
                        )
                        .await;
                }
                Err(e) => tracing::error!(error = %e, "opening a workspace folder crashed"),
            }
        }
        let latest = opened.iter().map(|r| r.opened_at).max().unwrap_or(0);
        self.version.fetch_max(latest, Ordering::SeqCst);
        *self.repos.lock().unwrap_or_else(|p| p.into_inner()) = opened;
    }

    /// Starts, per repository, the change feed and a task that turns its events into
    /// debounced pushes, refreshed diagnostics and urgent-message popups. A feed that
    /// cannot start is reported to the user (live updates are then off for that folder).
    async fn start_live(self: &Arc<Self>) {
        for repo in self.repos() {
            let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Event>>(FEED_BATCHES);
            let (db, settings, after) = (repo.db.clone(), repo.settings.clone(), repo.opened_at);
            let started = tokio::task::spawn_blocking(move || {
                let feed = ChangeFeed::open_after(&db, settings, Some(after))?;
                Watch::start(feed, "switchboard-lsp-feed", move |batch| {
                    match tx.blocking_send(batch) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    }
                })
            })
            .await;
            let watch = match started {
                Ok(Ok(watch)) => watch,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot watch the state database");
                    let text = format!(
                        "Switchboard cannot watch {}: {e}. The views will not update by themselves; reload the window to try again.",
                        repo.db.display()
                    );
                    self.client.show_message(MessageType::ERROR, text).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "starting the change feed crashed");
                    continue;
                }
            };
            let this = self.clone();
            let watched = repo.clone();
            tokio::spawn(async move { this.push_loop(repo, rx, watch).await });
            let this = self.clone();
            tokio::spawn(async move { this.overdue_loop(watched).await });
        }
    }

    /// Every [`OVERDUE_INTERVAL`], looks for mail agents have left unread too long: when
    /// that list changes the sidebar is told (`stateChanged`, messages), and newly overdue
    /// urgent messages pop up.
    async fn overdue_loop(self: Arc<Self>, repo: Repo) {
        let mut known: BTreeSet<String> = BTreeSet::new();
        loop {
            let after = repo.escalate_after;
            let found = repo
                .with_store(move |store, _| message::overdue(store, after))
                .await;
            match found {
                Ok(late) => {
                    let ids: BTreeSet<String> = late.iter().map(|o| o.id.clone()).collect();
                    if ids != known {
                        let note = StateChanged {
                            version: self.version.load(Ordering::SeqCst),
                            repo: repo.root.display().to_string(),
                            changed: vec![Topic::Messages],
                        };
                        self.client
                            .send_notification::<StateChangedNotification>(note)
                            .await;
                        for o in late
                            .iter()
                            .filter(|o| o.priority == Priority::Urgent && !known.contains(&o.id))
                        {
                            self.client
                                .show_message(
                                    MessageType::WARNING,
                                    switchboard_core::render::overdue(o, after),
                                )
                                .await;
                        }
                        known = ids;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for overdue mail"),
            }
            tokio::time::sleep(OVERDUE_INTERVAL).await;
        }
    }

    /// Pushes each batch of changes at once, then merges whatever arrives within
    /// [`DEBOUNCE`] into one trailing push. Ends (stopping the feed, `_watch`) when the
    /// feed's channel closes.
    async fn push_loop(
        self: Arc<Self>,
        repo: Repo,
        mut rx: tokio::sync::mpsc::Receiver<Vec<Event>>,
        _watch: Watch,
    ) {
        while let Some(mut batch) = rx.recv().await {
            while let Ok(more) = rx.try_recv() {
                batch.extend(more);
            }
            self.push(&repo, &batch).await;
            tokio::time::sleep(DEBOUNCE).await;
            let mut trailing = Vec::new();
            while let Ok(more) = rx.try_recv() {
                trailing.extend(more);
            }
            if !trailing.is_empty() {
                self.push(&repo, &trailing).await;
            }
        }
    }

    async fn push(&self, repo: &Repo, events: &[Event]) {
        let changed: BTreeSet<Topic> = events
            .iter()
            .flat_map(|e| e.change.topics())
            .copied()
            .collect();
        let Some(last) = events.last() else { return };
        self.version.fetch_max(last.seq, Ordering::SeqCst);
        if changed.is_empty() {
            return;
        }
        let note = StateChanged {
            version: last.seq,
            repo: repo.root.display().to_string(),
            changed: changed.iter().copied().collect(),
        };
        self.client
            .send_notification::<StateChangedNotification>(note)
            .await;
        for event in events {
            self.alert_if_urgent(repo, event).await;
        }
        if changed.contains(&Topic::Sessions) || changed.contains(&Topic::Worktrees) {
            self.refresh_diagnostics().await;
            if self.code_lens_refresh.load(Ordering::Relaxed) {
                let _ = self.client.code_lens_refresh().await;
            }
        }
    }

    /// Pops up urgent messages addressed to the human.
    async fn alert_if_urgent(&self, repo: &Repo, event: &Event) {
        let Change::MessageSent(sent) = &event.change else {
            return;
        };
        if sent.priority != Priority::Urgent || !event.change.concerns(&repo.human) {
            return;
        }
        let id = sent.id.clone();
        let got = repo
            .with_store(move |store, repo| message::get(store, &repo.human, &id))
            .await;
        if let Ok(m) = got {
            let text = m
                .subject
                .clone()
                .or_else(|| m.body.clone())
                .unwrap_or_default();
            self.client
                .show_message(
                    MessageType::WARNING,
                    format!(
                        "Urgent message from {}: {}",
                        m.sender,
                        text.lines().next().unwrap_or("")
                    ),
                )
                .await;
        }
    }

    /// The sessions changing `file` in another checkout than the one it is in.
    async fn holders_of(&self, file: &Path) -> Vec<Holder> {
        let Some(place) = repo::place_of(self.repos(), file.to_path_buf()).await else {
            return Vec::new();
        };
        let (relative, checkout) = (place.relative, place.checkout);
        place
            .repo
            .with_store(move |store, _| {
                let here = worktree::containing(store, &checkout)?.map(|w| w.name);
                let mut holders = session::who_has(store, &relative)?;
                holders.retain(|h| h.worktree.is_none() || h.worktree != here);
                Ok(holders)
            })
            .await
            .unwrap_or_default()
    }

    async fn diagnostics_for(&self, file: &Path) -> Vec<Diagnostic> {
        self.holders_of(file)
            .await
            .into_iter()
            .map(|h| Diagnostic {
                range: Range::new(Position::new(0, 0), Position::new(0, 0)),
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some("switchboard".into()),
                message: holder_text(&h),
                ..Default::default()
            })
            .collect()
    }

    async fn publish(&self, uri: Uri, file: &Path) {
        let diagnostics = self.diagnostics_for(file).await;
        self.client
            .publish_diagnostics(uri, diagnostics, None)
            .await;
    }

    async fn refresh_diagnostics(&self) {
        let docs: Vec<(Uri, PathBuf)> = self
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(u, p)| (u.clone(), p.clone()))
            .collect();
        for (uri, file) in docs {
            self.publish(uri, &file).await;
        }
    }

    // ---- custom requests ----

    pub async fn state(&self, _params: RepoParams) -> jsonrpc::Result<StateResult> {
        let mut repos = Vec::new();
        for repo in self.repos() {
            repos.push(repo.with_store(repo::state).await.map_err(to_rpc)?);
        }
        Ok(StateResult {
            version: self.version.load(Ordering::SeqCst),
            repos,
        })
    }

    pub async fn thread(&self, params: ThreadParams) -> jsonrpc::Result<ThreadResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        repo.with_store(move |store, repo| message::thread(store, &repo.human, &params.thread))
            .await
            .map_err(to_rpc)
    }

    pub async fn inbox(&self, params: InboxParams) -> jsonrpc::Result<InboxResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        let filter = InboxFilter {
            unread_only: params.unread_only.unwrap_or(false),
            cursor: params.cursor,
            limit: params.limit,
            ..Default::default()
        };
        repo.with_store(move |store, repo| message::inbox(store, &repo.human, &filter))
            .await
            .map_err(to_rpc)
    }

    pub async fn session(&self, params: SessionParams) -> jsonrpc::Result<SessionResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        repo.with_store(move |store, _| {
            Ok(SessionResult {
                session: session::get(store, &params.session)?,
                tree: session::tree(store, &params.session, None)?,
            })
        })
        .await
        .map_err(to_rpc)
    }

    pub async fn worktree(&self, params: WorktreeParams) -> jsonrpc::Result<WorktreeResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        repo.with_store(move |store, _| {
            worktree::diff(store, &params.name, params.patch.unwrap_or(false))
        })
        .await
        .map_err(to_rpc)
    }

    // ---- commands ----

    async fn run_command(&self, params: ExecuteCommandParams) -> jsonrpc::Result<Option<Value>> {
        let arg = params
            .arguments
            .into_iter()
            .next()
            .unwrap_or(Value::Object(Default::default()));
        let token = params.work_done_progress_params.work_done_token;
        match params.command.as_str() {
            command::SEND => {
                let a: SendArgs = parse(arg)?;
                let draft = Draft {
                    to: a.to,
                    subject: a.subject,
                    body: a.body,
                    priority: a.priority.unwrap_or_default(),
                    ack_required: a.ack_required.unwrap_or(false),
                    refs: Vec::new(),
                };
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| {
                        message::send(
                            s,
                            &Author {
                                agent: r.human.clone(),
                                session: None,
                            },
                            &draft,
                        )
                    })
                    .await
                    .map_err(to_rpc)?,
                )
            }
            command::REPLY => {
                let a: ReplyArgs = parse(arg)?;
                let draft = Draft {
                    to: a.to.unwrap_or_default(),
                    body: a.body,
                    priority: a.priority.unwrap_or_default(),
                    ack_required: a.ack_required.unwrap_or_default(),
                    ..Default::default()
                };
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| {
                        message::reply(
                            s,
                            &Author {
                                agent: r.human.clone(),
                                session: None,
                            },
                            &a.message,
                            &draft,
                        )
                    })
                    .await
                    .map_err(to_rpc)?,
                )
            }
            command::MARK_READ | command::ACK => {
                let acked = params.command == command::ACK;
                let a: MarkArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| message::mark(s, &r.human, &a.ids, acked))
                        .await
                        .map_err(to_rpc)?,
                )
            }
            command::END_SESSION => {
                let a: EndSessionArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| {
                        session::end(s, &a.session, a.status, a.reason.as_deref(), &r.human)
                    })
                    .await
                    .map_err(to_rpc)?,
                )
            }
            command::CREATE_WORKTREE => {
                let a: CreateWorktreeArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                let progress = self
                    .begin_progress(token, format!("Creating worktree {}", a.name))
                    .await;
                let new = NewWorktree {
                    name: a.name,
                    base: a.base,
                    branch: a.branch,
                    session: a.session,
                };
                let result = repo
                    .with_store(move |s, r| worktree::create(s, &r.human, &r.root, &new))
                    .await;
                self.end_progress(progress, result.is_ok()).await;
                ok_value(result.map_err(to_rpc)?)
            }
            command::REMOVE_WORKTREE => {
                let a: RemoveWorktreeArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                let (force, delete) = (a.force.unwrap_or(false), a.delete_branch.unwrap_or(false));
                ok_value(
                    repo.with_store(move |s, r| {
                        worktree::remove(s, &r.human, &a.name, force, delete)
                    })
                    .await
                    .map_err(to_rpc)?,
                )
            }
            command::MERGE_WORKTREE => {
                let a: MergeWorktreeArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                let progress = self
                    .begin_progress(token, format!("Merging worktree {}", a.name))
                    .await;
                let strategy = a.strategy.unwrap_or_default();
                let result = repo
                    .with_store(move |s, r| {
                        worktree::merge(
                            s,
                            &r.human,
                            &a.name,
                            a.into.as_deref(),
                            strategy,
                            a.message.as_deref(),
                        )
                    })
                    .await;
                self.end_progress(progress, result.is_ok()).await;
                ok_value(result.map_err(to_rpc)?)
            }
            command::SHOW_DIFF => {
                let a: ShowDiffArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, _| worktree::diff(s, &a.worktree, true))
                        .await
                        .map_err(to_rpc)?,
                )
            }
            other => Err(jsonrpc::Error::invalid_params(format!(
                "unknown command '{other}'; Switchboard offers {}",
                command::ALL.join(", ")
            ))),
        }
    }

    async fn begin_progress(
        &self,
        token: Option<ProgressToken>,
        title: String,
    ) -> Option<
        tower_lsp_server::OngoingProgress<
            tower_lsp_server::Unbounded,
            tower_lsp_server::NotCancellable,
        >,
    > {
        let token = token?;
        Some(self.client.progress(token, title).begin().await)
    }

    async fn end_progress(
        &self,
        progress: Option<
            tower_lsp_server::OngoingProgress<
                tower_lsp_server::Unbounded,
                tower_lsp_server::NotCancellable,
            >,
        >,
        ok: bool,
    ) {
        if let Some(p) = progress {
            p.finish_with_message(if ok { "done" } else { "failed" })
                .await;
        }
    }
}

fn parse<T: DeserializeOwned>(arg: Value) -> jsonrpc::Result<T> {
    serde_json::from_value(arg)
        .map_err(|e| jsonrpc::Error::invalid_params(format!("bad command argument: {e}")))
}

/// "also changed by <agent> in <worktree> (+12 −3, uncommitted)".
pub fn holder_text(h: &Holder) -> String {
    let mut detail = Vec::new();
    if let (Some(a), Some(r)) = (h.added, h.removed) {
        detail.push(format!("+{a} −{r}"));
    }
    if h.uncommitted {
        detail.push("uncommitted".into());
    }
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", detail.join(", "))
    };
    format!(
        "also changed by {} in {}{detail}",
        h.agent,
        h.worktree.as_deref().unwrap_or("another checkout")
    )
}

fn folders_of(params: &InitializeParams) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    #[allow(deprecated)]
    if folders.is_empty()
        && let Some(root) = params
            .root_uri
            .as_ref()
            .and_then(|u| u.to_file_path().map(|p| p.into_owned()))
    {
        folders.push(root);
    }
    if folders.is_empty()
        && let Ok(cwd) = std::env::current_dir()
    {
        folders.push(cwd);
    }
    folders
}

/// The language server proper; wraps [`Backend`] in an `Arc` so background tasks can share it.
pub struct Server(pub Arc<Backend>);

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> jsonrpc::Result<InitializeResult> {
        let refresh = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false);
        self.0.code_lens_refresh.store(refresh, Ordering::Relaxed);
        self.0.open_folders(folders_of(&params)).await;
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::NONE),
                        ..Default::default()
                    },
                )),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: command::ALL.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                }),
                experimental: Some(
                    serde_json::json!({"switchboard": {"version": env!("CARGO_PKG_VERSION")}}),
                ),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "switchboard".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.0.start_live().await;
        let names: Vec<String> = self
            .0
            .repos()
            .iter()
            .map(|r| format!("{} as {}", r.root.display(), r.human))
            .collect();
        self.0
            .client
            .log_message(
                MessageType::INFO,
                format!("Switchboard watching {}", names.join("; ")),
            )
            .await;
    }

    async fn shutdown(&self) -> jsonrpc::Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(file) = uri.to_file_path().map(|p| p.into_owned()) else {
            return;
        };
        self.0
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri.clone(), file.clone());
        self.0.publish(uri, &file).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.0
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&uri);
        self.0
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }

    async fn code_lens(&self, params: CodeLensParams) -> jsonrpc::Result<Option<Vec<CodeLens>>> {
        let Some(file) = params
            .text_document
            .uri
            .to_file_path()
            .map(|p| p.into_owned())
        else {
            return Ok(None);
        };
        let lenses: Vec<CodeLens> = self
            .0
            .holders_of(&file)
            .await
            .into_iter()
            .map(|h| CodeLens {
                range: Range::new(Position::new(0, 0), Position::new(0, 0)),
                command: Some(Command {
                    title: format!("{} — show diff", holder_text(&h)),
                    command: command::SHOW_DIFF.into(),
                    arguments: Some(vec![serde_json::json!({"worktree": h.worktree})]),
                }),
                data: None,
            })
            .collect();
        Ok(Some(lenses))
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> jsonrpc::Result<Option<LSPAny>> {
        self.0.run_command(params).await
    }
}
