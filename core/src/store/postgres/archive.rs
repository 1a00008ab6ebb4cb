//! Every record of the store, table by table, in SQL: what export reads and import writes.
//! A kind is a table of the same name in the repository's schema; its fields are the
//! table's columns in the catalog's order, less the ones derived from other tables
//! ([`DERIVED`]) and the generated ones (the search vector, sessions' `rowid`), which the
//! store computes again; its records are the table's rows, less the ones every store is
//! created with ([`SEEDED`]). Values are integers (`BIGINT`), text or null, written as
//! SQLite's export writes them, so an export from either backend imports into the other.
//!
//! PostgreSQL keeps no order of insertion: records come in primary-key order. That is the
//! order they were written for the event log and messages (`seq`), and SQLite's order for
//! the tables it keys alone (`WITHOUT ROWID`); the others (agents, sessions, groups,
//! tokens…) come by name or id, where SQLite gives them in insertion order, so an export
//! from each backend holds the same records but not always in the same order.

use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{Tx, quoted};
use crate::error::StoreFailure;
use crate::store::rows::{ArchiveRows, Record};
use crate::{Error, Result};

/// Columns kept by triggers from other tables: never exported, recomputed on import.
const DERIVED: &[(&str, &str)] = &[("agents", "unread")];

/// Rows every store holds from its creation (the migrations write them): part of the
/// schema, not of the records, so neither exported nor counted.
const SEEDED: &[(&str, &str)] = &[("agents", "name = 'switchboard'")];

/// Records read per statement by [`ArchiveRows::each_record`], so that an export holds
/// one page of a table in memory, not the whole table (a few under test, so that every
/// test's export reads several pages).
const PAGE: i64 = if cfg!(test) { 3 } else { 1000 };

/// The condition that keeps `table`'s records and leaves out its seeded rows.
fn records_only(table: &str) -> String {
    SEEDED
        .iter()
        .find(|(t, _)| *t == table)
        .map_or_else(|| "TRUE".into(), |(_, seeded)| format!("NOT ({seeded})"))
}

/// Tables that hold no record of their own: bookkeeping.
#[cfg(test)]
const NOT_RECORDS: &[&str] = &["schema_version"];

/// How a column's values are stored, and so carried in a record.
#[derive(Clone, Copy)]
enum Form {
    /// `BIGINT`: a JSON integer.
    Integer,
    /// `TEXT`: a JSON string.
    Text,
}

/// One exported column of a kind.
struct Column {
    name: String,
    form: Form,
}

/// A value bound to a statement's parameter.
type Param = Box<dyn ToSql + Sync>;

impl Tx<'_> {
    /// The exported columns of `kind`, in table order; an unknown kind is `Invalid`, a
    /// column of a type records do not carry is `Internal`. Asked once per record an
    /// import writes, so it reads the catalog itself (many times faster than
    /// `information_schema.columns`, which holds the same) with a cached statement.
    fn record_columns(&self, kind: &str) -> Result<Vec<Column>> {
        if !crate::archive::KINDS.contains(&kind) {
            return Err(Error::Invalid(format!("unknown kind of record '{kind}'")));
        }
        let rows = self.query(
            "SELECT a.attname::text, format_type(a.atttypid, NULL)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
               AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''
             ORDER BY a.attnum",
            &[&kind],
        )?;
        rows.iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .filter(|(name, _)| !DERIVED.contains(&(kind, name.as_str())))
            .map(|(name, ty)| {
                let form = match ty.as_str() {
                    "bigint" => Form::Integer,
                    "text" => Form::Text,
                    _ => {
                        return Err(Error::Internal(format!(
                            "{kind}.{name} is of type {ty}, which exports do not carry"
                        )));
                    }
                };
                Ok(Column { name, form })
            })
            .collect()
    }

    /// `table`'s primary key, its columns in key order: the order its records are read in.
    fn written_order(&self, table: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT a.attname::text
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
               AND c.relname = $1 AND i.indisprimary
             ORDER BY k.n",
            &[&table],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Why [`ArchiveRows::check_references`] failed: how many references have no record,
    /// and the first kind (in export order) holding one. `refused` is the server's own
    /// account, given when no reference can be pinned down.
    fn broken_references(&self, refused: &str) -> Result<Error> {
        let keys = self.query(
            "SELECT child.relname::text, parent.relname::text,
                    ARRAY(SELECT a.attname::text FROM unnest(f.conkey) WITH ORDINALITY AS k (attnum, n)
                          JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum
                          ORDER BY k.n),
                    ARRAY(SELECT a.attname::text FROM unnest(f.confkey) WITH ORDINALITY AS k (attnum, n)
                          JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum
                          ORDER BY k.n)
             FROM pg_constraint f
             JOIN pg_class child ON child.oid = f.conrelid
             JOIN pg_class parent ON parent.oid = f.confrelid
             WHERE f.contype = 'f'
               AND f.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
             ORDER BY f.conname",
            &[],
        )?;
        let mut broken: Vec<(usize, String, i64)> = Vec::new();
        for key in &keys {
            let (child, parent): (String, String) = (key.get(0), key.get(1));
            let (from, to): (Vec<String>, Vec<String>) = (key.get(2), key.get(3));
            // A reference with a null column refers to nothing (MATCH SIMPLE).
            let set = from
                .iter()
                .map(|c| format!("c.{} IS NOT NULL", quoted(c)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let matched = from
                .iter()
                .zip(&to)
                .map(|(c, p)| format!("p.{} = c.{}", quoted(p), quoted(c)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let count: i64 = self
                .query_one(
                    &format!(
                        "SELECT COUNT(*) FROM {} c WHERE {set} AND NOT EXISTS \
                         (SELECT FROM {} p WHERE {matched})",
                        quoted(&child),
                        quoted(&parent)
                    ),
                    &[],
                )?
                .get(0);
            if count > 0 {
                let place = crate::archive::KINDS
                    .iter()
                    .position(|k| *k == child)
                    .unwrap_or(usize::MAX);
                broken.push((place, child, count));
            }
        }
        let count: i64 = broken.iter().map(|(_, _, n)| n).sum();
        Ok(match broken.iter().min_by_key(|(place, _, _)| *place) {
            Some((_, table, _)) => Error::Invalid(format!(
                "{count} records refer to records the export does not hold (the first of them \
                 in '{table}'); nothing was imported"
            )),
            None => Error::Invalid(format!(
                "records refer to records the export does not hold ({refused}); nothing was \
                 imported"
            )),
        })
    }
}

/// The value of `column`, the `i`th of `row`, as a record carries it.
fn to_json(row: &Row, i: usize, column: &Column) -> Result<Value> {
    Ok(match column.form {
        Form::Integer => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::from),
        Form::Text => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::String),
    })
}

/// `row`, read with `columns`, as a record.
fn to_record(row: &Row, columns: &[Column]) -> Result<Record> {
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| Ok((column.name.clone(), to_json(row, i, column)?)))
        .collect()
}

/// The values of `row`'s key, the columns at `places` of `columns`, as parameters.
fn key_of(row: &Row, places: &[usize], columns: &[Column]) -> Result<Vec<Param>> {
    places
        .iter()
        .map(|&i| -> Result<Param> {
            Ok(match columns[i].form {
                Form::Integer => Box::new(row.try_get::<_, Option<i64>>(i)?),
                Form::Text => Box::new(row.try_get::<_, Option<String>>(i)?),
            })
        })
        .collect()
}

/// `value`, a record's field for `column` of `kind`, as a parameter of that column's type:
/// an integer (or a JSON boolean, as 0 or 1) or null for `BIGINT`, text or null for `TEXT`.
fn to_sql(value: &Value, kind: &str, column: &Column) -> Result<Param> {
    let name = &column.name;
    Ok(match (column.form, value) {
        (Form::Integer, Value::Null) => Box::new(None::<i64>),
        (Form::Integer, Value::Bool(b)) => Box::new(i64::from(*b)),
        (Form::Integer, Value::Number(n)) => match n.as_i64() {
            Some(i) => Box::new(i),
            None => {
                return Err(Error::Invalid(format!(
                    "{kind}.{name}: {n} is not an integer in range"
                )));
            }
        },
        (Form::Integer, _) => {
            return Err(Error::Invalid(format!(
                "{kind}.{name} must be an integer or null"
            )));
        }
        (Form::Text, Value::Null) => Box::new(None::<String>),
        (Form::Text, Value::String(s)) => Box::new(s.clone()),
        (Form::Text, _) => {
            return Err(Error::Invalid(format!(
                "{kind}.{name} must be text or null"
            )));
        }
    })
}

/// `params` as a statement takes them.
fn bound(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl ArchiveRows for Tx<'_> {
    fn each_record(&self, kind: &str, f: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let columns = self.record_columns(kind)?;
        let key = self.written_order(kind)?;
        let places = key
            .iter()
            .map(|k| {
                columns.iter().position(|c| c.name == *k).ok_or_else(|| {
                    Error::Internal(format!("{kind}.{k} is part of its key but not exported"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let list: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
        let order: Vec<String> = key.iter().map(|k| quoted(k)).collect();
        let (list, order) = (list.join(", "), order.join(", "));
        let select = format!(
            "SELECT {list} FROM {} WHERE {}",
            quoted(kind),
            records_only(kind)
        );
        // The first page, then each page after the last key read (keyset pagination).
        let first = format!("{select} ORDER BY {order} LIMIT $1");
        let marks: Vec<String> = (2..key.len() + 2).map(|i| format!("${i}")).collect();
        let next = format!(
            "{select} AND ({order}) > ({}) ORDER BY {order} LIMIT $1",
            marks.join(", ")
        );
        let mut after: Option<Vec<Param>> = None;
        loop {
            let rows = match &after {
                None => self.query(&first, &[&PAGE])?,
                Some(last) => {
                    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&PAGE];
                    params.extend(bound(last));
                    self.query(&next, &params)?
                }
            };
            for row in &rows {
                f(to_record(row, &columns)?)?;
            }
            // A short page is the last one.
            let Some(last) = rows.last().filter(|_| rows.len() as i64 == PAGE) else {
                return Ok(());
            };
            after = Some(key_of(last, &places, &columns)?);
        }
    }

    fn count_records(&self, kind: &str) -> Result<u64> {
        self.record_columns(kind)?;
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {}",
            quoted(kind),
            records_only(kind)
        );
        let count: i64 = self.query_one(&sql, &[])?.get(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn insert_record(&self, kind: &str, record: &Record) -> Result<()> {
        let columns = self.record_columns(kind)?;
        let values = record
            .iter()
            .map(
                |(field, value)| match columns.iter().find(|c| c.name == *field) {
                    Some(column) => to_sql(value, kind, column),
                    None => Err(Error::Invalid(format!(
                        "a '{kind}' record has a field this version does not know: '{field}'"
                    ))),
                },
            )
            .collect::<Result<Vec<_>>>()?;
        let names: Vec<String> = record.keys().map(|k| quoted(k)).collect();
        let marks: Vec<String> = (1..=record.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(kind),
            names.join(", "),
            marks.join(", ")
        );
        self.execute(&sql, &bound(&values)).map_err(|e| match e {
            Error::Store(e) if e.failure == StoreFailure::Constraint => {
                Error::Invalid(format!("a '{kind}' record was refused: {}", e.message))
            }
            other => other,
        })?;
        Ok(())
    }

    fn start_import(&self) -> Result<()> {
        // Checked when asked (or at commit) instead: records of one kind may refer to a
        // later kind's. Every foreign key of the schema is DEFERRABLE.
        self.batch("SET CONSTRAINTS ALL DEFERRED")
    }

    fn check_references(&self) -> Result<()> {
        // The server checks every deferred reference now; on a refusal the savepoint keeps
        // the transaction usable to count what is missing.
        self.batch("SAVEPOINT check_references")?;
        match self.batch("SET CONSTRAINTS ALL IMMEDIATE") {
            Ok(()) => self.batch("RELEASE SAVEPOINT check_references"),
            Err(Error::Store(e)) if e.failure == StoreFailure::Constraint => {
                self.batch("ROLLBACK TO SAVEPOINT check_references")?;
                Err(self.broken_references(&e.message)?)
            }
            Err(e) => Err(e),
        }
    }

    fn finish_import(&self) -> Result<()> {
        // Unread counters as the triggers keep them: unread deliveries of live messages.
        self.batch(
            "UPDATE agents SET unread = (
                 SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                 WHERE d.recipient = agents.name AND d.read_at IS NULL AND m.deleted_at IS NULL
             )",
        )?;
        // Sequences past the largest imported value, so that later rows get new ones.
        let serials = self.query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'
             ORDER BY table_name, column_name",
            &[],
        )?;
        for serial in &serials {
            let (table, column): (String, String) = (serial.get(0), serial.get(1));
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({}), 0) + 1, false) \
                 FROM {}",
                quoted(&column),
                quoted(&table)
            );
            self.query_one(&sql, &[&quoted(&table), &column])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::NOT_RECORDS;
    use crate::archive::tests::{exported, lived_in, records};
    use crate::archive::{KINDS, check, import};
    use crate::message;
    use crate::store::postgres::{Access, Db, Target};
    use crate::store::story::{Backend, scratch_store};
    use crate::{Result, Store};

    /// [`records`] in a fixed order: the same records, whatever order they were read in.
    fn sorted(text: &str) -> Vec<&str> {
        let mut lines = records(text);
        lines.sort_unstable();
        lines
    }

    fn load(store: &mut Store, text: &str) {
        import(store, check(&mut text.as_bytes()).unwrap(), false).unwrap();
    }

    #[test]
    fn an_export_goes_from_sqlite_to_postgres_and_back_unchanged() {
        if !Backend::Postgres.available() {
            return;
        }
        let (_first, mut sqlite) = lived_in(Backend::Sqlite);
        // A worktree and its work context recorded on a host (schema 12's columns).
        let lead = sqlite
            .sql_value("SELECT id FROM sessions WHERE agent = 'lead'", &[])
            .unwrap();
        for sql in [
            "INSERT INTO worktrees (name, repo, path, branch, base_commit, base_ref, session_id, \
             port, ports, created_by, created_at, host) VALUES ('w', '/r', '/r/.worktrees/w', \
             'sb/w', 'abc', 'main', $1, 41000, 10, 'lead', 1, 'build-2')",
            "INSERT INTO work_context (session_id, worktree, branch, head, unmerged, updated_at, \
             host) VALUES ($1, 'w', 'sb/w', 'abc', 0, 2, 'build-2')",
        ] {
            sqlite.sql_rows(sql, std::slice::from_ref(&lead)).unwrap();
        }
        let from_sqlite = exported(&mut sqlite);
        assert!(from_sqlite.contains(r#""host":"build-2""#), "{from_sqlite}");
        assert!(
            from_sqlite.contains(r#""type":"claims""#),
            "a claim goes across too: {from_sqlite}"
        );
        let (_second, mut postgres) = scratch_store(Backend::Postgres);
        load(&mut postgres, &from_sqlite);
        let from_postgres = exported(&mut postgres);
        let (_third, mut back) = scratch_store(Backend::Sqlite);
        load(&mut back, &from_postgres);
        let from_back = exported(&mut back);

        // The same records of every kind. SQLite reads a table without a key of its own
        // (agents, sessions, tokens…) in insertion order and PostgreSQL in key order, so
        // the first export's records may come in another order within a kind.
        assert_eq!(sorted(&from_postgres), sorted(&from_sqlite));
        assert!(records(&from_sqlite).len() > 20, "{from_sqlite}");
        // A store loaded from PostgreSQL's export holds its records in that order.
        assert_eq!(records(&from_back), records(&from_postgres));
        // What each store derives is in step.
        for agent in ["ann", "lead"] {
            let unread = message::unread(&mut sqlite, agent).unwrap();
            assert_eq!(
                message::unread(&mut postgres, agent).unwrap(),
                unread,
                "{agent}"
            );
            assert_eq!(
                message::unread(&mut back, agent).unwrap(),
                unread,
                "{agent}"
            );
        }
    }

    #[test]
    fn every_table_is_exported_or_bookkeeping() {
        if !Backend::Postgres.available() {
            return;
        }
        let server = switchboard_testutils::ScratchPostgres::new().expect("a PostgreSQL server");
        let target = Target::new(server.url(), server.repository()).unwrap();
        let mut db = Db::open(&target).unwrap();
        let tables: Vec<String> = db
            .transaction(Access::Read, |tx| -> Result<Vec<String>> {
                let rows = tx.query(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = current_schema()",
                    &[],
                )?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            })
            .unwrap();
        for table in &tables {
            assert!(
                KINDS.contains(&table.as_str()) || NOT_RECORDS.contains(&table.as_str()),
                "table {table} is neither exported nor listed as bookkeeping"
            );
        }
        for kind in KINDS {
            assert!(tables.iter().any(|t| t == kind), "no table for {kind}");
        }
    }
}
