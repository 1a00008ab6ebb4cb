//! `switchboard install CLIENT` / `uninstall`: config files merged, never clobbered,
//! idempotent, a dry run that writes nothing, malformed files refused untouched.

use serde_json::{Value, json};

use crate::common::Repo;

fn read_json(repo: &Repo, path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo.path.join(path)).unwrap()).unwrap()
}

fn commands(hooks: &Value, event: &str) -> Vec<String> {
    hooks[event]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["hooks"].as_array().into_iter().flatten())
        .filter_map(|h| h["command"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn claude_gets_a_safe_server_entry_and_hooks_and_a_second_run_changes_nothing() {
    let repo = Repo::new();
    // What the user already has stays: another server, an unknown key, their own hook.
    std::fs::write(
        repo.path.join(".mcp.json"),
        r#"{"mcpServers": {"other": {"command": "other-server"}}, "custom": 1}"#,
    )
    .unwrap();
    std::fs::create_dir(repo.path.join(".claude")).unwrap();
    std::fs::write(
        repo.path.join(".claude/settings.json"),
        r#"{"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh"}]}]}}"#,
    )
    .unwrap();
    let out = repo.cli(&["install", "claude"]);
    assert!(
        out.contains(".mcp.json: updated") && out.contains("Next: start `claude`"),
        "{out}"
    );
    let mcp = read_json(&repo, ".mcp.json");
    assert_eq!(
        mcp["mcpServers"]["switchboard"],
        json!({"type": "stdio", "command": "switchboard", "args": ["mcp"]}),
        "no fixed agent name: every instance gets its own"
    );
    assert_eq!(mcp["mcpServers"]["other"]["command"], "other-server");
    assert_eq!(mcp["custom"], 1);
    let settings = read_json(&repo, ".claude/settings.json");
    assert_eq!(
        commands(&settings["hooks"], "PostToolUse"),
        ["./lint.sh", "switchboard hook claude PostToolUse"]
    );
    for event in ["SessionStart", "UserPromptSubmit"] {
        assert_eq!(
            commands(&settings["hooks"], event),
            [format!("switchboard hook claude {event}")]
        );
    }
    assert_eq!(
        commands(&settings["hooks"], "Stop"),
        [
            "switchboard hook claude Stop",
            "switchboard hook claude Wake"
        ]
    );
    let wake = &settings["hooks"]["Stop"][1]["hooks"][0];
    assert_eq!(
        (&wake["async"], &wake["asyncRewake"]),
        (&json!(true), &json!(true)),
        "the wake hook waits in the background: {wake}"
    );
    assert_eq!(settings["enabledMcpjsonServers"], json!(["switchboard"]));

    let before: Vec<Vec<u8>> = [".mcp.json", ".claude/settings.json"]
        .iter()
        .map(|p| std::fs::read(repo.path.join(p)).unwrap())
        .collect();
    let again = repo.cli(&["install", "claude"]);
    assert!(
        again.contains(".mcp.json: already set up, unchanged"),
        "{again}"
    );
    let after: Vec<Vec<u8>> = [".mcp.json", ".claude/settings.json"]
        .iter()
        .map(|p| std::fs::read(repo.path.join(p)).unwrap())
        .collect();
    assert_eq!(before, after, "a second run changes nothing");

    // Files install created hold the right mode for a project file.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(repo.path.join(".claude/settings.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "{mode:o}");

    // Uninstall takes back only what install added.
    repo.cli(&["uninstall", "claude"]);
    let mcp = read_json(&repo, ".mcp.json");
    assert_eq!(
        mcp["mcpServers"],
        json!({"other": {"command": "other-server"}})
    );
    let settings = read_json(&repo, ".claude/settings.json");
    assert_eq!(
        settings,
        json!({"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh"}]}]}})
    );
}

#[test]
fn a_malformed_file_is_refused_with_its_line_and_left_untouched() {
    let repo = Repo::new();
    let broken = "{\n  \"mcpServers\": {\n    \"other\": oops\n  }\n}\n";
    std::fs::write(repo.path.join(".mcp.json"), broken).unwrap();
    let out = repo.cli_in(&repo.path, &["install", "claude"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".mcp.json:3:") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path.join(".mcp.json")).unwrap(),
        broken
    );
    assert!(
        !repo.path.join(".claude").exists(),
        "no file was written at all"
    );
    std::fs::create_dir(repo.path.join(".codex")).unwrap();
    std::fs::write(repo.path.join(".codex/config.toml"), "model = \n").unwrap();
    let out = repo.cli_in(&repo.path, &["install", "codex"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("config.toml:1:"),
        "{err}"
    );
}

#[test]
fn a_dry_run_prints_the_diff_and_writes_nothing() {
    let repo = Repo::new();
    // A file install created and uninstall emptied is removed, not left empty (which a
    // client would refuse as malformed).
    let scratch = Repo::new();
    scratch.cli(&["install", "gemini"]);
    scratch.cli(&["uninstall", "gemini"]);
    assert!(!scratch.path.join(".gemini/settings.json").exists());
    let out = repo.cli(&["install", "gemini", "--dry-run"]);
    assert!(
        out.contains("+++ b/.gemini/settings.json")
            && out.contains("switchboard hook gemini AfterTool")
            && out.contains("nothing was written"),
        "{out}"
    );
    assert!(!repo.path.join(".gemini").exists());
}

#[test]
fn codex_keeps_its_toml_comments_and_every_client_gets_its_own_dialect() {
    let repo = Repo::new();
    std::fs::create_dir(repo.path.join(".codex")).unwrap();
    let own = "# my settings\nmodel = \"o3\"\n\n[mcp_servers.other]\ncommand = \"x\"\n";
    std::fs::write(repo.path.join(".codex/config.toml"), own).unwrap();
    repo.cli(&["install", "codex", "--agent", "codex"]);
    let toml = std::fs::read_to_string(repo.path.join(".codex/config.toml")).unwrap();
    assert!(toml.starts_with(own), "{toml}");
    assert!(
        toml.contains("[mcp_servers.switchboard]")
            && toml.contains(r#"args = ["mcp", "--agent", "codex"]"#),
        "{toml}"
    );
    let hooks = read_json(&repo, ".codex/hooks.json");
    assert_eq!(
        commands(&hooks["hooks"], "Stop"),
        ["switchboard hook codex Stop"]
    );

    repo.cli(&["install", "gemini"]);
    let gemini = read_json(&repo, ".gemini/settings.json");
    assert_eq!(gemini["mcpServers"]["switchboard"]["args"], json!(["mcp"]));
    assert_eq!(
        commands(&gemini["hooks"], "AfterAgent"),
        ["switchboard hook gemini AfterAgent"]
    );
    repo.cli(&["install", "cursor"]);
    assert_eq!(
        read_json(&repo, ".cursor/mcp.json")["mcpServers"]["switchboard"]["command"],
        "switchboard"
    );
    repo.cli(&["install", "vscode"]);
    assert_eq!(
        read_json(&repo, ".vscode/mcp.json")["servers"]["switchboard"]["type"],
        "stdio"
    );
}

#[test]
fn http_forms_read_the_token_from_the_environment_and_say_whose_it_is() {
    let repo = Repo::new();
    let url = "http://127.0.0.1:7411/mcp";
    let out = repo.cli(&["install", "claude", "--http", url]);
    assert!(
        out.contains("SWITCHBOARD_TOKEN") && out.contains("not known"),
        "{out}"
    );
    assert_eq!(
        read_json(&repo, ".mcp.json")["mcpServers"]["switchboard"],
        json!({"type": "http", "url": url, "headers": {"Authorization": "Bearer ${SWITCHBOARD_TOKEN}"}})
    );
    repo.cli(&["install", "codex", "--http", url]);
    let toml = std::fs::read_to_string(repo.path.join(".codex/config.toml")).unwrap();
    assert!(
        toml.contains(r#"bearer_token_env_var = "SWITCHBOARD_TOKEN""#),
        "{toml}"
    );
    repo.cli(&["install", "vscode", "--http", url]);
    let vscode = read_json(&repo, ".vscode/mcp.json");
    assert_eq!(vscode["inputs"][0]["id"], "switchboard-token");
    let out = repo.cli_in(
        &repo.path,
        &["install", "claude", "--http", "localhost:7411"],
    );
    assert!(!out.status.success());
}
