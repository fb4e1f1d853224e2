//! Compilation of a checked rule set, at a reference month, into Polars expressions.
//!
//! Every definition becomes one column `<rule>.<name>`; definitions are grouped in
//! layers by dependency depth and each layer is one `with_columns`, so Polars evaluates
//! a layer's columns in parallel and each column once. Parameters are resolved to
//! literals for the month. Logic is three-valued: an unknown input is a null, and
//! nulls propagate except where Kleene logic decides (`faux et inconnu` is `faux`).
//! The missing inputs of undetermined results are computed apart ([`manquants`]).

mod manquants;
mod prepared;

pub use prepared::PlanCache;

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::date::{Date, Mois};
use crate::expr::BinOp;
use crate::model::{DatedValue, DefBody, ParamValue, Parameter, RuleKind, RuleSet, Type, column};
use crate::resolved::{Func, Lecture, MOIS_PRECEDENTS_MAX, RExpr, RKind};

/// A parameter value used by the compiled rules, with its date in force and source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UsedParam {
    pub id: String,
    pub titre: String,
    pub unite: Option<String>,
    pub file: String,
    /// The date the value is read at: the first day of the month, or 1 January for
    /// `au_1er_janvier(…)`.
    pub lu_au: String,
    #[serde(flatten)]
    pub value: DatedValue,
}

/// The output columns of one compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub id: String,
    pub kind: RuleKind,
    pub prestation: Option<String>,
    /// `eligible`, `non_eligible` or `indetermine` (String column).
    pub statut: String,
    /// Monthly amount: the computed amount when eligible, 0 when not, null when
    /// undetermined (Float64 column; always null for rules without an amount).
    pub montant: String,
    /// Whether the rule computes an amount (a benefit in kind, such as the CSS, does not).
    pub has_montant: bool,
    /// For rules with an amount: whether it is an estimate (Boolean column,
    /// `[montant] estimation`; always false when the rule declares none).
    pub montant_estime: Option<String>,
    /// Comma-separated missing inputs of an undetermined result (String column).
    pub manquants: String,
    /// Whether a right is in payment (Boolean column), for benefit rules.
    pub en_paiement: Option<String>,
    /// Every condition column of the rule, in rule order.
    pub conditions: Vec<String>,
    /// Situation inputs the rule reads, directly or through other definitions.
    pub inputs: BTreeSet<String>,
    /// Parameters the rule reads, directly or through other definitions.
    pub params: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Compiled {
    pub mois: Mois,
    /// Situation inputs read by the compiled rules, with their types.
    pub inputs: BTreeMap<String, Type>,
    pub rules: Vec<CompiledRule>,
    /// Parameters read by the compiled rules, as resolved for the month.
    pub params: Vec<UsedParam>,
    layers: Vec<Vec<Expr>>,
    /// The `manquants` columns, computed after the layers on undetermined rows only.
    manquants: manquants::Missing,
    /// The plan of the layers, kept from one situation frame to the next, with and
    /// without common-subexpression elimination.
    plans: [PlanCache; 2],
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("parameter `{0}` has no value in force in {1}")]
    NoValueInForce(String, Mois),
    #[error("unknown rule `{0}`")]
    UnknownRule(String),
    #[error("the situation has no column `{0}`, which the rules read")]
    MissingInput(String),
    #[error("`{0}` is called without any operand")]
    NoOperand(String),
}

pub fn dtype(ty: Type) -> DataType {
    match ty {
        Type::Nombre => DataType::Float64,
        Type::Booleen => DataType::Boolean,
        Type::Date => DataType::Date,
        Type::Texte => DataType::String,
    }
}

/// A typed null, as one literal (not a cast of a literal: see [`constant`]).
fn null_of(ty: Type) -> Expr {
    lit(Scalar::null(dtype(ty)))
}

/// A date, as one literal.
fn date_lit(d: Date) -> Expr {
    lit(Scalar::new(DataType::Date, AnyValue::Date(d.to_days())))
}

/// Whether an expression reads no column: literals, parameters and the reference month,
/// and operations on them only.
fn is_constant(e: &RExpr) -> bool {
    match &e.kind {
        RKind::Input(_) | RKind::Def { .. } => false,
        RKind::Nombre(_)
        | RKind::Booleen(_)
        | RKind::Inconnu
        | RKind::Texte(_)
        | RKind::DateLit(_)
        | RKind::MoisReference
        | RKind::Param(_)
        | RKind::ParamLu(..) => true,
        RKind::Neg(x) | RKind::Not(x) | RKind::Bareme(_, x) | RKind::ParamAuMois(_, x) => is_constant(x),
        RKind::Binary(_, a, b) => is_constant(a) && is_constant(b),
        RKind::In(x, items) => is_constant(x) && items.iter().all(is_constant),
        RKind::Call(_, args) => args.iter().all(is_constant),
    }
}

/// The value of an expression that reads no column, as one literal of the same type.
///
/// Why: Polars 0.55's common-subexpression elimination computes a repeated
/// subexpression once, as a column; when that subexpression reads no column (a
/// parameter times a rate, `non faux`, a cast null) the column has one row, and
/// assembling it beside the frame's columns fails ("height of column '__POLARS_CSER_…'
/// (1) does not match height of column …", a panic). Folded to a literal, it is no
/// longer a subexpression to eliminate. `None` when Polars cannot evaluate it alone.
fn constant(expr: Expr) -> Option<Expr> {
    let df = DataFrame::empty().lazy().with_comm_subexpr_elim(false).select([expr.alias("v")]).collect().ok()?;
    let v = df.column("v").ok()?;
    if v.len() != 1 {
        return None;
    }
    let value = v.get(0).ok()?.into_static();
    Some(lit(Scalar::new(v.dtype().clone(), value)))
}

/// `built` from `operand`, folded to its value when the operand is a literal (a folded
/// constant): no expression that reads no column is left inside one that does
/// ([`constant`]).
fn on(operand: &Expr, built: Expr) -> Expr {
    if matches!(operand, Expr::Literal(_)) { constant(built.clone()).unwrap_or(built) } else { built }
}

/// Kleene conjunction: false if any operand is false, else unknown if any is unknown.
/// Polars' `and` on booleans is Kleene's (polars_compute::boolean::and), so the operands
/// are chained as they are: one node per operand.
fn kleene_and(items: Vec<Expr>) -> Expr {
    items.into_iter().reduce(Expr::and).unwrap_or(lit(true))
}

/// Kleene disjunction: true if any operand is true, else unknown if any is unknown
/// (Polars' `or`, as [`kleene_and`]).
fn kleene_or(items: Vec<Expr>) -> Expr {
    items.into_iter().reduce(Expr::or).unwrap_or(lit(false))
}

struct ExprCompiler<'a> {
    /// The reference month: `mois_reference`, `mois_ecoules`.
    mois: Mois,
    /// The month whose parameter values are read: the reference month, except for
    /// `diff --mois-avant` (the same foyers with another month's parameters).
    mois_parametres: Mois,
    params: &'a BTreeMap<String, Parameter>,
}

impl ExprCompiler<'_> {
    fn param(&self, id: &str) -> Result<&ParamValue, CompileError> {
        self.param_at(id, Lecture::Mois)
    }

    fn param_at(&self, id: &str, when: Lecture) -> Result<&ParamValue, CompileError> {
        self.params
            .get(id)
            .and_then(|p| p.at(when.date(self.mois_parametres)))
            .map(|v| &v.valeur)
            .ok_or_else(|| CompileError::NoValueInForce(id.to_string(), self.mois_parametres))
    }

    /// The values of a parameter over the months M-0 … M-[`MOIS_PRECEDENTS_MAX`], as runs
    /// of whole months `(a, b, value)`: in force on the first day of M-a … M-b. Months
    /// before its first value are left out.
    fn param_runs(&self, id: &str) -> Vec<(u8, u8, &ParamValue)> {
        let mut runs: Vec<(u8, u8, &ParamValue)> = Vec::new();
        for k in 0..=MOIS_PRECEDENTS_MAX {
            let Ok(v) = self.param_at(id, Lecture::MoisPrecedent(k)) else { break };
            match runs.last_mut() {
                Some((_, b, last)) if *last == v => *b = k,
                _ => runs.push((k, k, v)),
            }
        }
        runs
    }

    /// An expression's Polars expression; one that reads no column, folded to its value
    /// ([`constant`]).
    fn compile(&self, e: &RExpr) -> Result<Expr, CompileError> {
        let expr = self.compile_node(e)?;
        let leaf = matches!(
            e.kind,
            RKind::Nombre(_) | RKind::Booleen(_) | RKind::Texte(_) | RKind::Input(_) | RKind::Def { .. }
        );
        if !leaf && is_constant(e) {
            return Ok(constant(expr.clone()).unwrap_or(expr));
        }
        Ok(expr)
    }

    fn compile_node(&self, e: &RExpr) -> Result<Expr, CompileError> {
        Ok(match &e.kind {
            RKind::Nombre(n) => lit(*n),
            RKind::Booleen(b) => lit(*b),
            RKind::Inconnu => lit(NULL).cast(DataType::Boolean),
            RKind::Texte(t) => lit(t.as_str()),
            RKind::DateLit(d) => date_lit(*d),
            RKind::MoisReference => date_lit(self.mois.first_day()),
            RKind::Input(name) => col(name.as_str()),
            RKind::Def { rule, name } => col(column(rule, name)),
            RKind::Param(id) => match self.param(id)? {
                ParamValue::Nombre(n) => lit(*n),
                ParamValue::Booleen(b) => lit(*b),
                ParamValue::Bareme(_) => return Err(CompileError::NoValueInForce(id.clone(), self.mois)),
            },
            RKind::ParamLu(id, when) => match self.param_at(id, *when)? {
                ParamValue::Nombre(n) => lit(*n),
                ParamValue::Booleen(b) => lit(*b),
                ParamValue::Bareme(_) => return Err(CompileError::NoValueInForce(id.clone(), self.mois)),
            },
            RKind::ParamAuMois(id, k) => {
                let k = self.compile(k)?;
                // The months M-a … M-b of one value, nearest first; unknown beyond.
                let mut out = null_of(e.ty);
                for (a, b, value) in self.param_runs(id).into_iter().rev() {
                    let value = match value {
                        ParamValue::Nombre(n) => lit(*n),
                        ParamValue::Booleen(b) => lit(*b),
                        ParamValue::Bareme(_) => return Err(CompileError::NoValueInForce(id.clone(), self.mois)),
                    };
                    let within = k.clone().gt_eq(lit(f64::from(a))).and(k.clone().lt_eq(lit(f64::from(b))));
                    out = when(within).then(value).otherwise(out);
                }
                out
            }
            RKind::Bareme(id, x) => {
                let ParamValue::Bareme(scale) = self.param(id)? else {
                    return Err(CompileError::NoValueInForce(id.clone(), self.mois));
                };
                let x = self.compile(x)?;
                let last = scale.tranches.len() - 1;
                // Highest bracket first: the first bound `x` reaches gives its value.
                let mut chain: Option<ChainedThen> = None;
                let mut start: Option<Then> = None;
                for (i, (de, valeur)) in scale.tranches.iter().enumerate().rev() {
                    let value = match scale.par_unite_au_dela {
                        Some(step) if i == last => lit(*valeur) + (x.clone() - lit(*de)) * lit(step),
                        _ => lit(*valeur),
                    };
                    let cond = x.clone().gt_eq(lit(*de));
                    match (start.take(), chain.take()) {
                        (None, None) => start = Some(when(cond).then(value)),
                        (Some(t), None) => chain = Some(t.when(cond).then(value)),
                        (_, Some(c)) => chain = Some(c.when(cond).then(value)),
                    }
                }
                let below = null_of(Type::Nombre);
                match (start, chain) {
                    (_, Some(c)) => c.otherwise(below),
                    (Some(t), None) => t.otherwise(below),
                    (None, None) => below,
                }
            }
            RKind::Neg(x) => lit(0.0) - self.compile(x)?,
            RKind::Not(x) => self.compile(x)?.not(),
            RKind::Binary(op, a, b) => {
                let (a, b) = (self.compile(a)?, self.compile(b)?);
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    // Division by zero is undefined, not infinite: unknown.
                    BinOp::Div => when(b.clone().eq(lit(0.0))).then(null_of(Type::Nombre)).otherwise(a / b),
                    BinOp::Eq => a.eq(b),
                    BinOp::Ne => a.neq(b),
                    BinOp::Lt => a.lt(b),
                    BinOp::Le => a.lt_eq(b),
                    BinOp::Gt => a.gt(b),
                    BinOp::Ge => a.gt_eq(b),
                    BinOp::And => kleene_and(vec![a, b]),
                    BinOp::Or => kleene_or(vec![a, b]),
                }
            }
            RKind::In(x, items) => {
                let x = self.compile(x)?;
                let mut any = None;
                for item in items {
                    let eq = x.clone().eq(self.compile(item)?);
                    any = Some(match any {
                        None => eq,
                        Some(prev) => Expr::or(prev, eq),
                    });
                }
                let any = any.unwrap_or(lit(false));
                when(x.is_null()).then(null_of(Type::Booleen)).otherwise(any)
            }
            RKind::Call(f, args) => {
                let mut c: Vec<Expr> = args.iter().map(|a| self.compile(a)).collect::<Result<_, _>>()?;
                match f {
                    Func::Min | Func::Max => {
                        // Polars' horizontal min and max skip nulls; the rule language's
                        // are unknown when an operand is. Each operand is written twice,
                        // whatever the count (a chain of pairwise comparisons wrote the
                        // first one three times per further operand, nested).
                        let any_null = c.iter().map(|e| on(e, e.clone().is_null())).reduce(Expr::or);
                        let value = if *f == Func::Min {
                            polars::lazy::dsl::min_horizontal(&c)
                        } else {
                            polars::lazy::dsl::max_horizontal(&c)
                        };
                        match (any_null, value) {
                            (Some(any_null), Ok(value)) => when(any_null).then(null_of(Type::Nombre)).otherwise(value),
                            // The checker gives `min` and `max` two operands at least.
                            _ => return Err(CompileError::NoOperand(format!("{f:?}"))),
                        }
                    }
                    Func::Si => {
                        let (cond, then, otherwise) = (c.remove(0), c.remove(0), c.remove(0));
                        when(on(&cond, cond.clone().is_null()))
                            .then(null_of(e.ty))
                            .when(cond)
                            .then(then)
                            .otherwise(otherwise)
                    }
                    Func::Arrondi(decimals) => c.remove(0).round(*decimals, RoundMode::HalfAwayFromZero),
                    Func::ArrondiInf => c.remove(0).floor(),
                    Func::ArrondiSup => c.remove(0).ceil(),
                    Func::MoisEcoules => {
                        let d = c.remove(0);
                        let index = d.clone().dt().year().cast(DataType::Int32) * lit(12i32)
                            + d.dt().month().cast(DataType::Int32)
                            - lit(1i32);
                        (lit(self.mois.index()) - index).cast(DataType::Float64)
                    }
                    Func::MoisCivil => c.remove(0).dt().month().cast(DataType::Float64),
                    Func::EstConnu => c.remove(0).is_not_null(),
                    Func::SiInconnu => {
                        let (x, d) = (c.remove(0), c.remove(0));
                        x.fill_null(d)
                    }
                }
            }
        })
    }
}

/// A checked expression compiled for `mois` as the rule columns are: it reads the
/// situation inputs and the rule columns of an evaluated frame (the test coverage counts
/// the branches of `si` with it).
pub fn compile_expr(rs: &RuleSet, mois: Mois, e: &RExpr) -> Result<Expr, CompileError> {
    ExprCompiler { mois, mois_parametres: mois, params: &rs.params }.compile(e)
}

/// Everything a definition or output column depends on: other columns of the frame.
fn body_deps(rule: &str, body: &DefBody) -> Vec<String> {
    match body {
        DefBody::Expr(e, _) => e.defs().into_iter().map(|(r, n)| column(r, n)).collect(),
        DefBody::Toutes(cs) | DefBody::UneDe(cs) => cs.iter().map(|c| column(rule, c)).collect(),
        DefBody::Non(c) => vec![column(rule, c)],
    }
}

impl Compiled {
    /// Compiles every rule of the set (or only `only` and what they depend on) for `mois`.
    pub fn new(rs: &RuleSet, mois: Mois, only: Option<&[String]>) -> Result<Compiled, CompileError> {
        Compiled::with_parameters_of(rs, mois, mois, only)
    }

    /// The same, with the parameter values in force at `parametres` instead of `mois`
    /// (dates and ages still count from `mois`): what a revaluation changes, alone.
    pub fn with_parameters_of(
        rs: &RuleSet,
        mois: Mois,
        parametres: Mois,
        only: Option<&[String]>,
    ) -> Result<Compiled, CompileError> {
        let selected = select_rules(rs, only)?;
        let ec = ExprCompiler { mois, mois_parametres: parametres, params: &rs.params };

        // Column → (expression, dependencies).
        let mut nodes: BTreeMap<String, (Expr, Vec<String>)> = BTreeMap::new();
        let mut rules = Vec::new();
        for rule in rs.rules.iter().filter(|r| selected.contains(&r.id)) {
            rules.push(compile_rule(&ec, rs, rule, &mut nodes)?);
        }

        let layers = layers(&nodes);

        let mut inputs = BTreeMap::new();
        for r in &rules {
            for i in &r.inputs {
                inputs.insert(i.clone(), rs.inputs[i].ty);
            }
        }
        let ids: BTreeSet<String> = rules.iter().map(|r| r.id.clone()).collect();
        let params = used_params(&ec, rs, &ids, parametres)?;
        let selected_rules: Vec<&crate::model::Rule> = rs.rules.iter().filter(|r| ids.contains(&r.id)).collect();
        let manquants = manquants::Missing::new(&ec, rs, &selected_rules, &inputs)?;
        Ok(Compiled { mois, inputs, rules, params, layers, manquants, plans: Default::default() })
    }

    /// Evaluates every rule column on a situation frame (one row per foyer): the frame
    /// with the rule columns added, then every rule's `manquants`. The frame must
    /// hold every input in [`Compiled::inputs`]; they are cast to their declared types.
    /// `cse`: with Polars' common-subexpression elimination (faster: a subexpression
    /// shared by several rules is computed once). Expressions that read no column are
    /// folded to literals ([`constant`]), which avoids the Polars 0.55 failure it had on
    /// them: without the folding, the property tests (tests/it/properties.rs) fail with
    /// CSE on, proptest's smallest case being `non (non faux)` beside a variable; the
    /// same expressions in a lone `with_columns` evaluate fine, so the failure needs the
    /// whole compiled plan (the layers, and then the missing inputs).
    pub fn evaluate(&self, situation: DataFrame, cse: bool) -> PolarsResult<DataFrame> {
        // Planned once per schema (prepared.rs): every piece of an extract has the same.
        let mut df = self.plans[usize::from(cse)].collect(situation, |lf| {
            let lf = lf.with_comm_subexpr_elim(cse);
            let casts: Vec<Expr> =
                self.inputs.iter().map(|(name, ty)| col(name.as_str()).strict_cast(dtype(*ty))).collect();
            let mut lf = if casts.is_empty() { lf } else { lf.with_columns(casts) };
            for layer in &self.layers {
                lf = lf.with_columns(layer.clone());
            }
            lf
        })?;
        // The missing inputs are needed only where a rule is undetermined: each rule's
        // are computed on its undetermined rows (manquants.rs).
        let missing = self.manquants.evaluate(&df, cse)?;
        df.hstack_mut(&missing)?;
        Ok(df)
    }

    /// Fails with the first input the frame lacks.
    pub fn check_schema(&self, schema: &Schema) -> Result<(), CompileError> {
        match self.inputs.keys().find(|i| schema.get(i.as_str()).is_none()) {
            Some(missing) => Err(CompileError::MissingInput(missing.clone())),
            None => Ok(()),
        }
    }

    pub fn rule(&self, id: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// The selected rules and every rule they read from.
fn select_rules(rs: &RuleSet, only: Option<&[String]>) -> Result<BTreeSet<String>, CompileError> {
    let Some(only) = only else {
        return Ok(rs.rules.iter().map(|r| r.id.clone()).collect());
    };
    let mut selected = BTreeSet::new();
    let mut todo: Vec<String> = only.to_vec();
    while let Some(id) = todo.pop() {
        let rule = rs.rule(&id).ok_or_else(|| CompileError::UnknownRule(id.clone()))?;
        if !selected.insert(id.clone()) {
            continue;
        }
        for def in &rule.defs {
            if let DefBody::Expr(e, _) = &def.body {
                todo.extend(e.defs().into_iter().map(|(r, _)| r.to_string()).filter(|r| *r != id));
            }
        }
    }
    Ok(selected)
}

/// Compiles one rule: each definition's column into `nodes` (expression and
/// dependencies), with the outputs every rule gets (`statut`, `montant`,
/// `montant_en_jeu`); returns what the evaluation reads of it.
fn compile_rule(
    ec: &ExprCompiler<'_>,
    rs: &RuleSet,
    rule: &crate::model::Rule,
    nodes: &mut BTreeMap<String, (Expr, Vec<String>)>,
) -> Result<CompiledRule, CompileError> {
    for def in &rule.defs {
        let expr = match &def.body {
            DefBody::Expr(e, _) => ec.compile(e)?,
            DefBody::Toutes(cs) => kleene_and(cs.iter().map(|c| col(column(&rule.id, c))).collect()),
            DefBody::UneDe(cs) => kleene_or(cs.iter().map(|c| col(column(&rule.id, c))).collect()),
            DefBody::Non(c) => col(column(&rule.id, c)).not(),
        };
        let name = column(&rule.id, &def.name);
        nodes.insert(name.clone(), (expr.alias(name.as_str()), body_deps(&rule.id, &def.body)));
    }
    let eligible = col(column(&rule.id, "eligible"));
    let statut = column(&rule.id, "statut");
    let statut_expr = when(eligible.clone().is_null())
        .then(lit("indetermine"))
        .when(eligible.clone())
        .then(lit("eligible"))
        .otherwise(lit("non_eligible"));
    nodes.insert(statut.clone(), (statut_expr.alias(statut.as_str()), vec![column(&rule.id, "eligible")]));
    let montant = column(&rule.id, "montant");
    let (montant_expr, montant_deps) = if rule.has_montant {
        let calcule = column(&rule.id, "montant_calcule");
        let e = when(eligible.clone().is_null())
            .then(null_of(Type::Nombre))
            .when(eligible.clone())
            .then(col(calcule.as_str()))
            .otherwise(lit(0.0));
        (e, vec![column(&rule.id, "eligible"), calcule])
    } else {
        (null_of(Type::Nombre), vec![])
    };
    nodes.insert(montant.clone(), (montant_expr.alias(montant.as_str()), montant_deps));
    // The amount at stake: a benefit's amount when it is eligible and not in
    // payment (0 when in payment or not eligible, unknown when undetermined); an
    // event's amount, which is the amount at stake of the rights it opens.
    let en_jeu = column(&rule.id, "montant_en_jeu");
    let (en_jeu_expr, en_jeu_deps) = match (rule.kind, rule.has_en_paiement) {
        (RuleKind::Prestation, true) => {
            let en_paiement = column(&rule.id, "en_paiement");
            let e = when(eligible.clone().is_null().or(col(en_paiement.as_str()).is_null()))
                .then(null_of(Type::Nombre))
                .when(eligible.clone().and(col(en_paiement.as_str()).not()))
                .then(col(montant.as_str()))
                .otherwise(lit(0.0));
            (e, vec![montant.clone(), column(&rule.id, "eligible"), en_paiement])
        }
        _ => (col(montant.as_str()), vec![montant.clone()]),
    };
    nodes.insert(en_jeu.clone(), (en_jeu_expr.alias(en_jeu.as_str()), en_jeu_deps));
    let manquants = column(&rule.id, "manquants");

    let (inputs, params) = inputs_and_params(rs, rule);
    Ok(CompiledRule {
        id: rule.id.clone(),
        kind: rule.kind,
        prestation: rule.prestation.clone(),
        statut,
        montant,
        has_montant: rule.has_montant,
        montant_estime: rule.has_montant.then(|| column(&rule.id, "montant_estime")),
        manquants,
        en_paiement: rule.has_en_paiement.then(|| column(&rule.id, "en_paiement")),
        conditions: rule
            .defs
            .iter()
            .filter(|d| d.role == crate::model::DefRole::Condition)
            .map(|d| column(&rule.id, &d.name))
            .collect(),
        inputs,
        params,
    })
}

/// The columns by layer: inputs are depth 0, a column is one more than its deepest
/// dependency; each layer reads only the layers before it.
fn layers(nodes: &BTreeMap<String, (Expr, Vec<String>)>) -> Vec<Vec<Expr>> {
    let mut depth: BTreeMap<String, usize> = BTreeMap::new();
    fn depth_of(
        name: &str,
        nodes: &BTreeMap<String, (Expr, Vec<String>)>,
        depth: &mut BTreeMap<String, usize>,
    ) -> usize {
        if let Some(d) = depth.get(name) {
            return *d;
        }
        let d = match nodes.get(name) {
            None => 0,
            Some((_, deps)) => 1 + deps.iter().map(|x| depth_of(x, nodes, depth)).max().unwrap_or(0),
        };
        depth.insert(name.to_string(), d);
        d
    }
    let names: Vec<String> = nodes.keys().cloned().collect();
    let mut layers: Vec<Vec<Expr>> = Vec::new();
    for name in names {
        let d = depth_of(&name, nodes, &mut depth);
        if layers.len() < d {
            layers.resize(d, Vec::new());
        }
        if let Some((expr, _)) = nodes.get(&name) {
            layers[d - 1].push(expr.clone());
        }
    }

    layers
}

/// Every parameter value the rules `ids` read, at the date each read names (from
/// `parametres`, the month whose values are in force).
fn used_params(
    ec: &ExprCompiler<'_>,
    rs: &RuleSet,
    ids: &BTreeSet<String>,
    parametres: Mois,
) -> Result<Vec<UsedParam>, CompileError> {
    let mut reads: BTreeSet<(String, Lecture)> = BTreeSet::new();
    for rule in rs.rules.iter().filter(|r| ids.contains(&r.id)) {
        for def in &rule.defs {
            if let DefBody::Expr(e, _) = &def.body {
                reads.extend(e.param_reads().into_iter().map(|(p, l)| (p.to_string(), l)));
            }
        }
    }
    // A read whose month depends on the foyer lists each value it may take, at the
    // first month it is in force.
    let reads: BTreeSet<(String, Lecture)> = reads
        .into_iter()
        .flat_map(|(id, when)| match when {
            Lecture::MoisPrecedents => ec
                .param_runs(&id)
                .into_iter()
                .map(|(a, _, _)| (id.clone(), if a == 0 { Lecture::Mois } else { Lecture::MoisPrecedent(a) }))
                .collect::<Vec<_>>(),
            when => vec![(id, when)],
        })
        .collect();
    reads
        .iter()
        .map(|(id, when)| {
            let p = &rs.params[id];
            let date = when.date(parametres);
            let value = p.at(date).cloned().ok_or_else(|| CompileError::NoValueInForce(id.clone(), parametres))?;
            Ok(UsedParam {
                id: id.clone(),
                titre: p.titre.clone(),
                unite: p.unite.clone(),
                file: p.file.clone(),
                lu_au: date.to_string(),
                value,
            })
        })
        .collect::<Result<Vec<_>, CompileError>>()
}

/// Which references a walk over definitions follows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Every definition read, of any rule, conditions included.
    Everything,
    /// Only the expressions of the first start's rule: what an amount computes (another
    /// rule's amount it reads is that rule's to explain; a condition it tests is the
    /// eligibility's).
    OwnExpressions,
}

/// Every expression read from the definitions `starts`, following references into other
/// definitions as `reach` says, each once, depth first in the order written.
pub(crate) fn reachable_exprs(rs: &RuleSet, starts: Vec<(String, String)>, reach: Reach) -> Vec<&RExpr> {
    let own = starts.first().map(|(r, _)| r.clone()).unwrap_or_default();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    // A stack: each definition's references are pushed in reverse, so popped as written.
    let mut todo: Vec<(String, String)> = starts.into_iter().rev().collect();
    let push = |todo: &mut Vec<(String, String)>, next: Vec<(String, String)>| {
        todo.extend(next.into_iter().rev().filter(|(r, _)| reach == Reach::Everything || *r == own));
    };
    while let Some((r, n)) = todo.pop() {
        if !seen.insert((r.clone(), n.clone())) {
            continue;
        }
        let Some(def) = rs.rule(&r).and_then(|x| x.def(&n)) else {
            // Derived outputs (`statut`, `montant`) read `eligible` and `montant_calcule`.
            push(&mut todo, vec![(r.clone(), "eligible".into()), (r, "montant_calcule".into())]);
            continue;
        };
        match &def.body {
            DefBody::Expr(e, _) => {
                out.push(e);
                push(&mut todo, e.defs().into_iter().map(|(r, n)| (r.to_string(), n.to_string())).collect());
            }
            _ if reach == Reach::OwnExpressions => {}
            DefBody::Toutes(cs) | DefBody::UneDe(cs) => {
                push(&mut todo, cs.iter().map(|c| (r.clone(), c.clone())).collect())
            }
            DefBody::Non(c) => push(&mut todo, vec![(r.clone(), c.clone())]),
        }
    }
    out
}

/// Situation inputs and parameters a rule reads, directly or through definitions.
fn inputs_and_params(rs: &RuleSet, rule: &crate::model::Rule) -> (BTreeSet<String>, BTreeSet<String>) {
    let starts = rule.defs.iter().map(|d| (rule.id.clone(), d.name.clone())).collect();
    let mut inputs = BTreeSet::new();
    let mut params = BTreeSet::new();
    for e in reachable_exprs(rs, starts, Reach::Everything) {
        inputs.extend(e.inputs().into_iter().map(String::from));
        params.extend(e.params().into_iter().map(String::from));
    }
    (inputs, params)
}
