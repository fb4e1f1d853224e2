//! Property tests (proptest): the three-valued logic against a reference Kleene
//! evaluator and its laws, and parameter resolution by date through the compiler.

use polars::prelude::*;
use proptest::prelude::*;
use reperage_rules::explain::cell;
use reperage_rules::{Compiled, Date, Mois, Value, check};

use crate::{base_files, checked, mois, with_file};

/// A boolean expression of the rule language over the inputs a, b, c.
#[derive(Clone, Debug)]
enum B {
    Var(usize),
    Lit(bool),
    Non(Box<B>),
    Et(Box<B>, Box<B>),
    Ou(Box<B>, Box<B>),
    Si(Box<B>, Box<B>, Box<B>),
    SiInconnu(Box<B>, bool),
    Connu(Box<B>),
}

const VARS: [&str; 3] = ["a", "b", "c"];

impl B {
    fn text(&self) -> String {
        match self {
            B::Var(i) => VARS[*i].to_string(),
            B::Lit(v) => if *v { "vrai" } else { "faux" }.to_string(),
            B::Non(x) => format!("non ({})", x.text()),
            B::Et(x, y) => format!("({} et {})", x.text(), y.text()),
            B::Ou(x, y) => format!("({} ou {})", x.text(), y.text()),
            B::Si(c, x, y) => format!("si({}, {}, {})", c.text(), x.text(), y.text()),
            B::SiInconnu(x, v) => format!("si_inconnu({}, {})", x.text(), if *v { "vrai" } else { "faux" }),
            B::Connu(x) => format!("est_connu({})", x.text()),
        }
    }

    /// The documented semantics (docs/rules.md, "Three-valued logic"), None = unknown.
    fn eval(&self, row: [Option<bool>; 3]) -> Option<bool> {
        match self {
            B::Var(i) => row[*i],
            B::Lit(v) => Some(*v),
            B::Non(x) => x.eval(row).map(|v| !v),
            B::Et(x, y) => match (x.eval(row), y.eval(row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            B::Ou(x, y) => match (x.eval(row), y.eval(row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            B::Si(c, x, y) => match c.eval(row) {
                Some(true) => x.eval(row),
                Some(false) => y.eval(row),
                None => None,
            },
            B::SiInconnu(x, v) => Some(x.eval(row).unwrap_or(*v)),
            B::Connu(x) => Some(x.eval(row).is_some()),
        }
    }
}

fn expr() -> impl Strategy<Value = B> {
    let leaf = prop_oneof![4 => (0..3usize).prop_map(B::Var), 1 => any::<bool>().prop_map(B::Lit)];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|x| B::Non(Box::new(x))),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| B::Et(Box::new(x), Box::new(y))),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| B::Ou(Box::new(x), Box::new(y))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, x, y)| B::Si(
                Box::new(c),
                Box::new(x),
                Box::new(y)
            )),
            (inner.clone(), any::<bool>()).prop_map(|(x, v)| B::SiInconnu(Box::new(x), v)),
            inner.prop_map(|x| B::Connu(Box::new(x))),
        ]
    })
}

/// Every (a, b, c) in {vrai, faux, inconnu}³.
fn rows() -> Vec<[Option<bool>; 3]> {
    let v = [Some(true), Some(false), None];
    let mut out = Vec::new();
    for a in v {
        for b in v {
            for c in v {
                out.push([a, b, c]);
            }
        }
    }
    out
}

/// Each expression compiled as a condition of one rule and evaluated on every row.
fn evaluate(exprs: &[String]) -> Vec<Vec<Option<bool>>> {
    let base = "base_legale = [{ texte = \"T\", url = \"u\" }]";
    let situation: String = VARS.iter().map(|n| format!("[{n}]\ntype = \"booleen\"\ntitre = \"{n}\"\n")).collect();
    let mut rule = format!("id = \"k\"\ntitre = \"k\"\ntype = \"evenement\"\n{base}\n");
    for (i, e) in exprs.iter().enumerate() {
        rule.push_str(&format!("[conditions.e{i}]\ntitre = \"e{i}\"\nexpr = \"{e}\"\n{base}\n"));
    }
    rule.push_str("[eligibilite]\ntoutes = [\"e0\"]\n");
    let files = with_file(with_file(Vec::new(), "situation.toml", &situation), "k.toml", &rule);
    let rs = checked(&files, "2025-01");
    let compiled = Compiled::new(&rs, mois("2025-01"), None).expect("compiles");
    let rows = rows();
    let column = |i: usize| rows.iter().map(|r| r[i]).collect::<Vec<_>>();
    let df = df!("a" => column(0), "b" => column(1), "c" => column(2)).expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    (0..exprs.len())
        .map(|i| {
            (0..rows.len())
                .map(|row| match cell(&out, &format!("k.e{i}"), row) {
                    Value::Booleen(v) => Some(v),
                    Value::Inconnu => None,
                    other => panic!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn compiled_logic_matches_the_kleene_reference(e in expr()) {
        let got = evaluate(&[e.text()]);
        let expected: Vec<Option<bool>> = rows().into_iter().map(|r| e.eval(r)).collect();
        prop_assert_eq!(&got[0], &expected, "{}", e.text());
    }

    #[test]
    fn de_morgan_and_absorption_hold_with_unknown(x in expr(), y in expr()) {
        let (x, y) = (x.text(), y.text());
        let got = evaluate(&[
            format!("non ({x} et {y})"),
            format!("(non ({x})) ou (non ({y}))"),
            format!("non ({x} ou {y})"),
            format!("(non ({x})) et (non ({y}))"),
            format!("{x} ou ({x} et {y})"),
            format!("{x} et ({x} ou {y})"),
            x.clone(),
        ]);
        prop_assert_eq!(&got[0], &got[1], "De Morgan (et)");
        prop_assert_eq!(&got[2], &got[3], "De Morgan (ou)");
        prop_assert_eq!(&got[4], &got[6], "absorption (ou)");
        prop_assert_eq!(&got[5], &got[6], "absorption (et)");
    }

    /// Revaluation dates and values drawn at random, written in a parameter file: the value
    /// a compiled rule reads for a month is the one in force on its first day, and a month
    /// before the first value is refused.
    #[test]
    fn a_parameter_reads_the_value_in_force_on_the_first_day_of_the_month(
        gaps in proptest::collection::vec(1i32..800, 1..6),
        values in proptest::collection::vec(1u32..100_000, 6),
        offset in 0i32..4000,
    ) {
        let start = Date::parse("2015-01-01").expect("date").to_days();
        let mut dates = Vec::new();
        let mut d = start;
        for g in &gaps {
            d += g;
            dates.push(Date::from_days(d));
        }
        let lines: Vec<String> = dates
            .iter()
            .zip(&values)
            .map(|(d, v)| format!("  {{ depuis = {d}, valeur = {v}, source = \"S\", url = \"https://example.org\" }},"))
            .collect();
        let params = format!(
            "[p]\ntitre = \"p\"\nunite = \"€\"\nrevalorisation = \"aucune\"\nvaleurs = [\n{}\n]\n",
            lines.join("\n")
        );
        let month: Mois = Date::from_days(start + offset).mois();
        let reference = dates.iter().zip(&values).rev().find(|(d, _)| **d <= month.first_day()).map(|(_, v)| *v);
        let rule = "id = \"r\"\ntitre = \"r\"\ntype = \"evenement\"\nbase_legale = [{ texte = \"T\", url = \"u\" }]\n\
                    [variables.v]\ntitre = \"v\"\nexpr = \"param.prop.p\"\n\
                    [conditions.c]\ntitre = \"c\"\nexpr = \"v > 0\"\nbase_legale = [{ texte = \"T\", url = \"u\" }]\n\
                    [eligibilite]\ntoutes = [\"c\"]\n";
        let files = with_file(with_file(base_files(), "parametres/prop.toml", &params), "r.toml", rule);
        // Checked when every value is in force; compiled for the month drawn.
        let checked = check(&files, Mois::parse("2030-01").expect("month"));
        let rs = checked.ruleset.expect("checks");
        let only = vec!["r".to_string()];
        match (Compiled::new(&rs, month, Some(&only)), reference) {
            (Ok(compiled), Some(v)) => {
                let out = compiled.evaluate(df!("x" => [1.0f64]).expect("frame"), true).expect("evaluates");
                prop_assert_eq!(cell(&out, "r.v", 0), Value::Nombre(f64::from(v)), "{}", month);
            }
            (Err(e), None) => prop_assert!(e.to_string().contains("prop.p"), "{}", e),
            (got, expected) => prop_assert!(false, "{}: compiled {:?}, expected {:?}", month, got.is_ok(), expected),
        }
    }
}

/// `min` and `max` of the rule language: unknown as soon as one operand is, else the
/// smallest or largest value (Polars' own horizontal min and max skip unknowns).
fn min_max(values: &[Option<f64>], min: bool) -> Option<f64> {
    let known: Option<Vec<f64>> = values.iter().copied().collect();
    known?.into_iter().reduce(if min { f64::min } else { f64::max })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// `min`, `max` and the one nested in the other, on rows of numbers drawn with
    /// unknowns among them, against the reference above.
    #[test]
    fn min_and_max_are_unknown_when_an_operand_is(
        rows in proptest::collection::vec(proptest::array::uniform3(proptest::option::of(-50i32..50)), 1..12),
    ) {
        let base = "base_legale = [{ texte = \"T\", url = \"u\" }]";
        let situation: String =
            ["x", "y", "z"].iter().map(|n| format!("[{n}]\ntype = \"nombre\"\ntitre = \"{n}\"\n")).collect();
        let rule = format!(
            "id = \"m\"\ntitre = \"m\"\ntype = \"evenement\"\n{base}\n\
             [variables.petit]\ntitre = \"p\"\nexpr = \"min(x, y, z)\"\n\
             [variables.grand]\ntitre = \"g\"\nexpr = \"max(x, y, z)\"\n\
             [variables.borne]\ntitre = \"b\"\nexpr = \"min(x, max(y, 0))\"\n\
             [conditions.c]\ntitre = \"c\"\nexpr = \"petit <= grand\"\n{base}\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        );
        let files = with_file(with_file(Vec::new(), "situation.toml", &situation), "m.toml", &rule);
        let rs = checked(&files, "2025-01");
        let compiled = Compiled::new(&rs, mois("2025-01"), None).expect("compiles");
        let values: Vec<[Option<f64>; 3]> = rows.iter().map(|r| r.map(|v| v.map(f64::from))).collect();
        let column = |i: usize| values.iter().map(|r| r[i]).collect::<Vec<_>>();
        let df = df!("x" => column(0), "y" => column(1), "z" => column(2)).expect("frame");
        let out = compiled.evaluate(df, true).expect("evaluates");
        let number = |v: Option<f64>| v.map_or(Value::Inconnu, Value::Nombre);
        for (i, r) in values.iter().enumerate() {
            prop_assert_eq!(cell(&out, "m.petit", i), number(min_max(r, true)), "min of {:?}", r);
            prop_assert_eq!(cell(&out, "m.grand", i), number(min_max(r, false)), "max of {:?}", r);
            let inner = min_max(&[r[1], Some(0.0)], false);
            prop_assert_eq!(cell(&out, "m.borne", i), number(min_max(&[r[0], inner], true)), "bound of {:?}", r);
        }
    }
}
