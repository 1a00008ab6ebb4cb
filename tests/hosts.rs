//! Two hosts, one PostgreSQL: network namespaces made by this test stand for two machines,
//! joined by a veth pair on a private subnet. The PostgreSQL server runs on host A and is
//! reached over TCP with a password; each host runs `switchboard serve` in its own clone of
//! one repository; the agents' clients run inside each host's namespace (a runtime whose
//! threads enter it). Needs root and iproute2; where namespaces cannot be made, the test
//! says so and skips.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::service::ClientLifecycleMode;
use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;
use switchboard_testutils::git;

use crate::common::{bin, listening_url};

/// Runs `ip ARGS`; the error output when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Two namespaces joined by a veth pair, `10.213.N.1` (host A) and `10.213.N.2` (host B);
/// deleted on drop (which deletes the veth pair with them).
struct Hosts {
    names: [String; 2],
    addresses: [String; 2],
}

impl Hosts {
    /// Makes the namespaces; `Err` says why they cannot be made here.
    fn make() -> Result<Hosts, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let random = (nanos ^ std::process::id().rotate_left(12)) & 0xff_ffff;
        let tag = format!("{random:06x}");
        let subnet = 1 + random % 250;
        let names = [format!("sb-{tag}-a"), format!("sb-{tag}-b")];
        let links = [format!("sb{tag}a"), format!("sb{tag}b")];
        ip(&["netns", "add", &names[0]])?;
        let hosts = Hosts {
            addresses: [format!("10.213.{subnet}.1"), format!("10.213.{subnet}.2")],
            names,
        };
        ip(&["netns", "add", &hosts.names[1]])?;
        ip(&[
            "link", "add", &links[0], "type", "veth", "peer", "name", &links[1],
        ])?;
        for ((ns, link), address) in hosts.names.iter().zip(&links).zip(&hosts.addresses) {
            ip(&["link", "set", link, "netns", ns])?;
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{address}/24"),
                "dev",
                link,
            ])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", link, "up"])?;
        }
        Ok(hosts)
    }

    /// A command run inside host `i`'s namespace.
    fn command(&self, i: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.names[i]]).arg(program);
        command
    }

    /// A runtime whose threads are inside host `i`'s namespace: sockets its tasks open
    /// are that host's.
    fn runtime(&self, i: usize) -> tokio::runtime::Runtime {
        let path = PathBuf::from("/run/netns").join(&self.names[i]);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || {
                let ns = std::fs::File::open(&path).unwrap();
                rustix::thread::move_into_link_name_space(
                    ns.as_fd(),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )
                .unwrap();
            })
            .build()
            .unwrap()
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// A PostgreSQL cluster on host A, reached over TCP with a password; stopped on drop.
struct Server {
    dir: tempfile::TempDir,
    url: String,
}

impl Server {
    fn start(hosts: &Hosts) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres");
        let out = hosts
            .command(0, &script)
            .args([
                "start".as_ref(),
                dir.path().as_os_str(),
                "--listen".as_ref(),
                hosts.addresses[0].as_ref(),
            ])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "PostgreSQL did not start");
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Server { dir, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres");
        let _ = Command::new(script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// `switchboard serve` on host `i`, in `checkout`, on the store at `url`, as host `name`.
struct Daemon {
    child: Child,
    url: String,
}

impl Daemon {
    fn start(hosts: &Hosts, i: usize, checkout: &Path, store: &str, name: &str) -> Daemon {
        let listen = format!("{}:7411", hosts.addresses[i]);
        let mut child = hosts
            .command(i, &bin())
            .args(["serve", "--listen", &listen, "--allow-remote"])
            .current_dir(checkout)
            .env("SWITCHBOARD_STORE", store)
            .env("SWITCHBOARD_HOST", name)
            .env_remove("SWITCHBOARD_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = listening_url(&mut child);
        Daemon { child, url }
    }

    /// Kills the daemon at once (SIGKILL): no shutdown, nothing flushed.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token for `agent`, made by the CLI on host `i`.
fn token(hosts: &Hosts, i: usize, checkout: &Path, store: &str, agent: &str) -> String {
    let out = hosts
        .command(i, &bin())
        .args(["token", "create", "--agent", agent])
        .current_dir(checkout)
        .env("SWITCHBOARD_STORE", store)
        .env_remove("SWITCHBOARD_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// An agent's client on host `i`, connected to that host's daemon.
struct Agent {
    runtime: tokio::runtime::Runtime,
    client: Arc<AgentClient>,
}

impl Agent {
    fn connect(hosts: &Hosts, i: usize, daemon: &Daemon, token: &str) -> Agent {
        let runtime = hosts.runtime(i);
        let (url, token) = (daemon.url.clone(), token.to_string());
        let client = runtime
            .block_on(runtime.spawn(async move {
                AgentClient::http(&url, &token, ClientLifecycleMode::Initialize).await
            }))
            .unwrap()
            .unwrap();
        Agent {
            runtime,
            client: Arc::new(client),
        }
    }

    /// Starts `tool` with `args` on this host; the handle gives its result, or an error
    /// if none came within 10 s (a daemon killed mid-call never answers it).
    fn start(&self, tool: &str, args: Value) -> tokio::task::JoinHandle<Result<Value, String>> {
        let (client, tool) = (self.client.clone(), tool.to_string());
        self.runtime.spawn(async move {
            let call = client.call_ok(&tool, args);
            match tokio::time::timeout(Duration::from_secs(10), call).await {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(_) => Err(format!("{tool}: no answer within 10 s")),
            }
        })
    }

    /// Calls `tool` and returns its structured result, or the error.
    fn call(&self, tool: &str, args: Value) -> Result<Value, String> {
        let running = self.start(tool, args);
        self.runtime.block_on(running).unwrap()
    }

    fn ok(&self, tool: &str, args: Value) -> Value {
        self.call(tool, args).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A repository and two clones of it (one per host), all naming one repository id.
fn clones(dir: &Path, id: &str) -> [PathBuf; 2] {
    let origin = dir.join("origin");
    std::fs::create_dir(&origin).unwrap();
    git(&origin, &["init", "-q", "-b", "main"]);
    switchboard_testutils::commit(
        &origin,
        ".switchboard.toml",
        &format!("[repository]\nid = \"{id}\"\n"),
        "first",
    );
    let clones = [dir.join("host-a"), dir.join("host-b")];
    for clone in &clones {
        git(
            dir,
            &[
                "clone",
                "-q",
                origin.to_str().unwrap(),
                clone.to_str().unwrap(),
            ],
        );
        git(clone, &["config", "user.name", "Test"]);
        git(clone, &["config", "user.email", "test@example.com"]);
    }
    clones
}

#[test]
fn two_hosts_share_one_postgresql_store_through_their_own_daemons() {
    let hosts = match Hosts::make() {
        Ok(hosts) => hosts,
        Err(why) => {
            eprintln!(
                "SKIPPED two_hosts: network namespaces cannot be made here ({why}); \
                 it needs root and iproute2"
            );
            return;
        }
    };
    let server = Server::start(&hosts);
    let dir = tempfile::tempdir().unwrap();
    let [a, b] = clones(dir.path(), "test-two-hosts");
    let ann_token = token(&hosts, 0, &a, &server.url, "ann");
    let bob_token = token(&hosts, 1, &b, &server.url, "bob");
    let mut daemon_a = Daemon::start(&hosts, 0, &a, &server.url, "host-a");
    let daemon_b = Daemon::start(&hosts, 1, &b, &server.url, "host-b");
    let ann = Agent::connect(&hosts, 0, &daemon_a, &ann_token);
    let bob = Agent::connect(&hosts, 1, &daemon_b, &bob_token);
    ann.ok("session_start", json!({"intent": "on host a"}));
    bob.ok("session_start", json!({"intent": "on host b"}));

    // A wait on host B is woken by a send on host A (through the server's notifications).
    let waiting = bob.start("message_wait", json!({"timeout_secs": 30}));
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let sent = ann.ok(
        "message_send",
        json!({"to": ["bob"], "body": "from host a"}),
    );
    let woke = bob.runtime.block_on(waiting).unwrap().unwrap();
    println!("cross-host wake: {:?}", started.elapsed());
    assert_eq!(woke["timed_out"], false, "{woke}");
    assert_eq!(woke["messages"][0]["id"], sent["id"], "{woke}");
    bob.ok(
        "message_reply",
        json!({"message": sent["id"], "body": "from host b"}),
    );
    let inbox = ann.ok("inbox_read", json!({}));
    assert_eq!(inbox["messages"][0]["body"], "from host b", "{inbox}");

    // Host A sees what host B's agent is changing, from the shared work context.
    let made = bob.ok("worktree_create", json!({"name": "bw"}));
    let path = PathBuf::from(made["worktree"]["path"].as_str().unwrap());
    assert!(path.starts_with(&b), "host B's worktree is in its clone");
    std::fs::write(path.join("parser.rs"), "fn parse() {}\n").unwrap();
    bob.ok("session_heartbeat", json!({}));
    let holders = ann.ok("who_has", json!({"path": "parser.rs"}));
    assert_eq!(holders["holders"][0]["agent"], "bob", "{holders}");

    // Host A's daemon dies mid-burst (four senders, one send after another each): every
    // send it acknowledged is stored, and host B goes on serving.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let (client, acknowledged) = (ann.client.clone(), acknowledged.clone());
            ann.runtime.spawn(async move {
                for k in 0..25 {
                    let body = format!("burst {s}.{k}");
                    let send = client.call_ok("message_send", json!({"to": ["bob"], "body": body}));
                    match tokio::time::timeout(Duration::from_secs(10), send).await {
                        Ok(Ok(sent)) => acknowledged
                            .lock()
                            .unwrap()
                            .push(sent["id"].as_str().unwrap().to_string()),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "the burst is under way");
        std::thread::sleep(Duration::from_millis(1));
    }
    daemon_a.kill();
    for sender in senders {
        ann.runtime.block_on(sender).unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() < 100, "the kill came mid-burst");
    let bob_inbox = bob.ok("inbox_read", json!({"limit": 200}));
    let stored: Vec<&str> = bob_inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in &acknowledged {
        assert!(stored.contains(&id.as_str()), "acknowledged {id} was lost");
    }
    println!(
        "{} of 100 sends acknowledged before the kill, all stored",
        acknowledged.len()
    );
    let after = bob.ok("message_send", json!({"to": ["ann"], "body": "still here"}));
    assert!(after["id"].as_str().is_some(), "{after}");
}
