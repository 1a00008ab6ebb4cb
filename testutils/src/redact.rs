//! Redactions for snapshots: what differs from run to run becomes a fixed placeholder.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// Patterns every snapshot hides, in the order they apply, with their placeholders.
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Prefixed ULIDs (`ses_01JD…`, `msg_…`, `thr_…`, `evt_…`, `tok_…`): `[ses]`.
        (r"\b([a-z]{2,4})_[0-9A-HJKMNP-TV-Z]{26}\b", "[$1]"),
        // RFC 3339 times, with or without fractions, in UTC or with an offset.
        (
            r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})",
            "[time]",
        ),
        // Unix times in milliseconds (13 digits: 2001 to 2286), as in backup ref names.
        (r"\b1\d{12}\b", "[millis]"),
        // Ages relative to now (`5s ago`), which depend on how fast the test ran.
        (r"\b\d+[smhd] ago\b", "[ago]"),
        // Commit shas, full or shortened to ten characters as the renderings do.
        (r"\b(?:[0-9a-f]{40}|[0-9a-f]{10})\b", "[sha]"),
    ]
    .into_iter()
    .map(|(pattern, with)| (Regex::new(pattern).expect("a valid pattern"), with))
    .collect()
});

/// What a snapshot test hides, beyond the fixed [patterns](PATTERNS) (ids as `[ses]`,
/// times as `[time]` or `[millis]`, ages as `[ago]`, shas as `[sha]`): literal texts such as temp
/// directories (`[tmp]`), and in JSON the values of named keys (`"pid": "[pid]"`).
#[derive(Debug, Clone, Default)]
pub struct Redactions {
    /// Literal text and its placeholder, longest text first.
    literals: Vec<(String, String)>,
    keys: Vec<String>,
}

impl Redactions {
    /// Only the fixed patterns.
    pub fn new() -> Redactions {
        Redactions::default()
    }

    /// Also replaces every occurrence of `text` by `[name]`. Literals apply before the
    /// patterns, longer ones first (so a path inside another path is not cut in two).
    pub fn literal(mut self, text: impl Into<String>, name: &str) -> Redactions {
        self.literals.push((text.into(), format!("[{name}]")));
        self.literals
            .sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
        self
    }

    /// Also replaces the directory `dir` (e.g. a scratch directory) by `[tmp]`.
    pub fn path(self, dir: &Path) -> Redactions {
        self.literal(dir.display().to_string(), "tmp")
    }

    /// In JSON, also replaces the value of every member named one of `keys`, at any
    /// depth, by `"[key]"` (for pids, ports and the like).
    pub fn keys(mut self, keys: &[&str]) -> Redactions {
        self.keys.extend(keys.iter().map(|k| k.to_string()));
        self
    }

    /// `text` with the literals and patterns replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (literal, with) in &self.literals {
            out = out.replace(literal, with);
        }
        for (pattern, with) in PATTERNS.iter() {
            out = pattern.replace_all(&out, *with).into_owned();
        }
        out
    }

    /// Redacts `value` in place: every string as [`Redactions::text`], and the values of
    /// the [keys](Redactions::keys).
    pub fn json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if self.keys.contains(k) {
                        *v = Value::String(format!("[{k}]"));
                    } else {
                        self.json(v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_times_ages_and_shas_become_placeholders() {
        let text = "ses_01JD2N5Q7Z8K3M4P5R6S7T8V9W asked msg_01JD2N5Q7Z8K3M4P5R6S7T8V9X \
                    at 2025-11-21T10:00:00.123Z (5m ago), commit 0123456789 \
                    0123456789abcdef0123456789abcdef01234567 at 2025-11-21T10:00:00+01:00, \
                    backup refs/switchboard/backup/w/into-main/1763719200123";
        assert_eq!(
            Redactions::new().text(text),
            "[ses] asked [msg] at [time] ([ago]), commit [sha] [sha] at [time], \
             backup refs/switchboard/backup/w/into-main/[millis]"
        );
    }

    #[test]
    fn short_prefixes_words_and_numbers_are_kept() {
        let text = "ses_01JD2N5Q is a prefix; port 41234, pid 12345678, 2025-11-21";
        assert_eq!(Redactions::new().text(text), text);
    }

    #[test]
    fn literals_apply_longest_first() {
        let r = Redactions::new()
            .path(Path::new("/tmp/x"))
            .literal("/tmp/x/repo", "repo");
        assert_eq!(
            r.text("/tmp/x/repo and /tmp/x/state.db"),
            "[repo] and [tmp]/state.db"
        );
    }

    #[test]
    fn json_strings_and_named_keys_are_redacted_at_any_depth() {
        let mut value = json!({
            "id": "thr_01JD2N5Q7Z8K3M4P5R6S7T8V9W",
            "nested": [{"pid": 4242, "path": "/tmp/x/repo", "count": 3}],
        });
        Redactions::new()
            .path(Path::new("/tmp/x"))
            .keys(&["pid"])
            .json(&mut value);
        assert_eq!(
            value,
            json!({"id": "[thr]", "nested": [{"pid": "[pid]", "path": "[tmp]/repo", "count": 3}]})
        );
    }
}
