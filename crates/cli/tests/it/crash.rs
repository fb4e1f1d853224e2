//! Crash safety: whatever stops a run (SIGKILL, a full disk) `--out` holds the previous
//! complete result or the new complete one, never a mix; two runs never write one
//! `--out` at once; an `--out` that cannot or must not be written is refused up front.
//!
//! "Complete" is checked as a reader would: `manifest.json` says `complet` and lists
//! every file of the folder with its size and SHA-256, and nothing else is there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::{generate, read_manifest, sample, screen};

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("ls").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).expect("under").to_string_lossy().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Checks `out` holds one complete result and returns its month.
fn complete_result(out: &Path) -> String {
    let manifest = read_manifest(out);
    assert_eq!(manifest["statut"], "complet", "{manifest}");
    let mut listed: Vec<String> = vec!["manifest.json".to_string()];
    for f in manifest["fichiers_ecrits"].as_array().expect("files") {
        let name = f["fichier"].as_str().expect("name");
        let bytes = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name} listed but unreadable: {e}"));
        assert_eq!(Some(bytes.len() as u64), f["octets"].as_u64(), "{name}: size");
        let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(Some(sha.as_str()), f["sha256"].as_str(), "{name}: SHA-256");
        listed.push(name.to_string());
    }
    listed.sort();
    assert_eq!(files_under(out), listed, "the folder holds exactly the files its manifest lists");
    manifest["mois"].as_str().expect("mois").to_string()
}

fn screen_command(extract: &Path, mois: &str, out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reperage"));
    cmd.args(["screen", "--extract"])
        .arg(extract)
        .args(["--mois", mois, "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// A generated extract big enough for a run to take seconds in the dev profile.
fn generated(dir: &Path, foyers: &str) -> PathBuf {
    let extract = dir.join("extrait");
    generate(&extract, foyers, &[]);
    extract
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_previous_result_or_the_new_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = generated(tmp.path(), "2500");
    let out = tmp.path().join("out");
    // The previous month's result, complete.
    // In three pieces: rows are spilled to `.pieces/` in the staging folder while the run
    // reads, and must never be left in a committed result.
    let pieces = ["--partitions", "3"];
    let first = screen(&extract, "2025-02", &out, &pieces, &[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(complete_result(&out), "2025-02");
    // How long a whole run takes here, to spread the kills over it.
    let started = Instant::now();
    let whole = screen(&extract, "2025-03", &tmp.path().join("mesure"), &pieces, &[]);
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    let duration = started.elapsed();
    eprintln!("a whole run takes {:.1} s", duration.as_secs_f64());

    let points = 20;
    let mut seen = std::collections::BTreeMap::new();
    for i in 0..points {
        // Spread over the first 90 % of a run (the commit is its last step).
        let at = duration.mul_f64(0.9 * (i as f64 + 0.5) / points as f64);
        let before = complete_result(&out);
        let mut child = screen_command(&extract, "2025-03", &out).args(pieces).spawn().expect("spawn");
        std::thread::sleep(at);
        let finished = child.try_wait().expect("wait").is_some();
        child.kill().ok(); // SIGKILL
        child.wait().expect("reaped");
        let mois = complete_result(&out);
        assert!(mois == before || mois == "2025-03", "kill {i}: {mois}");
        assert!(!finished || mois == "2025-03", "kill {i}: a run that finished must have committed");
        *seen.entry(mois).or_insert(0) += 1;
    }
    eprintln!("after {points} kills, --out held: {seen:?}");
    // Runs vary in length with the machine's load: require a fair share of kills to land
    // before the commit rather than an exact count.
    assert!(seen.get("2025-02").copied().unwrap_or(0) >= points / 4, "kills land before the commit: {seen:?}");
    // The next run cleans what the killed ones left beside --out.
    let next = screen(&extract, "2025-03", &out, &pieces, &[]);
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    assert_eq!(complete_result(&out), "2025-03");
    let beside: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".out"))
        .collect();
    assert_eq!(beside, vec![".out.verrou".to_string()], "only the lock file is left beside --out");
}

/// A `tmpfs` of `size` mounted at `dir`, unmounted on drop; None (with the reason
/// printed) where this machine does not let the test mount one.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, options: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).expect("mkdir");
        let run = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs"]).arg(dir).output();
        match run {
            Ok(o) if o.status.success() => Some(Tmpfs(dir.to_path_buf())),
            Ok(o) => {
                eprintln!("SKIPPED: cannot mount a tmpfs here: {}", String::from_utf8_lossy(&o.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn size_of(dir: &Path) -> u64 {
    files_under(dir).iter().map(|f| std::fs::metadata(dir.join(f)).expect("stat").len()).sum()
}

#[test]
fn a_full_disk_gives_a_clear_error_and_leaves_the_previous_result() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = sample("synthetique");
    let probe = tmp.path().join("probe");
    let run = screen(&extract, "2025-03", &probe, &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let result = size_of(&probe);
    // Room for one result and half another: the second run fills the disk.
    let kib = (result * 3 / 2) / 1024 + 64;
    let Some(disk) = Tmpfs::mount(&tmp.path().join("disk"), &format!("size={kib}k")) else { return };
    let out = disk.0.join("out");
    let first = screen(&extract, "2025-03", &out, &[], &[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let second = screen(&extract, "2025-02", &out, &[], &[]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "a clear error: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(complete_result(&out), "2025-03", "the previous result is untouched");
    let beside: Vec<String> = std::fs::read_dir(&disk.0)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(beside.len(), 2, "--out and its lock, no staging left: {beside:?}");
}

#[test]
fn two_runs_on_one_out_do_not_mix() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    // A lock held by another process: the run is refused at once.
    let lock = std::fs::File::create(tmp.path().join(".out.verrou")).expect("lock file");
    lock.lock().expect("lock");
    let run = screen(&sample("synthetique"), "2025-03", &out, &[], &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("another run is writing there"), "{err}");
    assert!(!out.exists());
    lock.unlock().expect("unlock");

    // Two real runs started together: one writes, the other is refused, and --out
    // holds the one that wrote, whole.
    let extract = generated(tmp.path(), "3000");
    let a = screen_command(&extract, "2025-03", &out).spawn().expect("spawn");
    let staging_seen = (0..3000).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        std::fs::read_dir(tmp.path())
            .expect("ls")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".out.en-cours-"))
    });
    assert!(staging_seen, "the first run started writing");
    let b = screen(&extract, "2025-02", &out, &[], &[]);
    let a = a.wait_with_output().expect("first run");
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(b.status.code(), Some(1), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(String::from_utf8_lossy(&b.stderr).contains("another run is writing there"));
    assert_eq!(complete_result(&out), "2025-03");
}

#[test]
fn an_out_that_cannot_or_must_not_be_written_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = tmp.path().join("extrait");
    std::fs::create_dir(&extract).expect("mkdir");
    for e in std::fs::read_dir(sample("synthetique")).expect("ls").flatten() {
        std::fs::copy(e.path(), extract.join(e.file_name())).expect("copy");
    }
    let before = files_under(&extract);
    let refused = |out: &Path, extra: &[&str], why: &str| {
        let run = screen(&extract, "2025-03", out, extra, &[]);
        let err = String::from_utf8_lossy(&run.stderr).to_string();
        assert_eq!(run.status.code(), Some(1), "{}: {err}", out.display());
        assert!(err.contains(why), "{}: «{why}» in {err}", out.display());
    };
    refused(&tmp.path().join("absent/out"), &[], "does not exist");
    refused(&extract, &[], "is, or is inside, the input folder");
    refused(&extract.join("resultats"), &[], "is, or is inside, the input folder");
    refused(tmp.path(), &[], "holds the input folder");
    let precedent = sample("synthetique-precedent");
    refused(&precedent.join("out"), &["--precedent", precedent.to_str().expect("utf-8")], "is, or is inside");
    let notes = tmp.path().join("notes");
    std::fs::create_dir(&notes).expect("mkdir");
    std::fs::write(notes.join("a-garder.txt"), "mine").expect("write");
    refused(&notes, &[], "is not a reperage result");
    assert!(notes.join("a-garder.txt").exists(), "a folder that is not ours is left alone");
    assert_eq!(files_under(&extract), before, "the extract is untouched");

    // A read-only parent: a read-only tmpfs, which even root cannot write.
    if let Some(ro) = Tmpfs::mount(&tmp.path().join("ro"), "ro,size=64k") {
        refused(&ro.0.join("out"), &[], "cannot write in");
    }
}
