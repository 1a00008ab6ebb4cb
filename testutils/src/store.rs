//! A scratch directory for a state database.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A fresh temporary directory (canonical path), removed on drop, with a place for a
/// state database in it.
pub struct ScratchStore {
    _dir: TempDir,
    dir: PathBuf,
    db: PathBuf,
}

impl ScratchStore {
    /// Creates the directory; nothing is in it yet.
    pub fn new() -> ScratchStore {
        let tmp = tempfile::tempdir().expect("create a temporary directory");
        let dir = tmp
            .path()
            .canonicalize()
            .expect("canonicalize the temporary directory");
        let db = dir.join("state.db");
        ScratchStore { _dir: tmp, dir, db }
    }

    /// The directory itself (for siblings of the database, such as a repository).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `state.db` in the directory: open a store there (it does not exist until then).
    pub fn db(&self) -> &Path {
        &self.db
    }
}

impl Default for ScratchStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The environment variable naming the PostgreSQL server tests use (a URL); the test
/// command starts a throwaway cluster and sets it.
pub const POSTGRES_ENV: &str = "SWITCHBOARD_TEST_POSTGRES";

/// A repository of its own on the test PostgreSQL server: a fresh repository identity,
/// so its store is a schema no other test touches; the schema is dropped on drop.
pub struct ScratchPostgres {
    url: String,
    repository: String,
}

impl ScratchPostgres {
    /// A new repository on the server [`POSTGRES_ENV`] names; `None` (saying so on
    /// stderr) when it is unset. Under CI (`CI=true`) an unset server is a failure: the
    /// test command always starts one, and a suite that skipped every PostgreSQL test
    /// would pass without testing it.
    pub fn new() -> Option<ScratchPostgres> {
        let url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty());
        let Some(url) = url else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{POSTGRES_ENV} is unset under CI: the test command starts PostgreSQL"
            );
            eprintln!(
                "skipped on PostgreSQL: {POSTGRES_ENV} is not set (scripts/postgres starts a server)"
            );
            return None;
        };
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("random bytes");
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        Some(ScratchPostgres {
            url,
            repository: format!("test-{suffix}"),
        })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The repository identity whose store this is.
    pub fn repository(&self) -> &str {
        &self.repository
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        // On a thread of its own: the blocking client cannot run inside an async test's
        // runtime.
        let (url, repository) = (self.url.clone(), self.repository.clone());
        let _ = std::thread::spawn(move || drop_schemas(&url, &repository)).join();
    }
}

/// Drops what repository `repository` made on the server at `url`: its store's schema is
/// `sb_` and the identity (dashes as underscores), then a hash. A server gone already is
/// not a failure of the test that used it.
fn drop_schemas(url: &str, repository: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await
        else {
            return;
        };
        tokio::spawn(connection);
        let pattern = format!("sb_{}\\_%", repository.replace('-', "_"));
        let Ok(rows) = client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
                &[&pattern],
            )
            .await
        else {
            return;
        };
        for row in rows {
            let schema: String = row.get(0);
            let drop = format!("DROP SCHEMA \"{schema}\" CASCADE");
            let _ = client.batch_execute(&drop).await;
        }
    });
}

/// A backend a test story runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store: a file.
    Sqlite,
    /// A schema on the PostgreSQL server [`POSTGRES_ENV`] names.
    Postgres,
}

impl Backend {
    /// Whether stories can run on this backend here: always on SQLite; on PostgreSQL when
    /// a server is configured (else it says so on stderr; under CI it fails, see
    /// [`ScratchPostgres::new`]).
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => {
                std::env::var(POSTGRES_ENV).is_ok_and(|u| !u.is_empty())
                    || ScratchPostgres::new().is_some()
            }
        }
    }
}
