//! The human-facing commands, over the same core functions as the MCP tools.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use switchboard_core::clock::Timestamp;
use switchboard_core::location::{self, StateLocation};
use switchboard_core::process::ProcessInfo;
use switchboard_core::session::{self, EndStatus, Filter, Status};
use switchboard_core::{Settings, Store, StoreAddress, agent, backup, render, worktree};
use switchboard_mcp::{Identity, SwitchboardServer, reference};

use crate::Global;

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The agent this server acts for (otherwise the first session_start names it).
    #[arg(long, env = "SWITCHBOARD_AGENT")]
    agent: Option<String>,
    /// Claim this existing session (e.g. one spawned for this agent) at start-up.
    #[arg(long, env = "SWITCHBOARD_SESSION")]
    session: Option<String>,
    /// Also push new mail to the client as Claude Code channel notifications, which reach
    /// an idle session (start Claude Code with
    /// `--dangerously-load-development-channels server:switchboard`).
    #[arg(long)]
    channel: bool,
}

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Print what the companion sees from the current directory, then exit.
    #[arg(long)]
    check: bool,
    /// Accepted for LSP clients that ask for the stdio transport (it is the only one).
    #[arg(long, hide = true)]
    stdio: bool,
    /// The human at the editor (default: human:<git user.name>).
    #[arg(long, env = "SWITCHBOARD_HUMAN")]
    human: Option<String>,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Only this agent's sessions.
    #[arg(long)]
    agent: Option<String>,
    /// Only sessions with this status: active, stale, completed, failed, abandoned.
    #[arg(long)]
    status: Option<Status>,
    /// Only live sessions (active and not stale).
    #[arg(long)]
    live: bool,
    /// Only children of this session.
    #[arg(long)]
    parent: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = session::DEFAULT_LIST_LIMIT)]
    limit: u32,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Show one session.
    Show {
        /// Session id or unique prefix.
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// End a session (as the local human).
    End {
        /// Session id or unique prefix.
        id: String,
        /// completed, failed or abandoned (default: abandoned when you end an agent's
        /// session, completed when it is yours).
        #[arg(long)]
        status: Option<EndStatus>,
        /// Why it ended.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Draw the genealogy a session belongs to.
    Tree {
        /// Session id or unique prefix.
        id: String,
        /// Levels to walk up and down.
        #[arg(long)]
        max_depth: Option<u32>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct SchemasArgs {
    /// Only check that schemas/ and the README are current; exit 1 if not.
    #[arg(long)]
    check: bool,
    /// The project root holding schemas/ and README.md.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

/// What the global options and the environment say about where the store is.
fn inputs(global: &Global) -> Result<location::Inputs> {
    let mut inputs = location::Inputs::from_env(global.db.clone())?;
    if global.store.is_some() {
        inputs.store = global.store.clone();
    }
    Ok(inputs)
}

/// Where the state database file is (with a PostgreSQL store: the directory this host
/// keeps its own files in).
pub fn locate(global: &Global) -> Result<StateLocation> {
    Ok(location::resolve(&inputs(global)?)?)
}

/// Where the store is: a file, or this repository's schema on a PostgreSQL server.
pub fn store_address(global: &Global) -> Result<StoreAddress> {
    Ok(location::address(&inputs(global)?)?)
}

/// The store settings the global options give.
pub fn settings(global: &Global) -> Settings {
    Settings {
        stale_after: global.stale_after,
    }
}

/// Opens the store chosen by the global options.
pub fn open_store(global: &Global) -> Result<Store> {
    Ok(Store::open_at(&store_address(global)?, settings(global))?)
}

/// Prints `value` as pretty JSON on standard output. A reader that stops early (`| head`,
/// `| jq` exiting) ends the output quietly, as for any command-line tool, not in a panic.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write as _;
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        written => Ok(written?),
    }
}

pub fn mcp(global: &Global, args: McpArgs) -> Result<()> {
    if let Some(agent) = &args.agent {
        agent::validate_name(agent).context("--agent / SWITCHBOARD_AGENT")?;
    }
    let mut store = open_store(global)?;
    tracing::info!(store = %store.address(), agent = ?args.agent, "serving MCP over stdio");
    let _backups = crate::backups::schedule(store.address());
    // The repository's human and a named agent are present from the start, so others
    // can already message them.
    let here = std::env::current_dir()?;
    if let Err(e) = agent::register_local_human(&mut store, &here) {
        tracing::warn!(error = %e, "the repository's human is not registered");
    }
    if let Some(name) = &args.agent {
        let registration = agent::Registration {
            name: name.clone(),
            ..Default::default()
        };
        agent::register(&mut store, name, &registration)?;
    }
    let identity = args.agent.map(Identity::named).unwrap_or_default();
    let mut server = SwitchboardServer::new(store, identity, ProcessInfo::current());
    if args.channel {
        server = server.with_channel();
    }
    match &args.session {
        Some(id) => {
            server.claim_session(id).with_context(|| {
                format!("cannot claim session {id} (--session / SWITCHBOARD_SESSION)")
            })?;
        }
        // Started inside a worktree bound to a session: serve that session (unless it
        // belongs to another agent), as a shared server does.
        None => server.claim_bound(),
    }
    // One agent over one pipe: its tasks share one thread (no hand-offs between threads
    // for each line), and store work runs on the blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(switchboard_mcp::serve_stdio(server))
        .map_err(|e| anyhow::anyhow!("MCP server stopped: {e}"))
}

pub fn lsp(global: &Global, args: LspArgs) -> Result<()> {
    let settings = Settings {
        stale_after: global.stale_after,
    };
    if !args.check {
        let _backups = crate::backups::schedule(&store_address(global)?);
        let config = switchboard_lsp::Config {
            db: global.db.clone(),
            store: global.store.clone(),
            human: args.human,
            settings,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(switchboard_lsp::serve_stdio(config));
        return Ok(());
    }
    let here = std::env::current_dir()?;
    let repo = switchboard_lsp::repo::Repo::open(
        &here,
        global.db.clone(),
        global.store.clone(),
        args.human.as_deref(),
        settings,
    )?;
    let mut store = open_store(global)?;
    let state = switchboard_lsp::repo::state(&mut store, &repo)?;
    if args.json.json {
        return print_json(&state);
    }
    fn count(nodes: &[switchboard_lsp::protocol::SessionNode]) -> (usize, usize) {
        nodes.iter().fold((0, 0), |(all, live), n| {
            let (a, l) = count(&n.children);
            (all + 1 + a, live + usize::from(n.session.is_live()) + l)
        })
    }
    let (all, live) = count(&state.sessions);
    println!("workspace      {}", here.display());
    println!("repository     {}", state.root);
    println!("state          {}", state.state_db);
    println!("you are        {}", state.human);
    println!("sessions       {all} recent, {live} live");
    println!("unread         {}", state.inbox.unread);
    println!("worktrees\n{}", render::worktrees(&state.worktrees));
    println!(
        "claims\n{}",
        render::claims(&state.claims, Timestamp::now())
    );
    println!("\nAn editor started here gets this state from `switchboard lsp` over stdio.");
    Ok(())
}

pub fn sessions(global: &Global, args: SessionsArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let filter = Filter {
        agent: args.agent,
        status: args.status,
        live_only: args.live,
        parent: args.parent,
        limit: Some(args.limit),
    };
    let page = session::list(&mut store, &filter)?;
    if args.json.json {
        return print_json(&page);
    }
    println!("{}", render::sessions_table(&page, Timestamp::now()));
    Ok(())
}

pub fn session(global: &Global, cmd: SessionCommand) -> Result<()> {
    let mut store = open_store(global)?;
    let now = Timestamp::now();
    match cmd {
        SessionCommand::Show { id, json } => {
            let s = session::get(&mut store, &id)?;
            if json.json {
                return print_json(&s);
            }
            println!("{}", render::session_detail(&s, now));
        }
        SessionCommand::End {
            id,
            status,
            reason,
            json,
        } => {
            let actor = agent::local_human(&std::env::current_dir()?)?;
            let s = session::end(
                &mut store,
                &id,
                &session::EndRequest { status, reason },
                &actor,
            )?;
            if json.json {
                return print_json(&s);
            }
            println!("ended by {actor}:\n{}", render::session_detail(&s, now));
        }
        SessionCommand::Tree {
            id,
            max_depth,
            json,
        } => {
            let t = session::tree(&mut store, &id, max_depth)?;
            if json.json {
                return print_json(&t);
            }
            println!("{}", render::tree(&t));
        }
    }
    Ok(())
}

pub fn agents(global: &Global, args: JsonFlag) -> Result<()> {
    let mut store = open_store(global)?;
    let agents = agent::list(&mut store)?;
    if args.json {
        return print_json(&agents);
    }
    println!("{}", render::agents_table(&agents, Timestamp::now()));
    Ok(())
}

/// How many problems `doctor` lists from SQLite's `quick_check`.
const DOCTOR_PROBLEMS: u32 = 10;

pub fn doctor(global: &Global, args: JsonFlag) -> Result<()> {
    let at = locate(global)?;
    let address = store_address(global)?;
    let mut store = match (open_store(global), address.file_path()) {
        (Err(e), Some(file)) if is_corruption(&e) => {
            return Err(damaged(file, &format!("SQLite cannot open it: {e}")));
        }
        (Err(e), None) if is_corruption(&e) => {
            return Err(e.context(format!(
                "the PostgreSQL server reports damaged data in {address}: its operator \
                 restores it (Switchboard keeps no copy of a server's store)"
            )));
        }
        (opened, _) => opened?,
    };
    let problems = store.quick_check(DOCTOR_PROBLEMS)?;
    let report = serde_json::json!({
        "state_db": address.to_string(),
        "backend": readable(store.backend()),
        "integrity": if problems.is_empty() { serde_json::json!("ok") } else { serde_json::json!(problems) },
        "source": at.source,
        "repository": readable(std::env::current_dir().map_err(|e| switchboard_core::Error::io("cannot read the working directory", e)).and_then(|here| switchboard_core::repository::identify(&here)).map(|r| r.to_string())),
        "schema_version": readable(store.schema_version()),
        "supported_schema_version": switchboard_core::store::supported_schema_version(),
        "latest_event": readable(store.latest_event_seq()),
        "agents": readable(agent::list(&mut store).map(|a| a.len())),
        "live_sessions": readable(session::list(&mut store, &Filter { live_only: true, limit: Some(session::MAX_LIST_LIMIT), ..Default::default() }).map(|l| l.sessions.len())),
        "stale_after_secs": global.stale_after.as_secs(),
        "host": switchboard_core::process::this_host(),
        "backups": match address.file_path() {
            Some(file) => backups_line(file).unwrap_or_else(|e| format!("cannot be listed: {e}")),
            None => "kept by the PostgreSQL server's operator (or `switchboard export`)".into(),
        },
        "merges_in_progress": match worktree::pending_merges(&mut store) {
            Ok(merges) if merges.is_empty() => serde_json::json!("none"),
            Ok(merges) => serde_json::json!(merges),
            Err(e) => serde_json::json!(format!("cannot be read: {e}")),
        },
    });
    if args.json {
        return print_json(&report);
    }
    if let serde_json::Value::Object(map) = report {
        for (key, value) in map {
            let text = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            println!("{key:<26}{text}");
        }
    }
    if !problems.is_empty() {
        let found = format!("SQLite's quick_check found {} problem(s)", problems.len());
        return Err(damaged(&at.path, &found));
    }
    Ok(())
}

/// A figure for `doctor`: the value, or why it cannot be read (a damaged store still gets
/// its whole report, with what to do).
fn readable<T: serde::Serialize>(read: switchboard_core::Result<T>) -> serde_json::Value {
    match read {
        Ok(value) => serde_json::json!(value),
        Err(e) => serde_json::json!(format!("cannot be read: {e}")),
    }
}

/// True when `e` is SQLite finding the state database damaged.
pub fn is_corruption(e: &anyhow::Error) -> bool {
    e.downcast_ref::<switchboard_core::Error>()
        .is_some_and(switchboard_core::Error::is_corruption)
}

/// How many backups there are and the newest, for `doctor`.
fn backups_line(db: &Path) -> Result<String> {
    let found = backup::list(db)?;
    Ok(match found.first() {
        None => format!("none yet (taken into {})", backup::dir(db).display()),
        Some(newest) => format!(
            "{}, newest {} ({})",
            found.len(),
            newest.path.display(),
            newest.taken_at.ago(Timestamp::now())
        ),
    })
}

/// What `doctor` says about a damaged state database at `path`: what was found and how
/// to recover without losing what is still readable.
fn damaged(path: &Path, found: &str) -> anyhow::Error {
    let restore = match backup::latest(path).ok().flatten() {
        Some(newest) => format!(
            "Restore the newest backup (taken {}): `switchboard restore --latest` (the damaged \
             file is kept beside it). Or salvage",
            newest.taken_at.ago(Timestamp::now())
        ),
        None => "There is no backup to restore. Salvage".to_string(),
    };
    let path = path.display();
    anyhow::anyhow!(
        "the state database {path} is damaged ({found}). Nothing more is safely written to it: \
         stop every switchboard process of this repository. {restore} what is readable: move \
         the file aside (mv {path} {path}.damaged; switchboard starts a fresh store on next \
         use) and run `sqlite3 {path}.damaged .recover | sqlite3 {path}` before the agents \
         reconnect"
    )
}

pub fn schemas(args: SchemasArgs) -> Result<()> {
    let readme_path = args.root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .with_context(|| format!("cannot read {}; pass --root", readme_path.display()))?;
    let Some(fresh_readme) = reference::refresh_readme(&readme) else {
        bail!(
            "{} has no generated tool table; add the markers\n{}\n{}",
            readme_path.display(),
            reference::README_START,
            reference::README_END
        );
    };
    let mut wanted: Vec<(PathBuf, String)> = reference::schema_files()
        .into_iter()
        .map(|(rel, text)| (args.root.join("schemas").join(rel), text))
        .chain(
            switchboard_lsp::protocol::schema_files()
                .into_iter()
                .map(|(rel, text)| (args.root.join("schemas/lsp").join(rel), text)),
        )
        .collect();
    wanted.push((readme_path, fresh_readme));
    let mut leftovers = leftover_files(&args.root.join("schemas").join("mcp"), &wanted)?;
    leftovers.extend(leftover_files(
        &args.root.join("schemas").join("lsp"),
        &wanted,
    )?);
    let mut stale: Vec<&PathBuf> = wanted
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()))
        .map(|(path, _)| path)
        .collect();
    stale.extend(&leftovers);
    if args.check {
        if stale.is_empty() {
            println!(
                "schemas are current; tools cost {} characters of agent context",
                reference::context_size()
            );
            return Ok(());
        }
        bail!("stale: {stale:?}; run `cargo run -- schemas`");
    }
    for path in &leftovers {
        std::fs::remove_file(path)?;
    }
    for (path, text) in &wanted {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
    }
    println!(
        "wrote {} files; tools cost {} characters of agent context ({} for the whole tools/list)",
        wanted.len(),
        reference::context_size(),
        reference::tool_list_size()
    );
    Ok(())
}

/// Files in the generated directory `dir` that the code no longer generates.
fn leftover_files(dir: &std::path::Path, wanted: &[(PathBuf, String)]) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut leftovers = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if !wanted.iter().any(|(w, _)| *w == path) {
            leftovers.push(path);
        }
    }
    Ok(leftovers)
}
