//! Claims: advisory reservations of paths or gitignore-style globs ("I'm editing
//! `src/auth/**`"), so that agents learn of each other's intent before they edit.
//!
//! - A claim is held by an agent in one of its sessions, or by a person (`human:<name>`)
//!   in their own name. It is **exclusive** (the default: nobody else may claim what
//!   overlaps it) or **shared** (others may claim it shared too), and carries a reason and
//!   an expiry: a time to live of [`DEFAULT_TTL`] unless given, at most [`MAX_TTL`],
//!   renewable by its holder ([`renew`]).
//! - Claiming what another holder holds exclusively, or exclusively what another holds
//!   at all, is refused with the holders, their reasons, their expiry and what to do.
//!   A holder's own overlapping claims never conflict; claiming a pattern it already
//!   holds replaces that claim (mode, reason and expiry).
//! - A claim ends when released ([`release`]: by id, by pattern, or all of a holder's),
//!   when its session ends (in the same transaction), or at its expiry. Expiry is judged
//!   when read, like session staleness: no background job. An expired claim is not in
//!   force; its row stays until its holder claims again or releases it.
//! - A claim whose session is stale (see [`crate::liveness`]) is reported
//!   [`ClaimState::Stale`]. It still holds; a human, or the agent working the holder's
//!   parent session from that session, may take it over by claiming with
//!   [`ClaimRequest::take_over`]: the stale claims in the way are released and the new
//!   claims made, in one transaction.
//! - Overlap is decided on the patterns, not only on paths: see [`pattern`] for what a
//!   pattern covers and how overlap is computed.
//!
//! Storage: a row per claim in force or expired, deleted on release, takeover or the end
//! of its session; the event log (`claim.made`, `claim.renewed`, `claim.released`)
//! keeps the history.
//!
//! Queries for the surfaces: [`list`] (claims with holder, mode, reason, expiry and
//! state), [`claims_on`] (which claims cover a file) and [`check`] (which of many paths
//! other holders claim exclusively, for the pre-commit guard), the last two over an
//! [`Index`] that compiles every claim's pattern once.

mod guard;
pub mod pattern;
#[cfg(test)]
mod tests;
mod work;

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use guard::record_bypass;
pub use pattern::{Index, Pattern};
pub use work::{WhoHas, who_has};

use crate::agent::{self, Registration};
use crate::clock::Timestamp;
use crate::event::{self, ClaimsChanged, Kind};
use crate::id::{self, IdKind, new_id};
use crate::permission::{self, is_human};
use crate::process::ProcessInfo;
use crate::session::{self, Status};
use crate::store::Tx;
use crate::{Error, Record, Result, Store};

/// How long a claim lasts when its request gives no time to live.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);
/// The longest time to live a claim (or a renewal) may ask for; more is refused.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The most patterns one request may claim.
pub const MAX_PATTERNS: usize = 100;
const MAX_REASON_LEN: usize = 500;

/// Whether others may claim what a claim covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nobody else may claim anything overlapping it; the pre-commit guard refuses
    /// others' commits of the files it covers. The default.
    #[default]
    Exclusive,
    /// Others may claim it shared too (several people reading or lightly touching the
    /// same files), but not exclusively.
    Shared,
}

impl Mode {
    /// The stored name: `exclusive` or `shared`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Exclusive => "exclusive",
            Mode::Shared => "shared",
        }
    }

    /// How a holder holds it, in a sentence: `exclusively` or `shared`.
    pub fn adverb(self) -> &'static str {
        match self {
            Mode::Exclusive => "exclusively",
            Mode::Shared => "shared",
        }
    }
}

/// Whether a claim is in force, judged when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimState {
    /// In force, and its holder is live (or a person).
    Active,
    /// In force, but its holder's session is stale: a human or the holder's parent
    /// session may take it over.
    Stale,
    /// Past its expiry (or its session ended): no longer in force.
    Expired,
}

/// A claim as reported to callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Claim {
    /// Claim id: `clm_` and a ULID; a unique prefix of at least 4 characters after `clm_`
    /// is accepted too.
    pub id: String,
    /// The claimed path or gitignore-style glob, relative to the repository root.
    pub pattern: String,
    /// Exclusive or shared.
    pub mode: Mode,
    /// The holder: the agent working `session`, or a person (`human:<name>`).
    pub agent: String,
    /// The holder's session; null for a person's claim.
    pub session: Option<String>,
    /// Why, in the holder's words (e.g. "refactoring auth").
    pub reason: String,
    /// When it was made (RFC 3339 UTC).
    pub created_at: Timestamp,
    /// When it expires unless renewed (RFC 3339 UTC).
    pub expires_at: Timestamp,
    /// In force and live, in force but stale, or expired; judged when read.
    pub state: ClaimState,
    /// Why its holder's session is stale, when it is.
    pub stale_reason: Option<String>,
}

impl Claim {
    /// In force: not expired (live or stale holder).
    pub fn in_force(&self) -> bool {
        self.state != ClaimState::Expired
    }

    /// "'claude' (session ses_…) holds src/** exclusively (clm_…) until 14:05Z: refactoring
    /// auth" (the date too when it is not today, UTC).
    pub fn describe(&self) -> String {
        let session = self
            .session
            .as_deref()
            .map_or_else(String::new, |s| format!(" (session {s})"));
        let stale = match (&self.state, &self.stale_reason) {
            (ClaimState::Stale, Some(why)) => format!(" [stale: {why}]"),
            (ClaimState::Stale, None) => " [stale]".into(),
            _ => String::new(),
        };
        format!(
            "'{}'{session} holds {} {} ({}) until {}: {}{stale}",
            self.agent,
            self.pattern,
            self.mode.adverb(),
            self.id,
            self.expires_at.minute(Timestamp::now()),
            self.reason
        )
    }
}

/// A claim's stored columns, as a backend reads them (before it is judged).
#[derive(Debug, Clone)]
pub(crate) struct StoredClaim {
    pub(crate) id: String,
    pub(crate) session: Option<String>,
    pub(crate) agent: String,
    pub(crate) pattern: String,
    pub(crate) mode: String,
    pub(crate) reason: String,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Timestamp,
}

/// The stored liveness of a claim's session, as a backend reads it.
#[derive(Debug, Clone)]
pub(crate) struct Holding {
    /// The session's stored status (`active`, `completed`, …).
    pub(crate) status: String,
    pub(crate) process: Option<ProcessInfo>,
    pub(crate) last_seen: Timestamp,
}

impl StoredClaim {
    /// The claim in its state at `now`, its session (`holding`, `None` for a person's
    /// claim) judged against the stale window's start `cutoff`. An unknown mode (written
    /// by a newer version) is taken as exclusive, the safer reading.
    pub(crate) fn judge(
        self,
        holding: Option<Holding>,
        now: Timestamp,
        cutoff: Timestamp,
    ) -> Claim {
        let (status, stale_reason) = match &holding {
            Some(h) => session::judge(&h.status, h.process.as_ref(), h.last_seen, cutoff),
            None => (Status::Active, None),
        };
        let state = if self.expires_at <= now {
            ClaimState::Expired
        } else {
            match status {
                Status::Active => ClaimState::Active,
                Status::Stale => ClaimState::Stale,
                Status::Completed | Status::Failed | Status::Abandoned => ClaimState::Expired,
            }
        };
        Claim {
            id: self.id,
            pattern: self.pattern,
            mode: if self.mode == "shared" {
                Mode::Shared
            } else {
                Mode::Exclusive
            },
            agent: self.agent,
            session: self.session,
            reason: self.reason,
            created_at: self.created_at,
            expires_at: self.expires_at,
            stale_reason: (state == ClaimState::Stale)
                .then_some(stale_reason)
                .flatten(),
            state,
        }
    }
}

/// Who acts on claims: an agent in one of its sessions, or a person.
#[derive(Debug, Clone, Copy)]
pub struct Claimant<'a> {
    /// The acting participant: an agent, or `human:<name>`.
    pub actor: &'a str,
    /// The agent's session (id or unique prefix); must be given for an agent, and left
    /// out for a person, who holds claims in their own name.
    pub session: Option<&'a str>,
}

/// What [`claim`] claims: the request every surface builds (MCP's `claim_add` takes it as
/// its arguments, the editor flattens it beside `repo`, the CLI fills it from flags), with
/// its defaults. Absent and `null` fields are their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimRequest {
    /// Paths or gitignore-style globs, e.g. src/auth/**.
    pub patterns: Vec<String>,
    /// A few words others read when refused.
    pub reason: String,
    /// Others may claim it shared too.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<bool>")]
    pub shared: bool,
    /// e.g. 30m, 2h. Default 1h.
    #[serde(default, with = "ttl_text")]
    #[schemars(with = "Option<String>")]
    pub ttl: Option<Duration>,
    /// Take over stale claims in the way.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<bool>")]
    pub take_over: bool,
}

impl ClaimRequest {
    /// The mode the claims are made in: exclusive unless [`Self::shared`].
    pub fn mode(&self) -> Mode {
        if self.shared {
            Mode::Shared
        } else {
            Mode::Exclusive
        }
    }
}

/// A time to live as requests write it (`90`, `30m`, `2h`; see
/// [`crate::clock::parse_duration`]); `null` is absent.
mod ttl_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        ttl: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match ttl {
            Some(ttl) => s.serialize_str(&format!("{}s", ttl.as_secs())),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| crate::clock::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Which claims a release names, as surfaces take it: exactly one of `id`, `pattern` and
/// `all` (see [`ReleaseRequest::which`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReleaseRequest {
    /// Claim id or prefix.
    #[serde(default)]
    pub id: Option<String>,
    /// A pattern as you claimed it.
    #[serde(default)]
    pub pattern: Option<String>,
    /// All your claims.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<bool>")]
    pub all: bool,
}

impl ReleaseRequest {
    /// The claims named, or why the request names none or several ways.
    pub fn which(self) -> Result<Which> {
        match (self.id, self.pattern, self.all) {
            (Some(id), None, false) => Ok(Which::Id(id)),
            (None, Some(pattern), false) => Ok(Which::Pattern(pattern)),
            (None, None, true) => Ok(Which::All),
            _ => Err(Error::Invalid(
                "give exactly one of id, pattern or all: true (the claim list shows your claims)"
                    .into(),
            )),
        }
    }
}

/// Which of a holder's claims [`renew`] or [`release`] acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// One claim, by id or unique prefix.
    Id(String),
    /// The holder's claim of this pattern (as it was claimed, `./` and spaces aside).
    Pattern(String),
    /// Every claim of the holder (for an agent, of its session).
    All,
}

/// Claims of one holder that cover some of the paths checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conflict {
    /// The exclusive claim of another holder.
    pub claim: Claim,
    /// The paths checked that it covers, in the order given.
    pub paths: Vec<String>,
}

/// The resolved holder a claimant stands for.
#[derive(Debug, Clone)]
struct Holder {
    agent: String,
    session: Option<String>,
}

impl Holder {
    fn holds(&self, claim: &Claim) -> bool {
        claim.agent == self.agent && claim.session == self.session
    }
}

/// Resolves and checks a claimant: a person without session, or an agent in its own
/// open session.
fn holder(tx: &Tx<'_>, claimant: &Claimant<'_>, cutoff: Timestamp) -> Result<Holder> {
    agent::validate_name(claimant.actor)?;
    if is_human(claimant.actor) {
        if claimant.session.is_some() {
            return Err(Error::Invalid(format!(
                "'{}' is a person: people hold claims in their own name, not in a session; \
                 leave the session out",
                claimant.actor
            )));
        }
        return Ok(Holder {
            agent: claimant.actor.to_string(),
            session: None,
        });
    }
    let Some(session) = claimant.session else {
        return Err(Error::NoIdentity(format!(
            "'{}' has no session: an agent's claims are held by a session, so start one \
             (session_start) and claim from it (a person claims as human:<name>)",
            claimant.actor
        )));
    };
    let id = id::resolve(tx, IdKind::Session, session)?;
    let session = tx
        .fetch_session(&id, cutoff)?
        .ok_or_else(|| Error::NotFound {
            kind: Record::Session,
            id: id.clone(),
        })?;
    if session.agent != claimant.actor {
        return Err(Error::Forbidden(format!(
            "session {} belongs to '{}', not '{}': claim in your own session",
            session.id, session.agent, claimant.actor
        )));
    }
    if !matches!(session.status, Status::Active | Status::Stale) {
        return Err(Error::Conflict(format!(
            "session {} already ended ({}): its claims ended with it; start a new session to \
             claim again",
            session.id, session.status
        )));
    }
    Ok(Holder {
        agent: session.agent,
        session: Some(session.id),
    })
}

fn check_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "give a reason: a few words others read when they are refused (e.g. \"refactoring \
             auth\")"
                .into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_LEN {
        return Err(Error::Invalid(format!(
            "the reason is longer than {MAX_REASON_LEN} characters; shorten it"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the reason must be one line, without control characters (line breaks, tabs, \
             NUL): others read it in refusals, diagnostics and commit hooks"
                .into(),
        ));
    }
    Ok(reason.to_string())
}

/// The expiry `ttl` (default [`DEFAULT_TTL`]) after `now`, or why it is refused.
fn expiry(ttl: Option<Duration>, now: Timestamp) -> Result<Timestamp> {
    let ttl = ttl.unwrap_or(DEFAULT_TTL);
    if ttl.is_zero() {
        return Err(Error::Invalid(
            "a claim's time to live must be more than zero; release a claim instead of \
             letting it expire at once"
                .into(),
        ));
    }
    if ttl > MAX_TTL {
        return Err(Error::Invalid(format!(
            "a claim may last at most {} hours (asked: {} minutes): claim for less and renew \
             it while you work",
            MAX_TTL.as_secs() / 3600,
            ttl.as_secs() / 60
        )));
    }
    let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    Ok(Timestamp(now.millis().saturating_add(millis)))
}

/// A stored claim's pattern; one this version cannot read (a newer one wrote it) is
/// taken as covering everything, the safer reading.
fn stored_pattern(claim: &Claim) -> Pattern {
    Pattern::parse(&claim.pattern).unwrap_or_else(|_| Pattern::everything())
}

/// Claims `request.patterns` for `claimant`, all or none: refused when another holder's
/// claim in force overlaps one of them and either is exclusive (unless every such claim
/// is stale and the claimant takes them over). Returns the claims made, in the order
/// asked. The claims and a `claim.made` event are written in one transaction.
pub fn claim(
    store: &mut Store,
    claimant: &Claimant<'_>,
    request: &ClaimRequest,
) -> Result<Vec<Claim>> {
    if request.patterns.is_empty() {
        return Err(Error::Invalid(
            "give at least one pattern to claim (e.g. src/auth/** or docs/)".into(),
        ));
    }
    if request.patterns.len() > MAX_PATTERNS {
        return Err(Error::Invalid(format!(
            "{} patterns is more than one claim takes ({MAX_PATTERNS}): claim directories \
             or globs instead of single files",
            request.patterns.len()
        )));
    }
    let mut patterns: Vec<Pattern> = Vec::new();
    for text in &request.patterns {
        let pattern = Pattern::parse(text)?;
        if patterns.iter().all(|p| p.as_str() != pattern.as_str()) {
            patterns.push(pattern);
        }
    }
    let reason = check_reason(&request.reason)?;
    let mode = request.mode();
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let now = Timestamp::now();
        let expires_at = expiry(request.ttl, now)?;
        let holder = holder(tx, claimant, cutoff)?;
        let stored = tx.list_claims(now, cutoff)?;
        let mut in_the_way: Vec<&Claim> = Vec::new();
        for other in stored.iter().filter(|c| c.in_force() && !holder.holds(c)) {
            if mode == Mode::Shared && other.mode == Mode::Shared {
                continue;
            }
            let theirs = stored_pattern(other);
            if patterns.iter().any(|p| p.overlaps(&theirs)) {
                in_the_way.push(other);
            }
        }
        let taken_over = clear_the_way(tx, &holder, &in_the_way, request.take_over, cutoff)?;
        if holder.session.is_none() {
            let person = Registration {
                name: holder.agent.clone(),
                ..Registration::default()
            };
            agent::ensure(tx, &person, claimant.actor, now)?;
        }
        // The holder's expired claims go; one of a pattern asked again is replaced.
        let mine: Vec<&Claim> = stored.iter().filter(|c| holder.holds(c)).collect();
        for old in mine.iter().filter(|c| !c.in_force()) {
            tx.delete_claim(&old.id)?;
        }
        let mut ids = Vec::with_capacity(patterns.len());
        for pattern in &patterns {
            let same = mine
                .iter()
                .find(|c| c.in_force() && c.pattern == pattern.as_str());
            let id = match same {
                Some(old) => {
                    tx.update_claim(&old.id, mode, &reason, expires_at)?;
                    old.id.clone()
                }
                None => {
                    let made = Claim {
                        id: new_id(IdKind::Claim),
                        pattern: pattern.as_str().to_string(),
                        mode,
                        agent: holder.agent.clone(),
                        session: holder.session.clone(),
                        reason: reason.clone(),
                        created_at: now,
                        expires_at,
                        state: ClaimState::Active,
                        stale_reason: None,
                    };
                    tx.insert_claim(&made)?;
                    made.id
                }
            };
            ids.push(id);
        }
        let payload = ClaimsChanged {
            agent: holder.agent.clone(),
            session: holder.session.clone(),
            ids: ids.clone(),
            patterns: patterns.iter().map(|p| p.as_str().to_string()).collect(),
            expires_at: Some(expires_at),
            taken_over,
            why: None,
        };
        event::append(tx, Kind::ClaimMade, Some(claimant.actor), &payload, now)?;
        ids.iter().map(|id| fetch(tx, id, now, cutoff)).collect()
    })
}

/// Refuses the claims in the way, or, when every one is stale and `take_over` is asked
/// by someone allowed to, releases them and returns their ids.
fn clear_the_way(
    tx: &Tx<'_>,
    holder: &Holder,
    in_the_way: &[&Claim],
    take_over: bool,
    cutoff: Timestamp,
) -> Result<Vec<String>> {
    if in_the_way.is_empty() {
        return Ok(Vec::new());
    }
    let live: Vec<&&Claim> = in_the_way
        .iter()
        .filter(|c| c.state == ClaimState::Active)
        .collect();
    if !live.is_empty() {
        let listed: Vec<String> = live.iter().map(|c| format!("- {}", c.describe())).collect();
        return Err(Error::Conflict(format!(
            "already claimed by another live holder (exclusive claims admit no other claim; \
             shared ones admit only shared ones):\n{}\nWhat to do: message the holder \
             (message_send) to agree on who changes what, wait until they release or the \
             claim expires, claim a part nobody holds, or ask a human to release it.",
            listed.join("\n")
        )));
    }
    let listed: Vec<String> = in_the_way
        .iter()
        .map(|c| format!("- {}", c.describe()))
        .collect();
    let mut refused = Vec::new();
    for claim in in_the_way {
        if !may_take_over(tx, holder, claim, cutoff)? {
            refused.push(*claim);
        }
    }
    if !refused.is_empty() {
        let whom: Vec<String> = refused
            .iter()
            .map(|c| format!("'{}' ({})", c.agent, c.id))
            .collect();
        return Err(Error::Forbidden(format!(
            "claimed by a stale holder:\n{}\nA stale claim may be taken over only by a human \
             or by the holder's parent session, which you are not for {}. Ask a human (or \
             the lead that spawned it) to take it over or release it, message the holder, or \
             wait for the claim to expire.",
            listed.join("\n"),
            whom.join(", ")
        )));
    }
    if !take_over {
        return Err(Error::Conflict(format!(
            "claimed by a stale holder:\n{}\nYou may take it over: claim again with take_over \
             (its claims in the way are released, and the holder can see that in the event \
             log).",
            listed.join("\n")
        )));
    }
    let mut taken = Vec::with_capacity(in_the_way.len());
    for claim in in_the_way {
        tx.delete_claim(&claim.id)?;
        taken.push(claim.id.clone());
    }
    tell_holders(tx, &holder.agent, in_the_way, Lost::TakenOver)?;
    Ok(taken)
}

/// How a holder lost claims to someone else.
#[derive(Clone, Copy)]
enum Lost {
    /// Released by a human or the holder's parent.
    Released,
    /// Taken over, the holder being stale.
    TakenOver,
}

/// Tells each holder of `claims` other than `actor` that `actor` released or took over
/// their claims, so an agent that comes back learns it before editing those files.
fn tell_holders(tx: &Tx<'_>, actor: &str, claims: &[&Claim], lost: Lost) -> Result<()> {
    let lines: Vec<(&str, String)> = claims
        .iter()
        .map(|c| {
            let line = format!("- {} ({}): {}", c.pattern, c.id, c.reason);
            (c.agent.as_str(), line)
        })
        .collect();
    let notice = match lost {
        Lost::Released => HolderNotice {
            subject: "Your claims were released",
            intro: format!("{actor} released your claims:"),
            next: "Claim them again (claim_add) if you still need them, after checking with \
                   them."
                .into(),
        },
        Lost::TakenOver => HolderNotice {
            subject: "Your stale claims were taken over",
            intro: format!("{actor} took over your claims while your session was stale:"),
            next: "Before editing those files again, message them (message_send) to agree on \
                   who changes what."
                .into(),
        },
    };
    notify_holders(tx, actor, &lines, &notice)
}

/// A notice from Switchboard to holders about their claims: `intro`, a line per claim of
/// theirs, then `next` (what to do).
pub(crate) struct HolderNotice {
    /// The notice's subject.
    pub(crate) subject: &'static str,
    /// What happened, before the lines.
    pub(crate) intro: String,
    /// What to do, after the lines.
    pub(crate) next: String,
}

/// Sends `notice` to each holder in `lines` (a holder and a line about one of its
/// claims) other than `actor`, with that holder's lines, inside the caller's transaction:
/// who did something to claims hears nothing of it, the others once each.
pub(crate) fn notify_holders(
    tx: &Tx<'_>,
    actor: &str,
    lines: &[(&str, String)],
    notice: &HolderNotice,
) -> Result<()> {
    let mut holders: Vec<&str> = Vec::new();
    for (holder, _) in lines.iter().filter(|(h, _)| *h != actor) {
        if !holders.contains(holder) {
            holders.push(holder);
        }
    }
    let now = Timestamp::now();
    for holder in holders {
        let theirs: Vec<&str> = lines
            .iter()
            .filter(|(h, _)| *h == holder)
            .map(|(_, line)| line.as_str())
            .collect();
        let body = format!("{}\n{}\n{}", notice.intro, theirs.join("\n"), notice.next);
        crate::message::notice(
            tx,
            holder,
            notice.subject,
            &body,
            crate::message::Priority::Normal,
            Vec::new(),
            now,
        )?;
    }
    Ok(())
}

/// Whether `holder` may take over the stale `claim`: a human, or the holder's parent
/// session.
fn may_take_over(tx: &Tx<'_>, holder: &Holder, claim: &Claim, cutoff: Timestamp) -> Result<bool> {
    if is_human(&holder.agent) {
        return Ok(true);
    }
    let (Some(theirs), Some(mine)) = (&claim.session, &holder.session) else {
        return Ok(false);
    };
    let session = tx.fetch_session(theirs, cutoff)?;
    Ok(session.is_some_and(|s| s.parent.as_deref() == Some(mine.as_str())))
}

fn fetch(tx: &Tx<'_>, id: &str, now: Timestamp, cutoff: Timestamp) -> Result<Claim> {
    tx.fetch_claim(id, now, cutoff)?
        .ok_or_else(|| Error::NotFound {
            kind: Record::Claim,
            id: id.to_string(),
        })
}

/// The holder's claims `which` selects (expired ones too), or why there are none.
fn select(
    tx: &Tx<'_>,
    holder: &Holder,
    which: &Which,
    now: Timestamp,
    cutoff: Timestamp,
) -> Result<Vec<Claim>> {
    let mine = |tx: &Tx<'_>| -> Result<Vec<Claim>> {
        Ok(tx
            .list_claims(now, cutoff)?
            .into_iter()
            .filter(|c| holder.holds(c))
            .collect())
    };
    match which {
        Which::Id(id) => {
            let id = id::resolve(tx, IdKind::Claim, id)?;
            Ok(vec![fetch(tx, &id, now, cutoff)?])
        }
        Which::Pattern(text) => {
            let pattern = Pattern::parse(text)?;
            let mine = mine(tx)?;
            let found: Vec<Claim> = mine
                .iter()
                .filter(|c| c.pattern == pattern.as_str())
                .cloned()
                .collect();
            if found.is_empty() {
                let held: Vec<&str> = mine.iter().map(|c| c.pattern.as_str()).collect();
                let held = if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(", ")
                };
                return Err(Error::Invalid(format!(
                    "you hold no claim of '{}' (give a pattern as you claimed it); your claims: \
                     {held}",
                    pattern.as_str()
                )));
            }
            Ok(found)
        }
        Which::All => mine(tx),
    }
}

/// Renews claims of `claimant` (by id, pattern, or all of them): they expire `ttl`
/// ([`DEFAULT_TTL`] unless given, at most [`MAX_TTL`]) from now. Only the holder renews,
/// and only claims in force (an expired one is claimed again instead). Returns the
/// renewed claims; writes a `claim.renewed` event when there were any.
pub fn renew(
    store: &mut Store,
    claimant: &Claimant<'_>,
    which: &Which,
    ttl: Option<Duration>,
) -> Result<Vec<Claim>> {
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let now = Timestamp::now();
        let expires_at = expiry(ttl, now)?;
        let holder = holder(tx, claimant, cutoff)?;
        let selected = select(tx, &holder, which, now, cutoff)?;
        if let Some(other) = selected.iter().find(|c| !holder.holds(c)) {
            return Err(Error::Forbidden(format!(
                "only a claim's holder renews it, and {} is not yours: {}",
                other.id,
                other.describe()
            )));
        }
        let selected = match which {
            Which::All => selected.into_iter().filter(Claim::in_force).collect(),
            _ => selected,
        };
        if let Some(gone) = selected.iter().find(|c| !c.in_force()) {
            return Err(Error::Conflict(format!(
                "claim {} of {} expired at {}: claim the pattern again (others may have \
                 claimed it since)",
                gone.id,
                gone.pattern,
                gone.expires_at.to_rfc3339()
            )));
        }
        if selected.is_empty() {
            return Ok(Vec::new());
        }
        for claim in &selected {
            tx.update_claim(&claim.id, claim.mode, &claim.reason, expires_at)?;
        }
        let payload = changed(&holder, &selected, Some(expires_at), None);
        event::append(tx, Kind::ClaimRenewed, Some(claimant.actor), &payload, now)?;
        selected
            .iter()
            .map(|c| fetch(tx, &c.id, now, cutoff))
            .collect()
    })
}

/// Releases claims: by id (its holder, a human, or the agent of the holder's parent
/// session may), by pattern or all (the claimant's own). Returns the released claims as
/// they were; writes a `claim.released` event when there were any.
pub fn release(store: &mut Store, claimant: &Claimant<'_>, which: &Which) -> Result<Vec<Claim>> {
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let now = Timestamp::now();
        let selected = match which {
            Which::Id(_) => {
                agent::validate_name(claimant.actor)?;
                let me = Holder {
                    agent: claimant.actor.to_string(),
                    session: None,
                };
                let selected = select(tx, &me, which, now, cutoff)?;
                for claim in &selected {
                    may_release(tx, claimant.actor, claim)?;
                }
                selected
            }
            _ => select(tx, &holder(tx, claimant, cutoff)?, which, now, cutoff)?,
        };
        let Some(first) = selected.first() else {
            return Ok(Vec::new());
        };
        for claim in &selected {
            tx.delete_claim(&claim.id)?;
        }
        let owner = Holder {
            agent: first.agent.clone(),
            session: first.session.clone(),
        };
        let payload = changed(&owner, &selected, None, None);
        event::append(tx, Kind::ClaimReleased, Some(claimant.actor), &payload, now)?;
        let released: Vec<&Claim> = selected.iter().collect();
        tell_holders(tx, claimant.actor, &released, Lost::Released)?;
        Ok(selected)
    })
}

/// Refuses `actor` releasing `claim` unless it is the holder's agent (from any of its
/// sessions), a human, or the agent of the holder's parent session.
fn may_release(tx: &Tx<'_>, actor: &str, claim: &Claim) -> Result<()> {
    if is_human(actor) || claim.agent == actor {
        return Ok(());
    }
    let parent = match &claim.session {
        Some(session) => permission::parent_agent(tx, session)?,
        None => None,
    };
    if parent.as_deref() == Some(actor) {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "you ('{actor}') may not release {}: only its holder, the agent of its session's \
         parent or a human may. {}. Message the holder (message_send) to ask.",
        claim.id,
        claim.describe()
    )))
}

/// The event payload for `claims` of `holder`.
fn changed(
    holder: &Holder,
    claims: &[Claim],
    expires_at: Option<Timestamp>,
    why: Option<&str>,
) -> ClaimsChanged {
    ClaimsChanged {
        agent: holder.agent.clone(),
        session: holder.session.clone(),
        ids: claims.iter().map(|c| c.id.clone()).collect(),
        patterns: claims.iter().map(|c| c.pattern.clone()).collect(),
        expires_at,
        taken_over: Vec::new(),
        why: why.map(str::to_string),
    }
}

/// Claims in force (live or stale holders), oldest first; expired ones too when
/// `include_expired`.
pub fn list(store: &mut Store, include_expired: bool) -> Result<Vec<Claim>> {
    let cutoff = store.stale_cutoff();
    let now = Timestamp::now();
    let claims = store.read(|tx| tx.list_claims(now, cutoff))?;
    Ok(claims
        .into_iter()
        .filter(|c| include_expired || c.in_force())
        .collect())
}

/// The claims in force, compiled once: to ask which of them cover many paths.
pub fn index(store: &mut Store) -> Result<Index<Claim>> {
    let claims = list(store, false)?;
    Index::new(claims.into_iter().map(|c| (stored_pattern(&c), c)))
}

/// The claims in force that cover `path` (relative to the repository root), oldest
/// first: who claims a file, for who_has, the radar and the editor.
pub fn claims_on(store: &mut Store, path: &str) -> Result<Vec<Claim>> {
    let index = index(store)?;
    Ok(index
        .covering(path, &mut Vec::new())
        .into_iter()
        .cloned()
        .collect())
}

/// Which of `paths` other holders claim exclusively, one [`Conflict`] per claim (oldest
/// claim first) with the paths it covers: what the pre-commit guard refuses. `mine`'s
/// claims are left out: an agent's (those of its session, given by full id, and of its
/// other sessions, e.g. one it had before a restart) or a person's; `None` leaves out
/// nobody's. Stale holders' claims count (they still hold; see [`ClaimState::Stale`]).
/// Each claim's pattern is compiled once, so 10,000 paths against 100 claims is one
/// glob-set match per path.
pub fn check(
    store: &mut Store,
    paths: &[String],
    mine: Option<&Claimant<'_>>,
) -> Result<Vec<Conflict>> {
    let index = index(store)?;
    Ok(conflicts(&index, paths, mine))
}

/// [`check`] over an index already made.
pub fn conflicts(
    index: &Index<Claim>,
    paths: &[String],
    mine: Option<&Claimant<'_>>,
) -> Vec<Conflict> {
    let ours = |c: &Claim| match mine {
        Some(Claimant {
            actor,
            session: Some(session),
        }) => c.session.as_deref() == Some(*session) || c.agent == *actor,
        Some(Claimant {
            actor,
            session: None,
        }) => c.session.is_none() && c.agent == *actor,
        None => false,
    };
    let entries = index.entries();
    let mut found: Vec<Vec<String>> = vec![Vec::new(); entries.len()];
    let mut scratch = Vec::new();
    for path in paths {
        for at in index.positions(path, &mut scratch) {
            let claim = &entries[at];
            if claim.mode == Mode::Exclusive && !ours(claim) {
                found[at].push(path.clone());
            }
        }
    }
    index
        .entries()
        .iter()
        .zip(found)
        .filter(|(_, paths)| !paths.is_empty())
        .map(|(claim, paths)| Conflict {
            claim: claim.clone(),
            paths,
        })
        .collect()
}
