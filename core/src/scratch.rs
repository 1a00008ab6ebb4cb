//! Private scratch files for the output of the programs we run (git, setup commands):
//! written by the child through its own descriptor, never through a pipe, so our death
//! cannot kill the child with SIGPIPE halfway through its work.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::PathBuf;

/// A new file in the system temp dir (never in a checkout) that is removed when dropped:
/// an unpredictable name, created exclusively (an existing file or a planted link there is
/// an error, never followed), readable by its owner only.
#[derive(Debug)]
pub(crate) struct Scratch {
    file: File,
    path: PathBuf,
}

impl Scratch {
    /// Creates the file; `label` names what it holds (for someone listing the temp dir).
    pub(crate) fn new(label: &str) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = std::env::temp_dir().join(format!(
            "switchboard-{label}-{}.log",
            ulid::Ulid::generate().to_string().to_ascii_lowercase()
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)?;
        Ok(Scratch { file, path })
    }

    /// A descriptor for a child's stdout or stderr.
    pub(crate) fn for_child(&self) -> std::io::Result<std::process::Stdio> {
        Ok(self.file.try_clone()?.into())
    }

    /// Everything written so far (at most `limit` bytes), read back through our own handle,
    /// never by path.
    pub(crate) fn contents(&mut self, limit: usize) -> Vec<u8> {
        let mut output = Vec::new();
        if self.file.rewind().is_ok() {
            let _ = (&mut self.file).take(limit as u64).read_to_end(&mut output);
        }
        output
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_file_is_new_private_unpredictable_and_removed_after_use() {
        use std::os::unix::fs::PermissionsExt;
        let first = Scratch::new("test").unwrap();
        let second = Scratch::new("test").unwrap();
        assert_ne!(first.path(), second.path(), "names are not predictable");
        assert_eq!(
            first.file.metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
        let path = first.path().to_path_buf();
        drop(first);
        assert!(!path.exists(), "removed when dropped");
    }
}
