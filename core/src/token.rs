//! Bearer tokens for the shared HTTP server: each token stands for one agent, so the
//! server knows who is calling from the token alone, never from what the client claims.
//!
//! A secret is `sbt_` followed by 64 hex digits (256 random bits from the OS). Only its
//! SHA-256 is stored; the secret is returned once, by [`create`]. Revocation and expiry
//! take effect on the next request: [`authenticate`] reads the row every time.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::agent::{self, Registration};
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::id::{self, IdKind, new_id};
use crate::store::Tx;
use crate::{Error, Result, Store};

/// What every secret starts with, so leaked tokens are recognisable (secret scanners).
pub const SECRET_PREFIX: &str = "sbt_";
const SECRET_BYTES: usize = 32;
const MAX_LABEL_LEN: usize = 200;
/// `last_used_at` is rewritten at most this often, so requests rarely write.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

/// Whether a token still opens the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Neither revoked nor past its expiry: requests with it are accepted.
    Active,
    /// Past `expires_at` (and not revoked): refused; create a new token.
    Expired,
    /// Revoked (whether or not also expired): refused for good.
    Revoked,
}

impl TokenState {
    /// The state at `now` of a token that expires at `expires_at` and was revoked at
    /// `revoked_at`.
    pub(crate) fn at(
        expires_at: Option<Timestamp>,
        revoked_at: Option<Timestamp>,
        now: Timestamp,
    ) -> TokenState {
        if revoked_at.is_some() {
            TokenState::Revoked
        } else if expires_at.is_some_and(|t| t <= now) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
}

/// A token as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Token {
    /// Token id, `tok_` and a ULID; not the secret, safe to show.
    pub id: String,
    /// The agent every request with this token acts as.
    pub agent: String,
    /// Free text from its creator saying what it is for (at most 200 characters); `None`
    /// when none was given.
    pub label: Option<String>,
    /// Participant name of whoever created it.
    pub created_by: String,
    /// When it was created (RFC 3339 UTC).
    pub created_at: Timestamp,
    /// When it stops working (RFC 3339 UTC); `None`: it never expires.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked (RFC 3339 UTC); `None`: not revoked.
    pub revoked_at: Option<Timestamp>,
    /// When a request last used it (RFC 3339 UTC), noted at most once a minute; `None`:
    /// never used.
    pub last_used_at: Option<Timestamp>,
    /// Whether it is accepted at the time it was read, from `revoked_at` and `expires_at`.
    pub state: TokenState,
}

/// A new token and its secret, which is not stored and cannot be shown again.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Issued {
    /// The token as it is listed from now on.
    pub token: Token,
    /// The bearer secret, `sbt_` and 64 hex digits: shown this once, only its hash is kept.
    pub secret: String,
}

/// What [`create`] needs.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// Participant name the token acts as; registered if it is new.
    pub agent: &'a str,
    /// `None`: the token never expires.
    pub expires_in: Option<Duration>,
    /// What the token is for, at most 200 characters; `None` for no label.
    pub label: Option<&'a str>,
    /// Who creates it (recorded, and the event's actor).
    pub created_by: &'a str,
}

/// Creates a token for `new.agent` (registering the agent if it is new) and returns its
/// secret. The row and a `token.created` event are written in one transaction.
pub fn create(store: &mut Store, new: &NewToken<'_>) -> Result<Issued> {
    agent::validate_name(new.agent)?;
    if let Some(label) = new.label
        && label.chars().count() > MAX_LABEL_LEN
    {
        return Err(Error::Invalid(format!(
            "the label is longer than {MAX_LABEL_LEN} characters; shorten it"
        )));
    }
    let secret = new_secret()?;
    let now = Timestamp::now();
    let expires_at = new
        .expires_in
        .map(|d| Timestamp(now.millis().saturating_add(millis(d))));
    let id = new_id(IdKind::Token);
    let token = store.write(|tx| {
        let registration = Registration {
            name: new.agent.to_string(),
            ..Registration::default()
        };
        agent::ensure(tx, &registration, new.created_by, now)?;
        let row = Token {
            id: id.clone(),
            agent: new.agent.to_string(),
            label: new.label.map(str::to_string),
            created_by: new.created_by.to_string(),
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            state: TokenState::Active,
        };
        tx.insert_token(&row, &hash(&secret))?;
        let payload = event::TokenChanged {
            id: id.clone(),
            agent: new.agent.to_string(),
            expires_at,
        };
        event::append(tx, Kind::TokenCreated, Some(new.created_by), &payload, now)?;
        fetch(tx, &id, now)
    })?;
    Ok(Issued { token, secret })
}

/// Every token, newest first; revoked and expired ones only when `all`.
pub fn list(store: &mut Store, all: bool) -> Result<Vec<Token>> {
    let now = Timestamp::now();
    store.read(|tx| {
        let tokens = tx.list_tokens(now)?;
        Ok(tokens
            .into_iter()
            .filter(|t| all || t.state == TokenState::Active)
            .collect())
    })
}

/// Revokes a token (id or unique prefix) for good; `by` is recorded as the actor.
/// Revoking a revoked token changes nothing and is not an error.
pub fn revoke(store: &mut Store, id_or_prefix: &str, by: &str) -> Result<Token> {
    let now = Timestamp::now();
    store.write(|tx| {
        let id = id::resolve(tx, IdKind::Token, id_or_prefix)?;
        if tx.revoke_token(&id, now)? {
            let agent = tx.fetch_token_agent(&id)?.ok_or_else(|| not_found(&id))?;
            let payload = event::TokenChanged {
                id: id.clone(),
                agent,
                expires_at: None,
            };
            event::append(tx, Kind::TokenRevoked, Some(by), &payload, now)?;
        }
        fetch(tx, &id, now)
    })
}

/// How many tokens are active now.
pub fn active_count(store: &mut Store) -> Result<usize> {
    Ok(list(store, false)?.len())
}

/// The active token whose secret is `secret`, or [`Error::Unauthorized`] saying why not
/// and what to do. Notes the time of use (at most once a minute, so most calls only read).
pub fn authenticate(store: &mut Store, secret: &str) -> Result<Token> {
    let now = Timestamp::now();
    let digest = hash(secret.trim());
    let found = store.read(|tx| tx.fetch_token_by_hash(&digest, now))?;
    let token = found.ok_or_else(|| {
        Error::Unauthorized(
            "the bearer token is not known here: a token belongs to the repository whose \
             `switchboard serve` it was created for, so create one in this repository with \
             `switchboard token create --agent <name>`; also check that you copied the whole \
             'sbt_…' secret"
                .into(),
        )
    })?;
    match token.state {
        TokenState::Active => {}
        TokenState::Revoked => {
            return Err(Error::Unauthorized(format!(
                "token {} (agent '{}') was revoked: create a new one with \
                 `switchboard token create --agent {}`",
                token.id, token.agent, token.agent
            )));
        }
        TokenState::Expired => {
            return Err(Error::Unauthorized(format!(
                "token {} (agent '{}') expired: create a new one with \
                 `switchboard token create --agent {} --expires <e.g. 30d>`",
                token.id, token.agent, token.agent
            )));
        }
    }
    let due = token
        .last_used_at
        .is_none_or(|t| now.millis() - t.millis() >= millis(LAST_USED_RESOLUTION));
    if due {
        store.write(|tx| tx.touch_token(&token.id, now))?;
    }
    Ok(token)
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        kind: crate::error::Record::Token,
        id: id.to_string(),
    }
}

fn fetch(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<Token> {
    tx.fetch_token(id, now)?.ok_or_else(|| not_found(id))
}

fn new_secret() -> Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::Conflict(format!(
            "the operating system gave no random bytes ({e}); try again"
        ))
    })?;
    Ok(format!("{SECRET_PREFIX}{}", hex(&bytes)))
}

fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(store: &mut Store, agent: &str, expires_in: Option<Duration>) -> Issued {
        create(
            store,
            &NewToken {
                agent,
                expires_in,
                label: Some("ci"),
                created_by: "human:ada",
            },
        )
        .unwrap()
    }

    crate::every_backend! {
        fn a_secret_authenticates_as_its_agent_and_only_its_hash_is_stored(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let issued = issue(&mut store, "claude", None);
            assert!(issued.secret.starts_with(SECRET_PREFIX));
            assert_eq!(issued.secret.len(), SECRET_PREFIX.len() + 2 * SECRET_BYTES);
            let token = authenticate(&mut store, &issued.secret).unwrap();
            assert_eq!(
                (token.agent.as_str(), token.state),
                ("claude", TokenState::Active)
            );
            assert!(
                token.last_used_at.is_none(),
                "the row read before the use is noted"
            );
            let stored = store.sql_value("SELECT hash FROM tokens", &[]).unwrap();
            let stored = stored.as_str().unwrap();
            assert_ne!(stored, issued.secret);
            assert!(!stored.contains(&issued.secret[SECRET_PREFIX.len()..]));
            let listed = list(&mut store, false).unwrap();
            assert!(listed[0].last_used_at.is_some(), "use is recorded");
            let agents = agent::list(&mut store).unwrap();
            assert!(
                agents.iter().any(|a| a.name == "claude"),
                "the agent is registered"
            );
        }
    }

    crate::every_backend! {
        fn unknown_revoked_and_expired_tokens_are_refused_with_what_to_do(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let unknown = authenticate(&mut store, "sbt_nope").unwrap_err();
            assert!(matches!(unknown, Error::Unauthorized(_)));
            assert!(unknown.to_string().contains("switchboard token create"));

            let revoked = issue(&mut store, "codex", None);
            let token = revoke(&mut store, &revoked.token.id, "human:ada").unwrap();
            assert_eq!(token.state, TokenState::Revoked);
            let again = revoke(&mut store, &revoked.token.id, "human:ada").unwrap();
            assert_eq!(
                again.revoked_at, token.revoked_at,
                "revoking twice changes nothing"
            );
            let err = authenticate(&mut store, &revoked.secret).unwrap_err();
            assert!(err.to_string().contains("was revoked"), "{err}");

            let expired = issue(&mut store, "gemini", Some(Duration::ZERO));
            let err = authenticate(&mut store, &expired.secret).unwrap_err();
            assert!(err.to_string().contains("expired"), "{err}");

            assert_eq!(active_count(&mut store).unwrap(), 0);
            assert_eq!(list(&mut store, true).unwrap().len(), 2);
        }
    }

    crate::every_backend! {
        fn creation_validates_and_writes_events(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let bad = create(
                &mut store,
                &NewToken {
                    agent: "Not A Name",
                    expires_in: None,
                    label: None,
                    created_by: "human:ada",
                },
            );
            assert!(matches!(bad, Err(Error::Invalid(_))));
            let issued = issue(&mut store, "claude", Some(Duration::from_secs(3600)));
            revoke(&mut store, &issued.token.id[..8], "human:ada").unwrap();
            let kinds: Vec<String> = store
                .events_after(0, 100)
                .unwrap()
                .into_iter()
                .map(|e| e.kind)
                .filter(|k| k.starts_with("token."))
                .collect();
            assert_eq!(
                kinds,
                [Kind::TokenCreated.as_str(), Kind::TokenRevoked.as_str()]
            );
        }
    }
}
