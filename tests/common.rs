//! Shared helpers: scratch git repositories with the built binary run in them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use switchboard_mcp::client::AgentClient;
use switchboard_testutils::ScratchRepo;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchboard"))
}

/// A scratch git repository with one commit (see [`ScratchRepo`]), and the CLI and
/// agents run in it.
pub struct Repo {
    scratch: ScratchRepo,
    /// The main checkout.
    pub path: PathBuf,
}

impl Repo {
    pub fn new() -> Repo {
        let scratch = ScratchRepo::new();
        let path = scratch.path().to_path_buf();
        Repo { scratch, path }
    }

    /// Runs git in the main checkout and returns its output, asserting success.
    pub fn git(&self, args: &[&str]) -> String {
        self.scratch.git(args)
    }

    /// Runs the CLI in `dir` (no inherited SWITCHBOARD_* settings).
    pub fn cli_in(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(bin())
            .args(args)
            .current_dir(dir)
            .env_remove("SWITCHBOARD_DB")
            .env_remove("SWITCHBOARD_AGENT")
            .env_remove("SWITCHBOARD_SESSION")
            .output()
            .unwrap()
    }

    /// Sends `body` from `from` to `to` with the CLI, asserting success.
    pub fn send(&self, from: &str, to: &str, body: &str) {
        self.cli(&["send", "--as", from, "--to", to, body]);
    }

    /// Runs the CLI in the repository and returns stdout, asserting success.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_in(&self.path, args);
        assert!(
            out.status.success(),
            "switchboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the CLI with `--json` and parses its output.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.cli(&args)).unwrap()
    }

    /// Starts `switchboard mcp ARGS` in `dir` and connects a client over its stdio.
    pub async fn agent_in(&self, dir: &Path, args: &[&str]) -> AgentClient {
        let mut all = vec!["mcp"];
        all.extend_from_slice(args);
        AgentClient::spawn(&bin(), &all, dir, &[]).await.unwrap()
    }

    pub async fn agent(&self, args: &[&str]) -> AgentClient {
        self.agent_in(&self.path, args).await
    }

    /// Starts `switchboard mcp` with no arguments in `dir`, as the committed configuration
    /// of the MCP client `client` (e.g. `claude-code`) would, and connects as that client.
    pub async fn instance_in(&self, client: &str, dir: &Path) -> AgentClient {
        AgentClient::spawn_as(client, &bin(), &["mcp"], dir, &[])
            .await
            .unwrap()
    }
}
