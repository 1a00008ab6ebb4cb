//! Claims beside the work in worktrees: who claims a file and who is changing it
//! ([`who_has`]). (Which files a worktree changes that others claim is the worktree
//! module's question: `worktree::claimed_work`.)

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Claim, claims_on};
use crate::session::{self, Holder};
use crate::{Result, Store};

/// Who has a file: who claims it and who is changing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WhoHas {
    /// The path asked about, as given.
    pub path: String,
    /// Claims in force covering it, oldest first.
    pub claims: Vec<Claim>,
    /// Open sessions changing it, per their latest heartbeat.
    pub changing: Vec<Holder>,
}

/// Who claims `path` (repository-relative) and which open sessions are changing it.
pub fn who_has(store: &mut Store, path: &str) -> Result<WhoHas> {
    let changing = session::who_has(store, path)?;
    let claims = claims_on(store, &crate::input::repo_path(path)?)?;
    Ok(WhoHas {
        path: path.to_string(),
        claims,
        changing,
    })
}
