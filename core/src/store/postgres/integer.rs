//! Reading PostgreSQL's `BIGINT` columns into the narrower integers the domain uses.

use tokio_postgres::Row;

use crate::error::{StoreError, StoreFailure};
use crate::{Error, Result};

/// Column `index` of `row`, an integer, as the narrower integer type `T`: a value that
/// does not fit is a store error (as SQLite's reader reports it), never a wrapped number.
pub(crate) fn narrow<T: TryFrom<i64>>(row: &Row, index: usize) -> Result<T> {
    fit(row, index, row.try_get(index)?)
}

/// [`narrow`] for a column that may be NULL.
pub(crate) fn narrow_opt<T: TryFrom<i64>>(row: &Row, index: usize) -> Result<Option<T>> {
    row.try_get::<_, Option<i64>>(index)?
        .map(|value| fit(row, index, value))
        .transpose()
}

fn fit<T: TryFrom<i64>>(row: &Row, index: usize, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| {
        Error::Store(StoreError {
            failure: StoreFailure::Other,
            message: format!(
                "integer {value} of column {} is out of range",
                row.columns()[index].name()
            ),
        })
    })
}
