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

use super::{CompileError, ExprCompiler};
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
fn reads(ec: &ExprCompiler, e: &RExpr, cond: Expr, out: &mut Vec<(Read, Expr)>) -> Result<(), CompileError> {
    match &e.kind {
        RKind::Input(name) => out.push((Read::Input(name.clone()), cond)),
        RKind::Def { rule, name } => out.push((Read::Def(rule.clone(), name.clone()), cond)),
        RKind::Call(Func::Si, args) if args.len() == 3 => {
            let c = ec.compile(&args[0])?;
            reads(ec, &args[0], cond.clone().and(c.clone().is_null()), out)?;
            reads(ec, &args[1], cond.clone().and(c.clone().fill_null(lit(false))), out)?;
            reads(ec, &args[2], cond.and(c.not().fill_null(lit(false))), out)?;
        }
        RKind::Call(Func::SiInconnu, args) if args.len() == 2 => {
            let x = ec.compile(&args[0])?;
            reads(ec, &args[1], cond.and(x.is_null()), out)?;
        }
        RKind::Call(Func::EstConnu, _) => {}
        RKind::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
            // The value of the other operand that decides alone: false for `et`, true for `ou`.
            let open = *op == BinOp::And;
            let undecided = |x: Expr| x.fill_null(lit(open)).eq(lit(open));
            let (ca, cb) = (ec.compile(a)?, ec.compile(b)?);
            reads(ec, a, cond.clone().and(undecided(cb)), out)?;
            reads(ec, b, cond.and(undecided(ca)), out)?;
        }
        RKind::Neg(x) | RKind::Not(x) | RKind::Bareme(_, x) => reads(ec, x, cond, out)?,
        RKind::Binary(_, a, b) => {
            reads(ec, a, cond.clone(), out)?;
            reads(ec, b, cond, out)?;
        }
        RKind::In(x, items) => {
            reads(ec, x, cond.clone(), out)?;
            for i in items {
                reads(ec, i, cond.clone(), out)?;
            }
        }
        RKind::Call(_, args) => {
            for a in args {
                reads(ec, a, cond.clone(), out)?;
            }
        }
        RKind::Nombre(_)
        | RKind::Booleen(_)
        | RKind::Texte(_)
        | RKind::DateLit(_)
        | RKind::Param(_)
        | RKind::ParamLu(..)
        | RKind::MoisReference => {}
    }
    Ok(())
}

/// What a definition reads: its expression's reads, the conditions it combines, or — for
/// a derived output of another rule (`statut`, `montant`) — that rule's `eligible` and
/// `montant_calcule`.
fn def_reads(ec: &ExprCompiler, rs: &RuleSet, rule: &str, name: &str) -> Result<Vec<(Read, Expr)>, CompileError> {
    let mut out = Vec::new();
    match rs.rule(rule).and_then(|r| r.def(name)) {
        Some(def) => match &def.body {
            DefBody::Expr(e, _) => reads(ec, e, lit(true), &mut out)?,
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

/// The compiled computation of every rule's `manquants`.
#[derive(Debug, Clone)]
pub(super) struct Missing {
    /// Mask columns, in layers by dependency depth.
    layers: Vec<Vec<Expr>>,
    /// One `<rule>.manquants` text column per rule.
    outputs: Vec<Expr>,
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
        let mut todo: Vec<(String, String)> = rules.iter().map(|r| (r.id.clone(), "eligible".to_string())).collect();
        while let Some(key) = todo.pop() {
            if graph.contains_key(&key) {
                continue;
            }
            let read = def_reads(ec, rs, &key.0, &key.1)?;
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
        let mut layers: Vec<Vec<Expr>> = Vec::new();
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
                if layers.len() <= d {
                    layers.resize(d + 1, Vec::new());
                }
                layers[d].push(mask.alias(mask_name(key, w).as_str()));
            }
        }

        let outputs = rules
            .iter()
            .map(|rule| {
                let key = (rule.id.clone(), "eligible".to_string());
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
                let eligible = column(&rule.id, "eligible");
                let list =
                    if names.is_empty() { lit(NULL).cast(DataType::String) } else { concat_str(names, ", ", true) };
                when(col(eligible.as_str()).is_null().and(list.clone().neq(lit(""))))
                    .then(list)
                    .otherwise(lit(NULL).cast(DataType::String))
                    .alias(column(&rule.id, "manquants").as_str())
            })
            .collect();
        Ok(Missing { layers, outputs })
    }

    /// The `id_row` column and every rule's `manquants`, for the rows of `lf`.
    pub(super) fn apply(&self, mut lf: LazyFrame, id_row: &str) -> LazyFrame {
        for layer in &self.layers {
            lf = lf.with_columns(layer.clone());
        }
        let mut selected = vec![col(id_row)];
        selected.extend(self.outputs.iter().cloned());
        lf.select(selected)
    }
}
