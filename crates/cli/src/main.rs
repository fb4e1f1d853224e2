//! `reperage`: the command line. Thin: argument parsing, display and exit codes; the
//! work is done by `reperage-rules` and `reperage-batch`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use reperage_batch::explain::Outcome;
use reperage_batch::extract::ColonneAutorisee;
use reperage_batch::output;
use reperage_batch::screen::{self, ScreenError};
use reperage_rules::check::{FileRole, file_role};
use reperage_rules::{Mois, RuleSet, SourceFile, check, source, testing};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "reperage", version, about = "Screen benefit case files for likely non-take-up and life events")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    Csv,
    Parquet,
    Both,
}

/// The rules a run evaluates, and the campaigns that replace theirs (`screen`,
/// `fusionner`).
#[derive(clap::Args)]
struct ReglesArgs {
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Campaigns folder (default: the `campagnes/` of the rules); its `*.toml` files
    /// replace the rules' campaigns.
    #[arg(long)]
    campagnes: Option<PathBuf>,
}

/// What `estimer`, `couverture` and `diff` read and where they write.
#[derive(clap::Args)]
struct LectureArgs {
    /// The extract folder.
    #[arg(long)]
    extract: PathBuf,
    /// Last month's extract of the same caisse (as for `screen`).
    #[arg(long)]
    precedent: Option<PathBuf>,
    /// Reference month YYYY-MM.
    #[arg(long)]
    mois: String,
    /// Output folder (replaced as a whole).
    #[arg(long)]
    out: PathBuf,
    /// As for `screen`.
    #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
    colonnes_autorisees: Vec<ColonneAutorisee>,
    /// As for `screen`.
    #[arg(long = "memoire-max", value_parser = parse_size)]
    memoire_max: Option<u64>,
}

impl LectureArgs {
    /// What the batch reads and where it writes, for `rules` at `mois` (parsed from
    /// `self.mois`).
    fn entrees<'a>(&'a self, rules: &'a RuleSet, mois: Mois) -> reperage_batch::Entrees<'a> {
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

#[derive(Subcommand)]
enum Command {
    /// Screen an extract for a month: evaluate every rule on every foyer and write
    /// signalements, eligibilites, the contact lists, quarantaine/ and manifest.json.
    /// For the caisse's data team, each month.
    #[command(after_help = "Examples:
  reperage screen --extract sample-data/synthetique --mois 2025-03 --out out/2025-03
  reperage screen --extract sample-data/cas-limites --precedent sample-data/cas-limites-precedent --mois 2025-03 --out out/cas-limites --strict")]
    Screen {
        /// The extract folder (foyers, personnes, ressources, droits, evenements[, contacts]).
        #[arg(long)]
        extract: PathBuf,
        /// Last month's extract of the same caisse: compared with this one to find a new
        /// child, a conjoint who left, a change of commune, a right that stopped.
        #[arg(long)]
        precedent: Option<PathBuf>,
        /// Reference month YYYY-MM.
        #[arg(long)]
        mois: String,
        /// Output folder (created if needed).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        regles: ReglesArgs,
        /// Output files as CSV (`;`, UTF-8 with BOM), Parquet, or both.
        #[arg(long, value_enum, default_value = "csv")]
        format: OutFormat,
        /// Fail (exit 2) when any input row is quarantined.
        #[arg(long)]
        strict: bool,
        /// Refuse to run (exit 1) when a parameter may be out of date for the month:
        /// a legal revaluation date has passed since its last value.
        #[arg(long)]
        parametres_a_jour: bool,
        /// A column the caisse vouches for holds no direct identifier (`table.colonne`,
        /// repeatable): the privacy guard does not examine it. Logged and recorded in
        /// manifest.json.
        #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
        colonnes_autorisees: Vec<ColonneAutorisee>,
        /// Load, validate and evaluate the foyers in N pieces of consecutive ids, one
        /// after the other (less memory; the outputs are the same bytes whatever N).
        /// Default: as --memoire-max allows, at most 50,000 foyers a piece.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        partitions: Option<u32>,
        /// Memory budget of the run (e.g. 6G, 800M; powers of 1024): the extract is read
        /// once, its rows dealt to pieces small enough to load, validate and evaluate
        /// within it. Default: three quarters of the machine's memory.
        #[arg(long = "memoire-max", value_parser = parse_size)]
        memoire_max: Option<u64>,
        /// Run only partition K of N (K from 0 to N-1) of the extract, for a scheduler
        /// running the N partitions as N processes (deploy/); `reperage fusionner` then
        /// merges their --out folders into exactly what one run writes. Contact lists
        /// are selected by the merge (capacity is per agency of the whole caisse).
        #[arg(long, value_parser = parse_partie)]
        partition: Option<screen::Partie>,
    },
    /// Estimate non-take-up per benefit and territory for observatories: evaluate the
    /// rules like `screen` and write aggregates only (estimations, indetermination,
    /// manifest.json), small cells and those that would reveal them suppressed. No
    /// foyer or person id in any output. For observatories.
    #[command(after_help = "Examples:
  reperage estimer --extract sample-data/synthetique --mois 2025-03 --out out/estimations
  reperage estimer --extract sample-data/synthetique --mois 2025-03 --out out/estimations --par departement,type_foyer --seuil-secret 20")]
    Estimer {
        #[command(flatten)]
        lecture: LectureArgs,
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Dimensions to cut by, comma-separated, among caisse, departement, commune,
        /// qpv, type_foyer, tranche_age (`commune` brings its département, `qpv` the
        /// split "en QPV / hors QPV"). Every combination and its margins is published.
        #[arg(long, default_value = reperage_batch::estimations::dimensions::PAR_DEFAUT)]
        par: String,
        /// No published figure rests on fewer foyers than this (statistical secrecy).
        #[arg(long = "seuil-secret", default_value_t = reperage_batch::estimations::SEUIL_SECRET,
              value_parser = clap::value_parser!(u64).range(1..))]
        seuil_secret: u64,
        /// Output files as CSV (`;`, UTF-8 with BOM), Parquet, or both.
        #[arg(long, value_enum, default_value = "csv")]
        format: OutFormat,
    },
    /// Merge the --out folders of the N partitions of a run (`screen --partition K/N`)
    /// into the outputs one run writes: rows in id order, contact lists ranked and
    /// capped over the whole caisse, counts summed, every partition in the manifest.
    #[command(after_help = "Example:
  reperage fusionner run/parties/0 run/parties/1 run/parties/2 --out run/resultat")]
    Fusionner {
        /// The partitions' output folders, each partition exactly once, in any order.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Output folder of the merged run (replaced as a whole).
        #[arg(long)]
        out: PathBuf,
        /// The rules and campaigns the partitions ran with.
        #[command(flatten)]
        regles: ReglesArgs,
    },
    /// Write a synthetic extract following the contract, with planted non-take-up and
    /// its ground truth beside the extract (`<out>.verite.csv`). For testing and demos.
    #[command(after_help = "Examples:
  reperage generate --foyers 2000 --mois 2025-03 --seed 2025 --out sample-data/synthetique --precedent sample-data/synthetique-precedent
  reperage generate --foyers 100000 --mois 2025-03 --out out/extrait --format parquet")]
    Generate {
        /// Number of foyers.
        #[arg(long)]
        foyers: usize,
        /// Reference month YYYY-MM (resources cover the 14 months before).
        #[arg(long)]
        mois: String,
        /// Random seed: the same seed gives the same extract, byte for byte.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder of the extract written (created; its ground truth beside it).
        #[arg(long)]
        out: PathBuf,
        /// Also write last month's extract of the same foyers here (for `screen --precedent`).
        #[arg(long)]
        precedent: Option<PathBuf>,
        /// The extract's files as CSV or Parquet (`both` is refused: one format).
        #[arg(long, value_enum, default_value = "csv")]
        format: OutFormat,
        /// Also write the follow-up extracts of the K months after `--mois` beside the
        /// extract (`<out>.suivi/<YYYY-MM>/`, for `reperage suivi`): the extract is
        /// screened with the campaigns, a planted share of the contacted households and
        /// of the control groups open a right, agents' outcomes are filled in `contacts`.
        #[arg(long, value_name = "K")]
        suivi: Option<u32>,
        /// With `--suivi`: the campaigns folder the extract is screened with (as for
        /// `screen --campagnes`; give campaigns with a `groupe_temoin` to get control groups).
        #[arg(long, requires = "suivi")]
        campagnes: Option<PathBuf>,
        /// With `--suivi`: the share of contacted households that open a right.
        #[arg(long, requires = "suivi", default_value_t = 0.25)]
        taux_contactes: f64,
        /// With `--suivi`: the share of control households that open a right.
        #[arg(long, requires = "suivi", default_value_t = 0.08)]
        taux_temoins: f64,
    },
    /// Follow the campaigns up: for each campaign, month of contact, rule and channel,
    /// the share of contacted and of control households whose right opened at M+1, M+2
    /// and M+3, the difference with its 95 % interval (Newcombe), the amounts now in
    /// payment and the agents' outcomes (docs/campaigns.md). For campaign teams.
    #[command(after_help = "Example:
  reperage suivi --extract extraits/2025-04 --extract extraits/2025-05 --mois 2025-05 --out out/suivi")]
    Suivi {
        /// A later extract (its `droits`); repeat for several months. The last one given
        /// is the latest: its `contacts` table is the history unless `--contacts` is given.
        #[arg(long = "extract", required = true)]
        extraits: Vec<PathBuf>,
        /// The contacts history (a `contacts` table, CSV or Parquet, with the control rows).
        #[arg(long)]
        contacts: Option<PathBuf>,
        /// The month of the latest extract YYYY-MM: rights are known up to its end.
        #[arg(long)]
        mois: String,
        /// Output folder (replaced as a whole).
        #[arg(long)]
        out: PathBuf,
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// As for `screen`.
        #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
        colonnes_autorisees: Vec<ColonneAutorisee>,
    },
    /// Explain one foyer's results: first a summary of a screen at most (each rule that
    /// fires or is undetermined, the conditions that decided it and the missing data by
    /// their titles, the parameter that sets its amount), then, on request, one rule's
    /// full tree (--regle), the data the rules read (--situation), every rule (--tout).
    #[command(after_help = "Examples:
  reperage explain --extract sample-data/cas-limites --mois 2025-03 --foyer CL001
  reperage explain --extract sample-data/cas-limites --mois 2025-03 --foyer CL001 --regle aspa --situation
  reperage explain --extract sample-data/cas-limites --mois 2025-03 --foyer CL004 --format json")]
    Explain {
        /// The extract folder the foyer is in.
        #[arg(long)]
        extract: PathBuf,
        /// Last month's extract, as for `screen`.
        #[arg(long)]
        precedent: Option<PathBuf>,
        /// Reference month YYYY-MM.
        #[arg(long)]
        mois: String,
        /// The foyer's id (`id_foyer`).
        #[arg(long)]
        foyer: String,
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// `text` (the summary, or what --regle, --situation, --tout ask) or `json` (every
        /// rule, condition, variable, parameter and input).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Show this rule's full explanation instead of the summary: its condition tree
        /// with each value, each legal text once where first needed, its variables,
        /// parameters and simplifications. Repeatable.
        #[arg(long = "regle", value_name = "ID")]
        regles: Vec<String>,
        /// Also show the data the shown rules read, with their values and titles.
        #[arg(long)]
        situation: bool,
        /// Detail every rule in the summary, not only those that fire or are undetermined.
        #[arg(long)]
        tout: bool,
        /// Refuse to run (exit 1) when a parameter may be out of date for the month.
        #[arg(long)]
        parametres_a_jour: bool,
        /// As for `screen`.
        #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
        colonnes_autorisees: Vec<ColonneAutorisee>,
    },
    /// For auditors: what the rules decide on a population. Per rule and definition:
    /// foyers where it is true, false, unknown; how many of each status each condition
    /// decided; conditions never true or never false; the inputs most often missing and
    /// the rules they leave undetermined; every parameter value with its text. Aggregates
    /// only, small counts suppressed (docs/audit.md).
    #[command(after_help = "Example:
  reperage couverture --extract sample-data/synthetique --mois 2025-03 --out out/couverture")]
    Couverture {
        #[command(flatten)]
        lecture: LectureArgs,
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Counts of 1 to N-1 foyers are not published, nor those that would give them away.
        #[arg(long = "seuil-secret", default_value_t = reperage_batch::estimations::SEUIL_SECRET,
              value_parser = clap::value_parser!(u64).range(1..))]
        seuil_secret: u64,
    },
    /// For auditors: what changes for the same foyers between two rule folders
    /// (`--rules-avant A --rules-apres B`) or between the parameters of two months
    /// (`--mois-avant M1`, the rules of `--rules`): per rule, foyers gaining or losing
    /// eligibility, signalements appearing and disappearing, the amount changes; the
    /// parameters and definitions that differ; the ids of the foyers whose status
    /// changed in a separate file (docs/audit.md).
    #[command(after_help = "Examples:
  reperage diff --extract sample-data/synthetique --mois 2025-05 --mois-avant 2025-03 --out out/diff
  reperage diff --extract sample-data/synthetique --mois 2025-03 --rules-avant rules-v1 --rules-apres rules --out out/diff")]
    Diff {
        #[command(flatten)]
        lecture: LectureArgs,
        /// The rules "before".
        #[arg(long, requires = "rules_apres", conflicts_with_all = ["mois_avant", "rules"])]
        rules_avant: Option<PathBuf>,
        /// The rules "after".
        #[arg(long, requires = "rules_avant")]
        rules_apres: Option<PathBuf>,
        /// Compare with the parameters in force at this month (same rules, same foyers).
        #[arg(long, required_unless_present = "rules_avant")]
        mois_avant: Option<String>,
        /// With `--mois-avant`: the rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// The rules catalog as a static site (no server, no network): an index by kind with
    /// a search box, a page per rule (condition tree with legal texts, formulas with
    /// linked names, dated parameter values with sources, simplifications, test cases),
    /// the parameters and the situation's inputs. With `--couverture`, the population
    /// coverage beside each condition. For auditors.
    #[command(after_help = "Examples:
  reperage doc --out out/site
  reperage doc --out out/site --couverture out/couverture/couverture.csv")]
    Doc {
        /// Folder the site is written to (index.html and its pages).
        #[arg(long)]
        out: PathBuf,
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// `couverture.csv` written by `reperage couverture`.
        #[arg(long)]
        couverture: Option<PathBuf>,
    },
    /// Check the rule and parameter files: syntax, names, types, cycles, legal bases,
    /// parameter values in force at the month.
    #[command(after_help = "Examples:
  reperage check --rules rules
  reperage check --rules rules --mois 2026-05 --format json")]
    Check {
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Reference month YYYY-MM (default: the current month).
        #[arg(long)]
        mois: Option<String>,
        /// Output format of the diagnostics.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print the rules catalog (Markdown, docs/rules-catalog.md): each rule, its legal
    /// bases, conditions and stated simplifications.
    #[command(after_help = "Example:
  reperage catalog --rules rules > docs/rules-catalog.md")]
    Catalog {
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Run every test case written in the rule files.
    #[command(after_help = "Examples:
  reperage test --rules rules
  reperage test --rules rules --couverture --couverture-min 100 --junit out/regles.xml")]
    Test {
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Also report, per rule, the conditions its test cases see true and false and
        /// the branches of `si`/`si_inconnu` they take, with what none exercises.
        #[arg(long)]
        couverture: bool,
        /// With `--couverture`: fail when a rule's coverage is below this percentage.
        #[arg(long, value_name = "PERCENT", requires = "couverture")]
        couverture_min: Option<f64>,
    },
    /// Print the shell completion script of reperage for bash, zsh, fish, elvish or
    /// PowerShell.
    #[command(after_help = "Examples:
  reperage completions bash > ~/.local/share/bash-completion/completions/reperage
  reperage completions zsh > ~/.zfunc/_reperage
  reperage completions fish > ~/.config/fish/completions/reperage.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Exit codes: 0 success; 1 rule errors, failing tests, unreadable input or any other
/// error; 2 `--strict` and rows were quarantined; 3 the privacy guard refused the extract.
const EXIT_FINDINGS: u8 = 1;
const EXIT_USAGE: u8 = 1;
const EXIT_STRICT: u8 = 2;
const EXIT_PRIVACY: u8 = 3;

fn main() -> ExitCode {
    reperage_batch::extract::reader::install_panic_hook();
    // Usage errors exit 1 (clap's default, 2, is the `--strict` code here).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            let privacy = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<ScreenError>(),
                    Some(ScreenError::Extract(reperage_batch::extract::ExtractError::Privacy(_)))
                )
            });
            ExitCode::from(if privacy { EXIT_PRIVACY } else { EXIT_USAGE })
        }
    }
}

fn load_rules(dir: &Option<PathBuf>, mois: Mois) -> Result<RuleSet> {
    let (files, origin) = rule_files(dir)?;
    match checked_rules(&files, mois) {
        Some(rs) => Ok(rs),
        None => bail!("the rules in {origin} have errors: run `reperage check`"),
    }
}

/// The rules, their campaigns replaced by those of `campagnes` when given.
fn rules_and_campaigns(regles: &ReglesArgs, mois: Mois) -> Result<RuleSet> {
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

fn parse_partie(s: &str) -> Result<screen::Partie, String> {
    screen::Partie::parse(s)
}

fn rule_files(dir: &Option<PathBuf>) -> Result<(Vec<SourceFile>, String)> {
    match dir {
        Some(d) => Ok((source::load_dir(d)?, d.display().to_string())),
        None => Ok((source::embedded(), "embedded rules".to_string())),
    }
}

/// A size such as `6G`, `800M`, `512K` or a number of bytes (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
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

fn parse_colonne(s: &str) -> Result<ColonneAutorisee, String> {
    ColonneAutorisee::parse(s)
}

/// The escape hatch is said out loud: the columns left out of the privacy guard.
fn log_autorisees(colonnes: &[ColonneAutorisee]) {
    for c in colonnes {
        eprintln!("privacy guard: column {c} is vouched for by --colonne-autorisee and not examined");
    }
}

fn parse_mois(s: &str) -> Result<Mois> {
    Mois::parse(s).with_context(|| format!("invalid month `{s}`: expected YYYY-MM, e.g. 2025-04"))
}

fn current_month() -> Mois {
    let days =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| (d.as_secs() / 86_400) as i32);
    reperage_rules::Date::from_days(days).mois()
}

/// Checks the rules; on errors prints them and returns `None`.
fn checked_rules(files: &[SourceFile], mois: Mois) -> Option<RuleSet> {
    let checked = check(files, mois);
    if checked.ruleset.is_none() {
        eprint!("{}", checked.diagnostics);
    }
    checked.ruleset
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Check { rules, mois, format } => {
            let mois = match mois {
                Some(m) => parse_mois(&m)?,
                None => current_month(),
            };
            let (files, origin) = rule_files(&rules)?;
            let checked = check(&files, mois);
            let d = &checked.diagnostics;
            let (errors, warnings) = (d.errors().count(), d.warnings().count());
            match format {
                Format::Json => stdout(&format!("{}\n", serde_json::to_string_pretty(d)?))?,
                Format::Text => eprint!("{d}"),
            }
            let count = |role| files.iter().filter(|f| file_role(&f.path) == role).count();
            let (n_rules, n_params) = (count(FileRole::Regle), count(FileRole::Parametres));
            let n_campaigns = count(FileRole::Campagne);
            let summary = format!(
                "check {origin} for {mois}: {n_rules} rule file(s), {n_params} parameter file(s), {n_campaigns} campaign(s) — {errors} error(s), {warnings} warning(s)"
            );
            eprintln!("{summary}");
            Ok(if errors > 0 { EXIT_FINDINGS } else { 0 })
        }
        Command::Screen {
            extract,
            precedent,
            mois,
            out,
            regles,
            format,
            strict,
            parametres_a_jour,
            colonnes_autorisees,
            partitions,
            memoire_max,
            partition,
        } => {
            let mois = parse_mois(&mois)?;
            log_autorisees(&colonnes_autorisees);
            let rs = rules_and_campaigns(&regles, mois)?;
            let format = out_format(format);
            eprintln!("screening {} for {mois}…", extract.display());
            // On a terminal, a spinner with the phase and the foyers per second; otherwise
            // (a scheduler's log) one timestamped line per phase and per partition.
            // Never on stdout, which a pipeline may read.
            let bar = indicatif::ProgressBar::new_spinner();
            let on_terminal = std::io::stderr().is_terminal();
            if on_terminal {
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
            }
            let started = std::time::Instant::now();
            // In a log, a phase's start always, its progress notes at most every 10 s.
            let last_note = std::cell::Cell::new(None::<std::time::Instant>);
            let progress = |stage: &str| {
                if on_terminal {
                    bar.set_message(stage.to_string());
                    return;
                }
                let is_note = stage.contains(": ");
                if is_note && last_note.get().is_some_and(|t| t.elapsed().as_secs() < 10) {
                    return;
                }
                if is_note {
                    last_note.set(Some(std::time::Instant::now()));
                }
                eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
            };
            let opts = screen::Options {
                progress: &progress,
                extract: &extract,
                precedent: precedent.as_deref(),
                mois,
                out: &out,
                rules: &rs,
                format,
                strict,
                parametres_a_jour,
                colonnes_autorisees: &colonnes_autorisees,
                partitions: partitions.map(|n| n as usize),
                memoire_max,
                partie: partition,
            };
            let result = screen::screen(&opts);
            bar.finish_and_clear();
            let report = result?;
            eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
            print_summary(&report);
            if report.comptes.iter().any(|c| c.lus != c.utilises + c.quarantaines) {
                // Every row is used or quarantined: a count that does not add up is a bug
                // of reperage, and the outputs are not to be trusted.
                eprintln!(
                    "error: rows read ≠ used + quarantined (MISMATCH above): please report it with the extract's manifest.json"
                );
                return Ok(EXIT_FINDINGS);
            }
            if let Some(p) = report.partie {
                eprintln!(
                    "partition {} of {} (from 0): campaign candidates written to {}; merge the {} partitions with `reperage fusionner` for the contact lists",
                    p.indice,
                    p.nombre,
                    out.join(reperage_batch::campagnes::CANDIDATS).display(),
                    p.nombre
                );
            }
            if report.strict_stop {
                eprintln!(
                    "--strict: rows were quarantined (see {}/quarantaine/); no other output written but manifest.json",
                    out.display()
                );
                return Ok(EXIT_STRICT);
            }
            Ok(0)
        }
        Command::Estimer { lecture, rules, par, seuil_secret, format } => {
            let mois = parse_mois(&lecture.mois)?;
            log_autorisees(&lecture.colonnes_autorisees);
            let rs = load_rules(&rules, mois)?;
            let dimensions = reperage_batch::estimations::dimensions::parse(&par).map_err(anyhow::Error::msg)?;
            eprintln!("estimating non-take-up in {} for {mois} by {par}…", lecture.extract.display());
            let started = std::time::Instant::now();
            let progress = |stage: &str| eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
            let opts = reperage_batch::estimations::Options {
                progress: &progress,
                entrees: lecture.entrees(&rs, mois),
                format: out_format(format),
                dimensions,
                seuil_secret,
            };
            let r = reperage_batch::estimations::estimer(&opts)?;
            print_stale(&r.parametres_perimes, mois);
            eprintln!(
                "done in {:.1} s: {} foyers evaluated, {} benefits, {} rows published; {} of {} cells suppressed (statistical secrecy, threshold {seuil_secret})",
                started.elapsed().as_secs_f64(),
                r.foyers_evalues,
                r.prestations,
                r.lignes_publiees,
                r.cellules_masquees,
                r.cellules
            );
            print_written(&r.fichiers_ecrits);
            Ok(0)
        }
        Command::Fusionner { parts, out, regles } => {
            let mois = reperage_batch::fusion::mois_of(&parts)?;
            let rs = rules_and_campaigns(&regles, mois)?;
            eprintln!("merging {} partition(s) into {}…", parts.len(), out.display());
            let fusion = reperage_batch::fusion::fusionner(&parts, &out, &rs)?;
            let m = &fusion.manifest;
            if fusion.statut == "arret_strict" {
                eprintln!("--strict: a partition had quarantined rows; merged quarantaine/ only");
                return Ok(EXIT_STRICT);
            }
            eprintln!(
                "merged {} partitions: {} foyers read, {} evaluated, {} quarantined; {} signalements",
                fusion.partitions,
                m["foyers"]["lus"],
                m["foyers"]["evalues"],
                m["foyers"]["en_quarantaine"],
                m["sorties"]["signalements"]
            );
            for c in m["campagnes"].as_array().into_iter().flatten() {
                eprintln!("campaign {}: {} listed", c["id"].as_str().unwrap_or("?"), c["retenus"]);
            }
            Ok(0)
        }
        Command::Generate {
            foyers,
            mois,
            seed,
            out,
            precedent,
            format,
            suivi,
            campagnes,
            taux_contactes,
            taux_temoins,
        } => {
            let mois = parse_mois(&mois)?;
            let parquet = match format {
                OutFormat::Csv => false,
                OutFormat::Parquet => true,
                OutFormat::Both => bail!("generate writes one format: csv or parquet"),
            };
            if suivi.is_some() && parquet {
                bail!("--suivi writes CSV follow-up extracts: generate the extract as csv");
            }
            for (name, share) in [("--taux-contactes", taux_contactes), ("--taux-temoins", taux_temoins)] {
                if !(0.0..=1.0).contains(&share) {
                    bail!("{name} is a share between 0 and 1, not {share}");
                }
            }
            let mut written =
                reperage_batch::generate::generate(foyers, mois, seed, &out, precedent.as_deref(), parquet)?;
            if let Some(k) = suivi {
                let rs = rules_and_campaigns(&ReglesArgs { rules: None, campagnes }, mois)?;
                let plantation = reperage_batch::generate::suivi::Plantation {
                    mois_suivis: k,
                    rules: &rs,
                    taux_contactes,
                    taux_temoins,
                    seed,
                };
                written.extend(reperage_batch::generate::suivi::generate_suivi(&out, mois, &plantation)?);
            }
            for p in written {
                eprintln!("wrote {}", p.display());
            }
            Ok(0)
        }
        Command::Suivi { extraits, contacts, mois, out, rules, colonnes_autorisees } => {
            let mois = parse_mois(&mois)?;
            log_autorisees(&colonnes_autorisees);
            let rs = load_rules(&rules, mois)?;
            let opts = reperage_batch::suivi::Options {
                extraits: &extraits,
                contacts: contacts.as_deref(),
                mois,
                out: &out,
                rules: &rs,
                colonnes_autorisees: &colonnes_autorisees,
            };
            let r = reperage_batch::suivi::run(&opts)?;
            eprintln!(
                "{} contact rows read: {} contacts and control draws followed; {} rows left out (a foyer absent from the latest extract or in quarantine there, a date after --mois: contacts_ecartes.csv says which); {} without rules (outcomes only); {} groups, {} not interpretable (fewer than {} households or no control group)",
                r.contacts_lus,
                r.contacts_suivis,
                r.contacts_ecartes,
                r.contacts_sans_regles,
                r.groupes,
                r.non_interpretables,
                reperage_batch::suivi::EFFECTIF_MIN
            );
            print_written(&r.fichiers_ecrits);
            Ok(0)
        }
        Command::Explain {
            extract,
            precedent,
            mois,
            foyer,
            rules,
            format,
            regles,
            situation,
            tout,
            parametres_a_jour,
            colonnes_autorisees,
        } => {
            let mois = parse_mois(&mois)?;
            log_autorisees(&colonnes_autorisees);
            let rs = load_rules(&rules, mois)?;
            let (outcome, stale) = reperage_batch::explain::explain_foyer(
                &extract,
                precedent.as_deref(),
                mois,
                &rs,
                &foyer,
                parametres_a_jour,
                &colonnes_autorisees,
            )?;
            print_stale(&stale, mois);
            match outcome {
                Outcome::Evaluated(e) => match format {
                    Format::Text => stdout(&explanation_text(&e, &regles, situation, tout)?)?,
                    Format::Json => stdout(&format!("{}\n", serde_json::to_string_pretty(&e)?))?,
                },
                Outcome::Quarantined { motif } => {
                    stdout(&format!("Foyer {foyer} : en quarantaine, non évalué ({motif})\n"))?;
                }
                Outcome::NotFound => bail!("foyer `{foyer}` is not in the extract"),
            }
            Ok(0)
        }
        Command::Couverture { lecture, rules, seuil_secret } => {
            let mois = parse_mois(&lecture.mois)?;
            log_autorisees(&lecture.colonnes_autorisees);
            let rs = load_rules(&rules, mois)?;
            eprintln!("measuring what the rules decide in {} for {mois}…", lecture.extract.display());
            let started = std::time::Instant::now();
            let progress = |stage: &str| eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
            let opts = reperage_batch::couverture::Options {
                progress: &progress,
                entrees: lecture.entrees(&rs, mois),
                seuil_secret,
            };
            let r = reperage_batch::couverture::couverture(&opts)?;
            print_stale(&r.parametres_perimes, mois);
            eprintln!(
                "done in {:.1} s: {} foyers evaluated, {} rules; {} of {} counts suppressed (statistical secrecy, threshold {seuil_secret})",
                started.elapsed().as_secs_f64(),
                r.foyers_evalues,
                r.regles,
                r.cellules_masquees,
                r.cellules
            );
            print_written(&r.fichiers_ecrits);
            Ok(0)
        }
        Command::Diff { lecture, rules_avant, rules_apres, mois_avant, rules } => {
            let mois = parse_mois(&lecture.mois)?;
            log_autorisees(&lecture.colonnes_autorisees);
            let (apres, avant_rules) = match &rules_avant {
                Some(a) => (load_rules(&rules_apres, mois)?, Some(load_rules(&Some(a.clone()), mois)?)),
                None => (load_rules(&rules, mois)?, None),
            };
            let avant = match (&avant_rules, &mois_avant) {
                (Some(r), _) => reperage_batch::diff::Avant::Regles(r),
                (None, Some(m)) => reperage_batch::diff::Avant::Mois(parse_mois(m)?),
                (None, None) => bail!("give --rules-avant and --rules-apres, or --mois-avant"),
            };
            eprintln!("comparing two evaluations of {} for {mois}…", lecture.extract.display());
            let started = std::time::Instant::now();
            let progress = |stage: &str| eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
            let opts =
                reperage_batch::diff::Options { progress: &progress, entrees: lecture.entrees(&apres, mois), avant };
            let r = reperage_batch::diff::diff(&opts)?;
            print_stale(&r.parametres_perimes, mois);
            eprintln!(
                "done in {:.1} s: {} foyers compared over {} rules; {} foyers change status or signalement; {} parameters and {} definitions differ",
                started.elapsed().as_secs_f64(),
                r.foyers_evalues,
                r.regles_comparees,
                r.foyers_modifies,
                r.parametres_modifies,
                r.definitions_modifiees
            );
            print_written(&r.fichiers_ecrits);
            Ok(0)
        }
        Command::Doc { out, rules, couverture } => {
            let rs = load_rules(&rules, current_month())?;
            let couverture = couverture.map(|p| reperage_batch::couverture::lire_pour_le_site(&p)).transpose()?;
            let pages = reperage_rules::site::site(&rs, couverture.as_ref());
            for p in &pages {
                let path = out.join(&p.chemin);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, &p.html).with_context(|| format!("cannot write {}", path.display()))?;
            }
            eprintln!("{} pages written under {}", pages.len(), out.display());
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "reperage", &mut script);
            stdout(&String::from_utf8_lossy(&script))?;
            Ok(0)
        }
        Command::Catalog { rules } => {
            let rs = load_rules(&rules, current_month())?;
            stdout(&reperage_rules::catalog::markdown(&rs))?;
            Ok(0)
        }
        Command::Test { rules, junit, couverture, couverture_min } => {
            let (files, origin) = rule_files(&rules)?;
            // Test cases carry their own months; the check runs at the latest of them so
            // every parameter they read must be in force then.
            let Some(rs) = checked_rules(&files, current_month()) else {
                bail!("the rules in {origin} have errors: run `reperage check`");
            };
            let evaluated = testing::evaluate_cases(&rs)?;
            let outcomes = testing::outcomes(&rs, &evaluated);
            let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
            for o in &failed {
                eprintln!("FAIL {}:{} {} — {} ({})", o.file, o.line, o.rule, o.nom, o.mois);
                for f in &o.failures {
                    eprintln!("     {f}");
                }
                if let Some(e) = &o.explanation {
                    for line in e.lines() {
                        eprintln!("     | {line}");
                    }
                }
            }
            if let Some(path) = junit {
                std::fs::write(&path, testing::junit(&outcomes))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            stdout(&format!("{} passed, {} failed\n", outcomes.len() - failed.len(), failed.len()))?;
            let mut below = Vec::new();
            if couverture {
                let coverage = reperage_rules::test_coverage::coverage_of(&rs, &evaluated)?;
                stdout(&reperage_rules::test_coverage::report(&coverage))?;
                if let Some(min) = couverture_min {
                    below = coverage.iter().filter(|c| c.pourcentage() < min).map(|c| c.regle.clone()).collect();
                    if !below.is_empty() {
                        eprintln!("coverage below {min}% for: {}", below.join(", "));
                    }
                }
            }
            Ok(if failed.is_empty() && below.is_empty() { 0 } else { EXIT_FINDINGS })
        }
    }
}

/// What `explain` prints as text: the summary, or the rules asked for; then, with
/// `situation`, the data those rules read.
fn explanation_text(
    e: &reperage_rules::explain::Explanation,
    regles: &[String],
    situation: bool,
    tout: bool,
) -> Result<String> {
    let mut text = String::new();
    let shown: Vec<&str> = if regles.is_empty() {
        text.push_str(&e.resume(tout));
        e.shown(tout).iter().map(|r| r.id.as_str()).collect()
    } else {
        for id in regles {
            let Some(detail) = e.detail(id) else {
                let known: Vec<&str> = e.regles.iter().map(|r| r.id.as_str()).collect();
                bail!("no rule `{id}` among the rules evaluated: {}", known.join(", "));
            };
            text.push_str(&detail);
        }
        regles.iter().map(String::as_str).collect()
    };
    if situation {
        text.push('\n');
        text.push_str(&e.situation_lue(&shown));
    }
    Ok(text)
}

fn out_format(f: OutFormat) -> output::Format {
    match f {
        OutFormat::Csv => output::Format::Csv,
        OutFormat::Parquet => output::Format::Parquet,
        OutFormat::Both => output::Format::Both,
    }
}

/// The files a command wrote, one per line, on stderr.
fn print_written(files: &[String]) {
    for f in files {
        eprintln!("  {f}");
    }
}

/// The parameters that may be out of date for the month, one line each, on stderr.
fn print_stale(stale: &[reperage_rules::StaleParameter], mois: Mois) {
    if stale.is_empty() {
        return;
    }
    eprintln!("warning: {} parameter(s) may be out of date for {mois} (amounts may be wrong):", stale.len());
    for p in stale {
        eprintln!("  {}: {}", p.fichier, p.message);
    }
}

fn print_summary(r: &screen::Report) {
    // The warnings printed, which the last line points to.
    let mut warnings = usize::from(!r.parametres_perimes.is_empty());
    if let Some(mois) = Mois::parse(&r.mois) {
        print_stale(&r.parametres_perimes, mois);
    }
    if let Some(h) = &r.historique_ressources {
        let starts = h.premier_mois_extrait.as_deref().unwrap_or("(no row)");
        eprintln!(
            "resources read: {} … {} (M-13 … M-1); the extract starts at {starts}",
            h.premier_mois_lu, h.dernier_mois_lu
        );
        if h.premier_mois_extrait.as_deref().is_none_or(|s| s > h.premier_mois_lu.as_str()) {
            warnings += 1;
            eprintln!(
                "warning: the extract's resources start after {}: results that read the missing months are undetermined",
                h.premier_mois_lu
            );
        }
        let by_rule: Vec<String> = h.indetermines_faute_de_ressources.iter().map(|(r, n)| format!("{r} {n}")).collect();
        eprintln!(
            "  {} foyers lack months of resources; undetermined for missing resources: {}",
            h.foyers_avec_mois_inconnus,
            if by_rule.is_empty() { "none".to_string() } else { by_rule.join(", ") }
        );
    }
    eprintln!("rows read = used + quarantined:");
    for c in &r.comptes {
        let ok = if c.lus == c.utilises + c.quarantaines { "ok" } else { "MISMATCH" };
        eprintln!("  {:<11} {:>9} = {:>9} + {:>7}  {ok}", c.table, c.lus, c.utilises, c.quarantaines);
    }
    eprintln!("foyers: {} read, {} evaluated, {} quarantined", r.foyers_lus, r.foyers_evalues, r.foyers_quarantaine);
    let times: Vec<String> = r
        .phases
        .iter()
        .map(|p| match p.foyers {
            Some(n) if p.secondes > 0.0 => {
                format!("{} {:.1} s ({:.0} foyers/s)", p.phase.label(), p.secondes, n as f64 / p.secondes)
            }
            _ => format!("{} {:.1} s", p.phase.label(), p.secondes),
        })
        .collect();
    eprintln!("time per phase: {}", times.join(", "));
    let gb = |b: u64| b as f64 / (1u64 << 30) as f64;
    match &r.memoire {
        Some(m) => {
            eprintln!(
                "memory budget {:.1} GiB: {} piece(s) of at most {} foyers, evaluated one after the other, the next loaded while one is evaluated{}",
                gb(m.budget),
                r.partitions,
                m.foyers_par_partition,
                r.pic.map_or(String::new(), |p| format!("; peak {:.1} GiB", gb(p)))
            );
            if !m.tenu {
                warnings += 1;
                eprintln!(
                    "warning: even pieces of {} foyers do not fit in the memory budget; the run may exceed it",
                    m.foyers_par_partition
                );
            }
        }
        None if r.partitions > 1 => eprintln!(
            "evaluated in {} pieces of consecutive foyer ids{}",
            r.partitions,
            r.pic.map_or(String::new(), |p| format!("; peak {:.1} GiB", gb(p)))
        ),
        None => {}
    }
    if let Some((n, why)) = &r.sans_cse {
        warnings += 1;
        eprintln!(
            "warning: Polars' common-subexpression elimination failed on {n} piece(s) ({why}); they were evaluated without it (same results, slower): please report it with the rules used"
        );
    }
    // The names' column as wide as the longest name, so the figures line up.
    let width = r
        .signalements
        .keys()
        .map(String::len)
        .chain(r.campagnes.iter().map(|(c, _, _)| c.len()))
        .chain(r.listes_bailleurs.iter().map(|(c, _)| c.len()))
        .max()
        .unwrap_or(0);
    if !r.strict_stop {
        eprintln!("signalements per rule:");
        for (rule, n) in &r.signalements {
            eprintln!("  {rule:<width$} {n:>9}");
        }
        if r.signalements.is_empty() {
            eprintln!("  (none)");
        }
        if !r.campagnes.is_empty() {
            eprintln!(
                "foyers listed per campaign, in priority order, each on one list at most (campagnes/resume.csv says who was left out and why):"
            );
            for (c, n, temoins) in &r.campagnes {
                let control = if *temoins > 0 {
                    format!(" (+ {temoins} in its control group, not contacted)")
                } else {
                    String::new()
                };
                eprintln!("  {c:<width$} {n:>9}{control}");
            }
        }
        if !r.listes_bailleurs.is_empty() {
            eprintln!(
                "landlords listed per landlord campaign (campagnes/resume_bailleurs.csv says who was left out and why):"
            );
            for (c, n) in &r.listes_bailleurs {
                eprintln!("  {c:<width$} {n:>9}");
            }
        }
    }
    eprintln!("wrote {} files:", r.fichiers_ecrits.len());
    for f in &r.fichiers_ecrits {
        eprintln!("  {f}");
    }
    eprintln!("{}", next_step(r, warnings));
}

/// One line: what to read first after a run.
fn next_step(r: &screen::Report, warnings: usize) -> String {
    let mut items = Vec::new();
    let quarantined: u64 = r.comptes.iter().map(|c| c.quarantaines).sum();
    if quarantined > 0 {
        items.push(format!("quarantaine/ ({quarantined} rows set aside, each with its reason)"));
    }
    if warnings > 0 {
        items.push(format!("the {warnings} warning(s) above"));
    }
    let lists = r
        .fichiers_ecrits
        .iter()
        .filter(|f| {
            f.contains("campagnes/")
                && !["resume", "resume_bailleurs", "temoins", "non_retenus"]
                    .iter()
                    .any(|n| f.contains(&format!("/{n}.")))
        })
        .count();
    if r.strict_stop {
        items.push("manifest.json".to_string());
    } else if lists > 0 {
        items.push(format!("the {lists} contact list(s) under campagnes/ (campagnes/resume.csv: who was left out)"));
    } else {
        items.push("signalements.csv".to_string());
    }
    format!("next: read {}", items.join("; then "))
}

/// Writes to standard output. A reader that closes the pipe early (`| head`) is not an
/// error: the rest of the output is simply not wanted.
fn stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
