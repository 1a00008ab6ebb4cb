//! Where a repository's store lives.
//!
//! The SQLite file ([`resolve`]), first match wins: `--db PATH`, `SWITCHBOARD_DB`,
//! `<git common dir>/switchboard/state.db` (shared by every worktree of a clone), else
//! `$XDG_DATA_HOME/switchboard/state.db`. A store on a PostgreSQL server is chosen with
//! `--store postgres://…` or `SWITCHBOARD_STORE` ([`address`]); the file's directory then
//! still holds what stays on each host (a waiting hook's marker, backups of a file store).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use crate::{Error, Result, StoreAddress};

/// Why the state database is where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    /// `--db PATH`.
    Flag,
    /// The `SWITCHBOARD_DB` environment variable.
    Env,
    /// `--store PATH` or the `SWITCHBOARD_STORE` environment variable, naming a file.
    Store,
    /// Inside the git common directory of the repository containing the working directory.
    GitCommonDir,
    /// Outside any git repository: the user's data directory.
    UserData,
}

/// The resolved location of the state database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StateLocation {
    /// Absolute path of the state database file; it need not exist yet.
    pub path: PathBuf,
    /// Which rule chose `path`.
    pub source: LocationSource,
}

/// What location resolution looks at; [`Inputs::from_env`] fills it from the process.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `--db PATH` as given (relative to `cwd`); when set, it wins.
    pub flag: Option<PathBuf>,
    /// `SWITCHBOARD_DB` (relative to `cwd`); `None` when unset or empty.
    pub env: Option<PathBuf>,
    /// `--store` as given, else `SWITCHBOARD_STORE`: a PostgreSQL URL, or a file path (as
    /// `--db`). `--db` wins over it; it wins over `SWITCHBOARD_DB`.
    pub store: Option<String>,
    /// The working directory: relative paths resolve against it, and the git repository
    /// is looked for from it.
    pub cwd: PathBuf,
    /// `XDG_DATA_HOME`; used only outside a git repository, and only when absolute.
    pub xdg_data_home: Option<PathBuf>,
    /// `HOME`; outside a git repository without an absolute `XDG_DATA_HOME`, the state goes
    /// under `$HOME/.local/share`.
    pub home: Option<PathBuf>,
}

impl Inputs {
    /// Inputs from `flag`, the environment (`SWITCHBOARD_DB`, `XDG_DATA_HOME`, `HOME`) and
    /// the current directory.
    pub fn from_env(flag: Option<PathBuf>) -> Result<Self> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?;
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Ok(Inputs {
            flag,
            env: var("SWITCHBOARD_DB"),
            store: std::env::var("SWITCHBOARD_STORE")
                .ok()
                .filter(|v| !v.is_empty()),
            cwd,
            xdg_data_home: var("XDG_DATA_HOME"),
            home: var("HOME"),
        })
    }
}

/// Where the store is (it need not exist yet): the PostgreSQL server `store` names,
/// holding this repository's store (its identity, see [`crate::repository::identify`]),
/// or else the SQLite file [`resolve`] finds.
pub fn address(inputs: &Inputs) -> Result<StoreAddress> {
    refuse_connection_strings(inputs)?;
    match &inputs.store {
        Some(url) if inputs.flag.is_none() && StoreAddress::is_postgres_url(url) => {
            let repository = crate::repository::identify(&inputs.cwd).map_err(|e| {
                Error::Location(format!(
                    "a PostgreSQL store holds each repository apart, and the repository here \
                     cannot be identified: {e}"
                ))
            })?;
            StoreAddress::postgres(url, &repository.id)
        }
        _ => Ok(StoreAddress::file(resolve(inputs)?.path)),
    }
}

/// Refuses a `store` in libpq's `key=value` form, which would otherwise be taken for a
/// file name (and shown, password and all, wherever the store is named).
fn refuse_connection_strings(inputs: &Inputs) -> Result<()> {
    match &inputs.store {
        Some(store) if !StoreAddress::is_postgres_url(store) && store.contains('=') => {
            Err(Error::Invalid(
                "--store / SWITCHBOARD_STORE looks like a key=value connection string, which is \
                 not read: write the server as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE \
                 (or give a file path)"
                    .into(),
            ))
        }
        _ => Ok(()),
    }
}

/// Resolves where the state database file is (it need not exist yet); with a PostgreSQL
/// store, the directory this host keeps its own files in.
pub fn resolve(inputs: &Inputs) -> Result<StateLocation> {
    refuse_connection_strings(inputs)?;
    let absolute = |p: &Path| inputs.cwd.join(p);
    if let Some(flag) = &inputs.flag {
        return Ok(StateLocation {
            path: absolute(flag),
            source: LocationSource::Flag,
        });
    }
    if let Some(store) = inputs
        .store
        .as_deref()
        .filter(|s| !StoreAddress::is_postgres_url(s))
    {
        return Ok(StateLocation {
            path: absolute(Path::new(store)),
            source: LocationSource::Store,
        });
    }
    if let Some(env) = &inputs.env {
        return Ok(StateLocation {
            path: absolute(env),
            source: LocationSource::Env,
        });
    }
    if let Some(common) = git_common_dir(&inputs.cwd) {
        return Ok(StateLocation {
            path: common.join("switchboard").join("state.db"),
            source: LocationSource::GitCommonDir,
        });
    }
    let data = match (&inputs.xdg_data_home, &inputs.home) {
        (Some(xdg), _) if xdg.is_absolute() => xdg.clone(),
        (_, Some(home)) => home.join(".local").join("share"),
        _ => {
            return Err(Error::Location(
                "not inside a git repository and neither XDG_DATA_HOME nor HOME is set: \
                 pass --db PATH or set SWITCHBOARD_DB"
                    .into(),
            ));
        }
    };
    Ok(StateLocation {
        path: data.join("switchboard").join("state.db"),
        source: LocationSource::UserData,
    })
}

/// The git common directory of the repository containing `dir`, if any. Every linked
/// worktree of a clone has the same common directory.
pub fn git_common_dir(dir: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(dir).ok()?;
    let common = repo.commondir();
    Some(
        common
            .canonicalize()
            .unwrap_or_else(|_| common.to_path_buf()),
    )
}

#[cfg(test)]
mod tests {
    use switchboard_testutils::ScratchRepo;

    use super::*;

    #[test]
    fn flag_beats_env_beats_git_beats_user_data() {
        let scratch = ScratchRepo::empty();
        let repo = scratch.path().to_path_buf();
        let mut inputs = Inputs {
            flag: Some("flag.db".into()),
            env: Some("/env/state.db".into()),
            store: None,
            cwd: repo.clone(),
            xdg_data_home: Some("/xdg".into()),
            home: Some("/home/u".into()),
        };
        assert_eq!(resolve(&inputs).unwrap().path, repo.join("flag.db"));
        inputs.flag = None;
        assert_eq!(resolve(&inputs).unwrap().source, LocationSource::Env);
        inputs.env = None;
        let in_git = resolve(&inputs).unwrap();
        assert_eq!(in_git.source, LocationSource::GitCommonDir);
        assert_eq!(
            in_git.path,
            repo.canonicalize()
                .unwrap()
                .join(".git/switchboard/state.db")
        );
        inputs.cwd = scratch.dir().to_path_buf();
        assert_eq!(
            resolve(&inputs).unwrap().path,
            Path::new("/xdg/switchboard/state.db")
        );
        inputs.xdg_data_home = None;
        assert_eq!(
            resolve(&inputs).unwrap().path,
            Path::new("/home/u/.local/share/switchboard/state.db")
        );
    }

    #[test]
    fn every_worktree_of_a_clone_shares_one_state_path() {
        let scratch = ScratchRepo::new();
        let repo = scratch.path().to_path_buf();
        scratch.git(&["worktree", "add", "-q", "../wt"]);
        let at = |cwd: PathBuf| {
            resolve(&Inputs {
                cwd,
                ..Default::default()
            })
            .unwrap()
            .path
        };
        assert_eq!(at(repo.clone()), at(scratch.dir().join("wt")));
        assert_eq!(at(repo.join(".git")), at(repo));
    }
}
