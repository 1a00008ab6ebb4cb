//! The language server: lifecycle, custom requests, commands, live pushes, diagnostics and
//! code lenses. Every action calls the same core functions as the MCP tools and the CLI,
//! with the human at the editor as the actor.
//!
//! Split by concern: this module holds the [`Backend`] state, its construction and
//! workspace folders, and the [`LanguageServer`] impl that dispatches to the others —
//! [`live`] (change feed, pushes, overdue and urgent alerts), [`diagnostics`] (who else
//! claims or is changing a file: diagnostics and code lenses) and [`commands`] (custom
//! requests and `workspace/executeCommand`).

mod commands;
mod diagnostics;
mod live;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use switchboard_core::Settings;
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub use diagnostics::{claim_text, holder_text};

use crate::protocol::command;
use crate::repo::{self, Repo};

/// How the companion was started.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `--db`: one state database for every folder.
    pub db: Option<PathBuf>,
    /// `--store`: a PostgreSQL server (each folder's repository a store of its own there)
    /// or a file.
    pub store: Option<String>,
    /// Overrides `human:<git user.name>`.
    pub human: Option<String>,
    /// Store settings for every repository opened (`--stale-after`).
    pub settings: Settings,
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

impl Backend {
    /// A companion talking to the editor through `client`. It opens no repository until
    /// the editor's `initialize` names the workspace folders.
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
                    config.store.clone(),
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
                        .any(|r| r.store == repo.store && r.root == repo.root) =>
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
        Ok(Some(self.0.code_lenses(&file).await))
    }
    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> jsonrpc::Result<Option<LSPAny>> {
        self.0.run_command(params).await
    }
}
