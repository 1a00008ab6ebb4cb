//! `switchboard`: argument parsing and dispatch. The work is done in `commands` and `demo`
//! over the same core functions the MCP tools call.

mod archive;
mod backups;
mod claims;
mod commands;
mod demo;
mod guard;
mod hook;
mod install;
mod messages;
mod serve;
mod worktrees;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Lets several coding agents work on one repository at once: sessions over MCP, live
/// state in the editor, one shared SQLite database per repository.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// State database (default: SWITCHBOARD_DB, else <git common dir>/switchboard/state.db,
    /// else $XDG_DATA_HOME/switchboard/state.db).
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "store")]
    db: Option<PathBuf>,
    /// The store: a PostgreSQL server shared by a team (postgres://USER@HOST/DATABASE; this
    /// repository's store is a schema of its own there), or a file as with --db. Default:
    /// SWITCHBOARD_STORE. Prefer the variable or PGPASSWORD for a password: arguments are
    /// visible to every user of the machine.
    #[arg(long, global = true, value_name = "URL|PATH")]
    store: Option<String>,
    /// An active session with no heartbeat for this long is reported stale (e.g. 90s, 30m, 2h).
    #[arg(long, global = true, env = "SWITCHBOARD_STALE_AFTER", default_value = "30m", value_parser = parse_duration)]
    stale_after: std::time::Duration,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    switchboard_core::clock::parse_duration(text)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP over stdio for one agent (what agents register).
    Mcp(commands::McpArgs),
    /// Serve MCP over streamable HTTP for many agents, each with its own token.
    Serve(serve::ServeArgs),
    /// Create, list or revoke the tokens agents use with `switchboard serve`.
    #[command(subcommand)]
    Token(serve::TokenCommand),
    /// Set this repository up for an agent client: its MCP server entry and its hooks.
    Install(install::InstallArgs),
    /// Remove what `install` added for an agent client.
    Uninstall(install::UninstallArgs),
    /// Run as a hook of an agent CLI: put new Switchboard mail into the agent's turn.
    Hook(hook::HookArgs),
    /// Serve the editor companion (LSP) over stdio, or --check what it would show here.
    Lsp(commands::LspArgs),
    /// List sessions (newest first).
    Sessions(commands::SessionsArgs),
    /// Show, end or draw the genealogy of one session.
    #[command(subcommand)]
    Session(commands::SessionCommand),
    /// List agents.
    Agents(commands::JsonFlag),
    /// Where the state is and what it holds, for troubleshooting.
    Doctor(commands::JsonFlag),
    /// Take a backup of the state database now (or --list them). Long-running commands
    /// take them automatically ([backups] in .switchboard.toml).
    Backup(backups::BackupArgs),
    /// Replace the state database with a backup; the replaced one is kept.
    Restore(backups::RestoreArgs),
    /// Write the whole store as JSON Lines (a backup any later version can load, and the
    /// way to move to another store).
    Export(archive::ExportArgs),
    /// Load an export into an empty store (all or nothing).
    Import(archive::ImportArgs),
    /// Send a message (as the local human unless --as).
    Send(messages::SendArgs),
    /// Reply to a message in its thread.
    Reply(messages::ReplyArgs),
    /// Your inbox, unread first.
    Inbox(messages::InboxArgs),
    /// One thread, in order.
    Thread(messages::ThreadArgs),
    /// Print messages to you as they arrive (Ctrl-C to stop).
    Watch(messages::WatchArgs),
    /// Claim paths or globs for yourself (exclusive unless --shared), so agents are told
    /// before they edit them; claiming a pattern again renews it.
    Claim(claims::ClaimArgs),
    /// Release your claims: by id, by pattern as claimed, or --all.
    Release(claims::ReleaseArgs),
    /// List the claims in force: pattern, mode, holder, expiry, reason, state.
    Claims(claims::ClaimsArgs),
    /// The pre-commit guard: refuse commits of files others claim exclusively, and
    /// install or remove its git hook.
    #[command(subcommand)]
    Guard(guard::GuardCommand),
    /// List worktrees with live status.
    Worktrees(worktrees::ListArgs),
    /// Create, inspect, merge, sync or remove a worktree.
    #[command(subcommand)]
    Worktree(worktrees::WorktreeCommand),
    /// Run several real agents' MCP servers in a scratch repository and show what they do.
    Demo(demo::DemoArgs),
    /// Regenerate schemas/ and the README tool table from the code.
    Schemas(commands::SchemasArgs),
}

/// A reader that stops early (`switchboard claims | head`) ends the output quietly, as for
/// any command-line tool: printing to a closed standard output (EPIPE) exits with success
/// instead of a panic report. Every other panic is reported as before.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("(os error 32)") {
            std::process::exit(0);
        }
        report(info);
    }));
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    quiet_on_closed_stdout();
    let result = match cli.command {
        Command::Mcp(args) => commands::mcp(&cli.global, args),
        Command::Serve(args) => serve::serve(&cli.global, args),
        Command::Token(cmd) => serve::token(&cli.global, cmd),
        Command::Hook(args) => hook::hook(&cli.global, args),
        Command::Install(args) => install::install(args),
        Command::Uninstall(args) => install::uninstall(args),
        Command::Lsp(args) => commands::lsp(&cli.global, args),
        Command::Sessions(args) => commands::sessions(&cli.global, args),
        Command::Session(cmd) => commands::session(&cli.global, cmd),
        Command::Agents(args) => commands::agents(&cli.global, args),
        Command::Doctor(args) => commands::doctor(&cli.global, args),
        Command::Backup(args) => backups::backup(&cli.global, args),
        Command::Restore(args) => backups::restore(&cli.global, args),
        Command::Export(args) => archive::export(&cli.global, args),
        Command::Import(args) => archive::import(&cli.global, args),
        Command::Send(args) => messages::send(&cli.global, args),
        Command::Reply(args) => messages::reply(&cli.global, args),
        Command::Inbox(args) => messages::inbox(&cli.global, args),
        Command::Thread(args) => messages::thread(&cli.global, args),
        Command::Watch(args) => messages::watch(&cli.global, args),
        Command::Claim(args) => claims::claim(&cli.global, args),
        Command::Release(args) => claims::release(&cli.global, args),
        Command::Claims(args) => claims::claims(&cli.global, args),
        Command::Guard(cmd) => guard::run(&cli.global, cmd),
        Command::Worktrees(args) => worktrees::list(&cli.global, args),
        Command::Worktree(cmd) => worktrees::run(&cli.global, cmd),
        Command::Demo(args) => demo::run(&cli.global, args),
        Command::Schemas(args) => commands::schemas(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if commands::is_corruption(&e) {
                eprintln!(
                    "switchboard: the store {} is damaged ({e}). Run `switchboard doctor` \
                     to see what was found and how to recover.",
                    commands::store_address(&cli.global)
                        .map_or_else(|_| "(unknown)".to_string(), |at| at.to_string()),
                );
            } else {
                eprintln!("switchboard: {}", causes(&e));
            }
            if let Some(switchboard_core::Error::NotFound { kind, .. }) = e.downcast_ref()
                && let Some(command) = listing_command(*kind)
            {
                eprintln!("hint: list them with `{command}`");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// The command that lists records of `kind`, for a not-found hint.
fn listing_command(kind: switchboard_core::Record) -> Option<&'static str> {
    use switchboard_core::Record;
    match kind {
        Record::Session => Some("switchboard sessions"),
        Record::Agent => Some("switchboard agents"),
        Record::Worktree => Some("switchboard worktrees"),
        Record::Message | Record::Thread => Some("switchboard inbox"),
        Record::Token => Some("switchboard token list"),
        Record::Claim => Some("switchboard claims"),
        Record::Group | Record::Event => None,
    }
}

/// Libraries that log whole protocol messages (bodies, arguments, results) below `warn`.
const PAYLOAD_LOGGING_LIBRARIES: [&str; 2] = ["rmcp", "tower_lsp_server"];

/// Logs go to stderr (stdout is the JSON-RPC stream of `switchboard mcp`);
/// `SWITCHBOARD_LOG` sets the filter (default `warn`). Our own logs carry ids, sizes and
/// timings, never message bodies or tool arguments; the protocol libraries log whole
/// messages at info and below, so they stay at `warn` unless `SWITCHBOARD_LOG_BODIES=1`.
fn init_tracing() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    if std::env::var_os("SWITCHBOARD_LOG_BODIES").is_none_or(|v| v != "1") {
        for library in PAYLOAD_LOGGING_LIBRARIES {
            filter = filter.add_directive(
                format!("{library}=warn")
                    .parse()
                    .expect("a valid directive"),
            );
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

/// An error and its causes on one line, each cause said once: a message that already ends
/// with its cause's text (`cannot write the export: Broken pipe`) is not followed by it
/// again.
fn causes(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
