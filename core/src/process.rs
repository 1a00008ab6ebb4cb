//! The process serving a session, and whether it is still running.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which process on which host serves a session, so liveness can be judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessInfo {
    pub pid: u32,
    pub host: String,
}

impl ProcessInfo {
    /// The calling process on this host.
    pub fn current() -> Self {
        ProcessInfo {
            pid: std::process::id(),
            host: this_host(),
        }
    }
}

/// This machine's host name.
pub fn this_host() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Whether the process `pid` on `host` may still be running. A process on another host
/// cannot be checked from here and counts as running (its heartbeat age decides).
pub fn is_alive(host: &str, pid: u32) -> bool {
    if host != this_host() {
        return true;
    }
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // EPERM: it exists but belongs to someone else.
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_child_is_not() {
        let me = ProcessInfo::current();
        assert!(is_alive(&me.host, me.pid));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!is_alive(&me.host, pid));
        assert!(
            is_alive("some-other-host.invalid", pid),
            "other hosts cannot be checked"
        );
    }
}
