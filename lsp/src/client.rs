//! A minimal LSP client (JSON-RPC with `Content-Length` framing) for driving the companion
//! in tests and tools: requests, notifications, and waiting for pushed notifications.
//! Requests the server sends to the client are answered with a `null` result.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, Notify, oneshot};

type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// One connection to a language server.
pub struct LspClient {
    writer: Arc<Mutex<Writer>>,
    next_id: AtomicI64,
    pending: Arc<std::sync::Mutex<HashMap<i64, oneshot::Sender<Value>>>>,
    notes: Arc<std::sync::Mutex<Vec<Value>>>,
    arrived: Arc<Notify>,
}

async fn write_message(writer: &Mutex<Writer>, message: &Value) -> std::io::Result<()> {
    let body = message.to_string();
    let mut w = writer.lock().await;
    w.write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .await?;
    w.flush().await
}

async fn read_message<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).await.ok()?;
    serde_json::from_slice(&body).ok()
}

impl LspClient {
    /// A client over a server's output (`reader`) and input (`writer`).
    pub fn new<R, W>(reader: R, writer: W) -> LspClient
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let client = LspClient {
            writer: Arc::new(Mutex::new(Box::new(writer))),
            next_id: AtomicI64::new(1),
            pending: Arc::default(),
            notes: Arc::default(),
            arrived: Arc::new(Notify::new()),
        };
        let (pending, notes, arrived, writer) = (
            client.pending.clone(),
            client.notes.clone(),
            client.arrived.clone(),
            client.writer.clone(),
        );
        tokio::spawn(async move {
            let mut reader = BufReader::new(reader);
            while let Some(message) = read_message(&mut reader).await {
                let has_method = message.get("method").is_some();
                match message.get("id").cloned() {
                    Some(id) if has_method => {
                        let _ = write_message(
                            &writer,
                            &json!({"jsonrpc": "2.0", "id": id, "result": null}),
                        )
                        .await;
                    }
                    Some(id) => {
                        let sender = id.as_i64().and_then(|i| {
                            pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&i)
                        });
                        if let Some(sender) = sender {
                            let _ = sender.send(message);
                        }
                    }
                    None => {
                        notes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(message);
                        arrived.notify_waiters();
                    }
                }
            }
        });
        client
    }

    /// Sends a request; returns its `result`, or its `error` object as `Err`.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        write_message(
            &self.writer,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .await
        .map_err(|e| json!({"message": e.to_string()}))?;
        let response = rx
            .await
            .map_err(|_| json!({"message": "the server closed the connection"}))?;
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &str, params: Value) -> std::io::Result<()> {
        write_message(
            &self.writer,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        )
        .await
    }

    /// `initialize` (with `root` as the only workspace folder) then `initialized`.
    pub async fn initialize(&self, root: &Path) -> Result<Value, Value> {
        let uri = format!("file://{}", root.display());
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": uri,
                    "workspaceFolders": [{"uri": uri, "name": "repo"}],
                    "capabilities": {"workspace": {"codeLens": {"refreshSupport": true}}, "window": {"workDoneProgress": true}}
                }),
            )
            .await?;
        self.notify("initialized", json!({}))
            .await
            .map_err(|e| json!({"message": e.to_string()}))?;
        Ok(result)
    }

    /// Waits up to `timeout` for a notification `method` whose params satisfy `accept`,
    /// removing it from the buffer.
    pub async fn wait_for(
        &self,
        method: &str,
        timeout: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiting = self.arrived.notified();
            {
                let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(i) = notes
                    .iter()
                    .position(|n| n["method"] == method && accept(&n["params"]))
                {
                    return Some(notes.remove(i)["params"].clone());
                }
            }
            if tokio::time::timeout_at(deadline, waiting).await.is_err() {
                return None;
            }
        }
    }

    /// Every buffered notification named `method`, removed from the buffer.
    pub fn drain(&self, method: &str) -> Vec<Value> {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        let (taken, kept): (Vec<Value>, Vec<Value>) =
            notes.drain(..).partition(|n| n["method"] == method);
        *notes = kept;
        taken.into_iter().map(|n| n["params"].clone()).collect()
    }
}
