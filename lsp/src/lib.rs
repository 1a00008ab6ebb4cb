//! Switchboard's LSP companion (`switchboard lsp`): brings session, message and worktree
//! state into any LSP editor — custom `switchboard/…` requests and live
//! `switchboard/stateChanged` pushes for the editor extensions, plus plain diagnostics,
//! code lenses and messages that need no extension.

mod backend;
pub mod client;
pub mod protocol;
pub mod repo;

use std::sync::Arc;

pub use backend::{Backend, Config, Server, claim_text, holder_text};
use tower_lsp_server::{LspService, Server as Transport};

/// Builds the LSP service with every custom method registered.
pub fn service(config: Config) -> (LspService<Server>, tower_lsp_server::ClientSocket) {
    LspService::build(|client| Server(Arc::new(Backend::new(client, config))))
        .custom_method(protocol::STATE, |s: &Server, p: serde_json::Value| {
            let b = s.0.clone();
            async move { b.state(params(p)?).await }
        })
        .custom_method(protocol::THREAD, |s: &Server, p: serde_json::Value| {
            let b = s.0.clone();
            async move { b.thread(params(p)?).await }
        })
        .custom_method(protocol::INBOX, |s: &Server, p: serde_json::Value| {
            let b = s.0.clone();
            async move { b.inbox(params(p)?).await }
        })
        .custom_method(protocol::SESSION, |s: &Server, p: serde_json::Value| {
            let b = s.0.clone();
            async move { b.session(params(p)?).await }
        })
        .custom_method(protocol::WORKTREE, |s: &Server, p: serde_json::Value| {
            let b = s.0.clone();
            async move { b.worktree(params(p)?).await }
        })
        .finish()
}

/// Reads request params, taking `null` and `[]` for "no params": Neovim encodes an empty
/// Lua table `{}` as `[]`.
fn params<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> tower_lsp_server::jsonrpc::Result<T> {
    let value = match value {
        serde_json::Value::Null => serde_json::json!({}),
        serde_json::Value::Array(a) if a.is_empty() => serde_json::json!({}),
        other => other,
    };
    serde_json::from_value(value)
        .map_err(|e| tower_lsp_server::jsonrpc::Error::invalid_params(format!("bad params: {e}")))
}

/// Serves LSP over this process's stdin/stdout until the editor exits.
pub async fn serve_stdio(config: Config) {
    let (service, socket) = service(config);
    Transport::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .serve(service)
        .await;
}

/// Serves LSP over any byte stream pair (used by in-process tests).
pub async fn serve<I, O>(input: I, output: O, config: Config)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let (service, socket) = service(config);
    Transport::new(input, output, socket).serve(service).await;
}
