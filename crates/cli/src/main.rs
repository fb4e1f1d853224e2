//! `reperage`: the command line. Thin: argument parsing, display and exit codes; the
//! work is done by `reperage-rules` and `reperage-batch`.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use reperage_batch::screen::ScreenError;

mod commands;
mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "reperage", version, about = "Screen benefit case files for likely non-take-up and life events")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Screen an extract for a month: evaluate every rule on every foyer and write
    /// signalements, eligibilites, the contact lists, quarantaine/ and manifest.json.
    /// For the caisse's data team, each month.
    #[command(after_help = "Examples:
  reperage screen --extract sample-data/synthetique --mois 2025-03 --out out/2025-03
  reperage screen --extract sample-data/cas-limites --precedent sample-data/cas-limites-precedent --mois 2025-03 --out out/cas-limites --strict")]
    Screen(commands::screen::ScreenArgs),
    /// Estimate non-take-up per benefit and territory for observatories: evaluate the
    /// rules like `screen` and write aggregates only (estimations, indetermination,
    /// manifest.json), small cells and those that would reveal them suppressed. No
    /// foyer or person id in any output. For observatories.
    #[command(after_help = "Examples:
  reperage estimer --extract sample-data/synthetique --mois 2025-03 --out out/estimations
  reperage estimer --extract sample-data/synthetique --mois 2025-03 --out out/estimations --par departement,type_foyer --seuil-secret 20")]
    Estimer(commands::estimer::EstimerArgs),
    /// Merge the --out folders of the N partitions of a run (`screen --partition K/N`)
    /// into the outputs one run writes: rows in id order, contact lists ranked and
    /// capped over the whole caisse, counts summed, every partition in the manifest.
    #[command(after_help = "Example:
  reperage fusionner run/parties/0 run/parties/1 run/parties/2 --out run/resultat")]
    Fusionner(commands::fusionner::FusionnerArgs),
    /// Write a synthetic extract following the contract, with planted non-take-up and
    /// its ground truth beside the extract (`<out>.verite.csv`). For testing and demos.
    #[command(after_help = "Examples:
  reperage generate --foyers 2000 --mois 2025-03 --seed 2025 --out sample-data/synthetique --precedent sample-data/synthetique-precedent
  reperage generate --foyers 100000 --mois 2025-03 --out out/extrait --format parquet")]
    Generate(commands::generate::GenerateArgs),
    /// Follow the campaigns up: for each campaign, month of contact, rule and channel,
    /// the share of contacted and of control households whose right opened at M+1, M+2
    /// and M+3, the difference with its 95 % interval (Newcombe), the amounts now in
    /// payment and the agents' outcomes (docs/campaigns.md). For campaign teams.
    #[command(after_help = "Example:
  reperage suivi --extract extraits/2025-04 --extract extraits/2025-05 --mois 2025-05 --out out/suivi")]
    Suivi(commands::suivi::SuiviArgs),
    /// Explain one foyer's results: first a summary of a screen at most (each rule that
    /// fires or is undetermined, the conditions that decided it and the missing data by
    /// their titles, the parameter that sets its amount), then, on request, one rule's
    /// full tree (--regle), the data the rules read (--situation), every rule (--tout).
    #[command(after_help = "Examples:
  reperage explain --extract sample-data/cas-limites --mois 2025-03 --foyer CL001
  reperage explain --extract sample-data/cas-limites --mois 2025-03 --foyer CL001 --regle aspa --situation
  reperage explain --extract sample-data/cas-limites --mois 2025-03 --foyer CL004 --format json")]
    Explain(commands::explain::ExplainArgs),
    /// For auditors: what the rules decide on a population. Per rule and definition:
    /// foyers where it is true, false, unknown; how many of each status each condition
    /// decided; conditions never true or never false; the inputs most often missing and
    /// the rules they leave undetermined; every parameter value with its text. Aggregates
    /// only, small counts suppressed (docs/audit.md).
    #[command(after_help = "Example:
  reperage couverture --extract sample-data/synthetique --mois 2025-03 --out out/couverture")]
    Couverture(commands::couverture::CouvertureArgs),
    /// For auditors: what changes for the same foyers between two rule folders
    /// (`--rules-avant A --rules-apres B`) or between the parameters of two months
    /// (`--mois-avant M1`, the rules of `--rules`): per rule, foyers gaining or losing
    /// eligibility, signalements appearing and disappearing, the amount changes; the
    /// parameters and definitions that differ; the ids of the foyers whose status
    /// changed in a separate file (docs/audit.md).
    #[command(after_help = "Examples:
  reperage diff --extract sample-data/synthetique --mois 2025-05 --mois-avant 2025-03 --out out/diff
  reperage diff --extract sample-data/synthetique --mois 2025-03 --rules-avant rules-v1 --rules-apres rules --out out/diff")]
    Diff(commands::diff::DiffArgs),
    /// The rules catalog as a static site (no server, no network): an index by kind with
    /// a search box, a page per rule (condition tree with legal texts, formulas with
    /// linked names, dated parameter values with sources, simplifications, test cases),
    /// the parameters and the situation's inputs. With `--couverture`, the population
    /// coverage beside each condition. For auditors.
    #[command(after_help = "Examples:
  reperage doc --out out/site
  reperage doc --out out/site --couverture out/couverture/couverture.csv")]
    Doc(commands::doc::DocArgs),
    /// Check the rule and parameter files: syntax, names, types, cycles, legal bases,
    /// parameter values in force at the month.
    #[command(after_help = "Examples:
  reperage check --rules rules
  reperage check --rules rules --mois 2026-05 --format json")]
    Check(commands::check::CheckArgs),
    /// Print the rules catalog (Markdown, docs/rules-catalog.md): each rule, its legal
    /// bases, conditions and stated simplifications.
    #[command(after_help = "Example:
  reperage catalog --rules rules > docs/rules-catalog.md")]
    Catalog(commands::catalog::CatalogArgs),
    /// Run every test case written in the rule files.
    #[command(after_help = "Examples:
  reperage test --rules rules
  reperage test --rules rules --couverture --couverture-min 100 --junit out/regles.xml")]
    Test(commands::test::TestArgs),
    /// Print the shell completion script of reperage for bash, zsh, fish, elvish or
    /// PowerShell.
    #[command(after_help = "Examples:
  reperage completions bash > ~/.local/share/bash-completion/completions/reperage
  reperage completions zsh > ~/.zfunc/_reperage
  reperage completions fish > ~/.config/fish/completions/reperage.fish")]
    Completions(commands::completions::CompletionsArgs),
}

/// What the process exits with: 0 success; 1 rule errors, failing tests, unreadable
/// input, a usage error or any other error; 2 `--strict` and rows were quarantined; 3 the
/// privacy guard refused the extract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Success = 0,
    Failure = 1,
    Strict = 2,
    Privacy = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

impl Exit {
    /// The code of a command that failed with `e`: the privacy guard's refusal has its own.
    fn of_error(e: &anyhow::Error) -> Exit {
        let privacy = e.chain().any(|c| c.downcast_ref::<ScreenError>().is_some_and(ScreenError::is_privacy));
        if privacy { Exit::Privacy } else { Exit::Failure }
    }
}

fn main() -> ExitCode {
    reperage_batch::extract::reader::install_panic_hook();
    // Usage errors exit 1 (clap's default, 2, is the `--strict` code here).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Failure } else { Exit::Success });
        }
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(Exit::of_error(&e))
        }
    }
}

fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Screen(args) => commands::screen::run(args),
        Command::Estimer(args) => commands::estimer::run(args),
        Command::Fusionner(args) => commands::fusionner::run(args),
        Command::Generate(args) => commands::generate::run(args),
        Command::Suivi(args) => commands::suivi::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Couverture(args) => commands::couverture::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Doc(args) => commands::doc::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Catalog(args) => commands::catalog::run(args),
        Command::Test(args) => commands::test::run(args),
        Command::Completions(args) => commands::completions::run(args),
    }
}
