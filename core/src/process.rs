//! The process serving a session, and whether it is still running.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which process on which host serves a session, so liveness can be judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessInfo {
    /// Process id on `host`.
    pub pid: u32,
    /// Host name (uname nodename) of the machine the process runs on; liveness can only be
    /// checked from the same host.
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

/// The host this process runs on, as sessions, worktrees and processes record it:
/// `SWITCHBOARD_HOST` when set (for containers whose host names change at every start, or
/// several hosts simulated on one machine), else the machine's host name.
pub fn this_host() -> String {
    match std::env::var("SWITCHBOARD_HOST") {
        Ok(host) if !host.trim().is_empty() => host.trim().to_string(),
        _ => rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
    }
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
    let exists = match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // EPERM: it exists but belongs to someone else.
        Err(e) => e == rustix::io::Errno::PERM,
    };
    exists && !is_zombie(pid.as_raw_nonzero().get())
}

/// The parent of local process `pid`, from `/proc/<pid>/stat` (Linux); `None` when it is
/// gone or cannot be read.
pub fn parent_of(pid: u32) -> Option<u32> {
    stat_field(pid, 4)?.parse().ok().filter(|p| *p > 0)
}

/// When local process `pid` started, in clock ticks since boot: with the pid, it names one
/// process even after the pid is reused. `None` when it is gone or cannot be read.
pub fn start_ticks(pid: u32) -> Option<u64> {
    stat_field(pid, 22)?.parse().ok()
}

/// How long ago local process `pid` started; `None` when it is gone or cannot be read.
pub fn age(pid: u32) -> Option<std::time::Duration> {
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let uptime: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let hz = rustix::param::clock_ticks_per_second() as f64;
    let started = start_ticks(pid)? as f64 / hz;
    Some(std::time::Duration::from_secs_f64(
        (uptime - started).max(0.0),
    ))
}

/// Field `n` (1-based, as in proc(5)) of `/proc/<pid>/stat`.
fn stat_field(pid: u32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Format: `pid (comm) state ppid …`; comm may contain spaces and parentheses.
    let end = stat.rfind(')')?;
    stat[end + 1..]
        .split_whitespace()
        .nth(n.checked_sub(3)?)
        .map(str::to_string)
}

/// Most ancestors [`ancestors`] walks through.
const MAX_ANCESTORS: usize = 64;

/// The parent, grandparent, … of local process `pid`, nearest first (up to init).
pub fn ancestors(pid: u32) -> Vec<u32> {
    let mut chain = Vec::new();
    let mut current = pid;
    while let Some(parent) = parent_of(current) {
        if chain.len() >= MAX_ANCESTORS || chain.contains(&parent) {
            break;
        }
        chain.push(parent);
        if parent == 1 {
            break;
        }
        current = parent;
    }
    chain
}

/// A process that has exited but not been reaped still answers signals; on Linux its
/// `/proc/<pid>/stat` state is `Z`.
fn is_zombie(pid: i32) -> bool {
    u32::try_from(pid)
        .ok()
        .and_then(|pid| stat_field(pid, 3))
        .is_some_and(|state| state == "Z")
}

/// A process that existed and has exited (reaped), for tests of liveness.
#[cfg(test)]
pub(crate) fn gone() -> ProcessInfo {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait for true");
    ProcessInfo {
        pid,
        host: this_host(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_knows_its_parent_and_ancestors() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert_eq!(parent_of(child.id()), Some(std::process::id()));
        let chain = ancestors(child.id());
        assert_eq!(chain.first(), Some(&std::process::id()), "{chain:?}");
        assert!(chain.len() >= 2, "{chain:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(parent_of(child.id()), None, "gone");
    }

    #[test]
    fn a_process_has_a_start_time_and_an_age() {
        let me = std::process::id();
        assert!(start_ticks(me).is_some());
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        // Ages are read one after the other from a clock that moves on in between, so they
        // are only compared with a bound; start times compare exactly.
        let its = age(child.id()).unwrap();
        assert!(
            its < std::time::Duration::from_secs(30),
            "just started: {its:?}"
        );
        assert!(
            start_ticks(child.id()) >= start_ticks(me),
            "the child started after us"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(start_ticks(child.id()), None, "gone");
    }

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

    #[test]
    fn an_exited_but_unreaped_child_is_not_alive() {
        let me = ProcessInfo::current();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !is_zombie(pid as i32) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            is_zombie(pid as i32),
            "the child should be a zombie until reaped"
        );
        assert!(!is_alive(&me.host, pid), "a zombie counts as gone");
        child.wait().unwrap();
    }
}
