//! Plain-text renderings shared by the CLI and the MCP tools' text content, so every
//! surface says the same thing the same way.

use crate::agent::{Agent, AgentKind};
use crate::claim::{Claim, ClaimState};
use crate::clock::Timestamp;
use crate::group::{Group, MemberKind};
use crate::message::{DeliveryState, InboxPage, Message, Priority, SentMessage, Thread};
use crate::session::{Holder, Session, SessionPage, SessionTree, Status};
use crate::token::{Token, TokenState};
use crate::worktree::{
    ClaimedWork, ConflictReport, Created, MergeOutcome, WorktreeDiff, WorktreeStatus,
};

const INTENT_WIDTH: usize = 60;

fn clip(text: &str, width: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= width {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Lays out rows under a header with columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

/// `ses_…  agent (role)  status  — intent`, one line.
pub fn session_line(s: &Session) -> String {
    let role = s
        .role
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!(
        "{}  {}{}  {}  — {}",
        s.id,
        s.agent,
        role,
        s.status,
        clip(&s.intent, INTENT_WIDTH)
    )
}

/// A session with every detail, several lines.
pub fn session_detail(s: &Session, now: Timestamp) -> String {
    let mut lines = vec![session_line(s)];
    if let Some(reason) = &s.stale_reason {
        lines.push(format!("stale: {reason}"));
    }
    if let Some(parent) = &s.parent {
        lines.push(format!("parent: {parent}"));
    }
    if let Some(from) = &s.forked_from {
        lines.push(format!("forked from: {from}"));
    }
    if let Some(p) = &s.process {
        lines.push(format!("process: {} on {}", p.pid, p.host));
    }
    if let Some(w) = &s.worktree {
        lines.push(format!(
            "worktree: {} (branch {}) at {}",
            w.name, w.branch, w.path
        ));
    }
    if let Some(work) = &s.work {
        lines.push(format!(
            "work: {} changed file(s), {} uncommitted; {} commit(s) not merged",
            work.changed_files, work.uncommitted_files, work.unmerged
        ));
    }
    lines.push(format!(
        "started {} · last seen {}",
        s.started_at.ago(now),
        s.last_seen_at.ago(now)
    ));
    if let Some(ended) = s.ended_at {
        let reason = s
            .end_reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        lines.push(format!("ended {} ({}){reason}", ended.ago(now), s.status));
    }
    lines.join("\n")
}

/// A table of sessions for humans.
pub fn sessions_table(page: &SessionPage, now: Timestamp) -> String {
    if page.sessions.is_empty() {
        return "no sessions".into();
    }
    let rows: Vec<Vec<String>> = page
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.agent.clone(),
                s.status.to_string(),
                s.started_at.ago(now),
                s.last_seen_at.ago(now),
                s.parent
                    .clone()
                    .or_else(|| s.forked_from.as_ref().map(|f| format!("fork of {f}")))
                    .unwrap_or_default(),
                clip(&s.intent, INTENT_WIDTH),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "SESSION", "AGENT", "STATUS", "STARTED", "SEEN", "PARENT", "INTENT",
        ],
        &rows,
    );
    if page.truncated {
        out.push_str("\n… more sessions match; raise the limit or narrow the filter");
    }
    out
}

/// A table of agents for humans.
pub fn agents_table(agents: &[Agent], now: Timestamp) -> String {
    if agents.is_empty() {
        return "no agents registered".into();
    }
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                match a.kind {
                    AgentKind::Agent => "agent".into(),
                    AgentKind::Human => "human".into(),
                },
                a.role.clone().unwrap_or_default(),
                a.live_sessions.to_string(),
                a.last_seen_at.ago(now),
                clip(a.description.as_deref().unwrap_or(""), INTENT_WIDTH),
            ]
        })
        .collect();
    table(
        &["AGENT", "KIND", "ROLE", "LIVE", "SEEN", "DESCRIPTION"],
        &rows,
    )
}

fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Active => "●",
        Status::Stale => "◌",
        Status::Completed => "✓",
        Status::Failed => "✗",
        Status::Abandoned => "–",
    }
}

/// The genealogy as an indented tree; forks are marked `⑂`, the asked-about session `◀`.
pub fn tree(t: &SessionTree) -> String {
    let mut lines = Vec::with_capacity(t.nodes.len() + 1);
    // For each depth, whether a later sibling follows (so the guide line continues).
    let mut open: Vec<bool> = Vec::new();
    for (i, node) in t.nodes.iter().enumerate() {
        let depth = node.depth as usize;
        let has_later_sibling = t.nodes[i + 1..]
            .iter()
            .take_while(|n| n.depth as usize >= depth)
            .any(|n| n.depth as usize == depth);
        open.truncate(depth);
        let mut prefix = String::new();
        if depth > 0 {
            for &continues in &open[1..] {
                prefix.push_str(if continues { "│  " } else { "   " });
            }
            prefix.push_str(if has_later_sibling {
                "├─ "
            } else {
                "└─ "
            });
        }
        open.push(has_later_sibling);
        let s = &node.session;
        let fork = if s.forked_from.is_some() { "⑂ " } else { "" };
        let focus = if s.id == t.focus { "  ◀" } else { "" };
        lines.push(format!(
            "{prefix}{fork}{} {} {} [{}] {}{focus}",
            status_mark(s.status),
            s.id,
            s.agent,
            s.status,
            clip(&s.intent, INTENT_WIDTH)
        ));
    }
    if t.truncated {
        lines.push("… genealogy cut short by the depth limit; raise the limit to see more".into());
    }
    lines.join("\n")
}

fn state_word(m: &Message) -> &'static str {
    match m.state {
        Some(DeliveryState::Delivered) => "unread",
        Some(DeliveryState::Notified) => "unread, notified",
        Some(DeliveryState::Read) => "read",
        Some(DeliveryState::Acked) => "acked",
        None => "sent",
    }
}

/// The header line of a message: id, sender, recipients, priority, state.
fn message_header(m: &Message) -> String {
    let priority = match m.priority {
        Priority::Normal => String::new(),
        p => format!(" [{}]", p.as_str()),
    };
    let ack = if m.ack_required {
        " (ack required)"
    } else {
        ""
    };
    let subject = m
        .subject
        .as_deref()
        .map(|s| format!(" — {s}"))
        .unwrap_or_default();
    format!(
        "{} {} → {}{priority}{ack} ({}, {}){subject}",
        m.id,
        m.sender,
        m.to.join(", "),
        state_word(m),
        m.sent_at.to_rfc3339()
    )
}

/// One message in full.
pub fn message(m: &Message) -> String {
    let body = match (&m.body, m.deleted_at) {
        (Some(body), _) => body.clone(),
        (None, Some(at)) => format!("(deleted at {})", at.to_rfc3339()),
        (None, None) => String::new(),
    };
    let edited = m
        .edited_at
        .map(|at| format!("\n(edited {})", at.to_rfc3339()))
        .unwrap_or_default();
    let refs: Vec<String> = m
        .refs
        .iter()
        .map(|r| match &r.lines {
            Some(lines) => format!("{}:{lines}", r.target),
            None => r.target.clone(),
        })
        .collect();
    let refs = if refs.is_empty() {
        String::new()
    } else {
        format!("\nrefs: {}", refs.join(", "))
    };
    format!(
        "{}\nthread {}\n{body}{edited}{refs}",
        message_header(m),
        m.thread
    )
}

/// Several messages, separated by blank lines.
pub fn messages(list: &[Message]) -> String {
    if list.is_empty() {
        return "no messages".into();
    }
    list.iter().map(message).collect::<Vec<_>>().join("\n\n")
}

/// An inbox page: a count line, then one line per message.
pub fn inbox(page: &InboxPage) -> String {
    let mut lines = vec![format!("{} unread", page.unread)];
    for m in &page.messages {
        let body = m
            .body
            .as_deref()
            .map_or_else(|| "(deleted)".to_string(), |b| clip(b, INTENT_WIDTH));
        lines.push(format!("{}\n    {body}", message_header(m)));
    }
    if let Some(cursor) = &page.next_cursor {
        lines.push(format!("… more: cursor {cursor}"));
    }
    lines.join("\n")
}

/// A thread, oldest message first.
pub fn thread(t: &Thread) -> String {
    let subject = t.subject.as_deref().unwrap_or("(no subject)");
    format!(
        "thread {} — {subject}\nparticipants: {}\n\n{}",
        t.id,
        t.participants.join(", "),
        messages(&t.messages)
    )
}

/// Sent messages with each recipient's state.
pub fn sent(list: &[SentMessage]) -> String {
    if list.is_empty() {
        return "nothing sent".into();
    }
    list.iter()
        .map(|s| {
            let states: Vec<String> = s
                .deliveries
                .iter()
                .map(|d| {
                    format!(
                        "{} {}",
                        d.recipient,
                        format!("{:?}", d.state).to_lowercase()
                    )
                })
                .collect();
            format!("{}\n    {}", message_header(&s.message), states.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Groups with their members.
pub fn groups(list: &[Group]) -> String {
    if list.is_empty() {
        return "no groups".into();
    }
    list.iter()
        .map(|g| {
            let members: Vec<String> = g
                .members
                .iter()
                .map(|m| match m.kind {
                    MemberKind::Agent => m.name.clone(),
                    MemberKind::Role => format!("role:{}", m.name),
                })
                .collect();
            format!("@{}: {}", g.name, members.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// A table of worktrees with their live status (`on host X` for one on another host,
/// whose status is not read from here).
pub fn worktrees(list: &[WorktreeStatus]) -> String {
    if list.is_empty() {
        return "no worktrees".into();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let w = &s.worktree;
            let state = if let Some(host) = &s.other_host {
                format!("on host {host}")
            } else if !s.git.exists {
                "missing".to_string()
            } else {
                format!("+{} -{} {} dirty", s.git.ahead, s.git.behind, s.git.dirty)
            };
            let who = match (&w.agent, s.session_live) {
                (Some(agent), true) => format!("{agent} (live)"),
                (Some(agent), false) => agent.clone(),
                (None, _) => String::new(),
            };
            let last = s
                .git
                .last_commit
                .as_ref()
                .map(|c| clip(&c.subject, 40))
                .unwrap_or_default();
            vec![
                w.name.clone(),
                w.branch.clone(),
                state,
                who,
                w.port.to_string(),
                last,
            ]
        })
        .collect();
    table(
        &[
            "WORKTREE",
            "BRANCH",
            "STATUS",
            "AGENT",
            "PORT",
            "LAST COMMIT",
        ],
        &rows,
    )
}

/// A created worktree and how it was prepared.
pub fn created(c: &Created) -> String {
    let w = &c.worktree;
    let mut lines = vec![
        format!("worktree {} at {}", w.name, w.path),
        format!(
            "branch {} from {} ({})",
            w.branch,
            short(&w.base_commit),
            w.base_ref.as_deref().unwrap_or("detached")
        ),
        format!(
            "ports {}-{} (SWITCHBOARD_PORT in .switchboard.env)",
            w.port,
            u32::from(w.port) + u32::from(w.ports) - 1
        ),
    ];
    if !c.copied.is_empty() {
        lines.push(format!("copied: {}", c.copied.join(", ")));
    }
    if let Some(setup) = &c.setup {
        let how = if setup.success {
            "succeeded".to_string()
        } else if setup.timed_out {
            "timed out".to_string()
        } else {
            let exit = match setup.exit_code {
                Some(code) => format!("exit {code}"),
                None => "killed by a signal".into(),
            };
            format!("FAILED ({exit}); the worktree was kept")
        };
        lines.push(format!(
            "setup `{}` {how}\n{}",
            setup.command.join(" "),
            setup.output.trim_end()
        ));
    }
    lines.join("\n")
}

/// What a worktree changes against its base.
pub fn worktree_diff(d: &WorktreeDiff) -> String {
    let mut lines = vec![format!(
        "{} ({}) against {}",
        d.worktree.name,
        d.worktree.branch,
        short(&d.merge_base)
    )];
    for f in &d.changed {
        let mark = if f.uncommitted { " (uncommitted)" } else { "" };
        lines.push(format!("  {} +{} -{}{mark}", f.path, f.added, f.removed));
    }
    for c in &d.commits {
        lines.push(format!(
            "commit {} {} [{}]",
            short(&c.sha),
            c.subject,
            c.files.join(", ")
        ));
    }
    if let Some(patch) = &d.patch {
        lines.push(patch.clone());
    }
    lines.join("\n")
}

/// What a merge did.
pub fn merged(m: &MergeOutcome) -> String {
    let mut text = format!(
        "merged {} into {} ({}): {} → {}; {} file(s). Backup of the old {}: {}",
        m.branch,
        m.into,
        m.strategy.as_str(),
        short(&m.previous),
        short(&m.commit),
        m.files.len(),
        m.into,
        m.backup
    );
    if !m.left_uncommitted.is_empty() {
        text.push_str(&format!(
            "\nnot merged (uncommitted in the worktree): {}",
            m.left_uncommitted.join(", ")
        ));
    }
    for note in &m.recovered {
        text.push_str(&format!("\nbefore this merge: {note}"));
    }
    for c in &m.claimed {
        text.push_str(&format!(
            "\nmerged over a claim (its holder is told): {}",
            claimed_line(c, Timestamp::now())
        ));
    }
    text
}

/// The conflict radar.
pub fn conflicts(r: &ConflictReport) -> String {
    let mut lines = if r.findings.is_empty() {
        vec![format!("{} worktrees: no overlapping changes", r.worktrees)]
    } else {
        vec![format!("{} worktrees:", r.worktrees)]
    };
    for c in &r.findings {
        let verdict = if c.would_conflict {
            format!("WOULD CONFLICT in {}", c.conflicting_files.join(", "))
        } else if let Some(why) = &c.overlap_only {
            why.clone()
        } else {
            "would merge cleanly".into()
        };
        lines.push(format!(
            "  {} × {}: overlap {} — {verdict}",
            c.a,
            c.b,
            c.overlapping.join(", ")
        ));
    }
    let now = Timestamp::now();
    lines.extend(r.claimed.iter().map(|c| {
        format!(
            "  {} changes files claimed by another: {}",
            c.worktree,
            claimed_line(c, now)
        )
    }));
    lines.join("\n")
}

/// Who claims a file and who is changing it (`on host X` for a session reporting from
/// another host).
pub fn who_has(path: &str, claims: &[Claim], changing: &[Holder], now: Timestamp) -> String {
    if claims.is_empty() && changing.is_empty() {
        return format!("nobody claims or is changing {}", path);
    }
    let mut lines = Vec::new();
    if !claims.is_empty() {
        lines.push(format!("{} is claimed by:", path));
        lines.extend(claims.iter().map(|c| format!("  {}", claim_line(c, now))));
    }
    if changing.is_empty() {
        lines.push(format!("nobody is changing {}", path));
    } else {
        lines.push(format!("{} is being changed by:", path));
        lines.extend(changing.iter().map(holder_line));
    }
    lines.join("\n")
}

/// One session changing a file.
fn holder_line(h: &Holder) -> String {
    let counts = match (h.added, h.removed) {
        (Some(a), Some(r)) => format!(" +{a} -{r}"),
        _ => String::new(),
    };
    let state = if h.uncommitted { ", uncommitted" } else { "" };
    let host = match &h.host {
        Some(host) if *host != crate::process::this_host() => format!(" on host {host}"),
        _ => String::new(),
    };
    format!(
        "  {} in {}{host} ({}){counts}{state}{}",
        h.agent,
        h.worktree.as_deref().unwrap_or("?"),
        h.session,
        if h.live { "" } else { " [not live]" }
    )
}

/// One claim in a sentence: `claude holds src/auth/** exclusively (clm_…) until 14:05Z:
/// refactoring auth`, and `[stale: …]` when its holder is.
fn claim_line(c: &Claim, now: Timestamp) -> String {
    let state = match c.state {
        ClaimState::Active => String::new(),
        _ => format!(" [{}]", claim_state(c)),
    };
    format!(
        "{} holds {} {} ({}) {}: {}{state}",
        c.agent,
        c.pattern,
        c.mode.adverb(),
        c.id,
        until(c.expires_at, now),
        c.reason,
    )
}

/// Files a worktree changes that another holder claims: `claude's src/auth/** (clm_…,
/// until 14:05Z: refactoring auth) covers src/auth/a.rs, src/auth/b.rs`.
fn claimed_line(c: &ClaimedWork, now: Timestamp) -> String {
    format!(
        "{}'s {} ({}, {}: {}){} covers {}",
        c.holder,
        c.pattern,
        c.claim,
        until(c.expires_at, now),
        c.reason,
        if c.stale { " [stale]" } else { "" },
        c.files.join(", ")
    )
}

/// When a claim expires, as people read it: `until 14:05Z` on the day of `now`, with
/// the date (`until 2025-11-22 14:05Z`) on another day.
pub fn until(expires_at: Timestamp, now: Timestamp) -> String {
    format!("until {}", expires_at.minute(now))
}

/// A claim's state in a word, with why its holder is stale.
fn claim_state(c: &Claim) -> String {
    match (c.state, &c.stale_reason) {
        (ClaimState::Active, _) => "active".into(),
        (ClaimState::Stale, Some(why)) => format!("stale: {why}"),
        (ClaimState::Stale, None) => "stale".into(),
        (ClaimState::Expired, _) => "expired".into(),
    }
}

/// Claims as a table: id, pattern, mode, holder, expiry, reason and state.
pub fn claims(list: &[Claim], now: Timestamp) -> String {
    if list.is_empty() {
        return "no claims in force".into();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.pattern.clone(),
                c.mode.as_str().into(),
                c.agent.clone(),
                until(c.expires_at, now),
                clip(&c.reason, INTENT_WIDTH),
                claim_state(c),
            ]
        })
        .collect();
    table(
        &[
            "ID", "PATTERN", "MODE", "HOLDER", "EXPIRES", "REASON", "STATE",
        ],
        &rows,
    )
}

/// Claims just made: one line each, with mode, id and expiry.
pub fn claimed(list: &[Claim], now: Timestamp) -> String {
    list.iter()
        .map(|c| {
            format!(
                "claimed {} ({}, {}) {}",
                c.pattern,
                c.mode.as_str(),
                c.id,
                until(c.expires_at, now)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Claims just released, or that there were none.
pub fn released(list: &[Claim]) -> String {
    if list.is_empty() {
        return "no claims to release".into();
    }
    list.iter()
        .map(|c| format!("released {} ({}) of {}", c.pattern, c.id, c.agent))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tokens as a table: id, agent, state, label, created, expires, last used.
pub fn tokens(list: &[Token], now: Timestamp) -> String {
    if list.is_empty() {
        return "no tokens: create one with `switchboard token create --agent <name>`".into();
    }
    let when = |t: Option<Timestamp>, none: &str| t.map_or(none.to_string(), |t| t.ago(now));
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.agent.clone(),
                match t.state {
                    TokenState::Active => "active",
                    TokenState::Expired => "expired",
                    TokenState::Revoked => "revoked",
                }
                .into(),
                t.label.clone().unwrap_or_default(),
                t.created_at.ago(now),
                t.expires_at.map_or("never".into(), |e| e.to_rfc3339()),
                when(t.last_used_at, "never"),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "AGENT",
            "STATE",
            "LABEL",
            "CREATED",
            "EXPIRES",
            "LAST USED",
        ],
        &rows,
    )
}

/// A briefing ("what now?") in a few lines.
pub fn briefing(b: &crate::briefing::Briefing) -> String {
    let mut lines = vec![match &b.session {
        Some(s) => format!(
            "You are '{}', in session {} ({}): {}",
            b.agent,
            s.id,
            s.status,
            clip(&s.intent, INTENT_WIDTH)
        ),
        None => format!("You are '{}', with no session yet.", b.agent),
    }];
    if let Some(s) = &b.session
        && let (Some(parent), Some(by)) = (&s.parent, &s.parent_agent)
    {
        lines.push(format!("Subtask of {parent} by {by}: report to {by}."));
    }
    lines.push(format!("{} unread message(s).", b.unread));
    for h in &b.newest {
        let title = h.subject.as_deref().unwrap_or(&h.preview);
        lines.push(format!(
            "  {} from {} [{}]: {}",
            h.id,
            h.sender,
            h.priority.as_str(),
            clip(title, INTENT_WIDTH)
        ));
    }
    if let Some(w) = &b.worktree {
        lines.push(format!(
            "Worktree {} at {} (branch {}): {} dirty, {} ahead, {} behind{}",
            w.name,
            w.path,
            w.branch,
            w.dirty,
            w.ahead,
            w.behind,
            if w.conflicts.is_empty() {
                String::new()
            } else {
                format!(", would conflict in {}", w.conflicts.join(", "))
            }
        ));
    }
    for f in &b.shared {
        lines.push(format!(
            "Also being changed by {}: {}",
            f.agents.join(", "),
            f.path
        ));
    }
    for c in &b.children {
        lines.push(format!(
            "  child {} {} ({}): {}",
            c.id,
            c.agent,
            c.status,
            clip(&c.intent, INTENT_WIDTH)
        ));
    }
    for need in &b.needs_you {
        lines.push(format!("Needs you: {need}"));
    }
    lines.join("\n")
}

/// A one-line notice of new mail, for the end of a tool result.
pub fn news(n: &crate::message::News) -> String {
    let m = &n.newest;
    let about = m
        .subject
        .as_deref()
        .or(m.body.as_deref())
        .unwrap_or("(deleted)");
    let priority = match m.priority {
        Priority::Normal => String::new(),
        p => format!(" [{}]", p.as_str()),
    };
    format!(
        "{} new message(s) for you; newest {} from {}{priority}: \"{}\". Read with message_wait or inbox_read.",
        n.count,
        m.id,
        m.sender,
        clip(about, INTENT_WIDTH)
    )
}

/// A message an agent has left unread too long, flagged for a human.
pub fn overdue(o: &crate::message::Overdue, after: std::time::Duration) -> String {
    let priority = match o.priority {
        Priority::Normal => String::new(),
        p => format!(" [{}]", p.as_str()),
    };
    format!(
        "! {} has not read {} from {}{priority} for over {} (since {}): {}",
        o.recipient,
        o.id,
        o.sender,
        span(after),
        o.delivered_at.to_rfc3339(),
        clip(&o.about, INTENT_WIDTH)
    )
}

pub use crate::text::capped_list;

/// A configured span of time in words, exactly: `45 s`, `10 min`, `1 min 30 s`.
fn span(d: std::time::Duration) -> String {
    let (minutes, seconds) = (d.as_secs() / 60, d.as_secs() % 60);
    match (minutes, seconds) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests;
