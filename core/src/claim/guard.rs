//! The pre-commit guard's record: a commit that went through over other holders'
//! exclusive claims because its committer bypassed the guard. Which claims a commit
//! conflicts with is [`super::check`]; this only writes what was let through, so the
//! holders (and the humans watching) can see it in the event log.

use crate::agent;
use crate::clock::Timestamp;
use crate::event::{self, ClaimBypassed, Kind};
use crate::id::{self, IdKind};
use crate::{Result, Store};

use super::{Claimant, Conflict};

/// Records that `committer` (an agent in its session, or a person without one) committed
/// `staged` paths over `conflicts` with the guard bypassed: one `claim.bypassed` event
/// (the committer, the ids of the claims gone over, the number of staged paths; never a
/// path or file content), in one transaction. Nothing is written when `conflicts` is
/// empty: nothing was bypassed. A session given by a unique prefix is recorded by its
/// full id; an unknown one is refused.
pub fn record_bypass(
    store: &mut Store,
    committer: &Claimant<'_>,
    conflicts: &[Conflict],
    staged: usize,
) -> Result<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    agent::validate_name(committer.actor)?;
    store.write(|tx| {
        let session = committer
            .session
            .map(|s| id::resolve(tx, IdKind::Session, s))
            .transpose()?;
        let payload = ClaimBypassed {
            agent: committer.actor.to_string(),
            session,
            ids: conflicts.iter().map(|c| c.claim.id.clone()).collect(),
            staged: u64::try_from(staged).unwrap_or(u64::MAX),
        };
        let now = Timestamp::now();
        event::append(
            tx,
            Kind::ClaimBypassed,
            Some(committer.actor),
            &payload,
            now,
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::{self, ClaimRequest};
    use crate::event::Change;
    use crate::session::{self, NewSession, Session};

    fn start(store: &mut Store, agent: &str) -> Session {
        let new = NewSession {
            agent: agent.into(),
            intent: format!("{agent}'s work"),
            ..Default::default()
        };
        session::start(store, &new).unwrap()
    }

    fn of(s: &Session) -> Claimant<'_> {
        Claimant {
            actor: &s.agent,
            session: Some(&s.id),
        }
    }

    fn bypasses(store: &mut Store) -> Vec<(Option<String>, Change)> {
        store
            .events_after(0, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "claim.bypassed")
            .map(|e| (e.actor, e.change))
            .collect()
    }

    crate::every_backend! {
        fn a_bypass_is_one_event_naming_the_committer_and_the_claims_gone_over(backend) {
            let (_scratch, mut store) = scratch_store(backend);
            let ann = start(&mut store, "ann");
            let bob = start(&mut store, "bob");
            let request = ClaimRequest {
                patterns: vec!["src/**".into()],
                reason: "refactoring auth".into(),
                ..Default::default()
            };
            let made = claim::claim(&mut store, &of(&ann), &request).unwrap();
            let staged = ["src/x.rs".to_string(), "README.md".to_string()];
            let conflicts = claim::check(&mut store, &staged, Some(&of(&bob))).unwrap();
            assert_eq!(conflicts.len(), 1);

            record_bypass(&mut store, &of(&bob), &[], staged.len()).unwrap();
            assert!(bypasses(&mut store).is_empty(), "nothing bypassed, nothing written");

            // A session given by prefix is recorded by its full id.
            let prefix = &bob.id[..bob.id.len() - 2];
            let by_prefix = Claimant { actor: "bob", session: Some(prefix) };
            record_bypass(&mut store, &by_prefix, &conflicts, staged.len()).unwrap();
            let person = Claimant { actor: "human:ada", session: None };
            record_bypass(&mut store, &person, &conflicts, 1).unwrap();
            assert_eq!(
                bypasses(&mut store),
                [
                    (
                        Some("bob".to_string()),
                        Change::ClaimBypassed(ClaimBypassed {
                            agent: "bob".into(),
                            session: Some(bob.id.clone()),
                            ids: vec![made[0].id.clone()],
                            staged: 2,
                        })
                    ),
                    (
                        Some("human:ada".to_string()),
                        Change::ClaimBypassed(ClaimBypassed {
                            agent: "human:ada".into(),
                            session: None,
                            ids: vec![made[0].id.clone()],
                            staged: 1,
                        })
                    ),
                ]
            );
            assert!(Change::ClaimBypassed(ClaimBypassed {
                agent: "bob".into(),
                session: None,
                ids: Vec::new(),
                staged: 0,
            })
            .topics()
            .is_empty());

            let unknown = Claimant { actor: "bob", session: Some("ses_01NOSUCHSESSION") };
            assert!(record_bypass(&mut store, &unknown, &conflicts, 1).is_err());
            let bad = Claimant { actor: "Not A Name", session: None };
            assert!(record_bypass(&mut store, &bad, &conflicts, 1).is_err());
            assert_eq!(bypasses(&mut store).len(), 2, "a refused record writes nothing");
        }
    }
}
