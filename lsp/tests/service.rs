//! Every request, command and notification of the companion.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use serde_json::{Value, json};
use switchboard_core::claim::{self, Claim, ClaimRequest, Claimant};
use switchboard_core::clock::Timestamp;
use switchboard_core::message::{self, Author, Draft, Priority};
use switchboard_core::process::ProcessInfo;
use switchboard_core::session::{self, NewSession};
use switchboard_core::worktree::{self, NewWorktree};
use switchboard_core::{Settings, Store};
use switchboard_lsp::client::LspClient;
use switchboard_lsp::{Config, protocol};
use switchboard_testutils::{Redactions, ScratchRepo, commit};

const HUMAN: &str = "human:ada";

struct Fixture {
    _scratch: ScratchRepo,
    /// The main checkout of a repository whose first commit adds `app.rs`.
    repo: PathBuf,
    db: PathBuf,
    /// The other processes' connection.
    store: Store,
    lsp: LspClient,
}

impl Fixture {
    async fn new() -> Fixture {
        Self::with_settings("").await
    }

    /// A fixture whose repository has `toml` as its `.switchboard.toml`.
    async fn with_settings(toml: &str) -> Fixture {
        let scratch = ScratchRepo::empty();
        scratch.commit("app.rs", "fn main() {}\n", "first");
        let repo = scratch.path().to_path_buf();
        if !toml.is_empty() {
            std::fs::write(repo.join(".switchboard.toml"), toml).unwrap();
        }
        let db = scratch.db().to_path_buf();
        let store = Store::open(&db, Settings::default()).unwrap();
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_io);
        let config = Config {
            db: Some(db.clone()),
            store: None,
            human: Some(HUMAN.into()),
            settings: Settings::default(),
        };
        tokio::spawn(switchboard_lsp::serve(server_read, server_write, config));
        let (client_read, client_write) = tokio::io::split(client_io);
        let lsp = LspClient::new(client_read, client_write);
        lsp.initialize(&repo).await.unwrap();
        Fixture {
            _scratch: scratch,
            repo,
            db,
            store,
            lsp,
        }
    }

    fn agent_session(&mut self, agent: &str) -> session::Session {
        session::start(
            &mut self.store,
            &NewSession {
                agent: agent.into(),
                intent: format!("{agent} works"),
                process: Some(ProcessInfo::current()),
                ..Default::default()
            },
        )
        .unwrap()
    }
}

/// Replaces ids, times, shas, pids, ports and temp paths so snapshots are stable.
fn redact(value: &mut Value, root: &Path) {
    Redactions::new()
        .path(root)
        .keys(&["pid", "port", "version", "seq", "host"])
        .json(value);
}

#[tokio::test]
async fn state_inbox_thread_session_and_worktree_requests() {
    let mut f = Fixture::new().await;
    let lead = f.agent_session("lead");
    let child = session::spawn(
        &mut f.store,
        &lead.id,
        &NewSession {
            agent: "worker".into(),
            intent: "sub task".into(),
            ..Default::default()
        },
        "lead",
    )
    .unwrap();
    worktree::create(
        &mut f.store,
        "lead",
        &f.repo,
        &NewWorktree {
            name: "wt".into(),
            session: Some(child.id.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let m = message::send(
        &mut f.store,
        &Author {
            agent: "lead".into(),
            session: Some(lead.id.clone()),
        },
        &Draft {
            to: vec![HUMAN.into()],
            subject: Some("status".into()),
            body: "all good".into(),
            ..Default::default()
        },
    )
    .unwrap();

    let mut state = f.lsp.request(protocol::STATE, json!({})).await.unwrap();
    let repo = &state["repos"][0];
    assert_eq!(repo["human"], HUMAN);
    assert_eq!(repo["sessions"][0]["session"]["agent"], "lead");
    assert_eq!(
        repo["sessions"][0]["children"][0]["session"]["agent"], "worker",
        "children nest under their parent"
    );
    assert_eq!(repo["worktrees"][0]["worktree"]["name"], "wt");
    assert_eq!(repo["inbox"]["unread"], 1);
    redact(&mut state, f.db.parent().unwrap());
    insta::assert_json_snapshot!("state", state);

    let mut inbox = f
        .lsp
        .request(protocol::INBOX, json!({"unreadOnly": true}))
        .await
        .unwrap();
    assert_eq!(inbox["messages"][0]["id"], m.id.as_str());
    redact(&mut inbox, f.db.parent().unwrap());
    insta::assert_json_snapshot!("inbox", inbox);
    let thread = f
        .lsp
        .request(protocol::THREAD, json!({"thread": m.thread}))
        .await
        .unwrap();
    assert_eq!(thread["messages"][0]["body"], "all good");
    let one = f
        .lsp
        .request(protocol::SESSION, json!({"session": child.id}))
        .await
        .unwrap();
    assert_eq!(one["tree"]["root"], lead.id.as_str());
    let wt = f
        .lsp
        .request(protocol::WORKTREE, json!({"name": "wt"}))
        .await
        .unwrap();
    assert_eq!(wt["worktree"]["name"], "wt");
    let err = f
        .lsp
        .request(protocol::THREAD, json!({"thread": "thr_0000000000"}))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("no thread matches"),
        "{err}"
    );
    let err = f
        .lsp
        .request(protocol::WORKTREE, json!({}))
        .await
        .unwrap_err();
    assert!(err["message"].as_str().unwrap().contains("name"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_by_other_processes_are_pushed_quickly_and_bursts_are_merged() {
    let mut f = Fixture::new().await;
    let lead = f.agent_session("lead");
    f.lsp
        .wait_for(protocol::STATE_CHANGED, Duration::from_secs(5), |_| true)
        .await
        .expect("a push for the new session");
    tokio::time::sleep(Duration::from_millis(100)).await;
    f.lsp.drain(protocol::STATE_CHANGED);
    let sent_at = Instant::now();
    message::send(
        &mut f.store,
        &Author {
            agent: "lead".into(),
            session: Some(lead.id.clone()),
        },
        &Draft {
            to: vec![HUMAN.into()],
            body: "ping".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let push = f
        .lsp
        .wait_for(protocol::STATE_CHANGED, Duration::from_secs(5), |p| {
            p["changed"]
                .as_array()
                .unwrap()
                .contains(&json!("messages"))
        })
        .await
        .expect("no stateChanged after a send");
    let mut shape = push.clone();
    redact(&mut shape, f.db.parent().unwrap());
    insta::assert_json_snapshot!("state_changed", shape);
    println!("send → stateChanged in {:?}", sent_at.elapsed());
    assert!(push["version"].as_i64().unwrap() > 0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    f.lsp.drain(protocol::STATE_CHANGED);

    // Another "process": its own connection on its own thread, while the companion runs.
    let db = f.db.clone();
    let author = Author {
        agent: "lead".into(),
        session: Some(lead.id),
    };
    let burst = tokio::task::spawn_blocking(move || {
        let mut other = Store::open(&db, Settings::default()).unwrap();
        let started = Instant::now();
        for i in 0..1000 {
            message::send(
                &mut other,
                &author,
                &Draft {
                    to: vec![HUMAN.into()],
                    body: format!("burst {i}"),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        started.elapsed()
    });
    let took = burst.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushes = f.lsp.drain(protocol::STATE_CHANGED);
    println!(
        "1000 messages in {took:?} → {} stateChanged notifications",
        pushes.len()
    );
    assert!(
        !pushes.is_empty() && pushes.len() < 100,
        "{} pushes for a burst of 1000",
        pushes.len()
    );
    let last = pushes.last().unwrap()["version"].as_i64().unwrap();
    assert_eq!(
        last,
        f.store.latest_event_seq().unwrap(),
        "the last push carries the latest version"
    );
}

#[tokio::test]
async fn commands_act_as_the_human_through_the_core() {
    let mut f = Fixture::new().await;
    let agent = f.agent_session("claude");
    let sent = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.send", "arguments": [{"to": ["claude"], "body": "please rebase", "priority": "high"}]})).await.unwrap();
    assert_eq!(sent["sender"], HUMAN);
    let question = message::send(
        &mut f.store,
        &Author {
            agent: "claude".into(),
            session: Some(agent.id.clone()),
        },
        &Draft {
            to: vec![HUMAN.into()],
            body: "ok to merge?".into(),
            ack_required: true,
            ..Default::default()
        },
    )
    .unwrap();
    let reply = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.reply", "arguments": [{"message": question.id, "body": "yes", "priority": "urgent", "ack_required": true}]})).await.unwrap();
    assert_eq!(reply["to"], json!(["claude"]));
    assert_eq!(
        (&reply["priority"], &reply["ack_required"]),
        (&json!("urgent"), &json!(true)),
        "{reply}"
    );
    let read = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.markRead", "arguments": [{"ids": [question.id]}]}),
        )
        .await
        .unwrap();
    assert_eq!(read[0]["state"], "read");
    let acked = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.ack", "arguments": [{"ids": [question.id]}]}),
        )
        .await
        .unwrap();
    assert_eq!(acked[0]["state"], "acked");

    let created = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.createWorktree", "arguments": [{"name": "fix", "session": agent.id}], "workDoneToken": "t1"})).await.unwrap();
    let path = PathBuf::from(created["worktree"]["path"].as_str().unwrap());
    f.lsp
        .wait_for("$/progress", Duration::from_secs(5), |p| {
            p["token"] == "t1" && p["value"]["kind"] == "end"
        })
        .await
        .expect("progress ends");
    commit(&path, "fix.txt", "fixed\n", "the fix");
    let diff = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.showDiff", "arguments": [{"worktree": "fix"}]}),
        )
        .await
        .unwrap();
    assert!(diff["patch"].as_str().unwrap().contains("+fixed"));
    let merged = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.mergeWorktree", "arguments": [{"name": "fix", "strategy": "ff"}]})).await.unwrap();
    assert_eq!(merged["into"], "main");
    assert!(f.repo.join("fix.txt").exists());
    let removed = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.removeWorktree", "arguments": [{"name": "fix", "deleteBranch": true}]})).await.unwrap();
    assert_eq!(removed["branch_deleted"], true);
    let ended = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.endSession", "arguments": [{"session": agent.id, "reason": "done for today"}]})).await.unwrap();
    assert_eq!(ended["status"], "abandoned");
    let events = f.store.events_after(0, 1000).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "session.ended" && e.actor.as_deref() == Some(HUMAN)),
        "the human is the actor"
    );

    let err = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.nope", "arguments": []}),
        )
        .await
        .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("unknown command"),
        "{err}"
    );
    let err = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.send", "arguments": [{"to": ["ghost"], "body": "x"}]}),
        )
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown recipient 'ghost'"),
        "{err}"
    );
}

#[tokio::test]
async fn diagnostics_and_code_lenses_show_who_else_changes_an_open_file() {
    let mut f = Fixture::new().await;
    let other = f.agent_session("bob");
    let wt = worktree::create(
        &mut f.store,
        "bob",
        &f.repo,
        &NewWorktree {
            name: "bobs".into(),
            session: Some(other.id.clone()),
            ..Default::default()
        },
    )
    .unwrap()
    .worktree;
    let file = f.repo.join("app.rs");
    let uri = format!("file://{}", file.display());
    f.lsp.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": "fn main() {}\n"}})).await.unwrap();
    let first = f
        .lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(5),
            |p| p["uri"] == uri.as_str(),
        )
        .await
        .unwrap();
    assert_eq!(first["diagnostics"], json!([]));

    std::fs::write(Path::new(&wt.path).join("app.rs"), "fn main() { bob() }\n").unwrap();
    worktree::heartbeat(&mut f.store, &other.id, "bob", None).unwrap();
    let shown = f
        .lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(5),
            |p| p["uri"] == uri.as_str() && !p["diagnostics"].as_array().unwrap().is_empty(),
        )
        .await
        .expect("no diagnostic after bob's heartbeat");
    let d = &shown["diagnostics"][0];
    assert_eq!(d["severity"], 3, "Information");
    assert_eq!(
        d["message"],
        "also changed by bob in bobs (+1 −1, uncommitted)"
    );
    let lenses = f
        .lsp
        .request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        )
        .await
        .unwrap();
    assert_eq!(lenses[0]["command"]["command"], "switchboard.showDiff");
    assert_eq!(lenses[0]["command"]["arguments"][0]["worktree"], "bobs");

    session::end(
        &mut f.store,
        &other.id,
        &session::EndRequest::with(session::EndStatus::Completed),
        "bob",
    )
    .unwrap();
    f.lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(5),
            |p| p["uri"] == uri.as_str() && p["diagnostics"] == json!([]),
        )
        .await
        .expect("cleared when bob's session ends");
}

#[tokio::test]
async fn an_urgent_message_to_the_human_pops_up() {
    let mut f = Fixture::new().await;
    let lead = f.agent_session("lead");
    message::send(
        &mut f.store,
        &Author {
            agent: "lead".into(),
            session: Some(lead.id),
        },
        &Draft {
            to: vec![HUMAN.into()],
            subject: Some("Prod is down".into()),
            body: "help".into(),
            priority: Priority::Urgent,
            ..Default::default()
        },
    )
    .unwrap();
    let shown = f
        .lsp
        .wait_for("window/showMessage", Duration::from_secs(5), |p| {
            p["message"].as_str().unwrap_or("").contains("Prod is down")
        })
        .await
        .expect("no popup");
    assert_eq!(shown["type"], 2, "a warning");
    assert_eq!(shown["message"], "Urgent message from lead: Prod is down");
}

#[tokio::test]
async fn several_workspace_folders_from_different_repositories() {
    let scratch = [ScratchRepo::new(), ScratchRepo::new()];
    let roots: Vec<&Path> = scratch.iter().map(ScratchRepo::path).collect();
    // Each repository keeps its own state in its git common dir.
    let mut two = Store::open(
        &roots[1].join(".git/switchboard/state.db"),
        Settings::default(),
    )
    .unwrap();
    session::start(
        &mut two,
        &NewSession {
            agent: "only-in-two".into(),
            intent: "x".into(),
            ..Default::default()
        },
    )
    .unwrap();

    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_io);
    tokio::spawn(switchboard_lsp::serve(
        server_read,
        server_write,
        Config {
            human: Some(HUMAN.into()),
            ..Default::default()
        },
    ));
    let (client_read, client_write) = tokio::io::split(client_io);
    let lsp = LspClient::new(client_read, client_write);
    let folders: Vec<Value> = roots
        .iter()
        .map(|r| json!({"uri": format!("file://{}", r.display()), "name": "f"}))
        .collect();
    lsp.request(
        "initialize",
        json!({"processId": null, "workspaceFolders": folders, "capabilities": {}}),
    )
    .await
    .unwrap();
    lsp.notify("initialized", json!({})).await.unwrap();

    let state = lsp.request(protocol::STATE, json!({})).await.unwrap();
    let repos = state["repos"].as_array().unwrap();
    assert_eq!(repos.len(), 2);
    assert_eq!(repos[0]["sessions"], json!([]));
    assert_eq!(repos[1]["sessions"][0]["session"]["agent"], "only-in-two");
    let sent = lsp
        .request("workspace/executeCommand", json!({"command": "switchboard.send", "arguments": [{"repo": roots[1].display().to_string(), "to": ["only-in-two"], "body": "hi"}]}))
        .await
        .unwrap();
    assert_eq!(
        sent["to"],
        json!(["only-in-two"]),
        "the command went to the second repository"
    );
    let err = lsp
        .request("workspace/executeCommand", json!({"command": "switchboard.send", "arguments": [{"to": ["only-in-two"], "body": "hi"}]}))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown recipient"),
        "the default is the first folder: {err}"
    );
}

#[tokio::test]
async fn mail_an_agent_leaves_unread_too_long_is_flagged_in_the_state() {
    let mut f = Fixture::with_settings("[messages]\nescalate_after = \"0s\"\n").await;
    let lead = f.agent_session("lead");
    f.agent_session("worker");
    message::send(
        &mut f.store,
        &Author {
            agent: "lead".into(),
            session: Some(lead.id.clone()),
        },
        &Draft {
            to: vec!["worker".into()],
            subject: Some("rebase please".into()),
            body: "main moved".into(),
            ..Default::default()
        },
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let state = f.lsp.request(protocol::STATE, json!({})).await.unwrap();
    let overdue = &state["repos"][0]["overdue"];
    assert_eq!(overdue[0]["recipient"], "worker", "{overdue}");
    assert_eq!(overdue[0]["about"], "rebase please");
}

/// A worktree created from the editor may run a long setup command; meanwhile the views
/// still load (nothing holds the store for the length of one command).
#[tokio::test]
async fn a_long_command_does_not_hold_up_the_views() {
    let dir = switchboard_testutils::ScratchStore::new();
    let gate = switchboard_testutils::Gate::new(dir.dir());
    let mut f = Fixture::with_settings(&gate.setup_config()).await;
    let agent = f.agent_session("claude");
    let create = f.lsp.request(
        "workspace/executeCommand",
        json!({"command": "switchboard.createWorktree", "arguments": [{"name": "slow", "session": agent.id}]}),
    );
    let meanwhile = async {
        while !gate.started() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let state = tokio::time::timeout(
            Duration::from_secs(60),
            f.lsp.request("switchboard/state", json!({})),
        )
        .await;
        drop(gate);
        state
    };
    let (created, state) = tokio::join!(create, meanwhile);
    let state = state
        .expect("the state was answered while the setup ran")
        .unwrap();
    assert_eq!(
        state["repos"][0]["worktrees"][0]["worktree"]["name"], "slow",
        "{state}"
    );
    let created = created.unwrap();
    assert_eq!(created["setup"]["success"], true, "{created}");
}

/// `HH:MM` of `at` in this machine's local time zone, as the diagnostics write it.
/// `at` as the editor says it: local `HH:MM`, with the date on another day.
fn local_hhmm(at: Timestamp) -> String {
    let local = chrono::Local.timestamp_millis_opt(at.millis()).unwrap();
    let today = local.date_naive() == chrono::Local::now().date_naive();
    local
        .format(if today { "%H:%M" } else { "%Y-%m-%d %H:%M" })
        .to_string()
}

impl Fixture {
    /// Opens `relative` (written to disk under `root` first) and returns its URI with the
    /// diagnostics first published for it.
    async fn open(&self, root: &Path, relative: &str) -> (String, Value) {
        let file = root.join(relative);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "text\n").unwrap();
        let uri = format!("file://{}", file.display());
        self.lsp.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": "text\n"}})).await.unwrap();
        let published = self
            .lsp
            .wait_for(
                "textDocument/publishDiagnostics",
                Duration::from_secs(5),
                |p| p["uri"] == uri.as_str(),
            )
            .await
            .expect("diagnostics on open");
        (uri, published["diagnostics"].clone())
    }

    /// `agent` claims `pattern` from a session of its own, through the core.
    fn agent_claims(&mut self, agent: &str, pattern: &str, shared: bool, reason: &str) -> Claim {
        let session = self.agent_session(agent);
        claim::claim(
            &mut self.store,
            &Claimant {
                actor: agent,
                session: Some(&session.id),
            },
            &ClaimRequest {
                patterns: vec![pattern.into()],
                reason: reason.into(),
                shared,
                ..Default::default()
            },
        )
        .unwrap()
        .remove(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_claims_are_diagnostics_on_the_open_files_they_cover() {
    let mut f = Fixture::new().await;
    let auth = f.agent_claims("claude", "src/**", false, "refactoring auth");
    let docs = f.agent_claims("bob", "docs/*.md", true, "proofreading");
    let mine = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.claim", "arguments": [{"patterns": ["/app.rs"], "reason": "my own"}]})).await.unwrap();
    assert_eq!(mine[0]["agent"], HUMAN);
    let wt = worktree::create(
        &mut f.store,
        "claude",
        &f.repo,
        &NewWorktree {
            name: "side".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .worktree;
    let repo = f.repo.clone();

    let (_, exclusive) = f.open(&repo, "src/auth/login.rs").await;
    assert_eq!(
        exclusive,
        json!([{
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "severity": 2,
            "source": "switchboard",
            "message": format!("claimed by claude until {}: refactoring auth", local_hhmm(auth.expires_at)),
        }]),
        "a warning for an exclusive claim"
    );
    let (_, shared) = f.open(&repo, "docs/guide.md").await;
    assert_eq!(shared[0]["severity"], 3, "information for a shared claim");
    assert_eq!(
        shared[0]["message"],
        format!(
            "claimed (shared) by bob until {}: proofreading",
            local_hhmm(docs.expires_at)
        )
    );
    let (_, in_worktree) = f.open(Path::new(&wt.path), "src/lib.rs").await;
    assert_eq!(
        in_worktree[0]["message"], exclusive[0]["message"],
        "a linked worktree's files are judged by their path in that worktree"
    );
    let (_, uncovered) = f.open(&repo, "notes.txt").await;
    assert_eq!(uncovered, json!([]), "nobody claims notes.txt");
    let (_, own) = f.open(&repo, "app.rs").await;
    assert_eq!(own, json!([]), "the human's own claim is no diagnostic");

    let state = f.lsp.request(protocol::STATE, json!({})).await.unwrap();
    let claims = state["repos"][0]["claims"].as_array().unwrap();
    let listed: Vec<(&str, &str, &str)> = claims
        .iter()
        .map(|c| {
            (
                c["pattern"].as_str().unwrap(),
                c["agent"].as_str().unwrap(),
                c["mode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("src/**", "claude", "exclusive"),
            ("docs/*.md", "bob", "shared"),
            ("/app.rs", HUMAN, "exclusive"),
        ],
        "the claims in force, oldest first"
    );
    assert_eq!(claims[0]["id"], auth.id.as_str());
    assert_eq!(claims[0]["reason"], "refactoring auth");
    assert_eq!(claims[0]["state"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_human_claims_and_releases_from_the_editor() {
    let mut f = Fixture::new().await;
    let made = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.claim", "arguments": [{"patterns": ["app.rs", "lib/**"], "reason": "release prep", "shared": true, "ttl": "30m"}]})).await.unwrap();
    let made = made.as_array().unwrap();
    assert_eq!(made.len(), 2);
    assert_eq!(
        (&made[0]["agent"], &made[0]["mode"], &made[0]["session"]),
        (&json!(HUMAN), &json!("shared"), &Value::Null),
        "in the human's own name: {made:?}"
    );
    let listed = claim::list(&mut f.store, false).unwrap();
    assert_eq!(listed.len(), 2, "the core holds them");
    let ttl = listed[0].expires_at.millis() - listed[0].created_at.millis();
    assert_eq!(ttl, 30 * 60 * 1000, "the ttl given");

    let released = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.release", "arguments": [{"pattern": "lib/**"}]}),
        )
        .await
        .unwrap();
    assert_eq!(released[0]["pattern"], "lib/**");
    assert_eq!(released.as_array().unwrap().len(), 1);
    let released = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.release", "arguments": [{"all": true}]}),
        )
        .await
        .unwrap();
    assert_eq!(released[0]["pattern"], "app.rs");
    assert!(claim::list(&mut f.store, false).unwrap().is_empty());

    let err = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.release", "arguments": [{}]}),
        )
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("exactly one of id, pattern or all"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_expires_leaves_the_editor_though_no_event_says_so() {
    let mut f = Fixture::new().await;
    let session = f.agent_session("claude");
    let repo = f.repo.clone();
    let (uri, before) = f.open(&repo, "src/x.rs").await;
    assert_eq!(before, json!([]));
    let made = claim::claim(
        &mut f.store,
        &Claimant {
            actor: "claude",
            session: Some(&session.id),
        },
        &ClaimRequest {
            patterns: vec!["src/**".into()],
            reason: "a quick fix".into(),
            ttl: Some(Duration::from_secs(2)),
            ..Default::default()
        },
    )
    .unwrap();
    f.lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(5),
            |p| p["uri"] == uri.as_str() && p["diagnostics"][0]["message"].is_string(),
        )
        .await
        .expect("the claim shows");
    // Earlier pushes (claude's session starting) may still be queued.
    f.lsp.drain("textDocument/publishDiagnostics");
    f.lsp.drain(protocol::STATE_CHANGED);
    // Nothing is written when a claim expires: the companion looks again at its expiry.
    f.lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(10),
            |p| p["uri"] == uri.as_str() && p["diagnostics"] == json!([]),
        )
        .await
        .expect("the diagnostic cleared at the expiry");
    assert!(
        Timestamp::now() >= made[0].expires_at,
        "not before it expired"
    );
    f.lsp
        .wait_for(protocol::STATE_CHANGED, Duration::from_secs(5), |p| {
            p["changed"]
                .as_array()
                .unwrap()
                .contains(&json!("sessions"))
        })
        .await
        .expect("the views are told to read the claims again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claiming_over_an_agent_is_refused_and_releasing_clears_the_diagnostic() {
    let mut f = Fixture::new().await;
    let auth = f.agent_claims("claude", "src/**", false, "refactoring auth");
    let err = f.lsp.request("workspace/executeCommand", json!({"command": "switchboard.claim", "arguments": [{"patterns": ["src/x.rs"], "reason": "hotfix"}]})).await.unwrap_err();
    let text = err["message"].as_str().unwrap();
    assert!(
        text.contains("'claude'") && text.contains("refactoring auth") && text.contains(&auth.id),
        "the refusal names the holder, its reason and claim: {err}"
    );
    assert_eq!(
        claim::list(&mut f.store, false).unwrap().len(),
        1,
        "nothing claimed"
    );

    let repo = f.repo.clone();
    let (uri, shown) = f.open(&repo, "src/x.rs").await;
    assert_eq!(shown[0]["severity"], 2);
    f.lsp.drain(protocol::STATE_CHANGED);
    let released = f
        .lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "switchboard.release", "arguments": [{"id": auth.id}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        released[0]["agent"], "claude",
        "a human may release anyone's claim by id"
    );
    f.lsp
        .wait_for(protocol::STATE_CHANGED, Duration::from_secs(5), |p| {
            p["changed"]
                .as_array()
                .unwrap()
                .contains(&json!("sessions"))
        })
        .await
        .expect("a push after the release");
    f.lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(5),
            |p| p["uri"] == uri.as_str() && p["diagnostics"] == json!([]),
        )
        .await
        .expect("the diagnostic cleared after the release");

    f.agent_claims("bob", "src/**", false, "next round");
    f.lsp
        .wait_for(
            "textDocument/publishDiagnostics",
            Duration::from_secs(5),
            |p| {
                p["uri"] == uri.as_str()
                    && p["diagnostics"][0]["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("claimed by bob"))
            },
        )
        .await
        .expect("a new claim by another process shows live");
}
