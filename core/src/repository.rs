//! Which repository this is, the same on every host: clones of one repository on several
//! machines (or containers) are one repository to a shared store, whatever folder each is
//! in. Its id is, first found:
//! - `id` under `[repository]` in `.switchboard.toml`, when the team set one;
//! - its `origin` remote's URL, normalized: the host (lower-case) and the path, without the
//!   scheme, user, password, port, a trailing `.git` or `/` — so
//!   `git@github.com:acme/api.git`, `ssh://git@github.com:22/acme/api` and
//!   `https://user:token@github.com/acme/api/` are all `github.com/acme/api` (credentials in
//!   a URL never reach the id);
//!   An `origin` that is itself a local repository (a container's clone of a mounted
//!   checkout) is followed to its own `origin`;
//! - the first commit of its history (`root:<sha>`), which every complete clone shares;
//! - for a repository without commits (or a shallow clone without an `origin` on a host),
//!   its folder (`path:<main checkout>`), which is not shared with other hosts.
//!
//! Ports are dropped and the path keeps its case: two spellings of one remote that differ
//! in case (`Acme/API`, `acme/api`) are two ids; set `id` to join them.

use std::path::Path;

use serde::Serialize;

use crate::{Error, Result};

/// Where a repository's id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `[repository] id` in `.switchboard.toml`.
    Configured,
    /// The `origin` remote's URL.
    Origin,
    /// The first commit of the history.
    RootCommit,
    /// The main checkout's folder (a repository without commits).
    Folder,
}

/// A repository's id and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepositoryId {
    /// The id, e.g. `github.com/acme/api`.
    pub id: String,
    /// Where it came from.
    pub source: Source,
}

impl std::fmt::Display for RepositoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = match self.source {
            Source::Configured => "set in .switchboard.toml",
            Source::Origin => "from its origin remote",
            Source::RootCommit => "from its first commit",
            Source::Folder => "from its folder: not shared with other hosts",
        };
        write!(f, "{} ({from})", self.id)
    }
}

/// The longest id `.switchboard.toml` may set.
pub const MAX_ID_CHARS: usize = 200;

/// The id of the repository containing `dir`.
pub fn identify(dir: &Path) -> Result<RepositoryId> {
    let paths = crate::git::repo_paths(dir)?;
    if let Some(id) = crate::config::load(&paths.main_root)?.repository.id {
        check_id(&id)?;
        return Ok(RepositoryId {
            id,
            source: Source::Configured,
        });
    }
    let repo = git2::Repository::open(&paths.main_root)
        .map_err(|e| Error::Invalid(format!("cannot open the repository: {}", e.message())))?;
    if let Some(id) = origin_id(&repo, &paths.main_root, ORIGIN_HOPS) {
        return Ok(RepositoryId {
            id,
            source: Source::Origin,
        });
    }
    if let Some(root) = root_commit(&repo) {
        return Ok(RepositoryId {
            id: format!("root:{root}"),
            source: Source::RootCommit,
        });
    }
    Ok(RepositoryId {
        id: format!("path:{}", paths.main_root.display()),
        source: Source::Folder,
    })
}

/// Checks an id set in `.switchboard.toml`: 1 to [`MAX_ID_CHARS`] printable characters,
/// no spaces.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id.chars().all(|c| {
            c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
        });
    if ok {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "repository.id must be 1 to {MAX_ID_CHARS} characters without spaces or control \
         characters, such as \"acme/api\" (got {id:?})"
    )))
}

/// How many local `origin`s are followed to find one on a host (a container's clone of a
/// mounted checkout has the checkout as its origin, whose origin is the shared remote).
const ORIGIN_HOPS: usize = 3;

/// The normalized URL of `repo`'s `origin`, following an origin that is a local
/// repository to that one's origin, at most `hops` times. `root` is where a relative
/// local path starts from.
fn origin_id(repo: &git2::Repository, root: &Path, hops: usize) -> Option<String> {
    let url = repo.find_remote("origin").ok()?.url().ok()?.to_string();
    if let Some(id) = normalized_url(&url) {
        return Some(id);
    }
    if hops == 0 {
        return None;
    }
    let local = root.join(url.strip_prefix("file://").unwrap_or(&url));
    let next = git2::Repository::open(&local).ok()?;
    let next_root = next.workdir().unwrap_or(next.path()).to_path_buf();
    origin_id(&next, &next_root, hops - 1)
}

/// The first commit of the history: of the commits without parents reachable from HEAD
/// (usually one), the smallest id, so every complete clone finds the same. `None` for a
/// repository without commits or a shallow clone (whose history is cut off).
fn root_commit(repo: &git2::Repository) -> Option<String> {
    if repo.is_shallow() {
        return None;
    }
    let mut walk = repo.revwalk().ok()?;
    walk.push_head().ok()?;
    walk.flatten()
        .filter(|oid| repo.find_commit(*oid).is_ok_and(|c| c.parent_count() == 0))
        .map(|oid| oid.to_string())
        .min()
}

/// `host/path` of a remote URL (see the module's notes), or `None` when it names no host
/// (a local path, `file://`).
pub fn normalized_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (authority, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        rest.split_once('/').unwrap_or((rest, ""))
    } else if let Some((authority, path)) = url.split_once(':')
        && !authority.contains('/')
        && !authority.is_empty()
    {
        // scp-like: [user@]host:path. A user and password (`user:pass@host:path`) is not
        // that form: it is refused rather than read with the password in the path.
        if path
            .split('/')
            .next()
            .is_some_and(|first| first.contains('@'))
        {
            return None;
        }
        (authority, path)
    } else {
        return None;
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    if host.is_empty() {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    Some(format!("{}/{path}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_of_one_repository_normalize_to_one_id() {
        for url in [
            "git@github.com:acme/api.git",
            "git@github.com:acme/api",
            "ssh://git@github.com/acme/api.git",
            "ssh://git@github.com:22/acme/api",
            "https://github.com/acme/api",
            "https://github.com/acme/api.git/",
            "https://user:s3cret@GitHub.com/acme/api",
            "http://github.com:443/acme/api.git",
            "git://github.com/acme/api.git",
            "  https://github.com/acme/api\n",
        ] {
            assert_eq!(
                normalized_url(url).as_deref(),
                Some("github.com/acme/api"),
                "{url}"
            );
        }
        assert_eq!(
            normalized_url("git@gitlab.example.com:group/sub/proj.git").as_deref(),
            Some("gitlab.example.com/group/sub/proj")
        );
        for local in [
            "/srv/git/api.git",
            "../api",
            "file:///srv/git/api.git",
            "C",
            "https://github.com/",
        ] {
            assert_eq!(normalized_url(local), None, "{local}");
        }
        assert_eq!(normalized_url("user:s3cret@github.com:acme/api"), None);
        assert!(
            !normalized_url("https://user:s3cret@github.com/acme/api")
                .unwrap()
                .contains("s3cret"),
            "credentials never reach the id"
        );
    }

    #[test]
    fn ids_set_in_the_settings_are_checked() {
        assert!(check_id("acme/api").is_ok());
        assert!(check_id("équipe/api").is_ok());
        for bad in ["", "acme api", "a\u{7}b", &"x".repeat(MAX_ID_CHARS + 1)] {
            let e = check_id(bad).unwrap_err().to_string();
            assert!(e.contains("repository.id"), "{e}");
        }
    }

    #[test]
    fn clones_on_two_hosts_share_an_id_and_the_settings_can_set_one() {
        use switchboard_testutils::{ScratchRepo, git};
        let first = ScratchRepo::new();
        first.commit("a.txt", "a", "second");
        let linked = first.dir().join("linked");
        first.git(&["worktree", "add", "-q", linked.to_str().unwrap()]);
        let other = first.dir().join("clone");
        git(
            first.dir(),
            &[
                "clone",
                "-q",
                first.path().to_str().unwrap(),
                other.to_str().unwrap(),
            ],
        );

        // A local origin names no host: both clones fall back to their first commit.
        let root = git(first.path(), &["rev-list", "--max-parents=0", "HEAD"])
            .trim()
            .to_string();
        let here = identify(first.path()).unwrap();
        assert_eq!(
            here,
            RepositoryId {
                id: format!("root:{root}"),
                source: Source::RootCommit
            }
        );
        assert_eq!(identify(&other).unwrap(), here);
        assert_eq!(
            identify(&linked).unwrap(),
            here,
            "a linked worktree is the same repository"
        );

        // The same remote spelled two ways.
        first.git(&["remote", "add", "origin", "git@github.com:acme/api.git"]);
        git(
            &other,
            &[
                "remote",
                "set-url",
                "origin",
                "https://bot:tok@github.com/acme/api",
            ],
        );
        let by_origin = RepositoryId {
            id: "github.com/acme/api".into(),
            source: Source::Origin,
        };
        assert_eq!(identify(first.path()).unwrap(), by_origin);
        assert_eq!(identify(&other).unwrap(), by_origin);

        // A clone of a checkout (a container's, of a mounted folder) follows it to its origin.
        let inner = first.dir().join("container");
        git(
            first.dir(),
            &[
                "clone",
                "-q",
                other.to_str().unwrap(),
                inner.to_str().unwrap(),
            ],
        );
        assert_eq!(identify(&inner).unwrap(), by_origin);

        // The settings win, and a bad id is refused with the rule.
        std::fs::write(
            first.path().join(".switchboard.toml"),
            "[repository]\nid = \"acme/api\"\n",
        )
        .unwrap();
        let set = identify(first.path()).unwrap();
        assert_eq!(
            set,
            RepositoryId {
                id: "acme/api".into(),
                source: Source::Configured
            }
        );
        std::fs::write(
            first.path().join(".switchboard.toml"),
            "[repository]\nid = \"acme api\"\n",
        )
        .unwrap();
        let e = identify(first.path()).unwrap_err().to_string();
        assert!(e.contains("repository.id"), "{e}");

        // Without commits or origin: the folder, said not to be shared.
        let empty = ScratchRepo::empty();
        let folder = identify(empty.path()).unwrap();
        assert_eq!(folder.source, Source::Folder);
        assert!(folder.to_string().contains("not shared"), "{folder}");
    }
}
