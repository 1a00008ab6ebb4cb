//! Sizes a caller asks for (page sizes, walk depths): out of range is refused with the
//! range, never silently changed, so a caller is not misled about what it got.

use crate::{Error, Result};

/// `asked` (given as the parameter `name`), or `default` when not given; refuses 0 and
/// anything above `max`, naming the parameter.
pub(crate) fn size(asked: Option<u32>, default: u32, max: u32, name: &str) -> Result<u32> {
    match asked.unwrap_or(default) {
        0 => Err(Error::Invalid(format!(
            "{name} 0 returns nothing: give 1 or more"
        ))),
        n if n > max => Err(Error::Invalid(format!(
            "{name} {n} is over the most allowed ({max}): give {max} or less"
        ))),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_out_of_range_are_refused_with_the_range() {
        assert_eq!(size(None, 20, 200, "limit").unwrap(), 20);
        assert_eq!(size(Some(200), 20, 200, "limit").unwrap(), 200);
        assert!(size(Some(0), 20, 200, "limit").is_err());
        let err = size(Some(500), 20, 200, "max_depth")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("max_depth 500") && err.contains("(200)"),
            "{err}"
        );
    }
}
