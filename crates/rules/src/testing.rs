//! The rule test runner: every test case of every rule file, evaluated through the
//! same compiled Polars expressions as the batch.
//!
//! Cases are grouped by month: one compilation and one frame (one row per case) each.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use polars::prelude::*;

use crate::compile::{CompileError, Compiled, dtype};
use crate::date::{Date, Mois};
use crate::explain::{self, cell, format_number};
use crate::model::{RuleSet, TestCase, Type, Value, column};

/// The result of one test case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub rule: String,
    pub file: String,
    pub line: usize,
    pub nom: String,
    pub mois: Mois,
    /// Empty when the case passed.
    pub failures: Vec<String>,
    /// The explanation of the evaluated case, kept for failures.
    pub explanation: Option<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("evaluating the test cases of {mois}: {source}")]
    Polars { mois: Mois, source: PolarsError },
}

/// A situation frame: one row per situation, one column per declared input (null where
/// the situation does not give it), typed as declared.
pub fn situation_frame(rs: &RuleSet, situations: &[&BTreeMap<String, Value>]) -> PolarsResult<DataFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(rs.inputs.len());
    for input in rs.inputs.values() {
        let name = PlSmallStr::from(input.name.as_str());
        let get = |s: &&BTreeMap<String, Value>| s.get(&input.name).cloned().unwrap_or(Value::Inconnu);
        let series = match input.ty {
            Type::Nombre => Series::new(
                name,
                situations
                    .iter()
                    .map(|s| if let Value::Nombre(n) = get(s) { Some(n) } else { None })
                    .collect::<Vec<_>>(),
            ),
            Type::Booleen => Series::new(
                name,
                situations
                    .iter()
                    .map(|s| if let Value::Booleen(b) = get(s) { Some(b) } else { None })
                    .collect::<Vec<_>>(),
            ),
            Type::Texte => Series::new(
                name,
                situations
                    .iter()
                    .map(|s| if let Value::Texte(t) = get(s) { Some(t) } else { None })
                    .collect::<Vec<_>>(),
            ),
            Type::Date => Series::new(
                name,
                situations
                    .iter()
                    .map(|s| match get(s) {
                        Value::Date(d) => Date::parse(&d).map(Date::to_days),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .cast(&dtype(Type::Date))?,
        };
        columns.push(series.into());
    }
    DataFrame::new_infer_height(columns)
}

fn check_case(compiled: &Compiled, df: &DataFrame, row: usize, rule: &str, case: &TestCase) -> Vec<String> {
    let mut failures = Vec::new();
    let Some(cr) = compiled.rule(rule) else {
        return vec![format!("rule `{rule}` was not compiled")];
    };
    let statut = cell(df, &cr.statut, row);
    if statut != Value::Texte(case.statut.name().to_string()) {
        failures.push(format!("statut: expected {}, got {statut}", case.statut.name()));
    }
    if let Some(expected) = case.montant {
        match cell(df, &cr.montant, row) {
            Value::Nombre(got) if (got - expected).abs() <= case.tolerance => {}
            got => failures.push(format!(
                "montant: expected {} ± {}, got {got}",
                format_number(expected),
                format_number(case.tolerance)
            )),
        }
    }
    if let (Some(expected), Some(c)) = (case.montant_estime, &cr.montant_estime) {
        let got = cell(df, c, row);
        if got != Value::Booleen(expected) {
            failures.push(format!("montant_estime: expected {}, got {got}", Value::Booleen(expected)));
        }
    }
    for (cond, expected) in &case.conditions {
        let got = cell(df, &column(rule, cond), row);
        if got != Value::Booleen(*expected) {
            failures.push(format!("condition {cond}: expected {}, got {got}", Value::Booleen(*expected)));
        }
    }
    for (name, expected) in &case.variables {
        match cell(df, &column(rule, name), row) {
            Value::Nombre(got) if (got - expected).abs() <= case.tolerance => {}
            got => failures.push(format!(
                "variable {name}: expected {} ± {}, got {got}",
                format_number(*expected),
                format_number(case.tolerance)
            )),
        }
    }
    if let Some(expected) = &case.manquants {
        let got: Vec<String> = match cell(df, &cr.manquants, row) {
            Value::Texte(t) => t.split(", ").map(str::to_string).collect(),
            _ => vec![],
        };
        if &got != expected {
            failures.push(format!("manquants: expected [{}], got [{}]", expected.join(", "), got.join(", ")));
        }
    }
    failures
}

/// The test cases of one month, evaluated: one row of `df` per case, in `cases` order.
pub struct EvaluatedCases<'a> {
    pub mois: Mois,
    pub compiled: Compiled,
    pub df: DataFrame,
    /// (rule id, case), one per row.
    pub cases: Vec<(&'a str, &'a TestCase)>,
}

/// Every test case of every rule, evaluated month by month: one compilation and one
/// frame per month.
pub fn evaluate_cases(rs: &RuleSet) -> Result<Vec<EvaluatedCases<'_>>, TestError> {
    let mut by_month: BTreeMap<Mois, Vec<(&str, &TestCase)>> = BTreeMap::new();
    for rule in &rs.rules {
        for case in &rule.tests {
            by_month.entry(case.mois).or_default().push((&rule.id, case));
        }
    }
    let mut out = Vec::new();
    for (mois, cases) in by_month {
        let compiled = Compiled::new(rs, mois, None)?;
        let situations: Vec<&BTreeMap<String, Value>> = cases.iter().map(|(_, c)| &c.situation).collect();
        let polars_err = |source| TestError::Polars { mois, source };
        let frame = situation_frame(rs, &situations).map_err(polars_err)?;
        let df = compiled.evaluate(frame, true).map_err(polars_err)?;
        out.push(EvaluatedCases { mois, compiled, df, cases });
    }
    Ok(out)
}

/// Runs every test case of every rule; outcomes in rule and file order.
pub fn run(rs: &RuleSet) -> Result<Vec<Outcome>, TestError> {
    Ok(outcomes(rs, &evaluate_cases(rs)?))
}

/// The outcome of every evaluated case, in rule and file order.
pub fn outcomes(rs: &RuleSet, evaluated: &[EvaluatedCases]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for EvaluatedCases { mois, compiled, df, cases } in evaluated {
        let mois = *mois;
        for (row, (rule, case)) in cases.iter().enumerate() {
            let failures = check_case(compiled, df, row, rule, case);
            let explanation = (!failures.is_empty()).then(|| {
                let e = explain::explain(rs, compiled, df, row);
                e.regles.iter().find(|r| r.id == *rule).map(|r| r.to_string()).unwrap_or_default()
            });
            outcomes.push(Outcome {
                rule: rule.to_string(),
                file: rs.rule(rule).map_or_else(String::new, |r| r.file.clone()),
                line: case.line,
                nom: case.nom.clone(),
                mois,
                failures,
                explanation,
            });
        }
    }
    outcomes.sort_by(|a, b| (&a.rule, a.line).cmp(&(&b.rule, b.line)));
    outcomes
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JUnit XML, one `testsuite` per rule, for CI dashboards.
pub fn junit(outcomes: &[Outcome]) -> String {
    let mut by_rule: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by_rule.entry(&o.rule).or_default().push(o);
    }
    let failures = outcomes.iter().filter(|o| !o.passed()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"reperage rules\" tests=\"{}\" failures=\"{failures}\">", outcomes.len());
    for (rule, cases) in by_rule {
        let f = cases.iter().filter(|o| !o.passed()).count();
        let _ = writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\">", xml_escape(rule), cases.len());
        for o in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\"",
                xml_escape(rule),
                xml_escape(&format!("{} ({})", o.nom, o.mois)),
                xml_escape(&o.file),
                o.line
            );
            if o.passed() {
                out.push_str("/>\n");
            } else {
                out.push_str(">\n");
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    xml_escape(&o.failures.join("; ")),
                    xml_escape(o.explanation.as_deref().unwrap_or(""))
                );
                out.push_str("    </testcase>\n");
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
