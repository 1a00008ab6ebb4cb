//! Private scratch files for the output of the programs we run (git, setup commands):
//! written by the child through its own descriptor, never through a pipe, so our death
//! cannot kill the child with SIGPIPE halfway through its work.

use std::fs::File;
use std::io::{Read, Seek};

/// A new file in the system temp dir (never in a checkout), unlinked as soon as it is
/// created (so nothing is left behind, even if we are killed): an unpredictable name,
/// created exclusively (an existing file or a planted link there is an error, never
/// followed), readable by its owner only. Reached only through its open descriptors.
#[derive(Debug)]
pub(crate) struct Scratch {
    file: File,
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
        std::fs::remove_file(&path)?;
        Ok(Scratch { file })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_file_is_private_leaves_no_name_behind_and_reads_back_what_a_child_wrote() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mut scratch = Scratch::new("test").unwrap();
        let meta = scratch.file.metadata().unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.nlink(), 0, "unlinked at once");
        let status = std::process::Command::new("echo")
            .arg("from the child")
            .stdout(scratch.for_child().unwrap())
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(scratch.contents(1024), b"from the child\n");
    }
}
