//! What one agent's connection keeps between calls — who it acts for, the checkout it
//! works from, idle store connections — and the [`State`] one call works on.
//!
//! No lock is held while a call runs: a call takes a snapshot of the identity and a store
//! connection of its own ([`Seat::begin`]), and gives them back when it ends
//! ([`Seat::finish`]). So a long call (a worktree's setup command, a merge) never blocks
//! the same agent's other calls or the change feed. A call that changes the identity
//! (`session_start`, a claim) writes it back; calls that did not change it leave any
//! change made meanwhile alone.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use switchboard_core::process::ProcessInfo;
use switchboard_core::session::{self, Session};
use switchboard_core::{Error, Pool, Store, worktree};

use crate::identity::Identity;

/// How often ordinary tool calls refresh the caller's last-seen time.
const TOUCH_INTERVAL: Duration = Duration::from_secs(10);

/// What one call works on: its own store connection and a snapshot of the identity.
pub(crate) struct State {
    pub store: Store,
    pub identity: Identity,
    pub process: ProcessInfo,
    /// The checkout this server was started in: the default base of new worktrees.
    pub checkout: PathBuf,
}

/// One agent's connection state, shared by its calls.
pub(crate) struct Seat {
    kept: Mutex<Kept>,
    process: ProcessInfo,
    stores: Pool,
}

struct Kept {
    identity: Identity,
    checkout: PathBuf,
    last_touch: Option<Instant>,
}

impl Seat {
    /// A seat acting for `identity`, with `store` as its first connection.
    pub(crate) fn new(
        store: Store,
        identity: Identity,
        process: ProcessInfo,
        checkout: PathBuf,
    ) -> Seat {
        Seat {
            stores: Pool::new(store),
            process,
            kept: Mutex::new(Kept {
                identity,
                checkout,
                last_touch: None,
            }),
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        // A panic inside a call poisons nothing we cannot keep using: this is plain data.
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who this seat acts for now.
    pub(crate) fn identity(&self) -> Identity {
        self.kept().identity.clone()
    }

    /// Uses `dir` as the checkout new worktrees start from.
    pub(crate) fn set_checkout(&self, dir: PathBuf) {
        self.kept().checkout = dir;
    }

    /// Claims an existing session for this seat's process and serves it from now on.
    /// The agent defaults to the session's own agent.
    pub(crate) fn claim(&self, id: &str) -> Result<Session, Error> {
        let mut state = self.begin()?;
        let before = state.identity.clone();
        let claim = session::Claim {
            agent: state.identity.agent.as_deref(),
            process: &state.process,
            intent: None,
            role: None,
        };
        let claimed = session::claim(&mut state.store, id, &claim);
        if let Ok(claimed) = &claimed {
            state.identity.agent = Some(claimed.agent.clone());
            state.identity.session = Some(claimed.id.clone());
        }
        self.finish(state, &before);
        claimed
    }

    /// Serves the session bound to the worktree this seat's checkout is in (see
    /// [`switchboard_core::worktree::bound_session`]), if there is one for its agent.
    pub(crate) fn claim_bound(&self) {
        let bound = self.begin().and_then(|mut state| {
            let (checkout, agent) = (state.checkout.clone(), state.identity.agent.clone());
            let bound = worktree::bound_session(&mut state.store, &checkout, agent.as_deref());
            let unchanged = state.identity.clone();
            self.finish(state, &unchanged);
            bound
        });
        match bound.and_then(|bound| bound.map(|id| self.claim(&id)).transpose()) {
            Ok(Some(claimed)) => {
                tracing::info!(session = %claimed.id, "serving the session bound to this worktree")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "not claiming this worktree's session"),
        }
    }

    /// The state for one call: an idle connection (or a new one) and a snapshot.
    pub(crate) fn begin(&self) -> Result<State, Error> {
        let (identity, checkout) = {
            let kept = self.kept();
            (kept.identity.clone(), kept.checkout.clone())
        };
        Ok(State {
            store: self.stores.take()?,
            identity,
            process: self.process.clone(),
            checkout,
        })
    }

    /// Ends a call begun with `before` as its identity: keeps an identity the call
    /// changed, refreshes the session's last-seen time when due, and keeps the connection
    /// for the next call.
    pub(crate) fn finish(&self, mut state: State, before: &Identity) {
        let due = {
            let mut kept = self.kept();
            if state.identity != *before {
                kept.identity = state.identity.clone();
            }
            let serving = state.identity.session.is_some() && state.identity.agent.is_some();
            let due = serving
                && kept
                    .last_touch
                    .is_none_or(|t| t.elapsed() >= TOUCH_INTERVAL);
            if due {
                kept.last_touch = Some(Instant::now());
            }
            due
        };
        if due {
            touch(&mut state);
        }
        self.stores.put(state.store);
    }
}

/// Refreshes the current session's last-seen time and work context.
fn touch(state: &mut State) {
    let (Some(id), Some(agent)) = (&state.identity.session, &state.identity.agent) else {
        return;
    };
    if let Err(e) = switchboard_core::worktree::refresh(&mut state.store, id, agent) {
        tracing::warn!(error = %e, session = %id, "could not refresh last-seen");
    }
}
