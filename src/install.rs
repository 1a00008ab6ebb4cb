//! `switchboard install CLIENT` and `switchboard uninstall CLIENT`: set a repository up for
//! an agent client in one command — its MCP server entry (the safe, committed form: no
//! fixed agent name unless asked), its hooks (`switchboard hook …`) and the repository's
//! pre-commit guard (see [`crate::guard`]; `--no-guard` leaves it out). Uninstalling a
//! client leaves the guard (`switchboard guard uninstall` removes it).
//!
//! Existing files are merged, never clobbered: other servers, hooks and unknown keys stay
//! (JSON files are rewritten with their keys in order; TOML keeps its comments and layout).
//! Running it twice changes nothing; `--dry-run` prints the diff and writes nothing; a
//! malformed file is refused with its path and line and left untouched.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use crate::guard;

/// Where clients read the bearer token of `switchboard serve` from.
const TOKEN_VAR: &str = "SWITCHBOARD_TOKEN";
/// The hook commands this installs start with this (how uninstall recognises them).
const HOOK_PREFIX: &str = "switchboard hook ";

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The agent client to set up.
    client: Client,
    /// A fixed agent name for every instance (default: each instance gets its own).
    #[arg(long)]
    agent: Option<String>,
    /// Use a running `switchboard serve` at this URL (e.g. http://127.0.0.1:7411/mcp),
    /// with the token from $SWITCHBOARD_TOKEN, instead of a stdio server per agent.
    #[arg(long, value_name = "URL")]
    http: Option<String>,
    /// Print what would change (a diff) and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Leave out the git pre-commit guard (installed by default: it refuses commits of
    /// files others claim exclusively; see `switchboard guard`).
    #[arg(long)]
    no_guard: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The agent client to remove Switchboard from.
    client: Client,
    /// Print what would change (a diff) and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Agent clients `install` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Client {
    Claude,
    Codex,
    Gemini,
    Cursor,
    Vscode,
}

/// How the MCP server is reached.
#[derive(Debug, Clone)]
enum Transport {
    Stdio { agent: Option<String> },
    Http { url: String },
}

impl Transport {
    fn args(agent: &Option<String>) -> Vec<String> {
        let mut args = vec!["mcp".to_string()];
        if let Some(agent) = agent {
            args.extend(["--agent".to_string(), agent.clone()]);
        }
        args
    }
}

/// One config file to change: how it is written and what is done to it.
struct Target {
    path: &'static str,
    format: Format,
}

#[derive(Clone, Copy)]
enum Format {
    Json,
    Toml,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Claude => "claude",
            Client::Codex => "codex",
            Client::Gemini => "gemini",
            Client::Cursor => "cursor",
            Client::Vscode => "vscode",
        }
    }

    /// The files this client reads, in the order they are changed.
    fn targets(self) -> Vec<Target> {
        let json = |path| Target {
            path,
            format: Format::Json,
        };
        match self {
            Client::Claude => vec![json(".mcp.json"), json(".claude/settings.json")],
            Client::Codex => vec![
                Target {
                    path: ".codex/config.toml",
                    format: Format::Toml,
                },
                json(".codex/hooks.json"),
            ],
            Client::Gemini => vec![json(".gemini/settings.json")],
            Client::Cursor => vec![json(".cursor/mcp.json")],
            Client::Vscode => vec![json(".vscode/mcp.json")],
        }
    }

    /// The hooks this client gets.
    fn hooks(self) -> &'static [Hook] {
        const fn on(event: &'static str, matcher: Option<&'static str>) -> Hook {
            Hook {
                event,
                matcher,
                run: event,
                wakes: false,
            }
        }
        const CLAUDE: &[Hook] = &[
            on("SessionStart", None),
            on("PostToolUse", Some("*")),
            on("UserPromptSubmit", None),
            on("Stop", None),
            // In the background after each stop: wakes the idle session when mail arrives.
            Hook {
                event: "Stop",
                matcher: None,
                run: "Wake",
                wakes: true,
            },
        ];
        const CODEX: &[Hook] = &[
            on("SessionStart", None),
            on("PostToolUse", Some("*")),
            on("UserPromptSubmit", None),
            on("Stop", None),
        ];
        const GEMINI: &[Hook] = &[
            on("SessionStart", None),
            on("AfterTool", Some(".*")),
            on("BeforeAgent", None),
            on("AfterAgent", None),
        ];
        match self {
            Client::Claude => CLAUDE,
            Client::Codex => CODEX,
            Client::Gemini => GEMINI,
            Client::Cursor | Client::Vscode => &[],
        }
    }

    /// What the user still has to do in the client, which the project cannot do for them.
    fn next_step(self) -> &'static str {
        match self {
            Client::Claude => {
                "start `claude` in this folder and trust it when asked: project servers stay \
                 \"pending approval\" until then (`claude mcp list` shows it)"
            }
            Client::Codex => {
                "start `codex` in this folder and trust the project (Codex ignores .codex/ in \
                 untrusted projects) and its new hooks when asked"
            }
            Client::Gemini => {
                "start `gemini` in this folder and trust it when asked (Gemini CLI disables \
                 project servers and hooks in untrusted folders); headless runs (`gemini -p`) \
                 offer the tools only with `--approval-mode yolo` or \"trust\": true on the server"
            }
            Client::Cursor => "open Cursor's MCP settings and enable the switchboard server",
            Client::Vscode => {
                "reload the VS Code window and start the switchboard server when asked \
                 (Copilot agent mode)"
            }
        }
    }
}

/// One hook: the client's event, its matcher, the `switchboard hook` event it runs, and
/// whether it waits in the background to wake an idle agent (Claude Code's `asyncRewake`).
struct Hook {
    event: &'static str,
    matcher: Option<&'static str>,
    run: &'static str,
    wakes: bool,
}

/// How long (seconds) the client lets a waking hook run; it gives up by itself sooner.
const WAKE_TIMEOUT_SECS: u64 = 660;

/// A file's content before and after.
struct Edit {
    path: PathBuf,
    before: Option<String>,
    after: String,
}

impl Edit {
    fn changes(&self) -> bool {
        self.before.as_deref() != Some(self.after.as_str())
    }
}

/// Sets up `args.client` in the current checkout.
pub fn install(args: InstallArgs) -> Result<()> {
    if let Some(agent) = &args.agent {
        switchboard_core::agent::validate_name(agent).context("--agent")?;
    }
    let transport = match args.http {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Transport::Http { url }
        }
        Some(url) => bail!("--http {url}: give the server's URL, e.g. http://127.0.0.1:7411/mcp"),
        None => Transport::Stdio { agent: args.agent },
    };
    let root = checkout_root()?;
    // Planned first: a guard that cannot be installed refuses the whole install. Outside
    // a git repository there are no commits to guard.
    let in_git = switchboard_core::git::repo_paths(&root).is_ok();
    let guard = if args.no_guard || !in_git {
        None
    } else {
        Some(
            guard::Installing::plan(&root)
                .context("the pre-commit guard (pass --no-guard to set up without it)")?,
        )
    };
    let edits = plan(&root, args.client, |doc, target| {
        add(doc, args.client, target, &transport)
    })?;
    if let Some(guard) = guard {
        guard.apply(args.dry_run)?;
    }
    apply(&root, &edits, args.dry_run)?;
    if !args.dry_run {
        if let Transport::Http { url } = &transport {
            println!(
                "The client reads its token from ${TOKEN_VAR}: create one where `switchboard serve` \
                 runs for this repository (`switchboard token create --agent NAME`) and export it. \
                 A token belongs to the repository whose server it was made for; {url} refuses \
                 tokens of other repositories as not known."
            );
        }
        println!("Next: {}.", args.client.next_step());
    }
    Ok(())
}

/// Removes what `install` added for `args.client` from the current checkout. The
/// pre-commit guard stays: it guards every checkout of the repository (other checkouts may
/// still have clients set up), and `switchboard guard uninstall` removes it.
pub fn uninstall(args: UninstallArgs) -> Result<()> {
    let root = checkout_root()?;
    let edits = plan(&root, args.client, |doc, _| remove(doc))?;
    if switchboard_core::git::repo_paths(&root).is_ok() {
        println!(
            "pre-commit guard: kept (it guards every checkout of this repository; \
             `switchboard guard uninstall` removes it)"
        );
    }
    apply(&root, &edits, args.dry_run)
}

fn checkout_root() -> Result<PathBuf> {
    let here = std::env::current_dir()?;
    Ok(switchboard_core::git::repo_paths(&here)
        .map(|p| p.checkout)
        .unwrap_or(here))
}

/// A config document being edited.
enum Doc {
    Json(Map<String, Value>),
    Toml(toml_edit::DocumentMut),
}

/// Reads every target of `client` under `root`, lets `change` edit it, and returns the
/// edits. Refuses (changing nothing) if any existing file is malformed.
fn plan(root: &Path, client: Client, mut change: impl FnMut(&mut Doc, &str)) -> Result<Vec<Edit>> {
    let mut edits = Vec::new();
    for target in client.targets() {
        let path = root.join(target.path);
        let before = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut doc = parse(&path, target.format, before.as_deref())?;
        change(&mut doc, target.path);
        let after = render(&doc)?;
        if before.is_none() && after == render(&parse(&path, target.format, None)?)? {
            continue;
        }
        edits.push(Edit {
            path,
            before,
            after,
        });
    }
    Ok(edits)
}

fn parse(path: &Path, format: Format, text: Option<&str>) -> Result<Doc> {
    let text = text.unwrap_or_default();
    match format {
        Format::Json if text.trim().is_empty() => Ok(Doc::Json(Map::new())),
        Format::Json => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Doc::Json(map)),
            Ok(_) => bail!(
                "{}: expected a JSON object at the top; fix or move the file (nothing was changed)",
                path.display()
            ),
            Err(e) => bail!(
                "{}:{}:{}: not valid JSON ({e}); fix or move the file (nothing was changed)",
                path.display(),
                e.line(),
                e.column()
            ),
        },
        Format::Toml => text
            .parse::<toml_edit::DocumentMut>()
            .map(Doc::Toml)
            .map_err(|e| {
                let line = e
                    .span()
                    .map_or(0, |span| text[..span.start].matches('\n').count() + 1);
                anyhow::anyhow!(
                    "{}:{line}: not valid TOML ({}); fix or move the file (nothing was changed)",
                    path.display(),
                    e.message()
                )
            }),
    }
}

fn render(doc: &Doc) -> Result<String> {
    Ok(match doc {
        Doc::Json(map) if map.is_empty() => String::new(),
        Doc::Json(map) => serde_json::to_string_pretty(map)? + "\n",
        Doc::Toml(doc) => doc.to_string(),
    })
}

/// Adds the server entry and hooks `client` needs to the document of `target`.
fn add(doc: &mut Doc, client: Client, target: &str, transport: &Transport) {
    match doc {
        Doc::Toml(doc) => {
            let mut table = toml_edit::Table::new();
            match transport {
                Transport::Stdio { agent } => {
                    table["command"] = toml_edit::value("switchboard");
                    let mut args = toml_edit::Array::new();
                    Transport::args(agent)
                        .iter()
                        .for_each(|a| args.push(a.as_str()));
                    table["args"] = toml_edit::value(args);
                }
                Transport::Http { url } => {
                    table["url"] = toml_edit::value(url.as_str());
                    table["bearer_token_env_var"] = toml_edit::value(TOKEN_VAR);
                }
            }
            let servers = doc
                .entry("mcp_servers")
                .or_insert(toml_edit::table())
                .as_table_mut();
            if let Some(servers) = servers {
                servers.set_implicit(true);
                if servers.get("switchboard").map(|s| s.to_string()) != Some(table.to_string()) {
                    servers.insert("switchboard", toml_edit::Item::Table(table));
                }
            }
        }
        Doc::Json(map) => {
            let is_hook_file = matches!(target, ".codex/hooks.json" | ".claude/settings.json");
            if !is_hook_file {
                let (key, server) = server_entry(client, transport);
                object(map, key).insert("switchboard".into(), server);
                if client == Client::Vscode && matches!(transport, Transport::Http { .. }) {
                    add_token_input(map);
                }
            }
            if client == Client::Claude && target == ".claude/settings.json" {
                let enabled = array(map, "enabledMcpjsonServers");
                if !enabled.contains(&json!("switchboard")) {
                    enabled.push(json!("switchboard"));
                }
            }
            if is_hook_file || client == Client::Gemini {
                add_hooks(map, client);
            }
        }
    }
}

/// The key the servers live under and the switchboard entry, in `client`'s dialect.
fn server_entry(client: Client, transport: &Transport) -> (&'static str, Value) {
    let header = match client {
        Client::Vscode => "Bearer ${input:switchboard-token}".to_string(),
        _ => format!("Bearer ${{{TOKEN_VAR}}}"),
    };
    let key = if client == Client::Vscode {
        "servers"
    } else {
        "mcpServers"
    };
    let entry = match (client, transport) {
        (Client::Claude | Client::Vscode, Transport::Stdio { agent }) => {
            json!({"type": "stdio", "command": "switchboard", "args": Transport::args(agent)})
        }
        (_, Transport::Stdio { agent }) => {
            json!({"command": "switchboard", "args": Transport::args(agent)})
        }
        (Client::Gemini, Transport::Http { url }) => {
            json!({"httpUrl": url, "headers": {"Authorization": header}})
        }
        (Client::Cursor, Transport::Http { url }) => {
            json!({"url": url, "headers": {"Authorization": header}})
        }
        (_, Transport::Http { url }) => {
            json!({"type": "http", "url": url, "headers": {"Authorization": header}})
        }
    };
    (key, entry)
}

/// VS Code asks for the token once (a password input) instead of reading the environment.
fn add_token_input(map: &mut Map<String, Value>) {
    let inputs = array(map, "inputs");
    if !inputs.iter().any(|i| i["id"] == "switchboard-token") {
        inputs.push(json!({
            "type": "promptString", "id": "switchboard-token", "password": true,
            "description": "Switchboard token (switchboard token create --agent copilot)"
        }));
    }
}

/// Adds `switchboard hook CLIENT EVENT` to each of `client`'s hook events, unless there.
fn add_hooks(map: &mut Map<String, Value>, client: Client) {
    for hook in client.hooks() {
        let command = format!("{HOOK_PREFIX}{} {}", client.name(), hook.run);
        let groups = array(object(map, "hooks"), hook.event);
        let present = groups.iter().any(|g| {
            g["hooks"]
                .as_array()
                .is_some_and(|hooks| hooks.iter().any(|h| h["command"] == command.as_str()))
        });
        if !present {
            let mut group = Map::new();
            if let Some(matcher) = hook.matcher {
                group.insert("matcher".into(), json!(matcher));
            }
            let mut entry = json!({"type": "command", "command": command});
            if hook.wakes {
                entry["async"] = json!(true);
                entry["asyncRewake"] = json!(true);
                entry["timeout"] = json!(WAKE_TIMEOUT_SECS);
            }
            group.insert("hooks".into(), json!([entry]));
            groups.push(Value::Object(group));
        }
    }
}

/// Removes what [`add`] put in a document, leaving everything else.
fn remove(doc: &mut Doc) {
    match doc {
        Doc::Toml(doc) => {
            if let Some(servers) = doc
                .get_mut("mcp_servers")
                .and_then(|s| s.as_table_like_mut())
            {
                servers.remove("switchboard");
                if servers.is_empty() {
                    doc.remove("mcp_servers");
                }
            }
        }
        Doc::Json(map) => {
            for key in ["mcpServers", "servers"] {
                prune(map, key, |servers| {
                    servers.remove("switchboard");
                });
            }
            prune_array(map, "enabledMcpjsonServers", |v| v == "switchboard");
            prune_array(map, "inputs", |v| v["id"] == "switchboard-token");
            prune(map, "hooks", |hooks| {
                for groups in hooks.values_mut() {
                    let Some(groups) = groups.as_array_mut() else {
                        continue;
                    };
                    for group in groups.iter_mut() {
                        if let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) {
                            list.retain(|h| {
                                !h["command"]
                                    .as_str()
                                    .is_some_and(|c| c.starts_with(HOOK_PREFIX))
                            });
                        }
                    }
                    groups.retain(|g| g["hooks"].as_array().is_none_or(|h| !h.is_empty()));
                }
                hooks.retain(|_, groups| groups.as_array().is_none_or(|g| !g.is_empty()));
            });
        }
    }
}

/// Applies `change` to the object at `key` and drops it if that leaves it empty.
fn prune(map: &mut Map<String, Value>, key: &str, change: impl FnOnce(&mut Map<String, Value>)) {
    if let Some(Value::Object(inner)) = map.get_mut(key) {
        change(inner);
        if inner.is_empty() {
            map.remove(key);
        }
    }
}

/// Drops the items of the array at `key` that match, and the array if that empties it.
fn prune_array(map: &mut Map<String, Value>, key: &str, matches: impl Fn(&Value) -> bool) {
    if let Some(Value::Array(items)) = map.get_mut(key) {
        items.retain(|v| !matches(v));
        if items.is_empty() {
            map.remove(key);
        }
    }
}

/// The object at `key`, made if absent (a non-object there is replaced: it could not
/// have been valid for the client anyway).
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just made an object")
}

/// The array at `key`, made if absent.
fn array<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut().expect("just made an array")
}

/// Writes the edits (each atomically: a new file beside it, then renamed over it), or with
/// `dry_run` prints their diffs; says what it did either way.
fn apply(root: &Path, edits: &[Edit], dry_run: bool) -> Result<()> {
    for edit in edits {
        let shown = edit.path.strip_prefix(root).unwrap_or(&edit.path).display();
        if !edit.changes() {
            println!("{shown}: already set up, unchanged");
            continue;
        }
        if dry_run {
            let before = edit.before.as_deref().unwrap_or_default();
            let diff = similar::TextDiff::from_lines(before, &edit.after);
            print!(
                "{}",
                diff.unified_diff()
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
            continue;
        }
        if edit.after.is_empty() {
            // Nothing else was in it: an empty file would be malformed for the client.
            std::fs::remove_file(&edit.path)
                .with_context(|| format!("cannot remove {}", edit.path.display()))?;
            println!("{shown}: removed (nothing else was in it)");
            continue;
        }
        let dir = edit.path.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut file = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        std::io::Write::write_all(&mut file, edit.after.as_bytes())?;
        // A project file readable like any other (an existing one keeps its mode).
        let mode = std::fs::metadata(&edit.path)
            .map(|m| m.permissions())
            .unwrap_or_else(|_| std::os::unix::fs::PermissionsExt::from_mode(0o644));
        file.as_file().set_permissions(mode)?;
        file.persist(&edit.path)
            .with_context(|| format!("cannot write {}", edit.path.display()))?;
        let verb = if edit.before.is_some() {
            "updated"
        } else {
            "created"
        };
        println!("{shown}: {verb}");
    }
    if dry_run {
        println!("(dry run: nothing was written)");
    }
    Ok(())
}
