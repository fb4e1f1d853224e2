//! What the commands share: the argument groups several take, loading the rules,
//! parsing months, sizes and columns, and the lines every command prints on stderr.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use reperage_batch::extract::ColonneAutorisee;
use reperage_batch::output;
use reperage_batch::screen;
use reperage_rules::{Mois, RuleSet, SourceFile, check, source};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum OutFormat {
    Csv,
    Parquet,
    Both,
}

/// The rules a run evaluates, and the campaigns that replace theirs (`screen`,
/// `fusionner`).
#[derive(clap::Args)]
pub(crate) struct ReglesArgs {
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub(crate) rules: Option<PathBuf>,
    /// Campaigns folder (default: the `campagnes/` of the rules); its `*.toml` files
    /// replace the rules' campaigns.
    #[arg(long)]
    pub(crate) campagnes: Option<PathBuf>,
}

/// What `estimer`, `couverture` and `diff` read and where they write.
#[derive(clap::Args)]
pub(crate) struct LectureArgs {
    /// The extract folder.
    #[arg(long)]
    pub(crate) extract: PathBuf,
    /// Last month's extract of the same caisse (as for `screen`).
    #[arg(long)]
    pub(crate) precedent: Option<PathBuf>,
    /// Reference month YYYY-MM.
    #[arg(long)]
    pub(crate) mois: String,
    /// Output folder (replaced as a whole).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// As for `screen`.
    #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
    pub(crate) colonnes_autorisees: Vec<ColonneAutorisee>,
    /// As for `screen`.
    #[arg(long = "memoire-max", value_parser = parse_size)]
    pub(crate) memoire_max: Option<u64>,
}

impl LectureArgs {
    /// What the batch reads and where it writes, for `rules` at `mois` (parsed from
    /// `self.mois`).
    pub(crate) fn entrees<'a>(&'a self, rules: &'a RuleSet, mois: Mois) -> reperage_batch::Entrees<'a> {
        reperage_batch::Entrees {
            rules,
            mois,
            extract: &self.extract,
            precedent: self.precedent.as_deref(),
            out: &self.out,
            colonnes_autorisees: &self.colonnes_autorisees,
            memoire_max: self.memoire_max,
        }
    }
}

pub(crate) fn load_rules(dir: &Option<PathBuf>, mois: Mois) -> Result<RuleSet> {
    let (files, origin) = rule_files(dir)?;
    match checked_rules(&files, mois) {
        Some(rs) => Ok(rs),
        None => bail!("the rules in {origin} have errors: run `reperage check`"),
    }
}

/// The rules, their campaigns replaced by those of `campagnes` when given.
pub(crate) fn rules_and_campaigns(regles: &ReglesArgs, mois: Mois) -> Result<RuleSet> {
    let rs = load_rules(&regles.rules, mois)?;
    let Some(dir) = &regles.campagnes else { return Ok(rs) };
    match reperage_rules::check::with_campaigns(&rs, &source::load_dir(dir)?) {
        Ok((rs, warnings)) => {
            eprint!("{warnings}");
            Ok(rs)
        }
        Err(diags) => {
            eprint!("{diags}");
            bail!("the campaigns in {} have errors", dir.display());
        }
    }
}

pub(crate) fn parse_partie(s: &str) -> Result<screen::Partie, String> {
    screen::Partie::parse(s)
}

pub(crate) fn rule_files(dir: &Option<PathBuf>) -> Result<(Vec<SourceFile>, String)> {
    match dir {
        Some(d) => Ok((source::load_dir(d)?, d.display().to_string())),
        None => Ok((source::embedded(), "embedded rules".to_string())),
    }
}

/// A size such as `6G`, `800M`, `512K` or a number of bytes (powers of 1024).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len()));
    let n: f64 = digits.parse().map_err(|_| format!("not a size: {s:?} (e.g. 6G, 800M)"))?;
    let scale: u64 = match unit.trim().to_ascii_uppercase().trim_end_matches(['B', 'O', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("unknown unit in {s:?} (K, M, G or T)")),
    };
    let bytes = n * scale as f64;
    // NaN cannot come from the digits and dot above; a budget under a byte is refused.
    if bytes < 1.0 {
        return Err(format!("the budget must be positive: {s:?}"));
    }
    Ok(bytes as u64)
}

pub(crate) fn parse_colonne(s: &str) -> Result<ColonneAutorisee, String> {
    ColonneAutorisee::parse(s)
}

/// The escape hatch is said out loud: the columns left out of the privacy guard.
pub(crate) fn log_autorisees(colonnes: &[ColonneAutorisee]) {
    for c in colonnes {
        eprintln!("privacy guard: column {c} is vouched for by --colonne-autorisee and not examined");
    }
}

pub(crate) fn parse_mois(s: &str) -> Result<Mois> {
    Mois::parse(s).with_context(|| format!("invalid month `{s}`: expected YYYY-MM, e.g. 2025-04"))
}

pub(crate) fn current_month() -> Mois {
    let days =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| (d.as_secs() / 86_400) as i32);
    reperage_rules::Date::from_days(days).mois()
}

/// Checks the rules; on errors prints them and returns `None`.
pub(crate) fn checked_rules(files: &[SourceFile], mois: Mois) -> Option<RuleSet> {
    let checked = check(files, mois);
    if checked.ruleset.is_none() {
        eprint!("{}", checked.diagnostics);
    }
    checked.ruleset
}

pub(crate) fn out_format(f: OutFormat) -> output::Format {
    match f {
        OutFormat::Csv => output::Format::Csv,
        OutFormat::Parquet => output::Format::Parquet,
        OutFormat::Both => output::Format::Both,
    }
}

/// The files a command wrote, one per line, on stderr.
pub(crate) fn print_written(files: &[String]) {
    for f in files {
        eprintln!("  {f}");
    }
}

/// The parameters that may be out of date for the month, one line each, on stderr.
pub(crate) fn print_stale(stale: &[reperage_rules::StaleParameter], mois: Mois) {
    if stale.is_empty() {
        return;
    }
    eprintln!("warning: {} parameter(s) may be out of date for {mois} (amounts may be wrong):", stale.len());
    for p in stale {
        eprintln!("  {}: {}", p.fichier, p.message);
    }
}

/// Writes to standard output. A reader that closes the pipe early (`| head`) is not an
/// error: the rest of the output is simply not wanted.
pub(crate) fn stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
