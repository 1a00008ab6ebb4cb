//! The claim tools: advisory reservations of paths or globs, held in the caller's
//! session (see [`switchboard_core::claim`] for the rules and the refusal texts).

use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::claim::{self, Claim, ClaimRequest, Claimant, ReleaseRequest};
use switchboard_core::clock::Timestamp;
use switchboard_core::{Error, render};

use crate::args::Args;
use crate::reply::Render;
use crate::schema;
use crate::server::{Identity, SwitchboardServer};
use crate::views;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ClaimListArgs {
    /// Only those covering this path.
    pub path: Option<String>,
}

/// The claims just made or renewed.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Claimed {
    #[serde(serialize_with = "views::claims_made")]
    #[schemars(with = "Vec<views::ClaimMade>")]
    pub claims: Vec<Claim>,
}

/// The claims just released.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Released {
    #[serde(serialize_with = "views::claim_refs")]
    #[schemars(with = "Vec<views::ClaimRef>")]
    pub released: Vec<Claim>,
}

/// Claims in force.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClaimList {
    #[serde(serialize_with = "views::claim_lines")]
    #[schemars(with = "Vec<views::ClaimLine>")]
    pub claims: Vec<Claim>,
}

impl Render for Claimed {
    fn render(&self) -> String {
        render::claimed(&self.claims, Timestamp::now())
    }
}

impl Render for Released {
    fn render(&self) -> String {
        render::released(&self.released)
    }
}

impl Render for ClaimList {
    fn render(&self) -> String {
        render::claims(&self.claims, Timestamp::now())
    }
}

/// The caller as a claimant: its agent, in its current session (if any: the core
/// says what to do without one).
fn claimant(identity: &Identity) -> Result<Claimant<'_>, Error> {
    Ok(Claimant {
        actor: identity.agent()?,
        session: identity.session.as_deref(),
    })
}

#[tool_router(router = claim_tools, vis = "pub(crate)")]
impl SwitchboardServer {
    /// Claim files before editing (exclusive unless shared); claim again to renew. Refused, naming the holder, if another holds an overlap.
    #[tool(
        input_schema = schema::input::<ClaimRequest>(),
        output_schema = schema::output::<Claimed>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn claim_add(&self, Args(request): Args<ClaimRequest>) -> CallToolResult {
        self.run(move |st| {
            let who = claimant(&st.identity)?;
            let claims = claim::claim(&mut st.store, &who, &request)?;
            Ok(Claimed { claims })
        })
        .await
    }

    /// Release your claims by id, pattern or all (they also end with your session).
    #[tool(
        input_schema = schema::input::<ReleaseRequest>(),
        output_schema = schema::output::<Released>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn claim_release(&self, Args(request): Args<ReleaseRequest>) -> CallToolResult {
        self.run(move |st| {
            let which = request.which()?;
            let who = claimant(&st.identity)?;
            let released = claim::release(&mut st.store, &who, &which)?;
            Ok(Released { released })
        })
        .await
    }

    /// Claims in force: who holds what, why, until when; stale = holder silent.
    #[tool(
        input_schema = schema::input::<ClaimListArgs>(),
        output_schema = schema::output::<ClaimList>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn claim_list(&self, Args(args): Args<ClaimListArgs>) -> CallToolResult {
        self.run(move |st| {
            let claims = match &args.path {
                Some(path) => claim::claims_on(&mut st.store, path)?,
                None => claim::list(&mut st.store, false)?,
            };
            Ok(ClaimList { claims })
        })
        .await
    }
}
