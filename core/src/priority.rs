//! How urgent a message is: a leaf value type shared by messages and their events.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How urgent a message is; ordered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Can wait; left out by any `min_priority` filter above low.
    Low,
    /// The default for a message sent without a priority.
    #[default]
    Normal,
    /// Needs attention soon: the recipient's briefing lists it under what needs them.
    High,
    /// Needs attention now: as high, and also holds the recipient agent's stop (once) while
    /// unread, and pops up in the editor when sent to the human or left unread too long.
    Urgent,
}

impl Priority {
    /// The stored rank (0 = low … 3 = urgent).
    pub(crate) fn rank(self) -> i64 {
        self as i64
    }

    /// The priority of a stored rank; unknown ranks read as normal.
    pub(crate) fn from_rank(rank: i64) -> Priority {
        match rank {
            0 => Priority::Low,
            2 => Priority::High,
            3 => Priority::Urgent,
            _ => Priority::Normal,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl std::str::FromStr for Priority {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "unknown priority '{s}': use low, normal, high or urgent"
            ))
        })
    }
}
