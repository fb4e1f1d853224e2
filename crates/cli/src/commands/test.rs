//! `reperage test`: run every test case written in the rule files.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use reperage_rules::testing;

use crate::Exit;
use crate::common::{checked_rules, current_month, rule_files, stdout};

#[derive(clap::Args)]
pub struct TestArgs {
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Also report, per rule, the conditions its test cases see true and false and
    /// the branches of `si`/`si_inconnu` they take, with what none exercises.
    #[arg(long)]
    pub couverture: bool,
    /// With `--couverture`: fail when a rule's coverage is below this percentage.
    #[arg(long, value_name = "PERCENT", requires = "couverture")]
    pub couverture_min: Option<f64>,
}

pub fn run(args: TestArgs) -> Result<Exit> {
    let TestArgs { rules, junit, couverture, couverture_min } = args;
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
        std::fs::write(&path, testing::junit(&outcomes)).with_context(|| format!("cannot write {}", path.display()))?;
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
    Ok(if failed.is_empty() && below.is_empty() { Exit::Success } else { Exit::Failure })
}
