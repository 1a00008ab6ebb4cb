//! Resolving ids and unique id prefixes of every kind, in SQL.

use rusqlite::params;

use super::Tx;
use crate::Result;
use crate::id::IdKind;
use crate::store::rows::IdRows;
use crate::store::rows::id::table;

impl IdRows for Tx<'_> {
    fn ids_from(&self, kind: IdKind, prefix: &str, limit: usize) -> Result<Vec<String>> {
        // ULID characters are [0-9A-Z]; '~' sorts after all of them, bounding the range scan.
        let sql = format!(
            "SELECT id FROM {} WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
            table(kind)
        );
        let upper = format!("{prefix}~");
        let ids = self
            .tx
            .prepare_cached(&sql)?
            .query_map(params![prefix, upper, limit as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }
}
