//! The whole store as versioned JSON Lines: what `switchboard export` writes and
//! `switchboard import` reads. It is a backup that any version able to read its format
//! can load, and the way to move a repository's state from one store to another.
//!
//! Format version 1, one JSON object per line:
//! - first the header, `{"type":"switchboard-export","version":1,"schema":S,"exported_at":T}`
//!   (`S` is the store's schema version);
//! - then one line per record, `{"type":KIND,"record":{…}}`: kinds in [`KINDS`] order, the
//!   records of a kind in the order they were written. A record's fields are its stored
//!   columns: agents, sessions, claims on paths, threads, messages with their earlier versions
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
use std::io::{BufRead, Seek, Write};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::Timestamp;
use crate::{Error, Result, Settings, Store, StoreAddress};

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
    "claims",
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

/// Kinds that a store has only from a schema version on (earlier stores have no such
/// records, and an export from them none of these lines).
const SINCE: &[(&str, i64)] = &[("claims", 13)];

/// The kinds a store at `schema` holds, in [`KINDS`] order.
fn kinds_at(schema: i64) -> impl Iterator<Item = &'static str> {
    KINDS.iter().copied().filter(move |kind| {
        SINCE
            .iter()
            .all(|(since, version)| since != kind || schema >= *version)
    })
}

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
        for kind in kinds_at(schema) {
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
    let written = serde_json::to_writer(&mut *out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
    written.map_err(|e| Error::io("cannot write the export", e))
}

/// An export read whole and checked, kept in a private temporary file until it is loaded:
/// [`check`] reads the input without touching any store, so a slow or endless input never
/// holds up writers, and a bad file is refused before a store is even opened.
pub struct Checked {
    /// The record lines, one JSON object each, in the order read.
    records: std::fs::File,
    /// The schema version the export was written at.
    schema: i64,
    /// Records per kind.
    counted: Summary,
}

impl Checked {
    /// What the export holds: records in all and per kind, and its schema version.
    pub fn summary(&self) -> &Summary {
        &self.counted
    }
}

/// Reads `input` to its end and checks it is a whole export this version reads: the
/// header first, every line a record of a known kind, and an end line counting them.
/// Records of kinds this version does not know are named, with their counts.
pub fn check(input: &mut dyn BufRead) -> Result<Checked> {
    let mut lines = Lines { input, number: 0 };
    let schema = check_header(lines.next_object()?.as_ref())?;
    let mut records = tempfile::tempfile()
        .map_err(|e| Error::io("cannot make a temporary file for the import", e))?;
    let mut counted = Summary {
        schema,
        ..Summary::default()
    };
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut read = 0;
    loop {
        let Some(object) = lines.next_object()? else {
            return Err(Error::Invalid(format!(
                "the export ends without its end line after {read} records: it was cut short"
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
        if !matches!(object.get("record"), Some(Value::Object(_))) {
            return Err(lines.error("a record line has no \"record\" object"));
        }
        counted.count(kind);
        serde_json::to_writer(&mut records, &object)?;
        records
            .write_all(b"\n")
            .map_err(|e| Error::io("cannot write the temporary file for the import", e))?;
    }
    if !unknown.is_empty() {
        let listed: Vec<String> = unknown.iter().map(|(k, n)| format!("'{k}' ×{n}")).collect();
        return Err(Error::Invalid(format!(
            "the export holds records this version does not know ({}): import it with the \
             Switchboard version that wrote it, or a newer one",
            listed.join(", ")
        )));
    }
    Ok(Checked {
        records,
        schema,
        counted,
    })
}

/// Loads a checked export into `store`, in one transaction: everything or, on the first
/// problem, nothing. Unless `into_nonempty`, a store that already holds records is
/// refused. The export must be of the store's schema version; [`import_new`] loads one
/// from an earlier version.
pub fn import(store: &mut Store, checked: Checked, into_nonempty: bool) -> Result<Summary> {
    let schema = store.schema_version()?;
    if checked.schema != schema {
        return Err(Error::Invalid(format!(
            "the export was written at schema version {} and this store is at {schema}: load \
             it into a new store instead (`switchboard --db NEW.db import FILE`), which is made \
             at the export's version and then brought up to date",
            checked.schema
        )));
    }
    load(store, checked, into_nonempty, Finish::Now)
}

/// Whether [`load`] brings derived state in step at once, or leaves that to a caller
/// that first migrates the store.
#[derive(Clone, Copy, PartialEq)]
enum Finish {
    Now,
    Later,
}

/// Loads a checked export into a new store at `address` (where no store is yet): a store
/// at the schema version the export was written at, then migrated to this version's as a
/// store of that age would be, so an export from any earlier version loads (through a
/// temporary SQLite store, where the backend cannot start that early). On failure the new
/// store is removed; nothing else is touched.
pub fn import_new(address: &StoreAddress, settings: Settings, checked: Checked) -> Result<Summary> {
    if address.exists()? {
        return Err(Error::Conflict(format!(
            "a store exists already at {address}: import into it, or name a new one"
        )));
    }
    let supported = crate::store::supported_schema_version();
    if checked.schema < 1 || checked.schema > supported {
        return Err(Error::Invalid(format!(
            "the export was written at schema version {}, and this Switchboard reads versions \
             1 to {supported}; import it with a newer Switchboard",
            checked.schema
        )));
    }
    if checked.schema < address.earliest_schema() {
        return import_through_file(address, settings, checked);
    }
    // Made here, or refused: a failure below removes only what this call made.
    let mut store = Store::create_at_schema(address, settings.clone(), checked.schema)?;
    let loaded = (|| {
        let summary = load(&mut store, checked, false, Finish::Later)?;
        drop(store);
        let mut store = Store::open_at(address, settings)?;
        store.write(|tx| tx.finish_import())?;
        Ok(summary)
    })();
    if loaded.is_err() {
        Store::discard_new(address);
    }
    loaded
}

/// [`import_new`] of an export older than `address`'s backend can start at: loaded and
/// migrated in a temporary SQLite store first, then exported again at this version's
/// schema and loaded from there.
fn import_through_file(
    address: &StoreAddress,
    settings: Settings,
    checked: Checked,
) -> Result<Summary> {
    let scratch =
        tempfile::tempdir().map_err(|e| Error::io("cannot create a temporary directory", e))?;
    let file = StoreAddress::file(scratch.path().join("state.db"));
    import_new(&file, settings.clone(), checked)?;
    let mut spool =
        tempfile::tempfile().map_err(|e| Error::io("cannot create a temporary file", e))?;
    {
        let mut out = std::io::BufWriter::new(&mut spool);
        export(&mut Store::open_at(&file, settings.clone())?, &mut out)?;
        out.flush()
            .map_err(|e| Error::io("cannot write a temporary file", e))?;
    }
    spool
        .rewind()
        .map_err(|e| Error::io("cannot read a temporary file", e))?;
    let checked = check(&mut std::io::BufReader::new(spool))?;
    import_new(address, settings, checked)
}

/// Writes a checked export's records into `store` in one transaction (see [`import`]).
fn load(
    store: &mut Store,
    checked: Checked,
    into_nonempty: bool,
    finish: Finish,
) -> Result<Summary> {
    let Checked {
        mut records,
        counted,
        ..
    } = checked;
    records
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::io("cannot read the temporary file for the import", e))?;
    let mut lines = Lines {
        input: &mut std::io::BufReader::new(records),
        number: 0,
    };
    let schema = store.schema_version()?;
    store.write(|tx| {
        if !into_nonempty {
            refuse_nonempty(tx, schema)?;
        }
        tx.start_import()?;
        while let Some(object) = lines.next_object()? {
            let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
            let Some(Value::Object(record)) = object.get("record") else {
                continue;
            };
            tx.insert_record(kind, record).map_err(|e| {
                let at = lines.number;
                Error::Invalid(format!(
                    "record {at} (line {} of the export): {e}; nothing was imported",
                    at + 1
                ))
            })?;
        }
        tx.check_references()?;
        match finish {
            Finish::Now => tx.finish_import(),
            Finish::Later => Ok(()),
        }
    })?;
    Ok(counted)
}

/// Refuses a store (at `schema`) that holds any record, saying how many of each kind.
fn refuse_nonempty(tx: &crate::store::Tx<'_>, schema: i64) -> Result<()> {
    let mut held = Vec::new();
    for kind in kinds_at(schema) {
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

/// Checks the first line: an export, in a format version this binary reads. Returns the
/// schema version it was written at.
fn check_header(header: Option<&serde_json::Map<String, Value>>) -> Result<i64> {
    let header = header.filter(|h| h.get("type").and_then(Value::as_str) == Some(HEADER));
    let Some(header) = header else {
        return Err(Error::Invalid(
            "this is not a Switchboard export: its first line is not the export header".into(),
        ));
    };
    let (Some(version), Some(schema)) = (
        header.get("version").and_then(Value::as_u64),
        header.get("schema").and_then(Value::as_i64),
    ) else {
        return Err(Error::Invalid(
            "the export's header lacks its format or schema version: the file was altered".into(),
        ));
    };
    if version > FORMAT_VERSION {
        return Err(Error::Invalid(format!(
            "the export is in format version {version}, newer than this Switchboard reads \
             ({FORMAT_VERSION}); import it with a newer Switchboard"
        )));
    }
    Ok(schema)
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
                "the end line counts {} records but {read} came before it",
                said.map_or("no".to_string(), |n| n.to_string())
            )));
        }
        if self.next_object()?.is_some() {
            return Err(self.error("there is more after the end line"));
        }
        Ok(())
    }

    fn error(&self, what: &str) -> Error {
        Error::Invalid(format!("line {} of the export: {what}", self.number))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::message::{self, Author, Draft};
    use crate::session::{self, EndRequest, NewSession};
    use crate::store::story::{Backend, Scratch, scratch_store};

    fn by(agent: &str) -> Author {
        Author {
            agent: agent.into(),
            session: None,
        }
    }

    /// A store with a bit of everything: sessions (a subtask, one ended), a group, a
    /// thread with a reply, read and acknowledged mail, an edited and a deleted message,
    /// a token, a claim, and their events.
    pub(crate) fn lived_in(backend: Backend) -> (Scratch, Store) {
        let (dir, mut store) = scratch_store(backend);
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
        let members = ["ann".into(), "lead".into(), "role:reviewer".into()];
        crate::group::create(&mut store, "lead", "team", Some("everyone on it"), &members).unwrap();
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
        crate::claim::claim(
            &mut store,
            &crate::claim::Claimant {
                actor: "lead",
                session: Some(&lead.id),
            },
            &crate::claim::ClaimRequest {
                patterns: vec!["src/auth/**".into()],
                reason: "refactoring auth".into(),
                ..Default::default()
            },
        )
        .unwrap();
        session::end(&mut store, &ann.id, &EndRequest::default(), "ann").unwrap();
        (dir, store)
    }

    /// Checks `text` as an export, then loads it into `store`.
    fn load(store: &mut Store, text: &str, into_nonempty: bool) -> Result<Summary> {
        import(store, check(&mut text.as_bytes())?, into_nonempty)
    }

    pub(crate) fn exported(store: &mut Store) -> String {
        let mut out = Vec::new();
        export(store, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The lines of an export after its header (whose time differs between exports).
    pub(crate) fn records(text: &str) -> Vec<&str> {
        text.lines().skip(1).collect()
    }

    crate::every_backend! {
        fn an_export_loads_into_an_empty_store_and_exports_again_the_same(backend) {
            let (_dir, mut store) = lived_in(backend);
            let text = exported(&mut store);
            let (_other_dir, mut other) = scratch_store(backend);
            let loaded = load(&mut other, &text, false).unwrap();
            assert_eq!(loaded.records as usize, records(&text).len() - 1);
            for kind in [
                "agents",
                "sessions",
                "groups",
                "messages",
                "message_versions",
                "deliveries",
                "tokens",
                "claims",
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
    }

    crate::every_backend! {
        fn a_store_with_records_is_refused_unless_forced_and_a_clash_writes_nothing(backend) {
            let (_dir, mut store) = lived_in(backend);
            let text = exported(&mut store);
            let refused = load(&mut store, &text, false).unwrap_err();
            assert!(matches!(refused, Error::Conflict(_)), "{refused}");
            assert!(refused.to_string().contains("--force"), "{refused}");
            let before = exported(&mut store);
            let clash = load(&mut store, &text, true).unwrap_err();
            assert!(
                clash
                    .to_string()
                    .contains("record 1 (line 2 of the export)"),
                "{clash}"
            );
            assert_eq!(
                records(&exported(&mut store)),
                records(&before),
                "nothing was written"
            );
        }
    }

    crate::every_backend! {
        fn unknown_kinds_cut_files_and_foreign_input_are_refused_with_nothing_written(backend) {
            let (_dir, mut store) = lived_in(backend);
            let text = exported(&mut store);
            let lines: Vec<&str> = text.lines().collect();
            let end = lines.len() - 1;
            let try_import = |input: String| {
                let (_d, mut target) = scratch_store(backend);
                let e = match load(&mut target, &input, false) {
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
            let lease = r#"{"type":"leases","record":{"path":"src/**"}}"#;
            newer.extend([lease, lease, r#"{"type":"end","records":0}"#]);
            let count = end - 1 + 2;
            let newer = newer
                .join("\n")
                .replace(r#""records":0"#, &format!(r#""records":{count}"#));
            let e = try_import(newer);
            assert!(e.contains("'leases' ×2"), "{e}");
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
            let e = try_import(text.replacen(r#","version":1"#, "", 1));
            assert!(e.contains("altered"), "{e}");
            // A record whose reference has no record: the deliveries of a message left out.
            let orphan: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| !l.contains(r#""type":"messages""#))
                .collect();
            let kept = orphan.len() - 2;
            let orphan = orphan.join("\n").replace(
                &format!(r#""records":{}"#, end - 1),
                &format!(r#""records":{kept}"#),
            );
            let e = try_import(orphan);
            assert!(
                e.contains("refer to records the export does not hold"),
                "{e}"
            );
            let e = try_import(text.replacen(r#""version":1"#, r#""version":2"#, 1));
            assert!(e.contains("newer"), "{e}");
        }
    }

    /// What a store at schema 9 (before batched search indexing and keyed threads) held,
    /// written with SQL as that version wrote it.
    fn store_at_schema_9(path: &std::path::Path) -> Store {
        let address = StoreAddress::file(path);
        let mut store = Store::create_at_schema(&address, Settings::default(), 9).unwrap();
        assert_eq!(store.schema_version().unwrap(), 9);
        store
            .sql_write(|tx| {
                tx.execute_batch(
                    "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES
                         ('ann', 'agent', 1, 1), ('bob', 'agent', 2, 2);
                     INSERT INTO threads (id, created_by, created_at, last_message_at)
                         VALUES ('thr_1', 'ann', 3, 4);
                     INSERT INTO messages (id, thread_id, author, addressed_to, body, priority, created_at)
                         VALUES ('msg_1', 'thr_1', 'ann', '[\"bob\"]', 'the parser plan', 1, 3),
                                ('msg_2', 'thr_1', 'ann', '[\"bob\"]', 'and the lexer', 1, 4);
                     INSERT INTO deliveries (recipient, message_seq, delivered_at, read_at)
                         VALUES ('bob', 1, 3, 5), ('bob', 2, 4, NULL);
                     INSERT INTO events (id, type, actor, payload, at)
                         VALUES ('evt_1', 'message.sent', 'ann', '{}', 3);",
                )?;
                Ok(())
            })
            .unwrap();
        store
    }

    crate::every_backend! {
        fn an_export_from_an_earlier_schema_loads_into_a_new_store_brought_up_to_date(backend) {
            let dir = tempfile::tempdir().unwrap();
            let mut old = store_at_schema_9(&dir.path().join("old.db"));
            let text = exported(&mut old);
            assert!(text.lines().next().unwrap().contains(r#""schema":9"#));

            let (_current_dir, mut current) = scratch_store(backend);
            let refused = load(&mut current, &text, false).unwrap_err().to_string();
            assert!(refused.contains("into a new store"), "{refused}");

            let (_new_scratch, path) = Scratch::at_file_or(backend, &dir.path().join("new.db"));
            let loaded = import_new(
                &path,
                Settings::default(),
                check(&mut text.as_bytes()).unwrap(),
            )
            .unwrap();
            assert_eq!(loaded.records, 8);
            let mut new = Store::open_at(&path, Settings::default()).unwrap();
            assert_eq!(
                new.schema_version().unwrap(),
                crate::store::supported_schema_version()
            );
            assert_eq!(records(&exported(&mut new)), records(&text));
            assert_eq!(message::unread(&mut new, "bob").unwrap(), 1);
            let found = message::search(&mut new, "bob", "lexer", &Default::default()).unwrap();
            assert_eq!(found.len(), 1);

            // A failure leaves no new store behind, and an existing file is never used.
            let (_broken_scratch, broken) =
                Scratch::at_file_or(backend, &dir.path().join("broken.db"));
            let orphan = text.replace(r#""thread_id":"thr_1""#, r#""thread_id":"thr_9""#);
            let e = import_new(
                &broken,
                Settings::default(),
                check(&mut orphan.as_bytes()).unwrap(),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("refer to records"), "{e}");
            assert!(!broken.exists().unwrap());
            let e = import_new(
                &path,
                Settings::default(),
                check(&mut text.as_bytes()).unwrap(),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("exists already"), "{e}");
        }
    }
}
