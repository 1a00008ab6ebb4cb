//! Messaging for humans on the command line: send, inbox, thread, reply and watch, over
//! the same core functions as the MCP tools. The human is `human:<git user.name>` unless
//! `--as` says otherwise.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use switchboard_core::feed::ChangeFeed;
use switchboard_core::message::{self, Author, Draft, InboxFilter, Priority};
use switchboard_core::{Settings, Store, agent, render};

use crate::Global;
use crate::commands::open_store;

/// Who the command acts as.
#[derive(Debug, Args)]
pub struct Participant {
    /// Act as this participant (default: human:<your git user.name>).
    #[arg(long = "as", value_name = "NAME")]
    as_name: Option<String>,
}

impl Participant {
    /// The participant name, registered (idempotently) so others can reach it.
    pub(crate) fn resolve(&self, store: &mut Store) -> Result<String> {
        let name = match &self.as_name {
            Some(name) => name.clone(),
            None => agent::local_human(&std::env::current_dir()?)?,
        };
        agent::register(
            store,
            &name,
            &agent::Registration {
                name: name.clone(),
                ..Default::default()
            },
        )?;
        Ok(name)
    }
}

/// What to say and how.
#[derive(Debug, Args)]
pub struct Body {
    /// The message (Markdown). Omit or give '-' to read it from standard input.
    body: Option<String>,
    #[arg(long)]
    subject: Option<String>,
    /// low, normal, high or urgent.
    #[arg(long, default_value = "normal")]
    priority: Priority,
    /// Ask recipients to acknowledge.
    #[arg(long)]
    ack: bool,
}

impl Body {
    fn draft(self, to: Vec<String>) -> Result<Draft> {
        let body = match self.body.as_deref() {
            Some(text) if text != "-" => text.to_string(),
            None if std::io::stdin().is_terminal() => {
                bail!(
                    "give the message as an argument, or pipe it in (e.g. `echo hi | switchboard send --to ann`)"
                )
            }
            _ => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read the message from standard input")?;
                text
            }
        };
        Ok(Draft {
            to,
            subject: self.subject,
            body,
            priority: self.priority,
            ack_required: self.ack,
            refs: Vec::new(),
        })
    }
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipient: agent name, human:<name>, @group, @role or @everyone (repeatable).
    #[arg(long, required = true)]
    to: Vec<String>,
    #[command(flatten)]
    body: Body,
    #[command(flatten)]
    who: Participant,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The message to answer (id or unique prefix).
    message: String,
    /// Recipients (default: everyone else in the thread).
    #[arg(long)]
    to: Vec<String>,
    #[command(flatten)]
    body: Body,
    #[command(flatten)]
    who: Participant,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Only unread messages.
    #[arg(long)]
    unread: bool,
    /// Only from this sender.
    #[arg(long)]
    from: Option<String>,
    /// At least this priority.
    #[arg(long)]
    min_priority: Option<Priority>,
    /// Continue after a previous page: the cursor it printed ("… more: cursor …").
    #[arg(long)]
    cursor: Option<String>,
    /// Messages per page.
    #[arg(long, default_value_t = message::DEFAULT_PAGE)]
    limit: u32,
    /// Mark the listed messages read.
    #[arg(long)]
    mark_read: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    who: Participant,
}

#[derive(Debug, Args)]
pub struct ThreadArgs {
    /// Thread id (thr_…) or unique prefix.
    thread: String,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    who: Participant,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    who: Participant,
}

pub fn send(global: &Global, args: SendArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let sent = message::send(
        &mut store,
        &Author {
            agent: me,
            session: None,
        },
        &args.body.draft(args.to)?,
    )?;
    println!("sent {} in thread {}", sent.id, sent.thread);
    Ok(())
}

pub fn reply(global: &Global, args: ReplyArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let draft = args.body.draft(args.to)?;
    let sent = message::reply(
        &mut store,
        &Author {
            agent: me,
            session: None,
        },
        &args.message,
        &draft,
    )?;
    println!(
        "sent {} to {} in thread {}",
        sent.id,
        sent.to.join(", "),
        sent.thread
    );
    Ok(())
}

pub fn inbox(global: &Global, args: InboxArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let filter = InboxFilter {
        unread_only: args.unread,
        from: args.from,
        min_priority: args.min_priority,
        cursor: args.cursor,
        limit: Some(args.limit),
        ..Default::default()
    };
    let page = message::inbox(&mut store, &me, &filter)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
    } else {
        println!("{me}: {}", render::inbox(&page));
    }
    if args.mark_read && !page.messages.is_empty() {
        let ids: Vec<String> = page.messages.iter().map(|m| m.id.clone()).collect();
        message::mark(&mut store, &me, &ids, false)?;
    }
    Ok(())
}

pub fn thread(global: &Global, args: ThreadArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let thread = message::thread(&mut store, &me, &args.thread)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&thread)?);
    } else {
        println!("{}", render::thread(&thread));
    }
    Ok(())
}

/// How often `watch` looks for mail agents have left unread too long.
const OVERDUE_INTERVAL: Duration = Duration::from_secs(30);

/// After how long unread agent mail is flagged (`.switchboard.toml` `[messages]
/// escalate_after`), for the repository around the current directory.
fn escalation_delay() -> Duration {
    let root = std::env::current_dir()
        .ok()
        .and_then(|d| switchboard_core::git::repo_paths(&d).ok())
        .map(|p| p.main_root);
    root.and_then(|r| switchboard_core::config::load(&r).ok())
        .unwrap_or_default()
        .messages
        .escalate_after
}

pub fn watch(global: &Global, args: WatchArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let settings = Settings {
        stale_after: global.stale_after,
    };
    let mut feed = ChangeFeed::open(store.address(), settings)?;
    let escalate_after = escalation_delay();
    let mut flagged = std::collections::HashSet::new();
    let mut next_check = std::time::Instant::now();
    eprintln!("watching messages for {me} (Ctrl-C to stop)");
    loop {
        if std::time::Instant::now() >= next_check {
            next_check = std::time::Instant::now() + OVERDUE_INTERVAL;
            for late in message::overdue(&mut store, escalate_after)? {
                if flagged.insert(late.id.clone()) {
                    println!("{}\n", render::overdue(&late, escalate_after));
                }
            }
        }
        let until_check = next_check.saturating_duration_since(std::time::Instant::now());
        for event in feed.wait(until_check)? {
            let Some(id) = event.change.mail_for(&me) else {
                continue;
            };
            let m = message::get(&mut store, &me, id)?;
            println!("{}\n", render::message(&m));
        }
    }
}
