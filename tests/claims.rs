//! Claims from the command line: a person claims in their own name, the claim is listed
//! and refuses an agent's overlapping claim over MCP, and releasing it lets the agent in.

use serde_json::{Value, json};

use crate::common::{Backend, Repo};

#[tokio::test]
async fn a_human_claim_from_the_cli_refuses_an_agent_until_released() {
    human_claim_refuses_an_agent_until_released(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_human_claim_from_the_cli_refuses_an_agent_until_released_on_postgres() {
    if Backend::Postgres.available() {
        human_claim_refuses_an_agent_until_released(Backend::Postgres).await;
    }
}

/// A person claims with the CLI on a store on `backend`; an agent's MCP server in
/// another process is refused, naming the person, until the claim is released.
async fn human_claim_refuses_an_agent_until_released(backend: Backend) {
    let repo = Repo::on(backend);
    let said = repo.cli(&[
        "claim",
        "src/auth/**",
        "docs/",
        "--reason",
        "reviewing the auth design",
        "--ttl",
        "30m",
    ]);
    assert!(
        said.contains("claimed src/auth/** (exclusive, clm_") && said.contains("until "),
        "{said}"
    );
    let table = repo.cli(&["claims"]);
    for needed in [
        "PATTERN",
        "src/auth/**",
        "exclusive",
        "human:ada-lovelace",
        "reviewing the auth design",
        "active",
    ] {
        assert!(table.contains(needed), "{needed} missing from:\n{table}");
    }
    let covering: Value = repo.cli_json(&["claims", "--path", "src/auth/login.rs"]);
    assert_eq!(covering.as_array().unwrap().len(), 1, "{covering}");
    assert_eq!(covering[0]["agent"], "human:ada-lovelace");
    assert_eq!(
        covering[0]["session"],
        Value::Null,
        "a person claims without a session"
    );

    let agent = repo.agent(&["--agent", "claude"]).await;
    agent
        .call_ok("session_start", json!({"intent": "fix the login"}))
        .await
        .unwrap();
    let refused = agent
        .call(
            "claim_add",
            json!({"patterns": ["src/auth/login.rs"], "reason": "fix the login"}),
        )
        .await
        .unwrap();
    assert!(refused.is_error, "{:?}", refused.structured);
    assert!(
        refused.text.contains("'human:ada-lovelace'")
            && refused.text.contains("reviewing the auth design"),
        "{}",
        refused.text
    );

    let released = repo.cli(&["release", "src/auth/**"]);
    assert!(released.contains("released src/auth/**"), "{released}");
    let made = agent
        .call_ok(
            "claim_add",
            json!({"patterns": ["src/auth/login.rs"], "reason": "fix the login"}),
        )
        .await
        .unwrap();
    assert_eq!(made["claims"][0]["pattern"], "src/auth/login.rs");
    let table = repo.cli(&["claims"]);
    assert!(
        table.contains("claude") && table.contains("docs/"),
        "{table}"
    );
    let rest = repo.cli(&["release", "--all"]);
    assert!(rest.contains("released docs/"), "{rest}");
    assert!(
        !rest.contains("login.rs"),
        "a person releases only their own claims: {rest}"
    );
    let bad = repo.cli_in(&repo.path, &["claim", "x", "--reason", "r", "--ttl", "48h"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("at most 24 hours"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    agent.stop().await.unwrap();
}

#[test]
fn output_to_a_reader_that_stops_early_ends_quietly() {
    let repo = Repo::new();
    repo.cli(&[
        "claim",
        "src/**",
        "--reason",
        "refactoring auth",
        "--as",
        "human:ada",
    ]);
    for args in [&["claims", "--json"][..], &["claims"]] {
        stopped_early(&repo, args);
    }
}

/// Runs the CLI with `args`, its standard output closed before it writes (`| head -0`):
/// it must end with success and no panic report.
fn stopped_early(repo: &Repo, args: &[&str]) {
    let mut child = std::process::Command::new(crate::common::bin())
        .args(args)
        .current_dir(&repo.path)
        .env_remove("SWITCHBOARD_DB")
        .env_remove("SWITCHBOARD_STORE")
        .envs(repo.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}
