//! The missing inputs of an undetermined result: `<rule>.manquants`.
//!
//! An input is blamed when it is unknown and reached from `eligible` through a chain of
//! unknown definitions only: a known definition (a condition that is false, a variable
//! that did not need the input) stops the chain. So a single person's unknown
//! `age_conjoint_mois` is not blamed when `en_couple` is false.
//!
//! Each definition gets a set of blamed inputs, as a bitmask over the inputs the rules
//! read (one Int64 column per 62 inputs, so that every bit is a small literal): its own unknown inputs, or'ed with the masks
//! of the unknown definitions it reads, each along the branches that count. A mask
//! column refers to the mask columns of what it reads, so a definition read from many
//! places is computed once (a tree of expressions would grow with the number of paths).
//! Masks are computed on the undetermined rows only, then decoded into names.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{CompileError, ExprCompiler, PlanCache};
use crate::expr::BinOp;
use crate::model::{DefBody, Rule, RuleSet, Type, column};
use crate::resolved::{Func, RExpr, RKind};

/// Something an expression reads: a situation input or a definition (rule, name).
enum Read {
    Input(String),
    Def(String, String),
}

/// What `e` reads, each with the condition (a boolean expression, never null) under
/// which its value can make `e` unknown: the condition of `si` only when it is unknown,
/// a branch only when the condition selects it; in `si_inconnu(x, v)`, never `x` (its
/// unknown is replaced), `v` only when `x` is unknown; nothing in `est_connu(x)` (never
/// unknown); an operand of `et` only when the other is not false, of `ou` only when the
/// other is not true (otherwise the other decides).
fn reads(
    ec: &ExprCompiler,
    e: &RExpr,
    cond: Expr,
    out: &mut Vec<(Read, Expr)>,
    hoisted: &mut Hoisted,
) -> Result<(), CompileError> {
    match &e.kind {
        RKind::Input(name) => out.push((Read::Input(name.clone()), cond)),
        RKind::Def { rule, name } => out.push((Read::Def(rule.clone(), name.clone()), cond)),
        RKind::Call(Func::Si, args) if args.len() == 3 => {
            let c = hoisted.column(ec.compile(&args[0])?);
            reads(ec, &args[0], cond.clone().and(c.clone().is_null()), out, hoisted)?;
            reads(ec, &args[1], cond.clone().and(c.clone().fill_null(lit(false))), out, hoisted)?;
            reads(ec, &args[2], cond.and(c.not().fill_null(lit(false))), out, hoisted)?;
        }
        RKind::Call(Func::SiInconnu, args) if args.len() == 2 => {
            let x = hoisted.column(ec.compile(&args[0])?);
            reads(ec, &args[1], cond.and(x.is_null()), out, hoisted)?;
        }
        RKind::Call(Func::EstConnu, _) => {}
        RKind::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
            // The value of the other operand that decides alone: false for `et`, true for `ou`.
            let open = *op == BinOp::And;
            let undecided = |x: Expr| x.fill_null(lit(open)).eq(lit(open));
            let (ca, cb) = (hoisted.column(ec.compile(a)?), hoisted.column(ec.compile(b)?));
            reads(ec, a, cond.clone().and(undecided(cb)), out, hoisted)?;
            reads(ec, b, cond.and(undecided(ca)), out, hoisted)?;
        }
        RKind::Neg(x) | RKind::Not(x) | RKind::Bareme(_, x) | RKind::ParamAuMois(_, x) => {
            reads(ec, x, cond, out, hoisted)?
        }
        RKind::Binary(_, a, b) => {
            reads(ec, a, cond.clone(), out, hoisted)?;
            reads(ec, b, cond, out, hoisted)?;
        }
        RKind::In(x, items) => {
            reads(ec, x, cond.clone(), out, hoisted)?;
            for i in items {
                reads(ec, i, cond.clone(), out, hoisted)?;
            }
        }
        RKind::Call(_, args) => {
            for a in args {
                reads(ec, a, cond.clone(), out, hoisted)?;
            }
        }
        RKind::Nombre(_)
        | RKind::Booleen(_)
        | RKind::Inconnu
        | RKind::Texte(_)
        | RKind::DateLit(_)
        | RKind::Param(_)
        | RKind::ParamLu(..)
        | RKind::MoisReference => {}
    }
    Ok(())
}

/// The subexpressions the conditions of [`reads`] test (the condition of a `si`, the
/// operands of `et` / `ou`), each computed once as a column of its own before the masks.
/// Written into every condition instead, they made the masks of the RSA 24,000
/// expression nodes (each operand's whole tree inside the other's condition, at every
/// level), costing more than evaluating every rule (docs/performance.md).
#[derive(Default)]
struct Hoisted {
    /// The column of each subexpression, keyed by the expression's text.
    columns: BTreeMap<String, (String, Expr)>,
    /// The columns the definition being read uses.
    used: BTreeSet<String>,
}

impl Hoisted {
    /// A column holding `e` (which reads inputs and definitions only); a column or a
    /// literal is its own.
    fn column(&mut self, e: Expr) -> Expr {
        if matches!(e, Expr::Column(_) | Expr::Literal(_)) {
            return e;
        }
        let next = self.columns.len();
        let (name, _) =
            self.columns.entry(format!("{e:?}")).or_insert_with(|| (format!("__manquants.condition.{next}"), e));
        self.used.insert(name.clone());
        col(name.as_str())
    }
}

/// What a definition reads: its expression's reads, the conditions it combines, or — for
/// a derived output of another rule (`statut`, `montant`) — that rule's `eligible` and
/// `montant_calcule`.
fn def_reads(
    ec: &ExprCompiler,
    rs: &RuleSet,
    rule: &str,
    name: &str,
    hoisted: &mut Hoisted,
) -> Result<Vec<(Read, Expr)>, CompileError> {
    let mut out = Vec::new();
    match rs.rule(rule).and_then(|r| r.def(name)) {
        Some(def) => match &def.body {
            DefBody::Expr(e, _) => reads(ec, e, lit(true), &mut out, hoisted)?,
            DefBody::Toutes(cs) | DefBody::UneDe(cs) => {
                out.extend(cs.iter().map(|c| (Read::Def(rule.to_string(), c.clone()), lit(true))));
            }
            DefBody::Non(c) => out.push((Read::Def(rule.to_string(), c.clone()), lit(true))),
        },
        None if matches!(name, "statut" | "montant") => {
            for n in ["eligible", "montant_calcule"] {
                if rs.rule(rule).and_then(|r| r.def(n)).is_some() {
                    out.push((Read::Def(rule.to_string(), n.to_string()), lit(true)));
                }
            }
        }
        None => {}
    }
    Ok(out)
}

/// Bits used in each mask word (an Int64 column).
const BITS: usize = 62;

fn zero() -> Expr {
    lit(0i64).cast(DataType::Int64)
}

/// The mask column of word `w` of a definition.
fn mask_name(key: &(String, String), w: usize) -> String {
    format!("__manquants.{}.{}.{w}", key.0, key.1)
}

/// The inputs a definition may blame, directly or through what it reads (memoized).
fn reachable<'a>(
    key: &'a (String, String),
    graph: &'a BTreeMap<(String, String), Vec<(Read, Expr)>>,
    memo: &mut BTreeMap<&'a (String, String), BTreeSet<&'a str>>,
) -> BTreeSet<&'a str> {
    if let Some(known) = memo.get(key) {
        return known.clone();
    }
    memo.insert(key, BTreeSet::new()); // the checker refuses cycles; this only guards
    let mut out = BTreeSet::new();
    for (read, _) in graph.get(key).into_iter().flatten() {
        match read {
            Read::Input(i) => {
                out.insert(i.as_str());
            }
            Read::Def(r, n) => {
                if let Some((k, _)) = graph.get_key_value(&(r.clone(), n.clone())) {
                    out.extend(reachable(k, graph, memo));
                }
            }
        }
    }
    memo.insert(key, out.clone());
    out
}

/// The computation of one rule's `manquants`: the masks of the definitions its
/// `eligible` reaches, in layers by dependency depth, and the text column they decode to.
#[derive(Debug, Clone)]
struct RuleMissing {
    /// `<rule>.eligible`: the masks are computed on the rows where it is unknown.
    eligible: String,
    /// `<rule>.manquants`.
    name: String,
    layers: Vec<Vec<Expr>>,
    /// None when nothing can be blamed: the column is then empty.
    output: Option<Expr>,
    /// The query's plan, kept from one frame to the next, with and without
    /// common-subexpression elimination (prepared.rs).
    plans: [PlanCache; 2],
}

/// The compiled computation of every rule's `manquants`. Each rule's is computed on the
/// rows where that rule is undetermined only: a rule undetermined on many rows (a date
/// the extract often lacks) then costs its own masks there, not every rule's.
#[derive(Debug, Clone)]
pub(super) struct Missing {
    rules: Vec<RuleMissing>,
}

impl Missing {
    pub(super) fn new(
        ec: &ExprCompiler,
        rs: &RuleSet,
        rules: &[&Rule],
        inputs: &BTreeMap<String, Type>,
    ) -> Result<Missing, CompileError> {
        let index: BTreeMap<&str, usize> = inputs.keys().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
        let word_of = |input: &str| index.get(input).map(|i| (i / BITS, 1i64 << (i % BITS)));

        // Every definition reachable from the rules' `eligible`, with what it reads.
        let mut graph: BTreeMap<(String, String), Vec<(Read, Expr)>> = BTreeMap::new();
        let mut hoisted = Hoisted::default();
        // The hoisted conditions each definition's reads test.
        let mut conditions_used: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        let mut todo: Vec<(String, String)> = rules.iter().map(|r| (r.id.clone(), "eligible".to_string())).collect();
        while let Some(key) = todo.pop() {
            if graph.contains_key(&key) {
                continue;
            }
            let read = def_reads(ec, rs, &key.0, &key.1, &mut hoisted)?;
            conditions_used.insert(key.clone(), std::mem::take(&mut hoisted.used));
            todo.extend(read.iter().filter_map(|(r, _)| match r {
                Read::Def(r, n) => Some((r.clone(), n.clone())),
                Read::Input(_) => None,
            }));
            graph.insert(key, read);
        }

        let mut memo = BTreeMap::new();
        let blamable: BTreeMap<&(String, String), BTreeSet<&str>> =
            graph.keys().map(|k| (k, reachable(k, &graph, &mut memo))).collect();
        let words = |key: &(String, String)| -> BTreeSet<usize> {
            blamable.get(key).into_iter().flatten().filter_map(|i| word_of(i).map(|(w, _)| w)).collect()
        };

        // Depth: a mask is computed after the masks it reads.
        fn depth_of<'a>(
            key: &'a (String, String),
            graph: &'a BTreeMap<(String, String), Vec<(Read, Expr)>>,
            depth: &mut BTreeMap<&'a (String, String), usize>,
        ) -> usize {
            if let Some(d) = depth.get(key) {
                return *d;
            }
            depth.insert(key, 0);
            let mut d = 0;
            for (read, _) in graph.get(key).into_iter().flatten() {
                if let Read::Def(r, n) = read
                    && let Some((k, _)) = graph.get_key_value(&(r.clone(), n.clone()))
                {
                    d = d.max(1 + depth_of(k, graph, depth));
                }
            }
            depth.insert(key, d);
            d
        }
        let mut depth = BTreeMap::new();
        // The mask columns of each definition, with its depth.
        let mut masks: BTreeMap<&(String, String), (usize, Vec<Expr>)> = BTreeMap::new();
        for (key, read) in &graph {
            let key_words = words(key);
            if key_words.is_empty() {
                continue;
            }
            let d = depth_of(key, &graph, &mut depth);
            for &w in &key_words {
                let mut terms: Vec<Expr> = Vec::new();
                for (r, cond) in read {
                    match r {
                        Read::Input(input) => match word_of(input) {
                            Some((iw, bit)) if iw == w => terms.push(
                                when(cond.clone().and(col(input.as_str()).is_null()))
                                    .then(lit(bit).cast(DataType::Int64))
                                    .otherwise(zero()),
                            ),
                            _ => {}
                        },
                        Read::Def(rr, n) => {
                            let other = (rr.clone(), n.clone());
                            if words(&other).contains(&w) {
                                terms.push(
                                    when(cond.clone().and(col(column(rr, n).as_str()).is_null()))
                                        .then(col(mask_name(&other, w).as_str()))
                                        .otherwise(zero()),
                                );
                            }
                        }
                    }
                }
                let mask = terms.into_iter().reduce(|a, b| a.or(b)).unwrap_or(zero());
                masks.entry(key).or_insert_with(|| (d, Vec::new())).1.push(mask.alias(mask_name(key, w).as_str()));
            }
        }

        let rules = rules
            .iter()
            .map(|rule| {
                let key = (rule.id.clone(), "eligible".to_string());
                // The masks of every definition this rule's `eligible` reaches, in layers.
                let reached = definitions_reached(&key, &graph);
                let conditions: BTreeSet<&String> =
                    reached.iter().filter_map(|k| conditions_used.get(*k)).flatten().collect();
                let mut layers: Vec<Vec<Expr>> = vec![
                    hoisted
                        .columns
                        .values()
                        .filter(|(name, _)| conditions.contains(name))
                        .map(|(name, e)| e.clone().alias(name.as_str()))
                        .collect(),
                ];
                for reached in reached {
                    // After the conditions' layer.
                    if let Some((d, exprs)) = masks.get(reached) {
                        if layers.len() <= d + 1 {
                            layers.resize(d + 2, Vec::new());
                        }
                        layers[d + 1].extend(exprs.iter().cloned());
                    }
                }
                let names: Vec<Expr> = blamable
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter_map(|input| {
                        let (w, bit) = word_of(input)?;
                        Some(
                            when(col(mask_name(&key, w).as_str()).and(lit(bit).cast(DataType::Int64)).neq(zero()))
                                .then(lit(*input))
                                .otherwise(lit(NULL).cast(DataType::String)),
                        )
                    })
                    .collect();
                let name = column(&rule.id, "manquants");
                let output = (!names.is_empty()).then(|| {
                    let list = concat_str(names, ", ", true);
                    when(list.clone().neq(lit("")))
                        .then(list)
                        .otherwise(lit(NULL).cast(DataType::String))
                        .alias(name.as_str())
                });
                RuleMissing { eligible: column(&rule.id, "eligible"), name, layers, output, plans: Default::default() }
            })
            .collect();
        Ok(Missing { rules })
    }

    /// Every rule's `manquants` column for the rows of `df` (which holds every rule
    /// column), in rule order: each computed on the rows where its rule is undetermined,
    /// null elsewhere.
    pub(super) fn evaluate(&self, df: &DataFrame, cse: bool) -> PolarsResult<Vec<Column>> {
        let empty = |rule: &RuleMissing| Column::full_null(rule.name.as_str().into(), df.height(), &DataType::String);
        // Nothing to name where nothing can be blamed, or where the rule is decided on
        // every row (most rules on most pieces: each query costs its planning).
        let mut queried = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.output.is_some() && df.column(&rule.eligible)?.null_count() > 0 {
                queried.push(i);
            }
        }
        let mut columns: Vec<Option<Column>> = vec![None; self.rules.len()];
        // The queries of the rules at once, as many threads as cores: a query of a few
        // hundred rows is mostly Polars' planning, which is single-threaded.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, queried.len().max(1));
        std::thread::scope(|s| -> PolarsResult<()> {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let mine: Vec<usize> = queried.iter().copied().skip(t).step_by(threads).collect();
                    s.spawn(move || -> PolarsResult<Vec<(usize, Column)>> {
                        mine.into_iter().map(|i| Ok((i, self.rules[i].column(df, cse)?))).collect()
                    })
                })
                .collect();
            for h in handles {
                // A panic of Polars goes on to the caller (the evaluation is retried
                // without CSE: reperage_batch::evaluation).
                let found = h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                for (i, c) in found {
                    columns[i] = Some(c);
                }
            }
            Ok(())
        })?;
        Ok(columns.into_iter().zip(&self.rules).map(|(c, rule)| c.unwrap_or_else(|| empty(rule))).collect())
    }
}

impl RuleMissing {
    /// This rule's `manquants` for the rows of `df`: computed on the rows where the
    /// rule is undetermined, null elsewhere.
    fn column(&self, df: &DataFrame, cse: bool) -> PolarsResult<Column> {
        let Some(output) = &self.output else {
            return Ok(Column::full_null(self.name.as_str().into(), df.height(), &DataType::String));
        };
        let found = self.plans[usize::from(cse)].collect(df.clone(), |lf| {
            let mut lf =
                lf.with_comm_subexpr_elim(cse).with_row_index(ROW, None).filter(col(self.eligible.as_str()).is_null());
            for layer in self.layers.iter().filter(|l| !l.is_empty()) {
                lf = lf.with_columns(layer.clone());
            }
            lf.select([col(ROW), output.clone()])
        })?;
        // Back to the frame's rows: null where the rule is determined.
        let mut values: Vec<Option<&str>> = vec![None; df.height()];
        for (row, value) in found.column(ROW)?.idx()?.into_no_null_iter().zip(found.column(&self.name)?.str()?.iter()) {
            values[row as usize] = value;
        }
        Ok(Column::new(self.name.as_str().into(), values))
    }
}

/// A temporary row number, to put each rule's results back on the rows they came from.
const ROW: &str = "__reperage_ligne";

/// Every definition `key` reads, directly or through others, itself included.
fn definitions_reached<'a>(
    key: &'a (String, String),
    graph: &'a BTreeMap<(String, String), Vec<(Read, Expr)>>,
) -> BTreeSet<&'a (String, String)> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![key];
    while let Some(k) = todo.pop() {
        let Some((k, reads)) = graph.get_key_value(k) else { continue };
        if !seen.insert(k) {
            continue;
        }
        for (read, _) in reads {
            if let Read::Def(r, n) = read
                && let Some((next, _)) = graph.get_key_value(&(r.clone(), n.clone()))
            {
                todo.push(next);
            }
        }
    }
    seen
}
