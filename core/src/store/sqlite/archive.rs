//! Every record of the store, table by table, in SQL: what export reads and import writes.
//! A kind is a table of the same name; its fields are the table's columns, less the ones
//! derived from other tables ([`DERIVED`]), which an import computes again; its records
//! are the table's rows, less the ones every store is created with ([`SEEDED`]).

use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

use super::Tx;
use crate::store::rows::{ArchiveRows, Record};
use crate::{Error, Result};

/// Columns kept by triggers from other tables: never exported, recomputed on import.
const DERIVED: &[(&str, &str)] = &[("agents", "unread")];

/// Rows every store holds from its creation (the migrations write them): part of the
/// schema, not of the records, so neither exported nor counted.
const SEEDED: &[(&str, &str)] = &[("agents", "name = 'switchboard'")];

/// The condition that leaves out `table`'s seeded rows.
fn records_only(table: &str) -> String {
    SEEDED
        .iter()
        .find(|(t, _)| *t == table)
        .map_or_else(String::new, |(_, seeded)| format!(" WHERE NOT ({seeded})"))
}

/// Tables that hold no record of their own: derived indexes and bookkeeping.
#[cfg(test)]
const NOT_RECORDS: &[&str] = &["schema_version", "search_index", "messages_fts"];

impl Tx<'_> {
    /// The exported columns of `kind`, in table order; an unknown kind is `Invalid`.
    /// Asked once per record an import writes, so its statement is cached.
    fn record_columns(&self, kind: &str) -> Result<Vec<String>> {
        if !crate::archive::KINDS.contains(&kind) {
            return Err(Error::Invalid(format!("unknown kind of record '{kind}'")));
        }
        let mut statement = self
            .tx
            .prepare_cached("SELECT name FROM pragma_table_info(?1)")?;
        let columns = statement
            .query_map([kind], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(columns
            .into_iter()
            .filter(|c| !DERIVED.contains(&(kind, c.as_str())))
            .collect())
    }
}

impl Tx<'_> {
    /// How to order `table`'s rows as they were written: by rowid, or by primary key in a
    /// table without one (where no other order is kept).
    fn written_order(&self, table: &str) -> Result<String> {
        let without_rowid: bool = self.tx.query_row(
            "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if !without_rowid {
            return Ok("rowid".into());
        }
        let mut statement = self
            .tx
            .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?;
        let key = statement
            .query_map([table], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(key.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "))
    }
}

/// `name` quoted as an SQL identifier (names come from the schema, never from input).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn to_json(value: ValueRef<'_>, kind: &str, column: &str) -> Result<Value> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(text) => Value::String(text.to_string()),
            Err(_) => {
                return Err(Error::Internal(format!(
                    "{kind}.{column} holds text that is not UTF-8, which exports do not carry"
                )));
            }
        },
        ValueRef::Blob(_) => {
            return Err(Error::Internal(format!(
                "{kind}.{column} holds binary data, which exports do not carry"
            )));
        }
    })
}

fn to_sql(value: &Value, kind: &str, column: &str) -> Result<SqlValue> {
    Ok(match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => SqlValue::Integer(i),
            (None, Some(f)) => SqlValue::Real(f),
            _ => {
                return Err(Error::Invalid(format!(
                    "{kind}.{column}: {n} is out of range"
                )));
            }
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Array(_) | Value::Object(_) => {
            return Err(Error::Invalid(format!(
                "{kind}.{column} must be a number, text or null"
            )));
        }
    })
}

impl ArchiveRows for Tx<'_> {
    fn each_record(&self, kind: &str, f: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let columns = self.record_columns(kind)?;
        let list: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY {}",
            list.join(", "),
            quoted(kind),
            records_only(kind),
            self.written_order(kind)?
        );
        let mut statement = self.tx.prepare(&sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let mut record = Record::new();
            for (i, column) in columns.iter().enumerate() {
                record.insert(column.clone(), to_json(row.get_ref(i)?, kind, column)?);
            }
            f(record)?;
        }
        Ok(())
    }

    fn count_records(&self, kind: &str) -> Result<u64> {
        self.record_columns(kind)?;
        let sql = format!(
            "SELECT COUNT(*) FROM {}{}",
            quoted(kind),
            records_only(kind)
        );
        let count: i64 = self.tx.query_row(&sql, [], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn insert_record(&self, kind: &str, record: &Record) -> Result<()> {
        let columns = self.record_columns(kind)?;
        if let Some(unknown) = record.keys().find(|k| !columns.contains(k)) {
            return Err(Error::Invalid(format!(
                "a '{kind}' record has a field this version does not know: '{unknown}'"
            )));
        }
        let names: Vec<String> = record.keys().map(|k| quoted(k)).collect();
        let marks: Vec<String> = (1..=record.len()).map(|i| format!("?{i}")).collect();
        let values = record
            .iter()
            .map(|(column, value)| to_sql(value, kind, column))
            .collect::<Result<Vec<_>>>()?;
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(kind),
            names.join(", "),
            marks.join(", ")
        );
        self.tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, Some(text))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::Invalid(format!("a '{kind}' record was refused: {text}"))
                }
                other => other.into(),
            })?;
        Ok(())
    }

    fn start_import(&self) -> Result<()> {
        // Checked at commit instead: records of one kind may refer to a later kind's.
        self.tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        Ok(())
    }

    fn check_references(&self) -> Result<()> {
        let broken: Option<(String, i64)> = self.tx.query_row(
            "SELECT (SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1), \
                        (SELECT COUNT(*) FROM pragma_foreign_key_check)",
            [],
            |r| {
                Ok(r.get::<_, Option<String>>(0)?
                    .map(|t| (t, r.get::<_, i64>(1).unwrap_or(0))))
            },
        )?;
        if let Some((table, count)) = broken {
            return Err(Error::Invalid(format!(
                "{count} records refer to records the export does not hold (the first of them \
                 in '{table}'); nothing was imported"
            )));
        }
        Ok(())
    }

    fn finish_import(&self) -> Result<()> {
        self.tx.execute_batch(
            "UPDATE agents SET unread = (
                 SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                 WHERE d.recipient = agents.name AND d.read_at IS NULL AND m.deleted_at IS NULL
             );",
        )?;
        use crate::store::rows::MessageRows;
        self.index_messages_for_search()
    }
}

#[cfg(test)]
mod tests {
    use super::NOT_RECORDS;
    use crate::store::tests::temp_store;

    #[test]
    fn every_table_is_exported_or_derived() {
        let (_dir, mut store) = temp_store();
        let tables: Vec<String> = store
            .sql_read(|tx| {
                Ok(tx
                    .prepare(
                        "SELECT name FROM sqlite_master WHERE type = 'table' \
                         AND name NOT LIKE 'messages_fts_%' AND name NOT LIKE 'sqlite_%'",
                    )?
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .unwrap();
        for table in &tables {
            assert!(
                crate::archive::KINDS.contains(&table.as_str())
                    || NOT_RECORDS.contains(&table.as_str()),
                "table {table} is neither exported nor listed as derived"
            );
        }
        assert!(tables.len() > 10, "{tables:?}");
    }
}
