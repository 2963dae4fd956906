//! An optional on-disk token cache, so that consecutive CLI invocations reuse a token instead of
//! logging in each time.
//!
//! One file per set of auth settings, named after a SHA-256 of them (auth URL, method, user or
//! credential id, scope; never the password or secret). Files are written with mode `0600` in a
//! `0700` directory, through a temporary file and a rename so that a reader never sees half a
//! file, and are ignored if anyone but the owner could read or write them.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// A directory of cached tokens.
#[derive(Clone, Debug)]
pub struct TokenCache {
    dir: PathBuf,
}

#[derive(Serialize)]
struct RecordOut<'a> {
    subject_token: &'a str,
    body: &'a RawValue,
}

#[derive(Deserialize)]
struct RecordIn {
    subject_token: String,
    body: Box<RawValue>,
}

impl TokenCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `$XDG_CACHE_HOME/vigil/keystone`, else `~/.cache/vigil/keystone`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })?;
        Some(base.join("vigil").join("keystone"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the token for these settings.
    pub fn path_for(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("token-{hex}.json"))
    }

    /// The cached token and the body Keystone sent with it, if there is a readable, private one.
    pub(crate) fn load(&self, key: &str) -> Option<(String, Vec<u8>)> {
        let path = self.path_for(key);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || !private(&meta) {
            return None;
        }
        let bytes = fs::read(&path).ok()?;
        let rec: RecordIn = serde_json::from_slice(&bytes).ok()?;
        Some((rec.subject_token, rec.body.get().as_bytes().to_vec()))
    }

    /// Saves a token atomically with mode 0600.
    ///
    /// # Errors
    /// The directory or the file cannot be written.
    pub(crate) fn store(&self, key: &str, token: &str, body: &[u8]) -> io::Result<()> {
        let body: &RawValue = serde_json::from_slice(body).map_err(io::Error::other)?;
        let data = serde_json::to_vec(&RecordOut {
            subject_token: token,
            body,
        })
        .map_err(io::Error::other)?;
        create_private_dir(&self.dir)?;
        let path = self.path_for(key);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self
            .dir
            .join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
        let result = (|| {
            let mut f = private_file(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Forgets the token for these settings.
    pub(crate) fn remove(&self, key: &str) {
        let _ = fs::remove_file(self.path_for(key));
    }
}

#[cfg(unix)]
fn private(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.mode() & 0o077 == 0
}

#[cfg(not(unix))]
fn private(_meta: &fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn round_trip_is_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().join("sub"));
        assert!(cache.load("k").is_none());
        cache
            .store("k", "tok", br#"{"token": {"methods": []}}"#)
            .unwrap();
        let (tok, body) = cache.load("k").unwrap();
        assert_eq!(tok, "tok");
        assert_eq!(body, br#"{"token": {"methods": []}}"#);
        // Other settings, other file.
        assert!(cache.load("k2").is_none());
        assert_ne!(cache.path_for("k"), cache.path_for("k2"));
        let name = cache
            .path_for("k")
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("token-") && name.len() == "token-.json".len() + 64,
            "{name}"
        );
        // No temporary file is left behind.
        let files: Vec<_> = fs::read_dir(cache.dir()).unwrap().collect();
        assert_eq!(files.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(cache.path_for("k"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = fs::metadata(cache.dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            // A file others can read is not trusted.
            fs::set_permissions(cache.path_for("k"), fs::Permissions::from_mode(0o644)).unwrap();
            assert!(cache.load("k").is_none());
        }
        cache.store("k", "tok2", br#"{"token": {}}"#).unwrap();
        assert_eq!(cache.load("k").unwrap().0, "tok2");
        cache.remove("k");
        assert!(cache.load("k").is_none());
    }

    #[test]
    fn garbage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path());
        create_private_dir(dir.path()).unwrap();
        let mut f = private_file(&cache.path_for("k")).unwrap();
        f.write_all(b"not json").unwrap();
        assert!(cache.load("k").is_none());
        assert!(cache.store("k2", "t", b"not json").is_err());
    }
}
