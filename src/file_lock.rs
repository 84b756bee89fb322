//! An exclusive advisory lock on an output file, held for a run, so that a
//! second run on the same file is refused instead of interleaving lines.

use std::fs::File;
use std::path::Path;

use fs4::fs_std::FileExt;

use crate::Error;

/// Takes the exclusive lock of an output file, or says another run holds it.
pub(crate) fn lock(file: &File, path: &Path) -> Result<(), Error> {
    match FileExt::try_lock_exclusive(file) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::OutputLocked {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(Error::OutputLocked {
            path: path.to_owned(),
        }),
        Err(e) => Err(Error::OutputRefused {
            path: path.to_owned(),
            message: format!("cannot lock the output file against a second run ({e})"),
        }),
    }
}
