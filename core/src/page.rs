//! Page sizes: how many records one answer holds. A size out of range is refused with the
//! range, never silently changed (so a caller is not misled about what it got).

use crate::{Error, Result};

/// `asked`, or `default` when not given; refuses 0 and anything above `max`.
pub(crate) fn size(asked: Option<u32>, default: u32, max: u32) -> Result<u32> {
    match asked.unwrap_or(default) {
        0 => Err(Error::Invalid(
            "limit 0 returns nothing: give 1 or more".into(),
        )),
        n if n > max => Err(Error::Invalid(format!(
            "limit {n} is over the most one answer holds ({max}): ask for {max} or fewer and page on"
        ))),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_out_of_range_are_refused_with_the_range() {
        assert_eq!(size(None, 20, 200).unwrap(), 20);
        assert_eq!(size(Some(200), 20, 200).unwrap(), 200);
        assert!(size(Some(0), 20, 200).is_err());
        let err = size(Some(500), 20, 200).unwrap_err().to_string();
        assert!(err.contains("limit 500") && err.contains("(200)"), "{err}");
    }
}
