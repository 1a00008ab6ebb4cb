//! Genealogy: a session's origin, a set of sessions arranged as trees, and one whole
//! genealogy walked in the store (up to the root, then down through children and forks).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_TREE_DEPTH, MAX_TREE_DEPTH, MAX_TREE_NODES, Session, attach};
use crate::id::{self, IdKind};
use crate::{Error, Record, Result, Store};

/// One node of a genealogy, in pre-order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreeNode {
    /// 0 for the root.
    pub depth: u32,
    /// The session at this node, with its worktree and work summary.
    pub session: Session,
}

/// The whole genealogy a session belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionTree {
    /// Id of the topmost session reached going up from the focus (through parents, or the
    /// source of a fork without parent); not the true root when the walk was cut short.
    pub root: String,
    /// The session asked about.
    pub focus: String,
    /// Pre-order: every node is followed by its descendants; siblings oldest first.
    pub nodes: Vec<TreeNode>,
    /// The depth or size limit cut the genealogy short.
    pub truncated: bool,
}

/// A session and the sessions spawned or forked from it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SessionNode {
    /// A session of the arranged set.
    pub session: Session,
    /// Sessions of the set that came from this one (their parent, or for a session without
    /// parent the one it was forked from), oldest first.
    pub children: Vec<SessionNode>,
}

impl Session {
    /// The session this one came from: its parent, else the one it was forked from.
    pub fn origin(&self) -> Option<&str> {
        self.parent.as_deref().or(self.forked_from.as_deref())
    }
}

/// Arranges `sessions` (any set, say a page of the newest) as trees: each under the
/// session it came from ([`Session::origin`]) when that one is in the set; the others
/// are roots. Oldest first at every level. [`tree`] walks one whole genealogy in the
/// store by the same rule.
pub fn forest(mut sessions: Vec<Session>) -> Vec<SessionNode> {
    sessions.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    let present: std::collections::HashSet<String> =
        sessions.iter().map(|s| s.id.clone()).collect();
    let mut children: std::collections::HashMap<String, Vec<Session>> = Default::default();
    let mut roots = Vec::new();
    for s in sessions {
        match s
            .origin()
            .filter(|o| present.contains(*o))
            .map(str::to_string)
        {
            Some(origin) => children.entry(origin).or_default().push(s),
            None => roots.push(s),
        }
    }
    fn grow(
        s: Session,
        children: &mut std::collections::HashMap<String, Vec<Session>>,
    ) -> SessionNode {
        let kids = children.remove(&s.id).unwrap_or_default();
        SessionNode {
            children: kids.into_iter().map(|k| grow(k, children)).collect(),
            session: s,
        }
    }
    roots.into_iter().map(|r| grow(r, &mut children)).collect()
}

/// The genealogy of a session: walks up to its root (through parents, or `forked_from`
/// for a fork without parent), then down through children and forks, at most
/// `max_depth` levels each way.
pub fn tree(store: &mut Store, id_or_prefix: &str, max_depth: Option<u32>) -> Result<SessionTree> {
    let depth = crate::page::size(max_depth, DEFAULT_TREE_DEPTH, MAX_TREE_DEPTH, "max_depth")?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let focus = id::resolve(tx, IdKind::Session, id_or_prefix)?;
        let Some((root, up_levels)) = tx.session_root(&focus, depth)? else {
            return Err(Error::NotFound {
                kind: Record::Session,
                id: focus,
            });
        };
        let root_has_more = up_levels == depth && tx.session_has_origin(&root)?;
        let mut truncated = root_has_more;
        let mut nodes = Vec::new();
        for (level, mut session, has_children) in
            tx.session_descendants(&root, depth, MAX_TREE_NODES + 1, cutoff)?
        {
            if level == depth && has_children {
                truncated = true;
            }
            attach(tx, &mut session)?;
            nodes.push(TreeNode {
                depth: level,
                session,
            });
        }
        if nodes.len() > MAX_TREE_NODES as usize {
            nodes.truncate(MAX_TREE_NODES as usize);
            truncated = true;
        }
        Ok(SessionTree {
            root,
            focus,
            nodes,
            truncated,
        })
    })
}
