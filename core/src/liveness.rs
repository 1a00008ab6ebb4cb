//! When an open session is live, defined once: the process serving it (when one claimed
//! it) still runs, and it was seen within the stale window. Rust code asks
//! [`stale_reason`]; SQL asks the same function through `sb_live`, which the SQLite
//! store registers on every connection (its session rows write the condition), so a list
//! filtered in SQL and a session judged in Rust never disagree.

use crate::clock::Timestamp;
use crate::process;

/// Why an open session is stale, or `None` when it is live. `process` is the host and
/// pid of the process serving it, when one claimed it.
pub fn stale_reason(
    process: Option<(&str, u32)>,
    last_seen: Timestamp,
    cutoff: Timestamp,
) -> Option<String> {
    if let Some((host, pid)) = process
        && !process::is_alive(host, pid)
    {
        return Some(format!("process {pid} on {host} is gone"));
    }
    if last_seen < cutoff {
        return Some(format!("no heartbeat since {}", last_seen.to_rfc3339()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_and_rust_give_the_same_verdict() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::sqlite::register_live(&conn).unwrap();
        let me = crate::process::ProcessInfo::current();
        let cutoff = Timestamp(1_000);
        let cases: [(Option<(&str, u32)>, i64); 5] = [
            (None, 2_000),
            (None, 500),
            (Some((&me.host, me.pid)), 2_000),
            (Some((&me.host, me.pid)), 500),
            (Some((&me.host, u32::MAX - 1)), 2_000),
        ];
        for (process, seen) in cases {
            let rust = stale_reason(process, Timestamp(seen), cutoff).is_none();
            let sql: bool = conn
                .query_row(
                    "SELECT sb_live(?1, ?2, ?3, ?4)",
                    rusqlite::params![process.map(|p| p.0), process.map(|p| p.1), seen, cutoff.0],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(sql, rust, "{process:?} seen at {seen}");
        }
        assert!(stale_reason(None, Timestamp(2_000), cutoff).is_none());
        let gone = stale_reason(Some((&me.host, u32::MAX - 1)), Timestamp(2_000), cutoff);
        assert!(gone.unwrap().contains("is gone"));
    }
}
