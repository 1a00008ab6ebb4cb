//! Genealogy: a session's origin, a set of sessions arranged as trees, and one whole
//! genealogy walked in the store (up to the root, then down through children and forks).

use rusqlite::named_params;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    COLUMNS, DEFAULT_TREE_DEPTH, MAX_TREE_DEPTH, MAX_TREE_NODES, Session, attach, from_row,
};
use crate::id::{self, IdKind};
use crate::{Result, Store};

/// One node of a genealogy, in pre-order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreeNode {
    /// 0 for the root.
    pub depth: u32,
    pub session: Session,
}

/// The whole genealogy a session belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionTree {
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
    pub session: Session,
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
        let (root, up_levels): (String, u32) = tx
            .prepare_cached(
                "WITH RECURSIVE up (id, next, level) AS (
                     SELECT id, COALESCE(parent_id, forked_from), 0 FROM sessions WHERE id = :focus
                     UNION ALL
                     SELECT s.id, COALESCE(s.parent_id, s.forked_from), up.level + 1
                     FROM up CROSS JOIN sessions s ON s.id = up.next WHERE up.level < :depth
                 )
                 SELECT id, level FROM up ORDER BY level DESC LIMIT 1",
            )?
            .query_row(named_params! {":focus": focus, ":depth": depth}, |r| Ok((r.get(0)?, r.get(1)?)))?;
        let root_has_more: bool = up_levels == depth
            && tx
                .prepare_cached("SELECT COALESCE(parent_id, forked_from) IS NOT NULL FROM sessions WHERE id = ?1")?
                .query_row([&root], |r| r.get(0))?;
        let mut stmt = tx.prepare_cached(&format!(
            "WITH RECURSIVE down (id, level, path) AS (
                 SELECT id, 0, printf('%016d', rowid) FROM sessions WHERE id = :root
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || '/' || printf('%016d', s.rowid)
                 FROM down CROSS JOIN sessions s ON s.parent_id = down.id WHERE down.level < :depth
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || '/' || printf('%016d', s.rowid)
                 FROM down CROSS JOIN sessions s ON s.forked_from = down.id
                 WHERE s.parent_id IS NULL AND down.level < :depth
             )
             SELECT down.level, {cols},
                 EXISTS (SELECT 1 FROM sessions c WHERE c.parent_id = down.id)
                 OR EXISTS (SELECT 1 FROM sessions c WHERE c.forked_from = down.id AND c.parent_id IS NULL)
             FROM down CROSS JOIN sessions USING (id)
             ORDER BY down.path LIMIT :limit",
            cols = COLUMNS.split(", ").map(|c| format!("sessions.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let mut truncated = root_has_more;
        let mut nodes = Vec::new();
        let rows = stmt.query_map(
            named_params! {":root": root, ":depth": depth, ":limit": MAX_TREE_NODES + 1},
            |r| {
                let level: u32 = r.get(0)?;
                let session = from_row(r, 1, cutoff)?;
                let has_children: bool = r.get(14)?;
                Ok((level, session, has_children))
            },
        )?;
        for row in rows {
            let (level, session, has_children) = row?;
            if level == depth && has_children {
                truncated = true;
            }
            let mut session = session;
            attach(tx, &mut session)?;
            nodes.push(TreeNode { depth: level, session });
        }
        if nodes.len() > MAX_TREE_NODES as usize {
            nodes.truncate(MAX_TREE_NODES as usize);
            truncated = true;
        }
        Ok(SessionTree { root, focus, nodes, truncated })
    })
}
