//! The whole store as versioned JSON Lines: what `switchboard export` writes and
//! `switchboard import` reads. It is a backup that any version able to read its format
//! can load, and the way to move a repository's state from one store to another.
//!
//! Format version 1, one JSON object per line:
//! - first the header, `{"type":"switchboard-export","version":1,"schema":S,"exported_at":T}`
//!   (`S` is the store's schema version);
//! - then one line per record, `{"type":KIND,"record":{…}}`: kinds in [`KINDS`] order, the
//!   records of a kind in the order they were written. A record's fields are its stored
//!   columns: agents, sessions, threads, messages with their earlier versions
//!   (`message_versions`) and their recipients' states (`deliveries`), groups, worktree
//!   records and what they change, tokens (their hashes only, as stored), in-flight
//!   operations and the whole event log. What a store derives (unread counters, the search
//!   index) is left out and computed again on import;
//! - last, `{"type":"end","records":N}`, so that a file cut short is told from a whole one.
//!
//! An import is one transaction: it writes everything or, on the first problem, nothing.
//! It loads into an empty store unless told otherwise, and refuses a record it does not
//! know (a kind or a field from a newer version), naming every unknown kind, so nothing in
//! the file is dropped without the user knowing.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::Timestamp;
use crate::{Error, Result, Store};

/// The format version this binary writes and the newest it reads.
pub const FORMAT_VERSION: u64 = 1;

/// The header line's `type`.
const HEADER: &str = "switchboard-export";

/// Every kind of record, in the order an export writes them.
pub const KINDS: &[&str] = &[
    "agents",
    "groups",
    "group_members",
    "sessions",
    "worktrees",
    "threads",
    "messages",
    "message_versions",
    "deliveries",
    "shown",
    "work_context",
    "work_files",
    "tokens",
    "operations",
    "events",
];

/// What an export wrote or an import loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Records in all.
    pub records: u64,
    /// Records per kind (kinds with none left out).
    pub kinds: BTreeMap<String, u64>,
    /// The store's schema version.
    pub schema: i64,
}

impl Summary {
    fn count(&mut self, kind: &str) {
        self.records += 1;
        *self.kinds.entry(kind.to_string()).or_default() += 1;
    }
}

/// Writes every record of `store` to `out`, from one consistent snapshot.
pub fn export(store: &mut Store, out: &mut dyn Write) -> Result<Summary> {
    let schema = store.schema_version()?;
    let mut summary = Summary {
        schema,
        ..Summary::default()
    };
    let header = json!({"type": HEADER, "version": FORMAT_VERSION, "schema": schema,
                        "exported_at": Timestamp::now()});
    line(out, &header)?;
    store.read(|tx| {
        for kind in KINDS {
            tx.each_record(kind, &mut |record| {
                summary.count(kind);
                line(out, &json!({"type": kind, "record": record}))
            })?;
        }
        Ok(())
    })?;
    line(out, &json!({"type": "end", "records": summary.records}))?;
    out.flush()
        .map_err(|e| Error::io("cannot write the export", e))?;
    Ok(summary)
}

fn line(out: &mut dyn Write, value: &Value) -> Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
        .map_err(|e| Error::io("cannot write the export", e))
}

/// Loads an export from `input` into `store`, in one transaction. Unless `into_nonempty`,
/// a store that already holds records is refused.
pub fn import(store: &mut Store, input: &mut dyn BufRead, into_nonempty: bool) -> Result<Summary> {
    let schema = store.schema_version()?;
    let mut lines = Lines { input, number: 0 };
    check_header(lines.next_object()?.as_ref(), schema)?;
    store.write(|tx| {
        if !into_nonempty {
            refuse_nonempty(tx)?;
        }
        tx.start_import()?;
        let mut summary = Summary {
            schema,
            ..Summary::default()
        };
        let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
        let mut read = 0;
        loop {
            let Some(object) = lines.next_object()? else {
                return Err(Error::Invalid(format!(
                    "the export ends without its end line after {} records: it was cut short; \
                     nothing was imported",
                    read
                )));
            };
            let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
            if kind == "end" {
                lines.expect_end(&object, read)?;
                break;
            }
            read += 1;
            if !KINDS.contains(&kind) {
                *unknown.entry(kind.to_string()).or_default() += 1;
                continue;
            }
            let Some(Value::Object(record)) = object.get("record") else {
                return Err(lines.error("a record line has no \"record\" object"));
            };
            if unknown.is_empty() {
                tx.insert_record(kind, record)
                    .map_err(|e| lines.error(&e.to_string()))?;
                summary.count(kind);
            }
        }
        if !unknown.is_empty() {
            let listed: Vec<String> = unknown.iter().map(|(k, n)| format!("'{k}' ×{n}")).collect();
            return Err(Error::Invalid(format!(
                "the export holds records this version does not know ({}); nothing was imported: \
                 import it with the Switchboard version that wrote it, or a newer one",
                listed.join(", ")
            )));
        }
        tx.finish_import()?;
        Ok(summary)
    })
}

/// Refuses a store that holds any record, saying how many of each kind.
fn refuse_nonempty(tx: &crate::store::Tx<'_>) -> Result<()> {
    let mut held = Vec::new();
    for kind in KINDS {
        let n = tx.count_records(kind)?;
        if n > 0 {
            held.push(format!("{kind} {n}"));
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "this store already holds records ({}); import into a new store (`switchboard --db NEW.db \
         import FILE`), or pass --force to add the records to this one (one that exists already \
         stops the import, and nothing is written)",
        held.join(", ")
    )))
}

/// Checks the first line: an export, of a format version and schema this binary reads.
fn check_header(header: Option<&serde_json::Map<String, Value>>, schema: i64) -> Result<()> {
    let header = header.filter(|h| h.get("type").and_then(Value::as_str) == Some(HEADER));
    let Some(header) = header else {
        return Err(Error::Invalid(
            "this is not a Switchboard export: its first line is not the export header".into(),
        ));
    };
    let version = header.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version > FORMAT_VERSION {
        return Err(Error::Invalid(format!(
            "the export is in format version {version}, newer than this Switchboard reads \
             ({FORMAT_VERSION}); import it with a newer Switchboard"
        )));
    }
    let written_at = header.get("schema").and_then(Value::as_i64).unwrap_or(0);
    if written_at != schema {
        return Err(Error::Invalid(format!(
            "the export was written by a store at schema version {written_at} and this one is at \
             {schema}; import it with the Switchboard version that wrote it"
        )));
    }
    Ok(())
}

/// The input's lines, each one JSON object, numbered for errors.
struct Lines<'a> {
    input: &'a mut dyn BufRead,
    number: u64,
}

impl Lines<'_> {
    /// The next non-blank line as an object; `None` at the end of the input.
    fn next_object(&mut self) -> Result<Option<serde_json::Map<String, Value>>> {
        let mut text = String::new();
        loop {
            text.clear();
            self.number += 1;
            let read = self.input.read_line(&mut text).map_err(|e| {
                Error::io(format!("cannot read line {} of the export", self.number), e)
            })?;
            if read == 0 {
                return Ok(None);
            }
            if text.trim().is_empty() {
                continue;
            }
            return match serde_json::from_str(&text) {
                Ok(Value::Object(object)) => Ok(Some(object)),
                Ok(_) => Err(self.error("not a JSON object")),
                Err(e) => Err(self.error(&format!("not JSON ({e})"))),
            };
        }
    }

    /// Checks the end line's count against the records read.
    fn expect_end(&mut self, end: &serde_json::Map<String, Value>, read: u64) -> Result<()> {
        let said = end.get("records").and_then(Value::as_u64);
        if said != Some(read) {
            return Err(self.error(&format!(
                "the end line counts {} records but {read} came before it; nothing was imported",
                said.map_or("no".to_string(), |n| n.to_string())
            )));
        }
        if self.next_object()?.is_some() {
            return Err(self.error("there is more after the end line; nothing was imported"));
        }
        Ok(())
    }

    fn error(&self, what: &str) -> Error {
        Error::Invalid(format!("line {} of the export: {what}", self.number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{self, Author, Draft};
    use crate::session::{self, EndRequest, NewSession};
    use crate::store::tests::temp_store;

    fn by(agent: &str) -> Author {
        Author {
            agent: agent.into(),
            session: None,
        }
    }

    /// A store with a bit of everything: sessions (a subtask, one ended), a group, a
    /// thread with a reply, read and acknowledged mail, an edited and a deleted message,
    /// a token, and their events.
    fn lived_in() -> (switchboard_testutils::ScratchStore, Store) {
        let (dir, mut store) = temp_store();
        let lead = session::start(
            &mut store,
            &NewSession {
                agent: "lead".into(),
                intent: "plan".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let child = NewSession {
            agent: "ann".into(),
            intent: "review".into(),
            ..Default::default()
        };
        let ann = session::spawn(&mut store, &lead.id, &child, "lead").unwrap();
        crate::group::create(
            &mut store,
            "lead",
            "team",
            None,
            &["ann".into(), "lead".into()],
        )
        .unwrap();
        let draft = |to: &str, body: &str| Draft {
            to: vec![to.into()],
            body: body.into(),
            ..Default::default()
        };
        let first = message::send(&mut store, &by("lead"), &draft("@team", "hello")).unwrap();
        message::reply(&mut store, &by("ann"), &first.id, &draft("lead", "hi")).unwrap();
        let edited = message::send(&mut store, &by("lead"), &draft("ann", "typo")).unwrap();
        message::edit(&mut store, "lead", &edited.id, "fixed", None).unwrap();
        let gone = message::send(&mut store, &by("lead"), &draft("ann", "oops")).unwrap();
        message::delete(&mut store, "lead", &gone.id).unwrap();
        message::mark(&mut store, "ann", std::slice::from_ref(&first.id), true).unwrap();
        crate::token::create(
            &mut store,
            &crate::token::NewToken {
                agent: "ann",
                expires_in: None,
                label: Some("laptop"),
                created_by: "human:ada",
            },
        )
        .unwrap();
        session::end(&mut store, &ann.id, &EndRequest::default(), "ann").unwrap();
        (dir, store)
    }

    fn exported(store: &mut Store) -> String {
        let mut out = Vec::new();
        export(store, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The lines of an export after its header (whose time differs between exports).
    fn records(text: &str) -> Vec<&str> {
        text.lines().skip(1).collect()
    }

    #[test]
    fn an_export_loads_into_an_empty_store_and_exports_again_the_same() {
        let (_dir, mut store) = lived_in();
        let text = exported(&mut store);
        let (_other_dir, mut other) = temp_store();
        let loaded = import(&mut other, &mut text.as_bytes(), false).unwrap();
        assert_eq!(loaded.records as usize, records(&text).len() - 1);
        for kind in [
            "agents",
            "sessions",
            "groups",
            "messages",
            "message_versions",
            "deliveries",
            "tokens",
            "events",
        ] {
            assert!(
                loaded.kinds.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} in {loaded:?}"
            );
        }
        assert_eq!(records(&exported(&mut other)), records(&text));
        // What the store derives is in step: unread counters and the search index.
        for agent in ["ann", "lead"] {
            assert_eq!(
                message::unread(&mut other, agent).unwrap(),
                message::unread(&mut store, agent).unwrap(),
                "{agent}"
            );
        }
        let found = |store: &mut Store, words: &str| {
            message::search(store, "lead", words, &Default::default())
                .unwrap()
                .len()
        };
        assert_eq!(found(&mut other, "fixed"), 1);
        assert_eq!(
            found(&mut other, "oops"),
            0,
            "a deleted message stays out of search"
        );
        // The log goes on from where it was.
        let last = other.latest_event_seq().unwrap();
        message::send(
            &mut other,
            &by("lead"),
            &Draft {
                to: vec!["ann".into()],
                body: "after".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(other.latest_event_seq().unwrap() > last);
    }

    #[test]
    fn a_store_with_records_is_refused_unless_forced_and_a_clash_writes_nothing() {
        let (_dir, mut store) = lived_in();
        let text = exported(&mut store);
        let refused = import(&mut store, &mut text.as_bytes(), false).unwrap_err();
        assert!(matches!(refused, Error::Conflict(_)), "{refused}");
        assert!(refused.to_string().contains("--force"), "{refused}");
        let before = exported(&mut store);
        let clash = import(&mut store, &mut text.as_bytes(), true).unwrap_err();
        assert!(
            clash.to_string().contains("line 2 of the export"),
            "{clash}"
        );
        assert_eq!(
            records(&exported(&mut store)),
            records(&before),
            "nothing was written"
        );
    }

    #[test]
    fn unknown_kinds_cut_files_and_foreign_input_are_refused_with_nothing_written() {
        let (_dir, mut store) = lived_in();
        let text = exported(&mut store);
        let lines: Vec<&str> = text.lines().collect();
        let end = lines.len() - 1;
        let try_import = |input: String| {
            let (_d, mut target) = temp_store();
            let e = match import(&mut target, &mut input.as_bytes(), false) {
                Ok(done) => panic!("imported {done:?} from:\n{input}"),
                Err(e) => e.to_string(),
            };
            let empty = KINDS
                .iter()
                .all(|k| target.read(|tx| tx.count_records(k)).unwrap() == 0);
            assert!(empty, "nothing was written for: {e}");
            e
        };
        // Records from a newer version: every unknown kind is named with its count.
        let mut newer = lines[..end].to_vec();
        let claim = r#"{"type":"claims","record":{"path":"src/**"}}"#;
        newer.extend([claim, claim, r#"{"type":"end","records":0}"#]);
        let count = end - 1 + 2;
        let newer = newer
            .join("\n")
            .replace(r#""records":0"#, &format!(r#""records":{count}"#));
        let e = try_import(newer);
        assert!(e.contains("'claims' ×2"), "{e}");
        // A field from a newer version.
        let field = text.replacen(
            r#""intent":"plan""#,
            r#""intent":"plan","lease_until":5"#,
            1,
        );
        let e = try_import(field);
        assert!(e.contains("'lease_until'"), "{e}");
        // A file cut short, a count that does not match, not an export at all.
        let e = try_import(lines[..end].join("\n"));
        assert!(e.contains("cut short"), "{e}");
        let e = try_import(text.replace(&format!(r#""records":{}"#, end - 1), r#""records":1"#));
        assert!(e.contains("end line counts 1"), "{e}");
        let e = try_import("hello\n".into());
        assert!(e.contains("line 1"), "{e}");
        let e = try_import(text.replacen(r#""version":1"#, r#""version":2"#, 1));
        assert!(e.contains("newer"), "{e}");
    }
}
