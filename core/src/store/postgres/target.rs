//! Where a PostgreSQL store is: the server (a connection string) and the repository's
//! schema on it. The password of a connection string is never shown: [`Target::display`]
//! is what errors, logs and `doctor` print.

use std::str::FromStr;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;
use tokio_postgres::config::Host;

use crate::{Error, Result};

/// The `application_name` of Switchboard's connections, unless the URL sets one.
const APPLICATION: &str = "switchboard";

/// The `application_name` of the connections that listen for commits.
pub(crate) const LISTENER: &str = "switchboard-listen";

/// A repository's store on a PostgreSQL server.
#[derive(Clone)]
pub(crate) struct Target {
    config: tokio_postgres::Config,
    /// The schema holding the repository's tables ([`schema_name`]).
    pub(crate) schema: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl Target {
    /// The store of repository `repository` (its identity, see `repository::identify`) on
    /// the server `url` (`postgres://user:password@host:port/database`, with libpq's
    /// query parameters; without a password in it, `PGPASSWORD`'s). A malformed URL is
    /// refused without repeating it, since it may hold a password.
    pub(crate) fn new(url: &str, repository: &str) -> Result<Target> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            Error::Invalid(format!(
                "the PostgreSQL connection string is not valid ({e}); write it as \
                 postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
            ))
        })?;
        if config.get_application_name().is_none() {
            // How an operator tells Switchboard's connections apart (pg_stat_activity).
            config.application_name(APPLICATION);
        }
        // A server that cannot be reached fails a command in seconds, not minutes, and a
        // peer gone silent (its host suspended, its network cut) is noticed within a
        // minute, not after the system's two hours of TCP keepalive.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(std::time::Duration::from_secs(30));
        }
        config.keepalives_idle(std::time::Duration::from_secs(30));
        config.keepalives_interval(std::time::Duration::from_secs(10));
        if config.get_password().is_none()
            && let Some(password) = std::env::var_os("PGPASSWORD")
        {
            config.password(password.as_encoded_bytes());
        }
        Ok(Target {
            config,
            schema: schema_name(repository),
        })
    }

    /// `postgres://user@host:port/database` (schema `sb_…`): the server and schema without
    /// the password.
    pub(crate) fn display(&self) -> String {
        let user = self.config.get_user().unwrap_or("");
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .zip(
                self.config
                    .get_ports()
                    .iter()
                    .chain(std::iter::repeat(&5432)),
            )
            .map(|(host, port)| match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}", dir.display()),
            })
            .collect();
        let database = self.config.get_dbname().unwrap_or(user);
        format!(
            "postgres://{user}@{}/{database} (schema {})",
            hosts.join(","),
            self.schema
        )
    }

    /// The settings of the connection that listens for commits: named apart from the
    /// others ([`LISTENER`]).
    pub(crate) fn listener_config(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.application_name(LISTENER);
        config
    }

    /// A new connection to the server.
    pub(crate) fn connect(&self) -> Result<Client> {
        super::io::connect(&self.config)
    }

    /// The key of the repository's writer lock (a transaction-scoped advisory lock).
    pub(crate) fn writer_lock(&self) -> i64 {
        let digest = Sha256::digest(format!("switchboard writers {}", self.schema));
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(key)
    }

    /// The channel the repository's writes are announced on.
    pub(crate) fn channel(&self) -> &str {
        &self.schema
    }
}

/// The schema of repository `id`: `sb_` and the id's letters and digits (lowercase, others
/// as `_`, at most 40), then 8 hex digits of its hash, so distinct ids never share a schema
/// and an operator can tell which repository a schema holds.
pub(crate) fn schema_name(id: &str) -> String {
    let readable: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let digest = Sha256::digest(id.as_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("sb_{readable}_{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_is_readable_distinct_per_id_and_a_valid_identifier() {
        let shop = schema_name("github.com/acme/shop");
        assert!(shop.starts_with("sb_github_com_acme_shop_"), "{shop}");
        assert_ne!(shop, schema_name("github.com/acme/Shop"));
        let long = schema_name(&"x".repeat(500));
        assert!(long.len() <= 63, "PostgreSQL identifiers hold 63 bytes");
    }

    #[test]
    fn the_password_is_never_displayed() {
        let target = Target::new("postgres://ann:s3cret@db.example:6543/team", "r").unwrap();
        let shown = target.display();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.starts_with("postgres://ann@db.example:6543/team"),
            "{shown}"
        );
        let bad = Target::new("postgres://ann:s3cret@db.example:notaport/team", "r");
        let message = bad.unwrap_err().to_string();
        assert!(!message.contains("s3cret"), "{message}");
    }
}
