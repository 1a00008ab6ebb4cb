//! Who calls a shared server (`switchboard serve`): the auth layer puts the [`Caller`] of
//! each request, decided by its bearer token, into the request's extensions; [`Callers`]
//! keeps one [`Seat`] per token, so an agent's current session survives across its
//! requests and connections, in both protocol eras.

use std::collections::HashMap;
use std::path::PathBuf;

use std::sync::{Arc, Mutex};

use switchboard_core::process::ProcessInfo;
use switchboard_core::{Error, Settings, Store, StoreAddress};

use crate::identity::Identity;
use crate::seat::Seat;
use crate::server::Hub;

/// The authenticated caller of one HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's id (`tok_…`), never its secret.
    pub token: String,
    /// The agent the token stands for.
    pub agent: String,
}

/// Everything the connections of one shared server have in common.
pub(crate) struct Callers {
    store: StoreAddress,
    settings: Settings,
    process: ProcessInfo,
    checkout: PathBuf,
    pub hub: Hub,
    /// The state of a connection before a request binds it; it acts for nobody.
    pub anonymous: Arc<Seat>,
    seats: Mutex<HashMap<String, Arc<Seat>>>,
}

impl Callers {
    /// Shares the store at `store` among every caller of this process; new worktrees start
    /// from `checkout`'s HEAD.
    pub fn new(
        store: StoreAddress,
        settings: Settings,
        checkout: PathBuf,
    ) -> Result<Callers, Error> {
        let process = ProcessInfo::current();
        let first = Store::open_at(&store, settings.clone())?;
        let hub = Hub::new(&store, settings.clone());
        let anonymous = Seat::new(
            first,
            Identity::default(),
            process.clone(),
            checkout.clone(),
        );
        Ok(Callers {
            store,
            settings,
            process,
            checkout,
            hub,
            anonymous: Arc::new(anonymous),
            seats: Mutex::default(),
        })
    }

    /// The state of `caller`'s token, created on its first request: it acts for the
    /// token's agent and remembers the session that agent started through it.
    pub fn seat_for(&self, caller: &Caller) -> Result<Arc<Seat>, Error> {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(seat) = seats.get(&caller.token) {
            return Ok(seat.clone());
        }
        let store = Store::open_at(&self.store, self.settings.clone())?;
        let identity = Identity::named(caller.agent.clone());
        let seat = Seat::new(store, identity, self.process.clone(), self.checkout.clone());
        seat.claim_bound();
        let seat = Arc::new(seat);
        seats.insert(caller.token.clone(), seat.clone());
        Ok(seat)
    }
}
