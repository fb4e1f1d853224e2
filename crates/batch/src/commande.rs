//! What the commands that read an extract into a folder of aggregates (`estimer`,
//! `couverture`, `diff`) do around the common evaluation: note the stale parameters,
//! prepare the `--out` folder, read the extracts into pieces; and after it, name the
//! rule files in the manifest and write the HTML page.

use std::path::{Path, PathBuf};

use reperage_rules::{Mois, RuleSet, StaleParameter};

use crate::extract::ColonneAutorisee;
use crate::out_dir::OutDir;
use crate::output::{OutputError, atomic_write};
use crate::screen::{self, Lecture, Lu, ScreenError};

/// The `--out` folder being written, and the extracts read into pieces.
pub(crate) struct Ouverture {
    pub out_dir: OutDir,
    /// Where files are written before the commit.
    pub out: PathBuf,
    /// Where the pieces of the extract are spilled; removed once evaluated.
    pub spill: PathBuf,
    pub lu: Lu,
    pub stale: Vec<StaleParameter>,
}

/// What `estimer`, `couverture` and `diff` read, and where they write.
pub struct Entrees<'a> {
    pub rules: &'a RuleSet,
    /// The reference month.
    pub mois: Mois,
    pub extract: &'a Path,
    /// Last month's extract of the same caisse, as for `screen`.
    pub precedent: Option<&'a Path>,
    /// Replaced as a whole when the run completes.
    pub out: &'a Path,
    /// Columns the caisse vouches for, left out of the privacy guard's examination.
    pub colonnes_autorisees: &'a [ColonneAutorisee],
    /// The memory budget in bytes; `None`: three quarters of the machine's memory.
    pub memoire_max: Option<u64>,
}

pub(crate) fn ouvrir(e: &Entrees) -> Result<Ouverture, ScreenError> {
    let stale = screen::stale_parameters(e.rules, e.mois, false)?;
    let inputs: Vec<&Path> = std::iter::once(e.extract).chain(e.precedent).collect();
    let out_dir = OutDir::prepare(e.out, &inputs)?;
    let out = out_dir.path().to_path_buf();
    let spill = out.join(".pieces");
    let lecture = Lecture {
        extract: e.extract,
        precedent: e.precedent,
        colonnes_autorisees: e.colonnes_autorisees,
        partitions: None,
        memoire_max: e.memoire_max,
        partie: None,
    };
    let lu = lecture.lire(&spill)?;
    Ok(Ouverture { out_dir, out, spill, lu, stale })
}

/// The rule files with their hashes, for a manifest.
pub(crate) fn fichiers_regles(rs: &RuleSet) -> Vec<serde_json::Value> {
    rs.files.iter().map(|f| serde_json::json!({ "fichier": f.path, "sha256": screen::sha256_text(&f.text) })).collect()
}

/// Writes `html` to `out/name` (atomically) and returns its path.
pub(crate) fn ecrire_page(out: &Path, name: &str, html: &str) -> Result<PathBuf, OutputError> {
    let path = out.join(name);
    atomic_write(&path, |f| {
        use std::io::Write;
        f.write_all(html.as_bytes()).map_err(|e| OutputError::Io { path: path.display().to_string(), source: e })
    })?;
    Ok(path)
}
