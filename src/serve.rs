//! `switchboard serve` (the shared HTTP server) and `switchboard token` (its credentials).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use rmcp::ServerHandler;
use switchboard_core::clock::Timestamp;
use switchboard_core::{agent, render, token};
use switchboard_mcp::SwitchboardServer;
use switchboard_mcp::http::{self, DEFAULT_LISTEN, DEFAULT_MAX_BODY, MCP_PATH, ServeOptions};

use crate::Global;
use crate::commands::{JsonFlag, open_store, print_json, store_address};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Only loopback unless --allow-remote.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Allow a non-loopback --listen address (refused while no token exists).
    #[arg(long)]
    allow_remote: bool,
    /// Also accept this Host header name (or host:port); '*' accepts any (repeatable).
    #[arg(long, value_name = "HOST")]
    allowed_host: Vec<String>,
    /// Also accept requests from this browser Origin, e.g. https://tool.example:8443
    /// (repeatable; loopback origins are always accepted).
    #[arg(long, value_name = "ORIGIN")]
    allowed_origin: Vec<String>,
    /// Largest request body in bytes; bigger requests get 413.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Print client configuration for this address (Claude Code, Codex, VS Code,
    /// Gemini CLI) and exit.
    #[arg(long)]
    print_config: bool,
    /// Also offer the fixture tools, resources and prompts of the official MCP
    /// conformance suite (test builds only, for running that suite).
    #[cfg(feature = "conformance-fixtures")]
    #[arg(long, hide = true)]
    conformance_fixtures: bool,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for an agent and print its secret (shown this once only).
    Create {
        /// The agent every request with this token acts as.
        #[arg(long)]
        agent: String,
        /// When it stops working: a duration (90m, 12h, 30d) or a time (RFC 3339).
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<Expiry>,
        /// A note for `token list`, e.g. where the token is used.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List tokens (never their secrets).
    List {
        /// Include revoked and expired tokens.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a token: its next request is refused.
    Revoke {
        /// Token id or unique prefix (tok_…).
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// A token's expiry as given on the command line.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    In(Duration),
    At(Timestamp),
}

fn parse_expiry(text: &str) -> Result<Expiry, String> {
    if let Some(at) = Timestamp::parse_rfc3339(text.trim()) {
        return Ok(Expiry::At(at));
    }
    let duration = switchboard_core::clock::parse_duration(text).map_err(|_| {
        format!(
            "'{text}' is neither a duration (90m, 12h, 30d) nor a time like 2027-01-31T00:00:00Z"
        )
    })?;
    if duration.is_zero() {
        return Err(format!(
            "'{text}' would expire the token at once; give a positive duration (90m, 12h, 30d) or a later time"
        ));
    }
    Ok(Expiry::In(duration))
}

impl Expiry {
    fn remaining(self) -> Result<Duration> {
        match self {
            Expiry::In(d) => Ok(d),
            Expiry::At(at) => {
                let left = at.millis() - Timestamp::now().millis();
                if left <= 0 {
                    bail!(
                        "--expires {} is in the past; give a later time or a duration",
                        at.to_rfc3339()
                    );
                }
                Ok(Duration::from_millis(left as u64))
            }
        }
    }
}

pub fn token(global: &Global, cmd: TokenCommand) -> Result<()> {
    let mut store = open_store(global)?;
    let now = Timestamp::now();
    match cmd {
        TokenCommand::Create {
            agent: name,
            expires,
            label,
            json,
        } => {
            let me = agent::local_human(&std::env::current_dir()?)?;
            let expires_in = expires.map(Expiry::remaining).transpose()?;
            let issued = token::create(
                &mut store,
                &token::NewToken {
                    agent: &name,
                    expires_in,
                    label: label.as_deref(),
                    created_by: &me,
                },
            )?;
            if json.json {
                return print_json(&issued);
            }
            let expiry = issued.token.expires_at.map_or("never expires".into(), |t| {
                format!("expires {}", t.to_rfc3339())
            });
            eprintln!(
                "token {} for agent '{}' ({expiry}). This is the only time the secret is shown; \
                 store it where the agent reads it (e.g. SWITCHBOARD_TOKEN).",
                issued.token.id, issued.token.agent
            );
            println!("{}", issued.secret);
        }
        TokenCommand::List { all, json } => {
            let tokens = token::list(&mut store, all)?;
            if json.json {
                return print_json(&tokens);
            }
            println!("{}", render::tokens(&tokens, now));
        }
        TokenCommand::Revoke { id, json } => {
            let me = agent::local_human(&std::env::current_dir()?)?;
            let revoked = token::revoke(&mut store, &id, &me)?;
            if json.json {
                return print_json(&revoked);
            }
            println!("{}", render::tokens(std::slice::from_ref(&revoked), now));
        }
    }
    Ok(())
}

pub fn serve(global: &Global, args: ServeArgs) -> Result<()> {
    #[cfg(feature = "conformance-fixtures")]
    if args.conformance_fixtures {
        return serve_as(global, args, switchboard_mcp::conformance::wrapper()?);
    }
    serve_as(global, args, std::convert::identity)
}

/// Serves until SIGINT or SIGTERM, each connection through `wrap` of its server (see
/// [`http::Bound::run`]).
fn serve_as<S: ServerHandler>(
    global: &Global,
    args: ServeArgs,
    wrap: impl Fn(SwitchboardServer) -> S + Send + Sync + 'static,
) -> Result<()> {
    let url = format!("http://{}{MCP_PATH}", args.listen);
    if args.print_config {
        return print_config(&url, args.json.json);
    }
    let options = ServeOptions {
        listen: args.listen,
        allow_remote: args.allow_remote,
        allowed_hosts: args.allowed_host,
        allowed_origins: args.allowed_origin,
        max_body_bytes: args.max_body,
        read_timeout: switchboard_mcp::http::DEFAULT_READ_TIMEOUT,
        store: store_address(global)?,
        settings: switchboard_core::Settings {
            stale_after: global.stale_after,
        },
        checkout: std::env::current_dir()?,
    };
    // The repository's human can be messaged from the start.
    let mut store = switchboard_core::Store::open_at(&options.store, options.settings.clone())?;
    if let Err(e) = switchboard_core::agent::register_local_human(&mut store, &options.checkout) {
        tracing::warn!(error = %e, "the repository's human is not registered");
    }
    drop(store);
    let _backups = crate::backups::schedule(&options.store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let bound = http::bind(options).await?;
        let addr = bound.local_addr()?;
        if bound.active_tokens() == 0 {
            eprintln!(
                "switchboard serve: no token yet, so every request will be refused; create one \
                 with `switchboard token create --agent <name>`"
            );
        }
        println!("switchboard serve: listening on http://{addr}{MCP_PATH}");
        bound.run(wrap, stop_signal()).await?;
        eprintln!("switchboard serve: stopped");
        Ok(())
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Ready-to-paste settings for the agents' MCP clients, each reading the token from the
/// environment (`SWITCHBOARD_TOKEN`) rather than from the file.
fn client_configs(url: &str) -> serde_json::Value {
    let bearer = "Bearer ${SWITCHBOARD_TOKEN}";
    serde_json::json!({
        "claude_code": {
            "file": ".mcp.json",
            "config": { "mcpServers": { "switchboard": {
                "type": "http", "url": url, "headers": { "Authorization": bearer },
            }}},
        },
        "codex": {
            "file": "~/.codex/config.toml",
            "config": format!(
                "[mcp_servers.switchboard]\nurl = \"{url}\"\nbearer_token_env_var = \"SWITCHBOARD_TOKEN\"\n"
            ),
        },
        "vscode": {
            "file": ".vscode/mcp.json",
            "config": {
                "inputs": [{
                    "type": "promptString", "id": "switchboard-token", "password": true,
                    "description": "Switchboard token (switchboard token create --agent copilot)",
                }],
                "servers": { "switchboard": {
                    "type": "http", "url": url,
                    "headers": { "Authorization": "Bearer ${input:switchboard-token}" },
                }},
            },
        },
        "gemini_cli": {
            "file": ".gemini/settings.json",
            "config": { "mcpServers": { "switchboard": {
                "httpUrl": url, "headers": { "Authorization": bearer },
            }}},
        },
    })
}

fn print_config(url: &str, json: bool) -> Result<()> {
    let configs = client_configs(url);
    if json {
        return print_json(&configs);
    }
    println!(
        "# Give each agent its own token, in the environment it starts from:\n\
         #   export SWITCHBOARD_TOKEN=$(switchboard token create --agent claude)\n\
         # Then start the server with `switchboard serve` and add one of these.\n"
    );
    let sections = [
        ("claude_code", "Claude Code"),
        ("codex", "Codex"),
        ("vscode", "VS Code (Copilot agent mode)"),
        ("gemini_cli", "Gemini CLI"),
    ];
    for (key, title) in sections {
        let entry = &configs[key];
        let file = entry["file"]
            .as_str()
            .context("every config names its file")?;
        println!("# {title}: {file}");
        match &entry["config"] {
            serde_json::Value::String(text) => println!("{text}"),
            value => println!("{}\n", serde_json::to_string_pretty(value)?),
        }
    }
    Ok(())
}
