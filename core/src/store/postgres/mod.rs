//! The PostgreSQL backend: one server shared by every process on every host of a team.
//!
//! - **One schema per repository.** A repository's tables live in a schema of their own,
//!   named after its identity ([`schema_name`]); every connection sets its `search_path`
//!   to it, so the SQL is the same as for one repository alone and one database can hold
//!   many repositories. The tables, columns and records are those of the SQLite store
//!   (integers as `BIGINT`, text compared by prefix or sorted by name `COLLATE "C"`), so an
//!   export from one backend imports into the other.
//! - **Commit-ordered writes.** Every write transaction first takes the repository's
//!   transaction-scoped advisory lock ([`Db::transaction`]): writers of one repository
//!   take turns, as on SQLite, so sequence values (the event log's `seq`) are handed out
//!   and committed in the same order and a reader following `seq` skips nothing.
//! - **Wake-ups** by `LISTEN`/`NOTIFY`: a write ends with `pg_notify` on the repository's
//!   channel (delivered at commit, carrying no data); the change source ([`listen`]) holds
//!   a connection of its own that listens, and reconnects with back-off.
//! - Reads run in `REPEATABLE READ` transactions: one snapshot, as SQLite's readers.
//! - Migrations are numbered like SQLite's schema versions; the first one (11) creates
//!   what SQLite's eleven do, so both backends' stores of one version hold the same records.

use std::cell::RefCell;
use std::collections::HashMap;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Statement};

use io::wait;

use crate::clock::Timestamp;
use crate::{Error, Result};

mod agent;
mod archive;
mod claim;
mod error;
mod event;
mod group;
mod id;
mod integer;
mod io;
pub(crate) mod listen;
mod message;
mod session;
pub(crate) mod target;
mod token;
mod worktree;

pub(crate) use target::Target;

/// Forward-only migrations by schema version: each brings the schema to its version.
/// Versions match the SQLite store's; the first creates at once what SQLite's first
/// eleven did.
const MIGRATIONS: &[(i64, &str)] = &[
    (11, include_str!("migrations/011_baseline.sql")),
    (12, include_str!("migrations/012_hosts.sql")),
    (13, include_str!("migrations/013_claims.sql")),
];

/// The earliest schema version a new PostgreSQL store can be created at.
pub(crate) const BASELINE: i64 = MIGRATIONS[0].0;

/// The highest schema version this binary knows (the SQLite store's).
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATIONS[MIGRATIONS.len() - 1].0
}

/// What a transaction may do.
pub(crate) use super::sqlite::Access;

/// One connection to a repository's schema, configured and migrated.
pub(crate) struct Db {
    client: Client,
    target: Target,
    /// Statements prepared on this connection, by SQL text (a statement outlives the
    /// transaction it was prepared in).
    statements: RefCell<HashMap<String, Statement>>,
}

/// One transaction: the rows of [`crate::store::rows`] over SQL.
pub(crate) struct Tx<'a> {
    tx: tokio_postgres::Transaction<'a>,
    statements: &'a RefCell<HashMap<String, Statement>>,
}

/// Parameters of a statement.
pub(crate) type Params<'p> = [&'p (dyn ToSql + Sync)];

impl Tx<'_> {
    /// `sql` prepared once per connection.
    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = wait(self.tx.prepare(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// The rows `sql` returns.
    pub(crate) fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(wait(self.tx.query(&statement, params))?)
    }

    /// The one row `sql` returns, or `None` when it returns none.
    pub(crate) fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(wait(self.tx.query_opt(&statement, params))?)
    }

    /// The one row `sql` returns (an error when it returns none).
    pub(crate) fn query_one(&self, sql: &str, params: &Params<'_>) -> Result<Row> {
        let statement = self.statement(sql)?;
        Ok(wait(self.tx.query_one(&statement, params))?)
    }

    /// Runs `sql`; returns how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let statement = self.statement(sql)?;
        Ok(wait(self.tx.execute(&statement, params))?)
    }

    /// Runs statements without parameters (a migration, a setting).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        Ok(wait(self.tx.batch_execute(sql))?)
    }
}

impl Db {
    /// Connects to `target`'s server, creates the repository's schema if it is new, and
    /// migrates it.
    pub(crate) fn open(target: &Target) -> Result<Db> {
        Self::open_upto(target, supported_schema_version())
    }

    /// [`Db::open`], migrating no further than schema version `upto`.
    pub(crate) fn open_upto(target: &Target, upto: i64) -> Result<Db> {
        let mut db = Db {
            client: session(target)?,
            target: target.clone(),
            statements: RefCell::default(),
        };
        db.migrate(upto, Creation::IfMissing)?;
        Ok(db)
    }

    /// A new store at schema version `upto`: its schema is created by this call (an
    /// existing one, even one made a moment ago by another process, is a `Conflict`).
    pub(crate) fn create_upto(target: &Target, upto: i64) -> Result<Db> {
        let mut db = Db {
            client: session(target)?,
            target: target.clone(),
            statements: RefCell::default(),
        };
        db.migrate(upto, Creation::New)?;
        Ok(db)
    }

    /// A connection that works: this one, or a new one if the server closed it (a restart,
    /// a failover, an operator ending it). Prepared statements go with the old one.
    fn connected(&mut self) -> Result<&Client> {
        if self.client.is_closed() {
            tracing::info!(store = %self.target.display(), "reconnecting to the PostgreSQL store");
            self.client = session(&self.target)?;
            self.statements.borrow_mut().clear();
        }
        Ok(&self.client)
    }

    /// The server's version, as it reports it (`15.18 (Debian 15.18-0+deb12u1)`).
    pub(crate) fn server_version(&mut self) -> Result<String> {
        let row = wait(self.connected()?.query_one("SHOW server_version", &[]))?;
        Ok(row.get(0))
    }

    /// The schema version of the repository's schema (0 when it has none yet).
    pub(crate) fn schema_version(&mut self) -> Result<i64> {
        current_version(self.connected()?)
    }

    /// Runs `f` in one transaction; commits if it succeeds, rolls back if it fails. A
    /// write first takes the repository's writer lock (held until it ends), and tells
    /// listeners at commit.
    pub(crate) fn transaction<T>(
        &mut self,
        access: Access,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let isolation = match access {
            Access::Read => tokio_postgres::IsolationLevel::RepeatableRead,
            Access::Write => tokio_postgres::IsolationLevel::ReadCommitted,
        };
        self.connected()?;
        let Db {
            client,
            target,
            statements,
        } = self;
        let tx = wait(
            client
                .build_transaction()
                .isolation_level(isolation)
                .start(),
        )?;
        let tx = Tx { tx, statements };
        if let Access::Write = access {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&target.writer_lock()])?;
        }
        let value = f(&tx)?;
        if let Access::Write = access {
            tx.execute("SELECT pg_notify($1, '')", &[&target.channel()])?;
        }
        wait(tx.tx.commit())?;
        Ok(value)
    }

    fn migrate(&mut self, upto: i64, creation: Creation) -> Result<()> {
        let supported = supported_schema_version();
        let found = self.schema_version()?;
        if found > supported {
            return Err(self.too_new(found));
        }
        if found >= upto && creation == Creation::IfMissing {
            return Ok(());
        }
        let schema = quoted(&self.target.schema);
        let create = match creation {
            Creation::IfMissing => "CREATE SCHEMA IF NOT EXISTS",
            Creation::New => "CREATE SCHEMA",
        };
        let display = self.target.display();
        let migrated = self.transaction(Access::Write, |tx| {
            wait(tx.tx.batch_execute(&format!("{create} {schema}"))).map_err(|e| {
                if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_SCHEMA) {
                    Error::Conflict(format!("a store exists already at {display}"))
                } else {
                    e.into()
                }
            })?;
            tx.batch(
                "CREATE TABLE IF NOT EXISTS schema_version (
                     version    BIGINT PRIMARY KEY,
                     applied_at BIGINT NOT NULL
                 )",
            )?;
            // Another process may have migrated while this one waited for the lock.
            let found: i64 = tx
                .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
                .get(0);
            let pending = MIGRATIONS
                .iter()
                .filter(|(version, _)| *version > found && *version <= upto);
            for (version, sql) in pending {
                tx.batch(sql)?;
                tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                    &[version, &Timestamp::now().millis()],
                )?;
            }
            Ok(found)
        });
        match migrated {
            Ok(found) if found > supported => Err(self.too_new(found)),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn too_new(&self, found: i64) -> Error {
        Error::SchemaTooNew {
            path: self.target.display().into(),
            found,
            supported: supported_schema_version(),
        }
    }
}

/// Whether opening a store may create its schema, or must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Creation {
    /// Created if missing, else migrated (every process opening a store).
    IfMissing,
    /// Created by this call, never found (a new store to import into).
    New,
}

/// Settings of every connection to a store: its schema first in the search path, times in
/// UTC; plans that do not depend on bound values (every statement is a keyed lookup or a
/// page of an index: planning it again for each value, as PostgreSQL does for a prepared
/// statement's first executions and whenever it judges a custom plan cheaper, cost more
/// than running it; SQLite's stores ask the same of SQLite); and limits so that one stuck
/// client cannot stop everyone: a write waits at most 10 s for the repository's writer
/// lock (as SQLite's busy timeout), and a transaction left idle for a minute (its process
/// frozen or cut off) is ended by the server, which releases the lock.
fn session(target: &Target) -> Result<Client> {
    let client = target.connect()?;
    wait(client.batch_execute(&format!(
        "SET search_path TO {schema};
         SET TIME ZONE 'UTC';
         SET plan_cache_mode = force_generic_plan;
         SET lock_timeout = '10s';
         SET idle_in_transaction_session_timeout = '60s'",
        schema = quoted(&target.schema)
    )))?;
    Ok(client)
}

/// The schema version recorded in the repository's schema, 0 when there is none.
fn current_version(client: &Client) -> Result<i64> {
    let found = wait(client.query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[]))?;
    if !found.get::<_, bool>(0) {
        return Ok(0);
    }
    let row = wait(client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[]))?;
    Ok(row.get(0))
}

/// `name` quoted as an SQL identifier (names come from the schema or are checked).
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Removes `target`'s schema and everything in it, which this process just made and could
/// not fill (a failed import into a new store). A failure is only logged: the caller
/// reports what made it give up.
pub(crate) fn drop_schema(target: &Target) {
    let dropped = target.connect().and_then(|client| {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quoted(&target.schema));
        Ok(wait(client.batch_execute(&sql))?)
    });
    if let Err(e) = dropped {
        tracing::warn!(error = %e, schema = %target.schema, "cannot remove the new schema");
    }
}

/// Whether `target`'s schema holds a store (a migrated one, or one being migrated).
pub(crate) fn exists(target: &Target) -> Result<bool> {
    let client = target.connect()?;
    let table = format!("{}.schema_version", quoted(&target.schema));
    let row = wait(client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]))?;
    Ok(row.get(0))
}

/// Raw SQL for tests, the same on every backend (see `Store::sql_rows`).
#[cfg(test)]
impl Db {
    /// Runs `sql` (parameters `$1`, `$2`…) in a transaction of `access`; returns its rows
    /// as JSON values (integers, text, booleans, null).
    pub(crate) fn test_rows(
        &mut self,
        access: Access,
        sql: &str,
        params: &[serde_json::Value],
    ) -> Result<Vec<Vec<serde_json::Value>>> {
        use tokio_postgres::types::Type;
        self.transaction(access, |tx| {
            let statement = wait(tx.tx.prepare(sql))?;
            // Each value as the type the statement takes there (a null of that type).
            let params: Vec<Box<dyn ToSql + Sync>> = params
                .iter()
                .zip(statement.params())
                .map(|(p, wanted)| -> Box<dyn ToSql + Sync> {
                    let number = p.as_i64();
                    match (p, wanted) {
                        (_, &Type::INT4) => Box::new(number.and_then(|n| i32::try_from(n).ok())),
                        (_, &Type::INT8) => Box::new(number),
                        (serde_json::Value::Null, _) => Box::new(None::<String>),
                        (serde_json::Value::Number(n), _) => Box::new(n.as_i64()),
                        (serde_json::Value::String(s), _) => Box::new(s.clone()),
                        (other, _) => Box::new(other.to_string()),
                    }
                })
                .collect();
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
            let rows = wait(tx.tx.query(&statement, &refs))?;
            Ok(rows
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| match *row.columns()[i].type_() {
                            Type::INT8 => row.get::<_, Option<i64>>(i).into(),
                            Type::INT4 => row.get::<_, Option<i32>>(i).into(),
                            Type::BOOL => row.get::<_, Option<bool>>(i).into(),
                            _ => row.get::<_, Option<String>>(i).into(),
                        })
                        .collect()
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::store::story::{Backend, Scratch};

    /// A connection the server ends (a restart, a failover, an operator) is replaced at
    /// the next operation, which then works as if nothing happened.
    #[test]
    fn a_store_whose_connection_the_server_ended_reconnects_for_its_next_operation() {
        if !Backend::Postgres.available() {
            return;
        }
        let scratch = Scratch::new(Backend::Postgres);
        let (mut store, mut admin) = (scratch.open(), scratch.open());
        let backend = "SELECT pg_backend_pid()::bigint";
        let first = store.sql_value(backend, &[]).unwrap();
        admin
            .sql_rows(
                "SELECT pg_terminate_backend($1::int)",
                std::slice::from_ref(&first),
            )
            .unwrap();
        // The server's notice of the end reaches the client's connection task.
        std::thread::sleep(Duration::from_millis(200));
        let second = store.sql_value(backend, &[]).unwrap();
        assert_ne!(second, first, "a new connection serves the store");
        let reg = crate::agent::Registration {
            name: "ann".into(),
            ..Default::default()
        };
        crate::agent::register(&mut store, "ann", &reg).expect("writes work again");
        assert_eq!(crate::agent::list(&mut store).unwrap().len(), 1);
    }
}
