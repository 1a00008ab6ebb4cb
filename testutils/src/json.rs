//! Reading tool results in tests.

use serde_json::Value;

/// The string at the JSON `pointer` (e.g. `/worktree/path`) in `value`.
///
/// # Panics
/// When there is no string there; the message shows the pointer and the whole value.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} missing in {value}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_string_is_found_by_its_pointer() {
        let value = json!({"worktree": {"path": "/tmp/w", "port": 4}});
        assert_eq!(str_at(&value, "/worktree/path"), "/tmp/w");
    }

    #[test]
    #[should_panic(expected = "/worktree/port missing in")]
    fn a_missing_or_other_value_panics_with_the_pointer() {
        str_at(&json!({"worktree": {"port": 4}}), "/worktree/port");
    }
}
