//! Whole-file and directory helpers shared by the log, seals, merges and recovery.

use std::{
    fs::{self, File},
    io::Read,
    path::Path,
};

use crate::StoreError;

pub(super) fn quarantine_file(path: &Path, err: &StoreError) {
    let mut to = path.as_os_str().to_owned();
    to.push(".corrupt");
    tracing::error!(
        file = %path.display(),
        error = %err,
        "block file is damaged: its points are no longer served; moved aside as *.corrupt"
    );
    if let Err(e) = fs::rename(path, &to) {
        tracing::error!(file = %path.display(), error = %e, "could not move damaged block aside");
    }
}

pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(dir))
}

pub(super) fn read_all(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(StoreError::io(path))?;
    Ok(buf)
}
