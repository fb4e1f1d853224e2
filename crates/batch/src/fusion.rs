//! `fusionner`: merges the outputs of the N partitions of a partitioned run
//! (`screen --partition K/N`, one process each, on a scheduler) into exactly what one
//! run writes.
//!
//! ```text
//! PART_DIR… ─► manifests read and checked (same month, rules, options, extract; every
//!              partition 0..N once; every file as its manifest recorded it)
//!           ─► eligibilites, signalements: the partitions' rows in partition order
//!              (partitions are ranges of consecutive ids, so that is id order)
//!           ─► quarantaine/: refused rows in file line order
//!           ─► candidates of every partition ─► ranked and capped once (campagnes/)
//!           ─► manifest.json: counts summed, the partitions listed
//! ```
//!
//! Why the result is a single run's, byte for byte: each partition's rows are those a
//! single run evaluates for its foyers (extract::routage; every rule reads one foyer's
//! rows), the output writers give the same bytes however the rows come
//! (output::TableWriter), and capacity, the only quantity over the whole caisse, is
//! applied here, once, over every partition's candidates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::{Mois, RuleSet};
use serde_json::Value;

use crate::campagnes::{self, Collecte};
use crate::extract::Table;
use crate::out_dir::OutDir;
use crate::output::{self, Format, OutputError, TableWriter};
use crate::screen::{self, Partie, ScreenError};

#[derive(Debug, thiserror::Error)]
pub enum FusionError {
    #[error("{dir}: not the result of a partition (screen --partition K/N): {why}")]
    NotAPartition { dir: String, why: String },
    #[error("{dir}: {file} differs from what its manifest records (changed or incomplete since the run)")]
    Altered { dir: String, file: String },
    #[error("the partitions were not run alike: {field} differs between {a} and {b}")]
    Different { field: String, a: String, b: String },
    #[error("partition {indice} of {nombre} is given twice: {a} and {b}")]
    Twice { indice: usize, nombre: usize, a: String, b: String },
    #[error("partition(s) {missing} of {nombre} missing (partitions count from 0)")]
    Missing { missing: String, nombre: usize },
    #[error("--rules: the rules given differ from those the partitions were run with ({why})")]
    OtherRules { why: String },
    #[error("{file}: {why}")]
    Unreadable { file: String, why: String },
    #[error(transparent)]
    Screen(#[from] ScreenError),
}

impl From<OutputError> for FusionError {
    fn from(e: OutputError) -> FusionError {
        FusionError::Screen(ScreenError::Output(e))
    }
}

impl From<PolarsError> for FusionError {
    fn from(e: PolarsError) -> FusionError {
        FusionError::Screen(ScreenError::Polars(e))
    }
}

impl From<campagnes::CampaignError> for FusionError {
    fn from(e: campagnes::CampaignError) -> FusionError {
        FusionError::Screen(ScreenError::Campaign(e))
    }
}

/// What the merge wrote, for the summary.
#[derive(Debug, Clone)]
pub struct Fusion {
    pub partitions: usize,
    pub statut: String,
    pub manifest: Value,
    pub fichiers_ecrits: Vec<String>,
}

/// One partition's result folder.
struct Part {
    dir: PathBuf,
    manifest: Value,
    partie: Partie,
    manifest_sha256: String,
}

/// A partition's manifest, and its bytes.
fn read_manifest(dir: &Path) -> Result<(Value, Vec<u8>), FusionError> {
    let not = |why: String| FusionError::NotAPartition { dir: dir.display().to_string(), why };
    let text = std::fs::read(dir.join("manifest.json")).map_err(|e| not(format!("manifest.json: {e}")))?;
    let manifest = serde_json::from_slice(&text).map_err(|e| not(format!("manifest.json: {e}")))?;
    Ok((manifest, text))
}

fn read_part(dir: &Path) -> Result<Part, FusionError> {
    let shown = dir.display().to_string();
    let not = |why: String| FusionError::NotAPartition { dir: shown.clone(), why };
    let (manifest, text) = read_manifest(dir)?;
    let partie: Partie = serde_json::from_value(manifest["partition"].clone())
        .map_err(|_| not("its manifest.json records no partition".into()))?;
    // Every file as the manifest recorded it: a partition re-run halfway, or a file
    // copied incompletely, is refused rather than merged.
    for f in manifest["fichiers_ecrits"].as_array().into_iter().flatten() {
        let name = f["fichier"].as_str().unwrap_or_default();
        let bytes = std::fs::read(dir.join(name)).map_err(|e| not(format!("{name}: {e}")))?;
        if f["sha256"].as_str() != Some(screen::sha256_hex(&bytes).as_str()) {
            return Err(FusionError::Altered { dir: shown.clone(), file: name.to_string() });
        }
    }
    Ok(Part { dir: dir.to_path_buf(), manifest, partie, manifest_sha256: screen::sha256_hex(&text) })
}

/// The manifest entries every partition must share: what was run, on what, how.
const SAME: [&str; 5] = ["moteur", "mois", "extrait", "colonnes_autorisees", "options"];

/// And those of the partitions that went to the end (one stopped by `--strict` records
/// only the above).
const SAME_COMPLETE: [&str; 3] = ["regles", "parametres", "parametres_perimes"];

fn complete(p: &Part) -> bool {
    p.manifest["statut"] == "complet"
}

/// `b` was not run as `a` was: `field` of their manifests differs.
fn differs(field: &str, a: &Part, b: &Part) -> FusionError {
    FusionError::Different { field: field.to_string(), a: a.dir.display().to_string(), b: b.dir.display().to_string() }
}

/// The first of `fields` on which `b`'s manifest differs from `a`'s.
fn first_difference(fields: &[&str], a: &Part, b: &Part) -> Result<(), FusionError> {
    match fields.iter().find(|f| a.manifest[**f] != b.manifest[**f]) {
        Some(field) => Err(differs(field, a, b)),
        None => Ok(()),
    }
}

fn check_alike(parts: &[Part]) -> Result<(), FusionError> {
    let first = &parts[0];
    for p in &parts[1..] {
        first_difference(&SAME, first, p)?;
        if p.partie.nombre != first.partie.nombre {
            return Err(differs("partition.nombre", first, p));
        }
    }
    let complete_parts: Vec<&Part> = parts.iter().filter(|p| complete(p)).collect();
    if let Some((first, rest)) = complete_parts.split_first() {
        let previous = |m: &Value| (m["extrait_precedent"]["mois"].clone(), m["extrait_precedent"]["fichiers"].clone());
        for p in rest {
            first_difference(&SAME_COMPLETE, first, p)?;
            if previous(&p.manifest) != previous(&first.manifest) {
                return Err(differs("extrait_precedent", first, p));
            }
        }
    }
    Ok(())
}

/// Sorts the partitions by index; refuses a partition given twice or missing.
fn in_order(mut parts: Vec<Part>) -> Result<Vec<Part>, FusionError> {
    let nombre = parts[0].partie.nombre;
    parts.sort_by_key(|p| p.partie.indice);
    for w in parts.windows(2) {
        if w[0].partie.indice == w[1].partie.indice {
            return Err(FusionError::Twice {
                indice: w[0].partie.indice,
                nombre,
                a: w[0].dir.display().to_string(),
                b: w[1].dir.display().to_string(),
            });
        }
    }
    let have: Vec<usize> = parts.iter().map(|p| p.partie.indice).collect();
    let missing: Vec<String> = (0..nombre).filter(|k| !have.contains(k)).map(|k| k.to_string()).collect();
    if !missing.is_empty() {
        return Err(FusionError::Missing { missing: missing.join(", "), nombre });
    }
    Ok(parts)
}

/// The rules given to `fusionner` (for the campaigns' capacities) must be those the
/// partitions ran.
fn check_rules(rules: &RuleSet, manifest: &Value) -> Result<(), FusionError> {
    let given: Vec<Value> = rules
        .files
        .iter()
        .map(|f| serde_json::json!({ "fichier": f.path, "sha256": screen::sha256_text(&f.text) }))
        .collect();
    let ran = manifest["regles"].as_array().cloned().unwrap_or_default();
    if given != ran {
        let name =
            |v: &Value| format!("{} {}", v["fichier"].as_str().unwrap_or("?"), v["sha256"].as_str().unwrap_or("?"));
        let ran_names: Vec<String> = ran.iter().map(name).collect();
        let why = given
            .iter()
            .map(name)
            .find(|g| !ran_names.contains(g))
            .map(|g| format!("{} is not among the partitions' rule files", g.split(' ').next().unwrap_or("?")))
            .unwrap_or_else(|| format!("{} files given, {} run", given.len(), ran.len()));
        return Err(FusionError::OtherRules { why });
    }
    Ok(())
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, FusionError> {
    std::fs::read(path).map_err(|e| FusionError::Unreadable { file: path.display().to_string(), why: e.to_string() })
}

/// The end of a CSV file's header line (its first line: no column name holds a newline).
fn body_start(bytes: &[u8]) -> usize {
    bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| p + 1)
}

/// A CSV output of every partition, rows in partition order: the first header, then
/// every partition's rows.
fn concat_csv(parts: &[Part], name: &str, out: &Path) -> Result<PathBuf, FusionError> {
    let mut merged = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let bytes = read_bytes(&p.dir.join(name))?;
        let start = body_start(&bytes);
        if i == 0 {
            merged.extend_from_slice(&bytes[..start]);
        }
        merged.extend_from_slice(&bytes[start..]);
    }
    write_bytes(&out.join(name), &merged)
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<PathBuf, FusionError> {
    output::atomic_write(path, |f| {
        use std::io::Write;
        f.write_all(bytes).map_err(|e| OutputError::Io { path: path.display().to_string(), source: e })
    })?;
    Ok(path.to_path_buf())
}

/// A Parquet output of every partition, rows in partition order, cut into row groups as
/// one run cuts them.
fn concat_parquet(parts: &[Part], name: &str, out: &Path) -> Result<Vec<PathBuf>, FusionError> {
    let stem = name.trim_end_matches(".parquet");
    let mut writer = TableWriter::create(out, stem, Format::Parquet)?;
    for p in parts {
        let path = p.dir.join(name);
        let bytes = read_bytes(&path)?;
        let mut df = ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| FusionError::Unreadable { file: path.display().to_string(), why: e.to_string() })?;
        writer.write(&mut df)?;
    }
    Ok(writer.finish()?)
}

/// A quarantine table of every partition: the refused rows in line order, as one run
/// sorts them (a refused row belongs to one partition, so lines never interleave).
fn merge_quarantine(parts: &[Part], name: &str, out: &Path) -> Result<PathBuf, FusionError> {
    let mut header = Vec::new();
    let mut rows: Vec<(u64, Vec<u8>)> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let path = p.dir.join(name);
        let bytes = read_bytes(&path)?;
        let start = body_start(&bytes);
        if i == 0 {
            header = bytes[..start].to_vec();
        }
        let bad = |why: String| FusionError::Unreadable { file: path.display().to_string(), why };
        let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(&bytes[start..]);
        let mut starts = Vec::new();
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(|e| bad(e.to_string()))? {
            let at = record.position().map_or(0, |pos| pos.byte() as usize);
            let ligne = record.get(1).and_then(|l| std::str::from_utf8(l).ok()).and_then(|l| l.parse::<u64>().ok());
            starts.push((at, ligne.ok_or_else(|| bad(format!("row at byte {at}: no line number")))?));
        }
        let body = &bytes[start..];
        for (j, &(at, ligne)) in starts.iter().enumerate() {
            let end = starts.get(j + 1).map_or(body.len(), |n| n.0);
            rows.push((ligne, body[at..end].to_vec()));
        }
    }
    // Stable: the rows of one line keep their order (by column).
    rows.sort_by_key(|(ligne, _)| *ligne);
    let mut merged = header;
    for (_, row) in rows {
        merged.extend_from_slice(&row);
    }
    write_bytes(&out.join(name), &merged)
}

/// Sums the per-table row counts (`lignes`) of the partitions.
fn sum_counts(parts: &[Part], get: impl Fn(&Value) -> &Value) -> Value {
    let mut sums: Vec<Value> = get(&parts[0].manifest).as_array().cloned().unwrap_or_default();
    for p in &parts[1..] {
        for (sum, c) in sums.iter_mut().zip(get(&p.manifest).as_array().into_iter().flatten()) {
            for key in ["lus", "utilises", "quarantaines"] {
                sum[key] = Value::from(sum[key].as_u64().unwrap_or(0) + c[key].as_u64().unwrap_or(0));
            }
        }
    }
    Value::Array(sums)
}

/// Sums the numbers of an object of counts (`{"rsa": 3, …}`) over the partitions.
fn sum_object(parts: &[Part], get: impl Fn(&Value) -> &Value) -> Value {
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for p in parts {
        for (k, v) in get(&p.manifest).as_object().into_iter().flatten() {
            *sums.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
        }
    }
    serde_json::json!(sums)
}

fn sum_number(parts: &[Part], get: impl Fn(&Value) -> &Value) -> Value {
    Value::from(parts.iter().map(|p| get(&p.manifest).as_u64().unwrap_or(0)).sum::<u64>())
}

/// The outputs one run writes in `quarantaine/`.
fn quarantine_files() -> Vec<String> {
    Table::ALL.iter().map(|t| format!("quarantaine/{}.csv", t.name())).collect()
}

/// The month the partitions in `dirs` screened (read from the first one's manifest), to
/// load the rules as of that month before merging.
pub fn mois_of(dirs: &[PathBuf]) -> Result<Mois, FusionError> {
    let first = dirs.first().ok_or_else(|| FusionError::Missing { missing: "all".into(), nombre: 0 })?;
    let (manifest, _) = read_manifest(first)?;
    manifest["mois"].as_str().and_then(Mois::parse).ok_or_else(|| FusionError::NotAPartition {
        dir: first.display().to_string(),
        why: "its manifest.json has no month".into(),
    })
}

/// Merges the partitions in `dirs` into `out`, with `rules` (those the partitions ran:
/// the campaigns' capacities are applied here).
pub fn fusionner(dirs: &[PathBuf], out: &Path, rules: &RuleSet) -> Result<Fusion, FusionError> {
    if dirs.is_empty() {
        return Err(FusionError::Missing { missing: "all".into(), nombre: 0 });
    }
    let parts = dirs.iter().map(|d| read_part(d)).collect::<Result<Vec<_>, _>>()?;
    check_alike(&parts)?;
    let parts = in_order(parts)?;
    // The first partition that went to the end carries what the merged manifest
    // records; with none, the run stopped at the quarantine.
    let base = parts.iter().find(|p| complete(p)).unwrap_or(&parts[0]).manifest.clone();
    if base["statut"] == "complet" {
        check_rules(rules, &base)?;
    }
    let mois = base["mois"].as_str().and_then(Mois::parse).ok_or_else(|| FusionError::NotAPartition {
        dir: parts[0].dir.display().to_string(),
        why: "its manifest.json has no month".into(),
    })?;
    let format = base["options"]["format"].as_str().unwrap_or("csv").to_string();
    // `--strict`: one partition with a refused row stops the whole run, as one run stops.
    let strict_stop = parts.iter().any(|p| !complete(p));

    let inputs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let out_dir = OutDir::prepare(out, &inputs).map_err(ScreenError::from)?;
    let staging = out_dir.path().to_path_buf();
    let mut written = Vec::new();
    for name in quarantine_files() {
        written.push(merge_quarantine(&parts, &name, &staging)?);
    }
    written.push(concat_csv(&parts, "quarantaine/foyers_exclus.csv", &staging)?);

    let mut manifest = base.clone();
    let m = manifest.as_object_mut().ok_or_else(|| FusionError::NotAPartition {
        dir: parts[0].dir.display().to_string(),
        why: "manifest.json is not an object".into(),
    })?;
    m.remove("partition");
    m.remove("fichiers_ecrits");
    m.insert("lignes".into(), sum_counts(&parts, |m| &m["lignes"]));
    m.insert(
        "fusion".into(),
        serde_json::json!({
            "partitions": parts.iter().map(|p| serde_json::json!({
                "indice": p.partie.indice,
                "dossier": p.dir.display().to_string(),
                "statut": p.manifest["statut"],
                "manifest_sha256": p.manifest_sha256,
            })).collect::<Vec<_>>(),
        }),
    );
    if strict_stop {
        m.insert("statut".into(), Value::from("arret_strict"));
        for key in ["regles", "parametres", "parametres_perimes", "historique_ressources", "extrait_precedent"] {
            m.remove(key);
        }
        for key in ["partitions", "foyers", "sorties", "campagnes", "reglages_campagnes"] {
            m.remove(key);
        }
    } else {
        for table in ["eligibilites", "signalements"] {
            if format != "parquet" {
                written.push(concat_csv(&parts, &format!("{table}.csv"), &staging)?);
            }
            if format != "csv" {
                written.extend(concat_parquet(&parts, &format!("{table}.parquet"), &staging)?);
            }
        }
        let mut collecte = Collecte::new(rules);
        for p in &parts {
            collecte.add_written(rules, &p.dir.join(campagnes::CANDIDATS))?;
            if campagnes::has_landlord_lists(rules) {
                collecte.add_locataires(rules, &p.dir.join(campagnes::LOCATAIRES))?;
            }
        }
        let lists = collecte.select(rules, mois);
        written.extend(campagnes::write(&lists, mois, &staging)?);
        m.insert("campagnes".into(), screen::campaigns_manifest(&lists));
        m.insert("reglages_campagnes".into(), serde_json::json!(rules.reglages_campagnes));
        m.insert("partitions".into(), Value::from(parts.len()));
        let foyers = serde_json::json!({
            "lus": sum_number(&parts, |m| &m["foyers"]["lus"]),
            "evalues": sum_number(&parts, |m| &m["foyers"]["evalues"]),
            "en_quarantaine": sum_number(&parts, |m| &m["foyers"]["en_quarantaine"]),
        });
        m.insert("foyers".into(), foyers);
        let sorties = serde_json::json!({
            "eligibilites": sum_number(&parts, |m| &m["sorties"]["eligibilites"]),
            "signalements": sum_number(&parts, |m| &m["sorties"]["signalements"]),
            "signalements_par_regle": sum_object(&parts, |m| &m["sorties"]["signalements_par_regle"]),
        });
        m.insert("sorties".into(), sorties);
        if let Some(h) = m.get_mut("historique_ressources").and_then(Value::as_object_mut) {
            // The extract's oldest month of resources: the oldest of the partitions'.
            let oldest = parts
                .iter()
                .filter_map(|p| p.manifest["historique_ressources"]["premier_mois_extrait"].as_str())
                .min()
                .map(str::to_string);
            h.insert("premier_mois_extrait".into(), serde_json::json!(oldest));
            h.insert(
                "foyers_avec_mois_inconnus".into(),
                sum_number(&parts, |m| &m["historique_ressources"]["foyers_avec_mois_inconnus"]),
            );
            h.insert(
                "indetermines_faute_de_ressources".into(),
                sum_object(&parts, |m| &m["historique_ressources"]["indetermines_faute_de_ressources"]),
            );
        }
        if let Some(prev) = m.get_mut("extrait_precedent").and_then(Value::as_object_mut) {
            prev.insert("lignes".into(), sum_counts(&parts, |m| &m["extrait_precedent"]["lignes"]));
        }
    }
    let statut = manifest["statut"].as_str().unwrap_or_default().to_string();
    let fichiers_ecrits = screen::commit_files(out_dir, manifest.clone(), written)?;
    Ok(Fusion { partitions: parts.len(), statut, manifest, fichiers_ecrits })
}
