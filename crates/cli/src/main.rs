//! `reperage`: the command line. Thin: argument parsing, display and exit codes; the
//! work is done by `reperage-rules` and `reperage-batch`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
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

#[derive(Subcommand)]
enum Command {
    /// Check the rule and parameter files: syntax, names, types, cycles, legal bases,
    /// parameter values in force at the month.
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
    /// Run every test case written in the rule files.
    Test {
        /// Rules folder (default: the catalog embedded in this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

/// Exit codes: 0 clean, 1 rule errors or failing tests, 2 usage or I/O error.
const EXIT_FINDINGS: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn rule_files(dir: &Option<PathBuf>) -> Result<(Vec<SourceFile>, String)> {
    match dir {
        Some(d) => Ok((source::load_dir(d)?, d.display().to_string())),
        None => Ok((source::embedded(), "embedded rules".to_string())),
    }
}

fn parse_mois(s: &str) -> Result<Mois> {
    Mois::parse(s).with_context(|| format!("invalid month `{s}`: expected YYYY-MM, e.g. 2025-04"))
}

fn current_month() -> Mois {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 86_400) as i32);
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
                Format::Json => println!("{}", serde_json::to_string_pretty(d)?),
                Format::Text => eprint!("{d}"),
            }
            let count = |role| files.iter().filter(|f| file_role(&f.path) == role).count();
            let (n_rules, n_params) = (count(FileRole::Regle), count(FileRole::Parametres));
            let summary = format!(
                "check {origin} for {mois}: {n_rules} rule file(s), {n_params} parameter file(s) — {errors} error(s), {warnings} warning(s)"
            );
            eprintln!("{summary}");
            Ok(if errors > 0 { EXIT_FINDINGS } else { 0 })
        }
        Command::Test { rules, junit } => {
            let (files, origin) = rule_files(&rules)?;
            // Test cases carry their own months; the check runs at the latest of them so
            // every parameter they read must be in force then.
            let Some(rs) = checked_rules(&files, current_month()) else {
                bail!("the rules in {origin} have errors: run `reperage check`");
            };
            let outcomes = testing::run(&rs)?;
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
            println!("{} passed, {} failed", outcomes.len() - failed.len(), failed.len());
            Ok(if failed.is_empty() { 0 } else { EXIT_FINDINGS })
        }
    }
}
