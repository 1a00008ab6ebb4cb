//! Claims for humans on the command line: claim, release and list, over the same core
//! functions as the MCP tools. A person holds claims in their own name
//! (`human:<git user.name>` unless `--as` says otherwise), not in a session.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use switchboard_core::claim::{self, ClaimRequest, Claimant, Which};
use switchboard_core::clock::Timestamp;
use switchboard_core::render;

use crate::Global;
use crate::commands::{open_store, print_json};
use crate::messages::Participant;

#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// Paths or gitignore-style globs, relative to the repository root (e.g. src/auth/**).
    #[arg(required = true, value_name = "PATTERN")]
    patterns: Vec<String>,
    /// Others may claim them shared too (default: exclusive).
    #[arg(long)]
    shared: bool,
    /// Why, in a few words others read when they are refused.
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// How long the claims last (e.g. 30m, 2h; default 1h, at most 24h).
    #[arg(long, value_name = "DURATION", value_parser = crate::parse_duration)]
    ttl: Option<Duration>,
    /// Take over the stale claims in the way.
    #[arg(long)]
    take_over: bool,
    #[command(flatten)]
    who: Participant,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Claim ids (clm_…, or a unique prefix) or patterns as they were claimed.
    #[arg(
        value_name = "ID|PATTERN",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    claims: Vec<String>,
    /// Release every claim of yours.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    who: Participant,
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Only the claims covering this path (relative to the repository root).
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn claim(global: &Global, args: ClaimArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let request = ClaimRequest {
        patterns: args.patterns,
        shared: args.shared,
        reason: args.reason,
        ttl: args.ttl,
        take_over: args.take_over,
    };
    let claimant = Claimant {
        actor: &me,
        session: None,
    };
    let made = claim::claim(&mut store, &claimant, &request)?;
    println!("{}", render::claimed(&made, Timestamp::now()));
    Ok(())
}

pub fn release(global: &Global, args: ReleaseArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let me = args.who.resolve(&mut store)?;
    let claimant = Claimant {
        actor: &me,
        session: None,
    };
    let which: Vec<Which> = if args.all {
        vec![Which::All]
    } else {
        args.claims
            .into_iter()
            .map(|given| {
                if given.starts_with("clm_") {
                    Which::Id(given)
                } else {
                    Which::Pattern(given)
                }
            })
            .collect()
    };
    // One release per id or pattern: what was released is said before a later one fails.
    for which in &which {
        let released = claim::release(&mut store, &claimant, which)?;
        println!("{}", render::released(&released));
    }
    Ok(())
}

pub fn claims(global: &Global, args: ClaimsArgs) -> Result<()> {
    let mut store = open_store(global)?;
    let list = match &args.path {
        Some(path) => claim::claims_on(&mut store, path)?,
        None => claim::list(&mut store, false)?,
    };
    if args.json {
        return print_json(&list);
    }
    println!("{}", render::claims(&list, Timestamp::now()));
    Ok(())
}
