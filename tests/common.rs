//! Shared helpers: scratch git repositories with the built binary run in them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use switchboard_mcp::client::AgentClient;
pub use switchboard_testutils::Backend;
use switchboard_testutils::{ScratchPostgres, ScratchRepo};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchboard"))
}

/// A scratch git repository with one commit (see [`ScratchRepo`]), and the CLI and
/// agents run in it, on its own store: the file in its git directory, or on PostgreSQL a
/// repository of its own (its id set in `.switchboard.toml`) on the test server.
pub struct Repo {
    scratch: ScratchRepo,
    /// The main checkout.
    pub path: PathBuf,
    postgres: Option<ScratchPostgres>,
}

impl Repo {
    pub fn new() -> Repo {
        Self::on(Backend::Sqlite)
    }

    /// A repository whose store is on `backend`.
    pub fn on(backend: Backend) -> Repo {
        let scratch = ScratchRepo::new();
        let path = scratch.path().to_path_buf();
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let server = ScratchPostgres::new().expect("a PostgreSQL server");
                let config = format!("[repository]\nid = \"{}\"\n", server.repository());
                scratch.commit(".switchboard.toml", &config, "its own store");
                Some(server)
            }
        };
        Repo {
            scratch,
            path,
            postgres,
        }
    }

    /// The environment a process of this repository gets: where its store is.
    pub fn env(&self) -> Vec<(&str, &str)> {
        match &self.postgres {
            Some(server) => vec![("SWITCHBOARD_STORE", server.url())],
            None => Vec::new(),
        }
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
            .env_remove("SWITCHBOARD_STORE")
            .envs(self.env())
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
        AgentClient::spawn(&bin(), &all, dir, &self.env())
            .await
            .unwrap()
    }

    pub async fn agent(&self, args: &[&str]) -> AgentClient {
        self.agent_in(&self.path, args).await
    }

    /// Starts `switchboard mcp` with no arguments in `dir`, as the committed configuration
    /// of the MCP client `client` (e.g. `claude-code`) would, and connects as that client.
    pub async fn instance_in(&self, client: &str, dir: &Path) -> AgentClient {
        AgentClient::spawn_as(client, &bin(), &["mcp"], dir, &self.env())
            .await
            .unwrap()
    }
}

/// The URL a `switchboard serve` child announces on the first line of its standard
/// output (taken from it, so it must be piped).
pub fn listening_url(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("switchboard serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string()
}
