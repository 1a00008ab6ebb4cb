//! The editor's actions: the custom `switchboard/…` requests (state, thread, inbox,
//! session, worktree) and the `workspace/executeCommand` commands (send, reply, mark,
//! end a session, create, remove and merge worktrees, show a diff, claim and release
//! paths), with work-done progress for the long ones.

use std::sync::atomic::Ordering;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::claim::{self, Claimant};
use switchboard_core::message::{self, Author};
use switchboard_core::session;
use switchboard_core::worktree::{self, NewWorktree};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::*;

use super::Backend;
use crate::protocol::{command, *};
use crate::repo;

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
    // ---- custom requests ----

    /// `switchboard/state`: every open repository's state (`params` is not read), with the
    /// last event version seen.
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

    /// `switchboard/thread`: one thread as the human sees it.
    pub async fn thread(&self, params: ThreadParams) -> jsonrpc::Result<ThreadResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        repo.with_store(move |store, repo| message::thread(store, &repo.human, &params.thread))
            .await
            .map_err(to_rpc)
    }

    /// `switchboard/inbox`: a filtered page of the human's inbox.
    pub async fn inbox(&self, params: InboxParams) -> jsonrpc::Result<InboxResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        let filter = params.filter;
        repo.with_store(move |store, repo| message::inbox(store, &repo.human, &filter))
            .await
            .map_err(to_rpc)
    }

    /// `switchboard/session`: one session and its genealogy tree.
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

    /// `switchboard/worktree`: a worktree's changes against its base, with the patch if
    /// asked.
    pub async fn worktree(&self, params: WorktreeParams) -> jsonrpc::Result<WorktreeResult> {
        let repo = self.repo(params.repo.as_deref()).await?;
        repo.with_store(move |store, _| {
            worktree::diff(store, &params.name, params.patch.unwrap_or(false))
        })
        .await
        .map_err(to_rpc)
    }

    // ---- commands ----

    pub(super) async fn run_command(
        &self,
        params: ExecuteCommandParams,
    ) -> jsonrpc::Result<Option<Value>> {
        let arg = params
            .arguments
            .into_iter()
            .next()
            .unwrap_or(Value::Object(Default::default()));
        let token = params.work_done_progress_params.work_done_token;
        match params.command.as_str() {
            command::SEND => {
                let a: SendArgs = parse(arg)?;
                let draft = a.draft;
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
                let draft = a.reply.draft();
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| {
                        message::reply(
                            s,
                            &Author {
                                agent: r.human.clone(),
                                session: None,
                            },
                            &a.reply.message,
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
                    repo.with_store(move |s, r| session::end(s, &a.session, &a.end, &r.human))
                        .await
                        .map_err(to_rpc)?,
                )
            }
            command::CREATE_WORKTREE => {
                let a: CreateWorktreeArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                let progress = self
                    .begin_progress(token, format!("Creating worktree {}", a.new.name))
                    .await;
                let new = NewWorktree {
                    session: a.session,
                    ..a.new
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
                ok_value(
                    repo.with_store(move |s, r| worktree::remove(s, &r.human, &a.name, &a.remove))
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
                let result = repo
                    .with_store(move |s, r| worktree::merge(s, &r.human, &a.name, &a.merge))
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
            command::CLAIM => {
                let a: ClaimArgs = parse(arg)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| claim::claim(s, &human(r), &a.request))
                        .await
                        .map_err(to_rpc)?,
                )
            }
            command::RELEASE => {
                let a: ReleaseArgs = parse(arg)?;
                let which = a.request.which().map_err(to_rpc)?;
                let repo = self.repo(a.repo.as_deref()).await?;
                ok_value(
                    repo.with_store(move |s, r| claim::release(s, &human(r), &which))
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

/// The human at the editor acting on claims: in their own name, never in a session.
fn human(repo: &repo::Repo) -> Claimant<'_> {
    Claimant {
        actor: &repo.human,
        session: None,
    }
}

fn parse<T: DeserializeOwned>(arg: Value) -> jsonrpc::Result<T> {
    serde_json::from_value(arg)
        .map_err(|e| jsonrpc::Error::invalid_params(format!("bad command argument: {e}")))
}
