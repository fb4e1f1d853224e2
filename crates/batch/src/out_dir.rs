//! The `--out` folder of a run, replaced as a whole or not at all.
//!
//! A run writes into a staging folder beside `--out` (`.<name>.en-cours-<pid>`), writes
//! `manifest.json` last, then swaps the staging folder with `--out` in one atomic
//! `renameat2(RENAME_EXCHANGE)`. Whatever kills the run (SIGKILL, a full disk, an error),
//! `--out` holds the previous complete result or the new one, never a mix; a staging
//! folder left behind by a killed run is removed by the next run on the same `--out`.
//!
//! Two runs on one `--out` are kept apart by an advisory lock (`flock`) on
//! `.<name>.verrou` beside it, released by the kernel when the process dies, so a killed
//! run never leaves a stale lock.
//!
//! Before anything is read, the folder is refused when its parent is missing or not
//! writable, when it is or lies inside an input folder (or holds one), and when it
//! exists with something that is not a previous result (it would be replaced).

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error("--out {out}: its parent folder {parent} does not exist (create it, or check the path)")]
    MissingParent { out: String, parent: String },
    #[error("--out {out}: cannot write in {parent}: {source}")]
    NotWritable { out: String, parent: String, source: std::io::Error },
    #[error("--out {out} is, or is inside, the input folder {input}: outputs must not be written into an extract")]
    InsideInput { out: String, input: String },
    #[error("--out {out} holds the input folder {input}: a run replaces --out as a whole")]
    HoldsInput { out: String, input: String },
    #[error(
        "--out {out} exists and is not a reperage result (no manifest.json): a run replaces --out as a whole; give a new or empty folder"
    )]
    NotAResult { out: String },
    #[error("--out {out} is not a folder")]
    NotAFolder { out: String },
    #[error("--out {out}: another run is writing there (lock {lock} is held); wait for it to finish")]
    Locked { out: String, lock: String },
    #[error("--out {out}: {context}: {source}")]
    Io { out: String, context: String, source: std::io::Error },
}

/// The output folder of one run: staging while it runs, committed at the end.
pub struct OutDir {
    out: PathBuf,
    staging: PathBuf,
    _lock: File,
    committed: bool,
}

/// `--out` made absolute, symbolic links in its existing part resolved.
fn absolute(p: &Path) -> std::io::Result<PathBuf> {
    if let Ok(c) = fs::canonicalize(p) {
        return Ok(c);
    }
    let abs = std::path::absolute(p)?;
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => Ok(fs::canonicalize(parent).unwrap_or(parent.to_path_buf()).join(name)),
        _ => Ok(abs),
    }
}

/// Suffix of the previous result moved aside during a commit without RENAME_EXCHANGE.
const ASIDE: &str = "-ancien";

/// Staging and previous-result folders of a run on `name`, recognised by their prefix.
fn staging_prefix(name: &str) -> String {
    format!(".{name}.en-cours-")
}

impl OutDir {
    /// Checks `out` against the inputs, takes its lock, removes what killed runs left
    /// and creates the staging folder.
    pub fn prepare(out: &Path, inputs: &[&Path]) -> Result<OutDir, OutDirError> {
        let shown = out.display().to_string();
        let io = |context: &str| {
            let shown = shown.clone();
            let context = context.to_string();
            move |source| OutDirError::Io { out: shown, context, source }
        };
        let abs = absolute(out).map_err(io("resolving the path"))?;
        let (Some(parent), Some(name)) = (abs.parent(), abs.file_name().and_then(|n| n.to_str())) else {
            return Err(OutDirError::NotAFolder { out: shown });
        };
        if !parent.is_dir() {
            return Err(OutDirError::MissingParent { out: shown, parent: parent.display().to_string() });
        }
        for input in inputs {
            let input_abs = absolute(input).map_err(io("resolving an input path"))?;
            if abs.starts_with(&input_abs) {
                return Err(OutDirError::InsideInput { out: shown, input: input.display().to_string() });
            }
            if input_abs.starts_with(&abs) {
                return Err(OutDirError::HoldsInput { out: shown, input: input.display().to_string() });
            }
        }
        if abs.exists() {
            if !abs.is_dir() {
                return Err(OutDirError::NotAFolder { out: shown });
            }
            let empty = fs::read_dir(&abs).map_err(io("reading the folder"))?.next().is_none();
            if !empty && !abs.join("manifest.json").is_file() {
                return Err(OutDirError::NotAResult { out: shown });
            }
        }
        let lock_path = parent.join(format!(".{name}.verrou"));
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|source| {
            OutDirError::NotWritable { out: shown.clone(), parent: parent.display().to_string(), source }
        })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(OutDirError::Locked { out: shown, lock: lock_path.display().to_string() });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("locking")(e)),
        }
        // Under the lock, any staging folder is a killed run's: remove it, unless the run
        // was killed between the two renames of a commit without RENAME_EXCHANGE, when
        // the previous result, moved aside, is put back.
        let prefix = staging_prefix(name);
        for entry in fs::read_dir(parent).map_err(io("reading the parent folder"))?.flatten() {
            let Some(n) = entry.file_name().to_str().map(str::to_string) else { continue };
            if n.starts_with(&prefix) && n.ends_with(ASIDE) && !abs.exists() {
                fs::rename(entry.path(), &abs).map_err(io("restoring the previous result"))?;
            } else if n.starts_with(&prefix) {
                fs::remove_dir_all(entry.path()).map_err(io("removing a killed run's staging folder"))?;
            }
        }
        let staging = parent.join(format!("{prefix}{}", std::process::id()));
        fs::create_dir(&staging).map_err(|source| OutDirError::NotWritable {
            out: shown.clone(),
            parent: parent.display().to_string(),
            source,
        })?;
        Ok(OutDir { out: abs, staging, _lock: lock, committed: false })
    }

    /// Where this run writes (the staging folder).
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Where the result will be once committed.
    pub fn final_path(&self) -> &Path {
        &self.out
    }

    /// Replaces `--out` by the staging folder at once; the previous result is removed.
    pub fn commit(mut self) -> Result<(), OutDirError> {
        let shown = self.out.display().to_string();
        let io = |context: &'static str| {
            let shown = shown.clone();
            move |source| OutDirError::Io { out: shown, context: context.to_string(), source }
        };
        File::open(&self.staging).and_then(|d| d.sync_all()).map_err(io("syncing the staging folder"))?;
        if self.out.exists() {
            let swapped = rustix::fs::renameat_with(
                rustix::fs::CWD,
                &self.staging,
                rustix::fs::CWD,
                &self.out,
                rustix::fs::RenameFlags::EXCHANGE,
            );
            match swapped {
                Ok(()) => {}
                // A file system without RENAME_EXCHANGE: the previous result is moved
                // aside first, so `--out` is briefly absent (never a mix).
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP) => {
                    let mut aside = self.staging.clone().into_os_string();
                    aside.push(ASIDE);
                    let aside = PathBuf::from(aside);
                    fs::rename(&self.out, &aside).map_err(io("moving the previous result aside"))?;
                    fs::rename(&self.staging, &self.out).map_err(io("putting the new result in place"))?;
                    fs::rename(&aside, &self.staging).map_err(io("moving the previous result aside"))?;
                }
                Err(e) => return Err(io("replacing the previous result")(e.into())),
            }
        } else {
            fs::rename(&self.staging, &self.out).map_err(io("putting the result in place"))?;
        }
        self.committed = true;
        if let Some(parent) = self.out.parent() {
            File::open(parent).and_then(|d| d.sync_all()).map_err(io("syncing the parent folder"))?;
        }
        // The staging name now holds the previous result.
        if self.staging.exists() {
            fs::remove_dir_all(&self.staging).map_err(io("removing the previous result"))?;
        }
        Ok(())
    }
}

impl Drop for OutDir {
    /// A run that failed leaves nothing of itself.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_run_replaces_the_previous_one_as_a_whole() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        let first = OutDir::prepare(&out, &[]).expect("prepare");
        fs::write(first.path().join("manifest.json"), "1").expect("write");
        fs::write(first.path().join("only_in_first.csv"), "x").expect("write");
        first.commit().expect("commit");
        let second = OutDir::prepare(&out, &[]).expect("prepare");
        fs::write(second.path().join("manifest.json"), "2").expect("write");
        assert_eq!(fs::read_to_string(out.join("manifest.json")).expect("read"), "1", "not yet committed");
        second.commit().expect("commit");
        assert_eq!(fs::read_to_string(out.join("manifest.json")).expect("read"), "2");
        assert!(!out.join("only_in_first.csv").exists(), "nothing of the previous run is left");
        let left: Vec<_> = fs::read_dir(tmp.path()).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 2, "out and its lock file only: {left:?}");
    }

    #[test]
    fn a_failed_run_leaves_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        let run = OutDir::prepare(&out, &[]).expect("prepare");
        fs::write(run.path().join("signalements.csv"), "x").expect("write");
        drop(run);
        assert!(!out.exists());
        assert_eq!(fs::read_dir(tmp.path()).expect("ls").count(), 1, "the lock file only");
    }

    #[test]
    fn refusals() {
        let tmp = tempfile::tempdir().expect("tmp");
        let extract = tmp.path().join("extract");
        fs::create_dir(&extract).expect("mkdir");
        let err = |out: &Path| OutDir::prepare(out, &[&extract]).err().expect("refused");
        assert!(matches!(err(&tmp.path().join("nowhere/out")), OutDirError::MissingParent { .. }));
        assert!(matches!(err(&extract), OutDirError::InsideInput { .. }));
        assert!(matches!(err(&extract.join("out")), OutDirError::InsideInput { .. }));
        assert!(matches!(err(tmp.path()), OutDirError::HoldsInput { .. }));
        let other = tmp.path().join("notes");
        fs::create_dir(&other).expect("mkdir");
        fs::write(other.join("a.txt"), "mine").expect("write");
        assert!(matches!(err(&other), OutDirError::NotAResult { .. }));
        let out = tmp.path().join("out");
        let held = OutDir::prepare(&out, &[]).expect("first");
        assert!(matches!(OutDir::prepare(&out, &[]), Err(OutDirError::Locked { .. })));
        drop(held);
        OutDir::prepare(&out, &[]).expect("the lock is released with the run");
    }
}
