//! Every tool, success and user errors, asserting structured content.

use serde_json::{Value, json};

use crate::harness::{Harness, ok, refused};

crate::every_backend! {
    async fn tool_list_schemas_and_annotations_snapshot(backend) {
        let h = Harness::on(backend);
        let client = h.client(None).await;
        let mut tools = client.tools().await.unwrap();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "agent_list",
                "agent_register",
                "claim_add",
                "claim_list",
                "claim_release",
                "group_create",
                "group_delete",
                "group_list",
                "group_update",
                "inbox_read",
                "message_delete",
                "message_edit",
                "message_get",
                "message_read",
                "message_reply",
                "message_search",
                "message_send",
                "message_sent",
                "message_wait",
                "session_end",
                "session_fork",
                "session_get",
                "session_heartbeat",
                "session_list",
                "session_spawn",
                "session_start",
                "session_tree",
                "session_update",
                "status",
                "thread_get",
                "who_has",
                "whoami",
                "worktree_conflicts",
                "worktree_create",
                "worktree_diff",
                "worktree_list",
                "worktree_merge",
                "worktree_prune",
                "worktree_remove",
                "worktree_sync"
            ]
        );
        for tool in &tools {
            assert!(
                tool.output_schema.is_some(),
                "{} has no outputSchema",
                tool.name
            );
            assert!(
                tool.annotations.is_some(),
                "{} has no annotations",
                tool.name
            );
            assert!(tool.description.as_deref().is_some_and(|d| !d.is_empty()));
        }
        let input = |name: &str| {
            tools
                .iter()
                .find(|t| t.name == name)
                .unwrap()
                .input_schema
                .clone()
        };
        assert!(
            input("agent_list")
                .get("properties")
                .is_none_or(|p| p.as_object().unwrap().is_empty())
        );
        assert!(
            input("whoami")
                .get("properties")
                .is_none_or(|p| p.as_object().unwrap().is_empty())
        );
        assert!(input("session_start")["properties"]["agent"].is_object());
        assert!(
            tools
                .iter()
                .all(|t| !t.input_schema.contains_key("$schema")),
            "input schemas are compacted"
        );
        let listed = serde_json::to_value(&tools).unwrap();
        insta::assert_json_snapshot!("tool_list", listed);
        // What the model is shown: names, descriptions and input schemas of every tool, and
        // the server's instructions (here for an instance with a name of its own).
        let instructions = client.instructions().unwrap();
        let context = switchboard_mcp::reference::context_size() + instructions.len();
        let whole = switchboard_mcp::reference::tool_list_size();
        println!(
            "model-facing tool list: {context} characters (budget 13000); \
             {whole} for the whole tools/list with output schemas and annotations"
        );
        assert!(
            context < 13_000,
            "the tools and instructions cost {context} characters of agent context"
        );
        assert!(client.instructions().unwrap().contains("session_start"));
    }
}

crate::every_backend! {
    async fn without_identity_tools_say_exactly_what_to_call(backend) {
        let h = Harness::on(backend);
        let client = h.client(None).await;
        // An instance nobody named gets a name of its own from its client (rmcp here).
        let who = ok(&client, "whoami", json!({})).await;
        assert!(who["agent"].as_str().unwrap().starts_with("rmcp-"), "{who}");
        assert!(who["hint"].as_str().unwrap().contains("session_start"));
        for tool in [
            "session_heartbeat",
            "session_update",
            "session_end",
            "session_spawn",
            "session_fork",
            "session_tree",
        ] {
            let args = match tool {
                "session_spawn" | "session_fork" | "session_update" => json!({"intent": "x"}),
                _ => json!({}),
            };
            let msg = refused(&client, tool, args).await;
            assert!(msg.contains("session_start"), "{tool}: {msg}");
        }
        let msg = refused(
            &client,
            "session_start",
            json!({"agent": "Bad Name", "intent": "work"}),
        )
        .await;
        assert!(msg.contains("not a valid agent name"), "{msg}");
        let msg = refused(&client, "session_start", json!({"agent": "claude"})).await;
        assert!(msg.contains("give intent"), "{msg}");
        // Until it has a session, the instance may still take a name of its own choosing.
        let started = ok(
            &client,
            "session_start",
            json!({"agent": "claude", "intent": "work"}),
        )
        .await;
        assert_eq!(started["agent"], "claude");
    }
}

crate::every_backend! {
    async fn session_start_returns_identity_and_session_and_sets_whoami(backend) {
        let h = Harness::on(backend);
        let client = h.client(None).await;
        let started = ok(
            &client,
            "session_start",
            json!({"agent": "claude", "intent": "fix the parser", "role": "dev"}),
        )
        .await;
        assert_eq!(started["agent"], "claude");
        assert_eq!(started["unread"], 0);
        assert_eq!(started.get("children"), None, "no subtasks: left out");
        let session = &started["session"];
        assert!(session["id"].as_str().unwrap().starts_with("ses_"));
        assert_eq!(session["status"], "active");
        assert_eq!(session["intent"], "fix the parser");
        let who = ok(&client, "whoami", json!({})).await;
        assert_eq!(who["agent"], "claude");
        assert_eq!(who["session"]["id"], session["id"]);
        assert_eq!(who["session"]["role"], "dev");
        assert_eq!(who["session"]["process"]["pid"], std::process::id());
        assert_eq!(who["hint"], Value::Null);
        let msg = refused(
            &client,
            "session_start",
            json!({"agent": "codex", "intent": "other"}),
        )
        .await;
        assert!(
            msg.contains("acts for agent 'claude'") && msg.contains("switchboard mcp --agent codex"),
            "{msg}"
        );
        // Starting again continues the current session, with the new intent.
        let again = ok(
            &client,
            "session_start",
            json!({"intent": "fix the parser, then the lexer"}),
        )
        .await;
        assert_eq!(again["session"]["id"], session["id"]);
        assert_eq!(again["session"]["intent"], "fix the parser, then the lexer");
        assert!(
            again["note"].as_str().unwrap().contains("continuing"),
            "{again}"
        );
        // Only an explicit replace starts another; the old one is ended as superseded.
        let second = ok(
            &client,
            "session_start",
            json!({"intent": "next task", "replace": true}),
        )
        .await;
        assert_ne!(second["session"]["id"], session["id"]);
        let old = ok(&client, "session_get", json!({"session": session["id"]})).await;
        assert_eq!(old["status"], "abandoned");
        assert_eq!(
            old["end_reason"],
            format!(
                "superseded by {}",
                second["session"]["id"].as_str().unwrap()
            )
        );
    }
}

crate::every_backend! {
    async fn agent_flag_identity_and_register_and_list(backend) {
        let h = Harness::on(backend);
        let client = h.client(Some("codex")).await;
        let who = ok(&client, "whoami", json!({})).await;
        assert_eq!(who["agent"], "codex");
        assert!(who["hint"].as_str().unwrap().contains("intent"));
        let msg = refused(
            &client,
            "agent_register",
            json!({"name": "human:ada", "description": "reviews"}),
        )
        .await;
        assert!(
            msg.contains("registers only itself") && msg.contains("a human may"),
            "{msg}"
        );
        let reg = ok(&client, "agent_register", json!({"description": "ports"})).await;
        assert_eq!(
            (reg["kind"].as_str(), reg["description"].as_str()),
            (Some("agent"), Some("ports"))
        );
        let msg = refused(&client, "agent_register", json!({"name": "everyone"})).await;
        assert!(msg.contains("reserved"), "{msg}");
        ok(
            &client,
            "session_start",
            json!({"intent": "port the tests"}),
        )
        .await;
        let list = ok(&client, "agent_list", json!({})).await;
        let agents = list["agents"].as_array().unwrap();
        assert_eq!(agents.len(), 1, "{list}");
        let codex = agents.iter().find(|a| a["name"] == "codex").unwrap();
        assert_eq!(codex["live_sessions"], 1);
    }
}

crate::every_backend! {
    async fn heartbeat_update_get_list_and_end(backend) {
        let h = Harness::on(backend);
        let client = h.client(Some("claude")).await;
        let started = ok(&client, "session_start", json!({"intent": "first"})).await;
        let id = started["session"]["id"].as_str().unwrap().to_string();
        let beat = ok(&client, "session_heartbeat", json!({})).await;
        assert_eq!(beat["id"], id.as_str());
        let updated = ok(
            &client,
            "session_update",
            json!({"intent": "second", "role": "lead"}),
        )
        .await;
        assert_eq!(
            (updated["intent"].as_str(), updated["role"].as_str()),
            (Some("second"), Some("lead"))
        );
        let msg = refused(&client, "session_update", json!({})).await;
        assert!(msg.contains("nothing to update"), "{msg}");
        let got = ok(&client, "session_get", json!({"session": &id[..14]})).await;
        assert_eq!(got["id"], id.as_str());
        let msg = refused(&client, "session_get", json!({"session": "ses_0000000000"})).await;
        assert!(
            msg.contains("no session matches") && msg.contains("session_list"),
            "{msg}"
        );
        let msg = refused(&client, "session_get", json!({"session": "ses_01"})).await;
        assert!(msg.contains("at least 4 characters"), "{msg}");

        let other = h.client(Some("codex")).await;
        ok(&other, "session_start", json!({"intent": "other work"})).await;
        let all = ok(&client, "session_list", json!({})).await;
        assert_eq!(all["sessions"].as_array().unwrap().len(), 2);
        assert_eq!(all.get("truncated"), None, "false is left out");
        let mine = ok(&client, "session_list", json!({"agent": "claude"})).await;
        assert_eq!(mine["sessions"][0]["id"], id.as_str());
        let prefix = &id[..8];
        let msg = refused(&client, "session_get", json!({"session": prefix})).await;
        assert!(msg.contains("matches more than one session"), "{msg}");

        let ended = ok(
            &client,
            "session_end",
            json!({"status": "failed", "reason": "blocked on review"}),
        )
        .await;
        assert_eq!(
            (ended["status"].as_str(), ended["end_reason"].as_str()),
            (Some("failed"), Some("blocked on review"))
        );
        assert_eq!(ended.get("ended_at"), None, "times only where they matter");
        let who = ok(&client, "whoami", json!({})).await;
        assert_eq!(who["session"], Value::Null, "ending your session clears it");
        let msg = refused(&client, "session_end", json!({"session": id})).await;
        assert!(msg.contains("already ended (failed"), "{msg}");
        let live = ok(&client, "session_list", json!({"live_only": true})).await;
        assert_eq!(live["sessions"].as_array().unwrap().len(), 1);
        let got = ok(&client, "session_get", json!({"session": id})).await;
        assert_eq!(got["status"], "failed");
    }
}

crate::every_backend! {
    async fn spawn_fork_and_tree(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        let root = ok(&lead, "session_start", json!({"intent": "ship it"})).await;
        let root_id = root["session"]["id"].as_str().unwrap().to_string();
        let child = ok(
            &lead,
            "session_spawn",
            json!({"intent": "write docs", "agent": "writer"}),
        )
        .await;
        assert_eq!(
            (child["parent"].as_str(), child["agent"].as_str()),
            (Some(root_id.as_str()), Some("writer"))
        );
        assert_eq!(child["process"], Value::Null);
        // Without an agent, the subtask is for a new instance named after the spawner.
        let own = ok(&lead, "session_spawn", json!({"intent": "self subtask"})).await;
        let own_agent = own["agent"].as_str().unwrap();
        assert!(own_agent.starts_with("lead-"), "{own_agent}");
        let fork = ok(
            &lead,
            "session_fork",
            json!({"from": child["id"], "intent": "docs as video", "agent": "video"}),
        )
        .await;
        assert_eq!(fork["forked_from"], child["id"]);
        assert_eq!(fork["parent"], root_id.as_str());
        let tree = ok(&lead, "session_tree", json!({})).await;
        assert_eq!(tree["root"], root_id.as_str());
        assert_eq!(tree["focus"], root_id.as_str());
        let depths: Vec<u64> = tree["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["depth"].as_u64().unwrap())
            .collect();
        assert_eq!(depths, [0, 1, 1, 1]);
        let text = lead
            .call("session_tree", json!({"session": fork["id"]}))
            .await
            .unwrap()
            .text;
        assert!(text.contains("⑂") && text.contains("◀"), "{text}");
        let children = ok(&lead, "session_list", json!({"parent": root_id})).await;
        assert_eq!(children["sessions"].as_array().unwrap().len(), 3);

        // The writer's own server joins the spawned session.
        let writer = h.client(Some("writer")).await;
        let joined = ok(
            &writer,
            "session_start",
            json!({"session": child["id"], "intent": "write the docs, with examples"}),
        )
        .await;
        assert_eq!(joined["session"]["id"], child["id"]);
        assert_eq!(joined["session"]["intent"], "write the docs, with examples");
        let who = ok(&writer, "whoami", json!({})).await;
        assert_eq!(who["session"]["process"]["pid"], std::process::id());
        let msg = refused(&writer, "session_start", json!({"session": fork["id"]})).await;
        assert!(msg.contains("belongs to agent 'video'"), "{msg}");

        // A server with no identity yet joins a spawned session and becomes its agent.
        let video = h.client(None).await;
        let joined = ok(&video, "session_start", json!({"session": fork["id"]})).await;
        assert_eq!(joined["agent"], "video");
        assert_eq!(ok(&video, "whoami", json!({})).await["agent"], "video");
    }
}

crate::every_backend! {
    async fn session_errors_name_the_problem_for_every_session_tool(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        let mine = ok(&lead, "session_start", json!({"intent": "one"})).await;
        let other = h.client(Some("other")).await;
        let theirs = ok(&other, "session_start", json!({"intent": "two"})).await;
        let unknown = "ses_0000000000";
        let shared = &mine["session"]["id"].as_str().unwrap()[..8];
        for (tool, key) in [
            ("session_fork", "from"),
            ("session_tree", "session"),
            ("session_heartbeat", "session"),
            ("session_update", "session"),
            ("session_end", "session"),
            ("session_get", "session"),
        ] {
            let args = |id: &str| match tool {
                "session_fork" | "session_update" => json!({key: id, "intent": "x"}),
                _ => json!({key: id}),
            };
            let msg = refused(&lead, tool, args(unknown)).await;
            assert!(msg.contains("no session matches"), "{tool}: {msg}");
            let msg = refused(&lead, tool, args(shared)).await;
            assert!(
                msg.contains("matches more than one session"),
                "{tool}: {msg}"
            );
        }
        let msg = refused(
            &lead,
            "session_heartbeat",
            json!({"session": theirs["session"]["id"]}),
        )
        .await;
        assert!(msg.contains("belongs to agent 'other'"), "{msg}");
        ok(&lead, "session_end", json!({})).await;
        let msg = refused(
            &lead,
            "session_heartbeat",
            json!({"session": mine["session"]["id"]}),
        )
        .await;
        assert!(msg.contains("already ended"), "{msg}");
        let msg = refused(&lead, "session_spawn", json!({"intent": "sub"})).await;
        assert!(msg.contains("no session yet"), "{msg}");
        let msg = refused(&lead, "agent_register", json!({"role": "Not A Role"})).await;
        assert!(msg.contains("not a valid role"), "{msg}");
    }
}

crate::every_backend! {
    async fn malformed_arguments_are_tool_errors_and_unknown_tools_protocol_errors(backend) {
        let h = Harness::on(backend);
        let client = h.client(Some("claude")).await;
        let msg = refused(&client, "session_get", json!({})).await;
        assert!(
            msg.contains("failed to deserialize parameters") && msg.contains("missing field `session`"),
            "{msg}"
        );
        let msg = refused(&client, "session_end", json!({"status": "done"})).await;
        assert!(
            msg.contains("unknown variant `done`") && msg.contains("completed"),
            "{msg}"
        );
        let msg = refused(&client, "session_list", json!({"limit": "ten"})).await;
        assert!(msg.contains("failed to deserialize parameters"), "{msg}");
        assert!(client.call("no_such_tool", json!({})).await.is_err());
    }
}

/// Every input schema is self-contained: a model (and a client that does not resolve
/// references) sees the whole shape of every parameter.
#[test]
fn input_schemas_have_no_unresolved_references() {
    fn refs(value: &Value, at: String, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "$ref" || key == "$defs" {
                        found.push(format!("{at}/{key}"));
                    }
                    refs(child, format!("{at}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    refs(child, format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for tool in switchboard_mcp::SwitchboardServer::tool_definitions() {
        let schema = Value::Object(tool.input_schema.as_ref().clone());
        refs(&schema, tool.name.to_string(), &mut found);
    }
    assert!(found.is_empty(), "references in input schemas: {found:?}");
    let send = switchboard_mcp::SwitchboardServer::tool_definitions()
        .into_iter()
        .find(|t| t.name == "message_send")
        .unwrap();
    let refs = &send.input_schema["properties"]["refs"];
    assert_eq!(refs["items"]["type"], "string", "{refs}");
    assert!(
        refs["description"].as_str().unwrap().contains("file:PATH"),
        "{refs}"
    );
}

crate::every_backend! {
    async fn not_found_errors_name_the_listing_tool_of_their_kind(backend) {
        let h = Harness::on(backend);
        let client = h.client(Some("claude")).await;
        ok(
            &client,
            "session_start",
            json!({"intent": "look things up"}),
        )
        .await;
        for (tool, args, listing) in [
            (
                "session_get",
                json!({"session": "ses_0000000000"}),
                "session_list",
            ),
            ("worktree_diff", json!({"name": "nope"}), "worktree_list"),
            (
                "message_get",
                json!({"message": "msg_0000000000"}),
                "inbox_read",
            ),
            (
                "thread_get",
                json!({"thread": "thr_0000000000"}),
                "inbox_read",
            ),
            ("group_delete", json!({"name": "nope"}), "group_list"),
        ] {
            let msg = refused(&client, tool, args).await;
            assert!(msg.contains(listing), "{tool}: {msg}");
        }
    }
}

crate::every_backend! {
    async fn a_bad_value_names_its_parameter_and_a_clamped_one_says_so(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        let ann = h.client(Some("ann")).await;
        ok(&lead, "session_start", json!({"intent": "lead"})).await;
        ok(&ann, "session_start", json!({"intent": "help"})).await;
        let msg = refused(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "x", "priority": "asap"}),
        )
        .await;
        assert!(
            msg.contains("parameter `priority`: unknown variant `asap`"),
            "{msg}"
        );
        ok(&lead, "message_send", json!({"to": ["ann"], "body": "hi"})).await;
        let got = ok(&ann, "message_wait", json!({"timeout_secs": 700})).await;
        assert!(
            got["note"]
                .as_str()
                .unwrap()
                .contains("timeout_secs 700 is over the longest wait: waited 600"),
            "{got}"
        );
        // Your own worktree is the default; without one, the error says what to give.
        let msg = refused(&ann, "worktree_diff", json!({})).await;
        assert!(
            msg.contains("give name: you have no worktree of your own"),
            "{msg}"
        );
    }
}

crate::every_backend! {
    async fn an_agent_cannot_become_a_human_or_drop_its_session_by_joining_another(backend) {
        let h = Harness::on(backend);
        let client = h.client(None).await;
        let msg = refused(
            &client,
            "session_start",
            json!({"agent": "human:ada", "intent": "act as a person"}),
        )
        .await;
        assert!(msg.contains("names a person"), "{msg}");
        let mine = ok(&client, "session_start", json!({"intent": "mine"})).await;
        let agent = mine["agent"].as_str().unwrap().to_string();
        let other = ok(
            &client,
            "session_spawn",
            json!({"intent": "later", "agent": agent}),
        )
        .await;
        let msg = refused(&client, "session_start", json!({"session": other["id"]})).await;
        assert!(msg.contains("pass replace: true"), "{msg}");
        let switched = ok(
            &client,
            "session_start",
            json!({"session": other["id"], "replace": true}),
        )
        .await;
        assert_eq!(switched["session"]["id"], other["id"]);
        let old = ok(
            &client,
            "session_get",
            json!({"session": mine["session"]["id"]}),
        )
        .await;
        assert_eq!(old["status"], "abandoned", "{old}");
        // A parameter the tool does not have is named, not silently ignored.
        let msg = refused(&client, "message_wait", json!({"since": 3})).await;
        assert!(msg.contains("unknown field `since`"), "{msg}");
    }
}
