//! The whole store as records, for export and import (see [`crate::archive`]).

use crate::Result;

/// One record: a row of one kind, as field → value (integers, reals, text or null).
pub(crate) type Record = serde_json::Map<String, serde_json::Value>;

/// Reading and writing every record of the store, kind by kind. A kind is one of
/// [`crate::archive::KINDS`]; its fields are the backend's columns for it, less those it
/// derives from other records (counters, search indexes).
pub(crate) trait ArchiveRows {
    /// Calls `f` with every record of `kind`, in the order they were written.
    fn each_record(&self, kind: &str, f: &mut dyn FnMut(Record) -> Result<()>) -> Result<()>;

    /// How many records of `kind` the store holds.
    fn count_records(&self, kind: &str) -> Result<u64>;

    /// Before an import writes records: references between records are checked when the
    /// transaction commits from now on, so records may come in any order.
    fn start_import(&self) -> Result<()>;

    /// Writes `record` of `kind` as it is (keys included). A field the backend does not
    /// have for that kind, or a record that clashes with one stored, is `Error::Invalid`,
    /// naming it.
    fn insert_record(&self, kind: &str, record: &Record) -> Result<()>;

    /// After an import wrote every record: refuses references to records that are not
    /// there (`Error::Invalid`, saying how many and where).
    fn check_references(&self) -> Result<()>;

    /// After an import: brings what the backend derives from records (counters, search
    /// indexes) in step with them.
    fn finish_import(&self) -> Result<()>;
}
