//! SQLite's errors in the core's terms: translated once, here.

use crate::error::{Error, StoreError, StoreFailure};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        let failure = match e.sqlite_error_code() {
            Some(DatabaseCorrupt | NotADatabase) => StoreFailure::Corrupt,
            Some(DatabaseBusy | DatabaseLocked) => StoreFailure::Busy,
            Some(ConstraintViolation) => StoreFailure::Constraint,
            _ => StoreFailure::Other,
        };
        StoreError {
            failure,
            message: e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_errors_are_translated_once_into_store_failures() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1);")
            .unwrap();
        let err: Error = conn
            .execute("INSERT INTO t VALUES (1)", [])
            .unwrap_err()
            .into();
        let Error::Store(store) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(store.failure, StoreFailure::Constraint);
        assert!(
            err.to_string()
                .starts_with("database error: UNIQUE constraint failed"),
            "{err}"
        );
        assert!(!err.is_user_error() && !err.is_corruption());
    }
}
