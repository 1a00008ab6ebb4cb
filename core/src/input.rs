//! Checks on free text and paths that callers hand to internals (SQLite full-text
//! queries, git argument vectors), so bad input is refused at the edge with an error
//! that says what was wrong instead of surfacing as a database or process failure.

use crate::{Error, Result};
use serde::{Deserialize, Deserializer};
use std::path::{Component, Path};

/// The most characters of a caller's value that an error message quotes.
const SHOWN_CHARS: usize = 64;

/// Reads an optional request field whose absence and `null` both mean its default
/// (`#[serde(default, deserialize_with = "crate::input::or_default")]`): callers such as
/// models often send `null` for a parameter they leave out.
pub fn or_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `value` as an error message quotes it: whole when short, else its first characters
/// and its length, so that a refusal never repeats a huge input back to the caller.
pub fn shown(value: &str) -> String {
    match value.char_indices().nth(SHOWN_CHARS) {
        None => value.to_string(),
        Some((end, _)) => format!("{}… ({} characters)", &value[..end], value.chars().count()),
    }
}

/// Refuses `value` if it holds a NUL character, which neither git arguments nor
/// full-text queries can carry. `what` names the field in the error.
pub fn refuse_nul(what: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::Invalid(format!(
            "the {what} contains a NUL character (\\u0000); remove it and try again"
        )));
    }
    Ok(())
}

/// A repository-relative file path, normalised (`./` prefixes dropped, `\` kept as is).
/// Refuses empty, absolute, and `..`-escaping paths and NUL characters.
pub fn repo_path(value: &str) -> Result<String> {
    refuse_nul("path", value)?;
    let path = value.trim().trim_start_matches("./");
    if path.is_empty() {
        return Err(Error::Invalid(
            "give a file path relative to the repository root, like src/main.rs".into(),
        ));
    }
    let escapes = Path::new(path).components().any(|c| {
        matches!(
            c,
            Component::RootDir | Component::Prefix(_) | Component::ParentDir
        )
    });
    if escapes {
        return Err(Error::Invalid(format!(
            "'{path}' is not inside the repository: give a path relative to the repository root, \
             like src/main.rs (no leading / and no ..)"
        )));
    }
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shown_cut_with_their_length() {
        assert_eq!(shown("claude"), "claude");
        let long = "é".repeat(10_000);
        let quoted = shown(&long);
        assert!(quoted.starts_with(&"é".repeat(SHOWN_CHARS)), "{quoted}");
        assert!(quoted.ends_with("… (10000 characters)"), "{quoted}");
        assert_eq!(shown(&"x".repeat(SHOWN_CHARS)), "x".repeat(SHOWN_CHARS));
    }

    #[test]
    fn nul_is_refused_with_the_field_named() {
        let err = refuse_nul("search", "a\0b").unwrap_err().to_string();
        assert!(err.contains("search") && err.contains("NUL"), "{err}");
        assert!(refuse_nul("search", "plain text").is_ok());
    }

    #[test]
    fn repo_paths_stay_inside_the_repository() {
        assert_eq!(repo_path("./src/main.rs").unwrap(), "src/main.rs");
        assert_eq!(repo_path(" docs/a b.md ").unwrap(), "docs/a b.md");
        for bad in [
            "/etc/passwd",
            "../../etc/passwd",
            "src/../../x",
            "a\0b",
            "  ",
            "./",
        ] {
            assert!(repo_path(bad).is_err(), "{bad:?} was accepted");
        }
        let err = repo_path("../../etc/passwd").unwrap_err().to_string();
        assert!(err.contains("relative to the repository root"), "{err}");
    }
}
