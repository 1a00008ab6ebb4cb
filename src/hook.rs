//! `switchboard hook CLIENT EVENT`: a hook of an agent CLI (Claude Code, Codex, Gemini CLI)
//! that puts Switchboard mail into the agent's turn. It reads the client's hook JSON on
//! stdin, finds the session of the agent whose client runs it (the client started that
//! agent's `switchboard mcp` too), and answers in the client's own format. A hook must
//! never break or hold up the agent: on any problem it prints nothing, says why on stderr
//! and exits 0.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use switchboard_core::delivery::{self, Recipient};
use switchboard_core::{session, worktree};

use crate::Global;
use crate::commands::{locate, open_store, store_address};

/// Largest hook input read from stdin.
const MAX_INPUT: u64 = 1 << 20;
/// How long to wait for the client to write its hook input.
const INPUT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The agent CLI running the hook.
    client: Client,
    /// The client's event name: SessionStart, PostToolUse, UserPromptSubmit or Stop (Claude
    /// Code, Codex); SessionStart, AfterTool, BeforeAgent or AfterAgent (Gemini CLI).
    event: String,
}

/// Agent CLIs with hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Client {
    Claude,
    Codex,
    Gemini,
}

/// What a hook event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// A session begins: the briefing.
    Start,
    /// After a tool call or before a prompt: new mail.
    Turn,
    /// The agent is about to stop: hold it for mail that needs an answer.
    Stop,
    /// In the background while the agent is idle: wake it when mail arrives (Claude Code's
    /// `asyncRewake` hook, which wakes the session when the hook exits 2).
    Wake,
}

impl Client {
    fn moment(self, event: &str) -> Option<Moment> {
        match (self, event) {
            (_, "SessionStart") => Some(Moment::Start),
            (Client::Claude | Client::Codex, "PostToolUse" | "UserPromptSubmit") => {
                Some(Moment::Turn)
            }
            (Client::Claude | Client::Codex, "Stop") => Some(Moment::Stop),
            (Client::Claude, "Wake") => Some(Moment::Wake),
            (Client::Gemini, "AfterTool" | "BeforeAgent") => Some(Moment::Turn),
            (Client::Gemini, "AfterAgent") => Some(Moment::Stop),
            _ => None,
        }
    }

    /// The client's answer that adds `text` to the agent's context.
    fn context(self, event: &str, text: &str) -> Value {
        json!({"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}})
    }

    /// The client's answer that keeps the agent from stopping, telling it `reason`.
    fn hold(self, reason: &str) -> Value {
        let decision = match self {
            Client::Claude | Client::Codex => "block",
            Client::Gemini => "deny",
        };
        json!({"decision": decision, "reason": reason})
    }
}

/// How long a wake hook waits for mail before it ends quietly (the client re-arms it at
/// the agent's next stop).
const WAKE_LIMIT: Duration = Duration::from_secs(600);

/// Runs the hook; always succeeds (problems go to stderr), except that a wake hook that
/// found mail exits 2 with the headers on stderr, which is how Claude Code is woken.
pub fn hook(global: &Global, args: HookArgs) -> Result<()> {
    match answer(global, &args) {
        Ok(Said::Json(out)) => println!("{out}"),
        Ok(Said::Wake(headers)) => {
            eprintln!("{headers}");
            std::process::exit(2);
        }
        Ok(Said::Nothing) => {}
        Err(e) => eprintln!("switchboard hook {:?} {}: {e:#}", args.client, args.event),
    }
    Ok(())
}

/// What a hook has to say.
enum Said {
    Nothing,
    /// The client's JSON answer, on stdout.
    Json(Value),
    /// Mail for an idle agent, on stderr with exit code 2.
    Wake(String),
}

/// What the hook has to say.
fn answer(global: &Global, args: &HookArgs) -> Result<Said> {
    // Read the client's input first, whatever the event: a hook that exits without
    // reading it leaves the client writing into a closed pipe.
    let input = read_input()?;
    let Some(moment) = args.client.moment(&args.event) else {
        anyhow::bail!("not an event Switchboard handles for this client; nothing to do");
    };
    if moment == Moment::Stop && input["stop_hook_active"] == true {
        return Ok(Said::Nothing);
    }
    if let Some(cwd) = input["cwd"]
        .as_str()
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
    {
        std::env::set_current_dir(&cwd)?;
    }
    // A repository where Switchboard never ran has no mail: create nothing.
    if !store_address(global)?.exists()? {
        return Ok(Said::Nothing);
    }
    // This host's own files (a waiting wake hook's marker) go beside the state file, even
    // when the store is on a server.
    let db = locate(global)?.path;
    let mut store = open_store(global)?;
    let Some(recipient) = recipient(&mut store)? else {
        return Ok(Said::Nothing);
    };
    let said = |json: Option<Value>| json.map_or(Said::Nothing, Said::Json);
    if matches!(moment, Moment::Start | Moment::Turn) {
        // The agent is at work: a wake hook still waiting from its last stop steps aside.
        WakeGuard::release(&db, &recipient.session);
    }
    Ok(match moment {
        Moment::Start => {
            let text = delivery::opening(&mut store, &recipient)?;
            Said::Json(args.client.context(&args.event, &text))
        }
        Moment::Turn => said(
            delivery::arrivals(&mut store, &recipient)?
                .map(|text| args.client.context(&args.event, &text)),
        ),
        Moment::Stop => {
            said(delivery::hold(&mut store, &recipient)?.map(|reason| args.client.hold(&reason)))
        }
        Moment::Wake => wake(&db, &mut store, &recipient)?,
    })
}

/// Waits in the background for mail for an idle agent. One waiter per session: the client
/// re-arms the hook at every stop, so a later one leaves while an earlier one still waits.
fn wake(db: &std::path::Path, store: &mut switchboard_core::Store, r: &Recipient) -> Result<Said> {
    let Some(guard) = WakeGuard::take(db, &r.session)? else {
        return Ok(Said::Nothing);
    };
    Ok(
        match delivery::wake(store, r, WAKE_LIMIT, &|| guard.held())? {
            delivery::Wake::Mail(headers) => Said::Wake(headers),
            delivery::Wake::Ended | delivery::Wake::TimedOut | delivery::Wake::Busy => {
                Said::Nothing
            }
        },
    )
}

/// The one waiting wake hook of a session: a file beside the state database holding the
/// waiter's process id, removed when it ends.
struct WakeGuard {
    path: PathBuf,
}

impl WakeGuard {
    fn path(db: &std::path::Path, session: &str) -> PathBuf {
        let dir = db.parent().unwrap_or(std::path::Path::new("."));
        dir.join(format!("wake-{session}.pid"))
    }

    /// Tells a waiting wake hook of `session` that its agent is at work again (it leaves).
    fn release(db: &std::path::Path, session: &str) {
        let _ = std::fs::remove_file(Self::path(db, session));
    }

    /// Whether this waiter still holds the slot (no hook of the session released it).
    fn held(&self) -> bool {
        std::fs::read_to_string(&self.path)
            .is_ok_and(|pid| pid.trim() == std::process::id().to_string())
    }

    /// Takes the session's wake slot, unless a live process holds it.
    fn take(db: &std::path::Path, session: &str) -> Result<Option<WakeGuard>> {
        let path = Self::path(db, session);
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(pid) = text.trim().parse::<u32>()
            && switchboard_core::process::is_alive(&switchboard_core::process::this_host(), pid)
        {
            return Ok(None);
        }
        std::fs::write(&path, std::process::id().to_string())?;
        Ok(Some(WakeGuard { path }))
    }
}

impl Drop for WakeGuard {
    fn drop(&mut self) {
        if self.held() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The hook's input JSON (`null` when there is none or it is not JSON), read within
/// [`INPUT_TIMEOUT`] so a client that keeps stdin open cannot hold the hook.
fn read_input() -> Result<Value> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let read = std::io::stdin()
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .map(|_| text);
        let _ = tx.send(read);
    });
    let text = rx
        .recv_timeout(INPUT_TIMEOUT)
        .map_err(|_| anyhow::anyhow!("no hook input on stdin within {INPUT_TIMEOUT:?}"))??;
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The agent and session this hook serves: the live session whose MCP server was started
/// by the same client process (an ancestor of this hook), else the session bound to the
/// worktree the hook runs in.
fn recipient(store: &mut switchboard_core::Store) -> Result<Option<Recipient>> {
    let found = match session::of_client(store, std::process::id())? {
        Some(s) => Some(s),
        None => {
            match worktree::containing(store, &std::env::current_dir()?)?.and_then(|w| w.session) {
                Some(id) => Some(session::get(store, &id)?).filter(|s| s.is_live()),
                None => None,
            }
        }
    };
    Ok(found.map(|s| Recipient {
        agent: s.agent,
        session: s.id,
    }))
}
