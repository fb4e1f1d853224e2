//! How much of each rule its own test cases exercise (`reperage test --couverture`):
//! every condition seen true and seen false (and how often unknown), and every branch of
//! every `si` and `si_inconnu` taken.
//!
//! Only the cases written in a rule's file count for that rule, although every case is
//! evaluated against every rule: a condition is covered when a test of its rule says what
//! it does. A branch is taken on a case when the case reaches it: the branches of a `si`
//! nested in the `alors` of another count only on the cases where the outer condition is
//! true (Polars computes both sides; the guard says which one the value came from).

use std::fmt::Write as _;

use polars::prelude::*;

use crate::compile::{CompileError, compile_expr};
use crate::date::Mois;
use crate::explain::cell;
use crate::expr::BinOp;
use crate::model::{Def, DefBody, DefRole, Rule, RuleSet, Value, column};
use crate::resolved::{Func, RExpr, RKind};
use crate::testing::{EvaluatedCases, TestError, evaluate_cases};

/// How often the cases of its rule found a condition true, false or unknown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConditionCount {
    pub condition: String,
    pub vrai: usize,
    pub faux: usize,
    pub inconnu: usize,
    /// Whether a test must see it false: not for the `montant_versable` the checker
    /// writes for a rule without a payment threshold (`montant_calcule > 0`), which a
    /// fixed positive rate (the PAJE's) can never make false.
    pub faux_requis: bool,
}

/// One way out of a `si` or `si_inconnu`, and on how many cases it was taken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Branch {
    /// `alors`, `sinon` or `condition inconnue` for `si`; `valeur connue` or `defaut`
    /// for `si_inconnu`.
    pub branche: &'static str,
    pub cas: usize,
    /// Whether a test must take it: an unknown condition of a `si` gives an unknown
    /// value, which is no branch of the rule's own.
    pub requise: bool,
}

/// One `si` or `si_inconnu` of a definition, in source order (functions expanded).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BranchSite {
    pub definition: String,
    pub fonction: &'static str,
    /// 1-based rank among the `si` and `si_inconnu` of the definition.
    pub rang: usize,
    /// The condition of a `si`, the value of a `si_inconnu`.
    pub sujet: String,
    pub branches: Vec<Branch>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleCoverage {
    pub regle: String,
    pub fichier: String,
    pub cas: usize,
    pub conditions: Vec<ConditionCount>,
    pub branches: Vec<BranchSite>,
}

impl RuleCoverage {
    /// (reached, total) goals: each condition true, each condition false, each required
    /// branch taken.
    pub fn goals(&self) -> (usize, usize) {
        let conditions =
            self.conditions.iter().map(|c| usize::from(c.vrai > 0) + usize::from(c.faux_requis && c.faux > 0));
        let required = self.conditions.iter().map(|c| 1 + usize::from(c.faux_requis)).sum::<usize>();
        let branches = self.branches.iter().flat_map(|s| s.branches.iter()).filter(|b| b.requise);
        let reached = conditions.sum::<usize>() + branches.clone().filter(|b| b.cas > 0).count();
        (reached, required + branches.count())
    }

    /// The share of goals reached, 0–100 (100 for a rule without any goal).
    pub fn pourcentage(&self) -> f64 {
        let (reached, total) = self.goals();
        if total == 0 { 100.0 } else { 100.0 * reached as f64 / total as f64 }
    }

    /// What no test case of the rule exercises, one line each.
    pub fn manques(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.conditions {
            match (c.vrai > 0, c.faux > 0 || !c.faux_requis) {
                (false, false) => out.push(format!("condition `{}` never true nor false", c.condition)),
                (false, true) => out.push(format!("condition `{}` never true", c.condition)),
                (true, false) => out.push(format!("condition `{}` never false", c.condition)),
                (true, true) => {}
            }
        }
        for s in &self.branches {
            for b in s.branches.iter().filter(|b| b.requise && b.cas == 0) {
                out.push(format!(
                    "`{}`: {} #{} ({}) never takes `{}`",
                    s.definition, s.fonction, s.rang, s.sujet, b.branche
                ));
            }
        }
        out
    }
}

/// A branch site found in an expression, with the masks of its branches when compiled.
struct Site {
    fonction: &'static str,
    sujet: String,
    /// (branch, required, rows taking it: a boolean expression).
    branches: Vec<(&'static str, bool, Option<Expr>)>,
}

struct SiteFinder<'a> {
    rs: &'a RuleSet,
    rule: &'a str,
    /// The month to compile the masks at; `None` lists the sites only.
    mois: Option<Mois>,
    sites: Vec<Site>,
}

impl SiteFinder<'_> {
    fn compile(&self, e: &RExpr) -> Result<Option<Expr>, CompileError> {
        self.mois.map(|m| compile_expr(self.rs, m, e)).transpose()
    }

    /// Pre-order walk: a site is numbered before the sites inside it. `guard`: the rows
    /// that reach `e` (`None` when not compiling).
    fn walk(&mut self, e: &RExpr, guard: Option<Expr>) -> Result<(), CompileError> {
        let and = |g: &Option<Expr>, m: Option<Expr>| match (g, m) {
            (Some(g), Some(m)) => Some(g.clone().and(m)),
            _ => None,
        };
        match &e.kind {
            RKind::Call(Func::Si, args) => {
                let c = self.compile(&args[0])?;
                let alors = and(&guard, c.clone().map(|c| c.fill_null(false)));
                let sinon = and(&guard, c.clone().map(|c| c.not().fill_null(false)));
                let inconnue = and(&guard, c.map(|c| c.is_null()));
                self.sites.push(Site {
                    fonction: "si",
                    sujet: args[0].texte(self.rule),
                    branches: vec![
                        ("alors", true, alors.clone()),
                        ("sinon", true, sinon.clone()),
                        ("condition inconnue", false, inconnue),
                    ],
                });
                self.walk(&args[0], guard)?;
                self.walk(&args[1], alors)?;
                self.walk(&args[2], sinon)?;
            }
            RKind::Call(Func::SiInconnu, args) => {
                let x = self.compile(&args[0])?;
                let connue = and(&guard, x.clone().map(|x| x.is_not_null()));
                let defaut = and(&guard, x.map(|x| x.is_null()));
                self.sites.push(Site {
                    fonction: "si_inconnu",
                    sujet: args[0].texte(self.rule),
                    branches: vec![("valeur connue", true, connue), ("defaut", true, defaut.clone())],
                });
                self.walk(&args[0], guard)?;
                self.walk(&args[1], defaut)?;
            }
            RKind::Neg(x) | RKind::Not(x) | RKind::Bareme(_, x) | RKind::ParamAuMois(_, x) => self.walk(x, guard)?,
            RKind::Binary(_, a, b) => {
                self.walk(a, guard.clone())?;
                self.walk(b, guard)?;
            }
            RKind::In(x, items) => {
                self.walk(x, guard.clone())?;
                for i in items {
                    self.walk(i, guard.clone())?;
                }
            }
            RKind::Call(_, args) => {
                for a in args {
                    self.walk(a, guard.clone())?;
                }
            }
            RKind::Nombre(_)
            | RKind::Booleen(_)
            | RKind::Inconnu
            | RKind::Texte(_)
            | RKind::DateLit(_)
            | RKind::Input(_)
            | RKind::Def { .. }
            | RKind::Param(_)
            | RKind::ParamLu(..)
            | RKind::MoisReference => {}
        }
        Ok(())
    }
}

/// The branch sites of a rule's definitions, in definition then source order, with
/// their masks compiled at `mois` when given.
fn sites(rs: &RuleSet, rule: &Rule, mois: Option<Mois>) -> Result<Vec<(String, usize, Site)>, CompileError> {
    let mut out = Vec::new();
    for def in &rule.defs {
        let DefBody::Expr(e, _) = &def.body else { continue };
        let mut finder = SiteFinder { rs, rule: &rule.id, mois, sites: Vec::new() };
        finder.walk(e, mois.map(|_| lit(true)))?;
        out.extend(finder.sites.into_iter().enumerate().map(|(i, s)| (def.name.clone(), i + 1, s)));
    }
    Ok(out)
}

/// The `montant_versable` the checker writes when a rule gives no payment threshold:
/// `montant_calcule > 0`.
fn is_positivity_guard(rule: &str, def: &Def) -> bool {
    let DefBody::Expr(e, _) = &def.body else { return false };
    def.name == "montant_versable"
        && matches!(&e.kind, RKind::Binary(BinOp::Gt, a, b)
            if a.kind == RKind::Def { rule: rule.to_string(), name: "montant_calcule".into() }
                && b.kind == RKind::Nombre(0.0))
}

/// The coverage of every rule by its own test cases, in rule order.
pub fn coverage(rs: &RuleSet) -> Result<Vec<RuleCoverage>, TestError> {
    coverage_of(rs, &evaluate_cases(rs)?)
}

/// The same, from cases already evaluated ([`evaluate_cases`]).
pub fn coverage_of(rs: &RuleSet, evaluated: &[EvaluatedCases]) -> Result<Vec<RuleCoverage>, TestError> {
    let mut out: Vec<RuleCoverage> = Vec::with_capacity(rs.rules.len());
    for rule in &rs.rules {
        let branches = sites(rs, rule, None)?
            .into_iter()
            .map(|(definition, rang, s)| BranchSite {
                definition,
                fonction: s.fonction,
                rang,
                sujet: s.sujet,
                branches: s
                    .branches
                    .iter()
                    .map(|(b, requise, _)| Branch { branche: b, cas: 0, requise: *requise })
                    .collect(),
            })
            .collect();
        let conditions = rule
            .defs
            .iter()
            .filter(|d| d.role == DefRole::Condition)
            .map(|d| ConditionCount {
                condition: d.name.clone(),
                vrai: 0,
                faux: 0,
                inconnu: 0,
                faux_requis: !is_positivity_guard(&rule.id, d),
            })
            .collect();
        out.push(RuleCoverage {
            regle: rule.id.clone(),
            fichier: rule.file.clone(),
            cas: rule.tests.len(),
            conditions,
            branches,
        });
    }
    for batch in evaluated {
        count_batch(rs, batch, &mut out)?;
    }
    Ok(out)
}

/// Adds one month's cases to the counts of their rules.
fn count_batch(rs: &RuleSet, batch: &EvaluatedCases, out: &mut [RuleCoverage]) -> Result<(), TestError> {
    let polars_err = |source| TestError::Polars { mois: batch.mois, source };
    for (rule, cov) in rs.rules.iter().zip(out.iter_mut()) {
        let rows: Vec<usize> = (0..batch.cases.len()).filter(|&i| batch.cases[i].0 == rule.id).collect();
        if rows.is_empty() {
            continue;
        }
        for c in &mut cov.conditions {
            let name = column(&rule.id, &c.condition);
            for &row in &rows {
                match cell(&batch.df, &name, row) {
                    Value::Booleen(true) => c.vrai += 1,
                    Value::Booleen(false) => c.faux += 1,
                    _ => c.inconnu += 1,
                }
            }
        }
        let compiled = sites(rs, rule, Some(batch.mois))?;
        let mut masks = Vec::new();
        for (_, _, site) in &compiled {
            for (_, _, mask) in &site.branches {
                if let Some(m) = mask {
                    masks.push(m.clone().alias(format!("__branche_{}", masks.len())));
                }
            }
        }
        if masks.is_empty() {
            continue;
        }
        let names: Vec<String> = (0..masks.len()).map(|i| format!("__branche_{i}")).collect();
        // `with_columns`, not `select`: a mask that reads no column is broadcast to the
        // frame's height.
        let taken = batch
            .df
            .clone()
            .lazy()
            .with_comm_subexpr_elim(false)
            .with_columns(masks)
            .select(names.iter().map(|n| col(n.as_str())).collect::<Vec<_>>())
            .collect()
            .map_err(polars_err)?;
        let counts = names.iter().map(|n| rows.iter().filter(|&&r| cell(&taken, n, r) == Value::Booleen(true)).count());
        for (b, n) in cov.branches.iter_mut().flat_map(|s| s.branches.iter_mut()).zip(counts) {
            b.cas += n;
        }
    }
    Ok(())
}

/// The text report: one line per rule, then what no test exercises.
pub fn report(coverage: &[RuleCoverage]) -> String {
    let mut out = String::new();
    let (mut reached, mut total) = (0, 0);
    for c in coverage {
        let (r, t) = c.goals();
        reached += r;
        total += t;
        let sites = c.branches.len();
        let _ = writeln!(
            out,
            "{:>6.1}%  {} ({}, {} cases): {} conditions, {} si/si_inconnu, {r}/{t} goals",
            c.pourcentage(),
            c.regle,
            c.fichier,
            c.cas,
            c.conditions.len(),
            sites
        );
        for m in c.manques() {
            let _ = writeln!(out, "           - {m}");
        }
    }
    let pct = if total == 0 { 100.0 } else { 100.0 * reached as f64 / total as f64 };
    let _ = writeln!(
        out,
        "total: {reached}/{total} goals ({pct:.1}%): each condition seen true and false, each branch of si/si_inconnu taken"
    );
    out
}
