//! Names, dependencies, cycles and types of every expression of every rule.
//!
//! Three passes: resolve each name and collect the dependencies between definitions;
//! order definitions (reporting cycles); type every expression in that order, so that
//! a definition's type is known before anything that uses it.

use std::collections::{BTreeMap, BTreeSet};

use super::draft::{Draft, DraftBody, DraftDef, ExprSrc};
use super::functions::BUILTIN_FUNCTIONS;
use super::{Ctx, suggest};
use crate::date::Date;
use crate::diag::{Diagnostics, Kind};
use crate::expr::{BinOp, Expr, ExprKind, UnOp};
use crate::model::{Def, DefBody, DefRole, Input, ParamKind, Parameter, Rule, SourceFile, Type};
use crate::resolved::{Func, Lecture, RExpr, RKind};

/// A definition, globally: (rule id, name).
pub(crate) type Key = (String, String);

/// Rule outputs computed by the compiler from `eligible`, `montant_calcule` and
/// `en_paiement`, which other rules may read.
const DERIVED_OUTPUTS: [&str; 3] = ["statut", "montant", "montant_en_jeu"];

enum Ref {
    Input(String),
    Def(Key),
    Param(String),
    MoisReference,
}

struct Scope<'a> {
    inputs: &'a BTreeMap<String, Input>,
    params: &'a BTreeMap<String, Parameter>,
    /// For each rule, the names it exports (its definitions and derived outputs).
    names: BTreeMap<String, BTreeSet<String>>,
}

impl Scope<'_> {
    fn resolve(&self, rule: &str, path: &[String]) -> Result<Ref, String> {
        match path {
            [name] if name == "mois_reference" => Ok(Ref::MoisReference),
            [name] => {
                if self.names.get(rule).is_some_and(|n| n.contains(name)) {
                    Ok(Ref::Def((rule.to_string(), name.clone())))
                } else if self.inputs.contains_key(name) {
                    Ok(Ref::Input(name.clone()))
                } else {
                    let local = self.names.get(rule).into_iter().flatten().map(String::as_str);
                    let hint = suggest(name, local.chain(self.inputs.keys().map(String::as_str)));
                    Err(format!("unknown name `{name}`: not a definition of this rule nor a situation input{hint}"))
                }
            }
            [first, rest @ ..] if first == "param" && !rest.is_empty() => {
                let id = rest.join(".");
                if self.params.contains_key(&id) {
                    Ok(Ref::Param(id))
                } else {
                    let hint = suggest(&id, self.params.keys().map(String::as_str));
                    Err(format!("unknown parameter `{id}`{hint}"))
                }
            }
            [other_rule, name] => match self.names.get(other_rule) {
                Some(names) if names.contains(name) => Ok(Ref::Def((other_rule.clone(), name.clone()))),
                Some(names) => {
                    let hint = suggest(name, names.iter().map(String::as_str));
                    Err(format!("rule `{other_rule}` has no `{name}`{hint}"))
                }
                None => Err(format!("unknown rule `{other_rule}` in `{}`", path.join("."))),
            },
            _ => Err(format!("unknown name `{}`", path.join("."))),
        }
    }
}

/// Where one draft's definitions live, for error positions.
struct DraftCtx<'a> {
    ctx: Ctx<'a>,
    draft: &'a Draft,
}

pub(crate) fn resolve_and_type(
    files: &[SourceFile],
    inputs: &BTreeMap<String, Input>,
    params: &BTreeMap<String, Parameter>,
    drafts: &[Draft],
    diags: &mut Diagnostics,
) -> Vec<Rule> {
    let mut scope = Scope { inputs, params, names: BTreeMap::new() };
    for d in drafts {
        let names = scope.names.entry(d.id.clone()).or_default();
        names.extend(d.defs.iter().map(|def| def.name.clone()));
        names.extend(DERIVED_OUTPUTS.iter().map(|s| s.to_string()));
    }
    let dctxs: Vec<DraftCtx> = drafts
        .iter()
        .map(|draft| {
            let src = files.iter().find(|f| f.path == draft.path).map_or("", |f| f.text.as_str());
            DraftCtx { ctx: Ctx { path: &draft.path, src }, draft }
        })
        .collect();

    // Pass 1: a local definition may not hide a situation input; collect dependencies.
    let mut deps: BTreeMap<Key, BTreeSet<Key>> = BTreeMap::new();
    for dc in &dctxs {
        let rule = &dc.draft.id;
        for def in &dc.draft.defs {
            if inputs.contains_key(&def.name) {
                diags.push(dc.ctx.error(
                    Kind::DuplicateId,
                    def.name_span.clone(),
                    format!("`{}` is a situation input: give the definition another name", def.name),
                ));
            }
            let key = (rule.clone(), def.name.clone());
            let d = def_dependencies(&scope, dc, def, diags);
            deps.insert(key, d);
        }
        for out in DERIVED_OUTPUTS {
            let mut d = BTreeSet::from([(rule.clone(), "eligible".to_string())]);
            if dc.draft.has_montant {
                d.insert((rule.clone(), "montant_calcule".to_string()));
            }
            if out == "montant_en_jeu" && dc.draft.has_en_paiement {
                d.insert((rule.clone(), "en_paiement".to_string()));
            }
            deps.insert((rule.clone(), out.to_string()), d);
        }
    }

    // Pass 2: order, reporting cycles.
    let (order, cyclic) = topological_order(&deps);
    report_cycles(&deps, &cyclic, &dctxs, diags);

    // Pass 3: types, in dependency order.
    let mut types: BTreeMap<Key, Option<Type>> = BTreeMap::new();
    let mut bodies: BTreeMap<Key, DefBody> = BTreeMap::new();
    for key in order.iter().chain(cyclic.iter()) {
        let (rule, name) = key;
        if DERIVED_OUTPUTS.contains(&name.as_str()) {
            let ty = if name == "statut" { Type::Texte } else { Type::Nombre };
            types.insert(key.clone(), Some(ty));
            continue;
        }
        let Some(dc) = dctxs.iter().find(|dc| &dc.draft.id == rule) else { continue };
        let Some(def) = dc.draft.defs.iter().find(|d| &d.name == name) else { continue };
        if cyclic.contains(key) {
            types.insert(key.clone(), None);
            continue;
        }
        let mut typer = Typer { scope: &scope, dc, types: &types, diags };
        let (ty, body) = typer.def(def);
        types.insert(key.clone(), ty);
        if let Some(body) = body {
            bodies.insert(key.clone(), body);
        }
    }

    dctxs
        .iter()
        .map(|dc| {
            let d = dc.draft;
            let defs = d
                .defs
                .iter()
                .filter_map(|def| {
                    let key = (d.id.clone(), def.name.clone());
                    let ty = types.get(&key).copied().flatten()?;
                    let body = bodies.remove(&key)?;
                    Some(Def {
                        name: def.name.clone(),
                        titre: def.titre.clone(),
                        role: def.role,
                        ty,
                        body,
                        unite: def.unite.clone(),
                        description: def.description.clone(),
                        base_legale: def.base_legale.clone(),
                    })
                })
                .collect();
            Rule {
                id: d.id.clone(),
                titre: d.titre.clone(),
                kind: d.kind,
                prestation: d.prestation.clone(),
                description: d.description.clone(),
                base_legale: d.base_legale.clone(),
                simplifications: d.simplifications.clone(),
                defs,
                fonctions: d.fonctions.clone(),
                has_montant: d.has_montant,
                versement_unique: d.versement_unique,
                has_en_paiement: d.has_en_paiement,
                tests: Vec::new(),
                file: d.path.clone(),
            }
        })
        .collect()
}

fn def_dependencies(scope: &Scope, dc: &DraftCtx, def: &DraftDef, diags: &mut Diagnostics) -> BTreeSet<Key> {
    let rule = &dc.draft.id;
    let mut out = BTreeSet::new();
    let from_expr = |src: &ExprSrc, out: &mut BTreeSet<Key>, diags: &mut Diagnostics| {
        let Some(ast) = &src.ast else { return };
        for (path, span) in ast.names() {
            match scope.resolve(rule, path) {
                Ok(Ref::Def(key)) => {
                    out.insert(key);
                }
                Ok(_) => {}
                Err(msg) => {
                    diags.push(dc.ctx.error(Kind::UnknownName, dc.ctx.sub_span(&src.span, &src.text, span), msg))
                }
            }
        }
    };
    match &def.body {
        DraftBody::Expr(src) => from_expr(src, &mut out, diags),
        DraftBody::Seuil(seuil) => {
            out.insert((rule.clone(), "montant_calcule".into()));
            if let Some(src) = seuil {
                from_expr(src, &mut out, diags);
            }
        }
        DraftBody::Toutes(children) | DraftBody::UneDe(children) => {
            for c in children {
                if let Some(key) = condition_child(dc, c, diags) {
                    out.insert(key);
                }
            }
        }
        DraftBody::Non(c) => {
            if let Some(key) = condition_child(dc, c, diags) {
                out.insert(key);
            }
        }
    }
    out
}

/// A child of `toutes` / `une_de` / `non`: a condition of the same rule.
fn condition_child(dc: &DraftCtx, child: &crate::raw::SString, diags: &mut Diagnostics) -> Option<Key> {
    let name = child.get_ref();
    match dc.draft.defs.iter().find(|d| &d.name == name) {
        Some(d) if d.role == DefRole::Condition => Some((dc.draft.id.clone(), name.clone())),
        Some(_) => {
            diags.push(dc.ctx.error(
                Kind::TypeMismatch,
                child.span(),
                format!("`{name}` is a variable: `toutes`, `une_de` and `non` combine conditions"),
            ));
            None
        }
        None => {
            let hint =
                suggest(name, dc.draft.defs.iter().filter(|d| d.role == DefRole::Condition).map(|d| d.name.as_str()));
            diags.push(dc.ctx.error(
                Kind::UnknownName,
                child.span(),
                format!("unknown condition `{name}` in rule `{}`{hint}", dc.draft.id),
            ));
            None
        }
    }
}

/// Kahn's algorithm with a sorted ready set, so the order is deterministic. Returns the
/// order and the nodes left over (on or behind a cycle).
pub(crate) fn topological_order(deps: &BTreeMap<Key, BTreeSet<Key>>) -> (Vec<Key>, BTreeSet<Key>) {
    let mut remaining: BTreeMap<&Key, usize> = BTreeMap::new();
    let mut users: BTreeMap<&Key, Vec<&Key>> = BTreeMap::new();
    for (k, ds) in deps {
        let known: Vec<&Key> = ds.iter().filter(|d| deps.contains_key(*d)).collect();
        remaining.insert(k, known.len());
        for d in known {
            users.entry(d).or_default().push(k);
        }
    }
    let mut ready: BTreeSet<&Key> = remaining.iter().filter(|(_, n)| **n == 0).map(|(k, _)| *k).collect();
    let mut order = Vec::new();
    while let Some(k) = ready.pop_first() {
        order.push(k.clone());
        for u in users.get(k).into_iter().flatten() {
            if let Some(n) = remaining.get_mut(u) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(u);
                }
            }
        }
    }
    let done: BTreeSet<&Key> = order.iter().collect();
    let left = deps.keys().filter(|k| !done.contains(k)).cloned().collect();
    (order, left)
}

/// Reports each cycle once, as the path `a → b → a`, at its first definition.
fn report_cycles(
    deps: &BTreeMap<Key, BTreeSet<Key>>,
    left: &BTreeSet<Key>,
    dctxs: &[DraftCtx],
    diags: &mut Diagnostics,
) {
    let mut reported: BTreeSet<Key> = BTreeSet::new();
    for start in left {
        if reported.contains(start) {
            continue;
        }
        // Walk from `start` inside the leftover set until a node repeats.
        let mut path: Vec<Key> = vec![start.clone()];
        let cycle = loop {
            let last = path.last().cloned().unwrap_or_else(|| start.clone());
            let Some(next) = deps.get(&last).and_then(|ds| ds.iter().find(|d| left.contains(*d))) else {
                break None;
            };
            if let Some(pos) = path.iter().position(|k| k == next) {
                break Some(path[pos..].to_vec());
            }
            path.push(next.clone());
        };
        let Some(cycle) = cycle else { continue };
        if cycle.iter().any(|k| reported.contains(k)) {
            continue;
        }
        reported.extend(cycle.iter().cloned());
        let first = cycle.iter().min().cloned().unwrap_or_else(|| start.clone());
        let rotate = cycle.iter().position(|k| *k == first).unwrap_or(0);
        let ordered: Vec<&Key> = cycle[rotate..].iter().chain(cycle[..rotate].iter()).collect();
        let shown: Vec<String> = ordered
            .iter()
            .chain(std::iter::once(&ordered[0]))
            .map(|(r, n)| if *r == first.0 { n.clone() } else { format!("{r}.{n}") })
            .collect();
        if let Some(dc) = dctxs.iter().find(|dc| dc.draft.id == first.0)
            && let Some(def) = dc.draft.defs.iter().find(|d| d.name == first.1)
        {
            diags.push(dc.ctx.error(
                Kind::Cycle,
                def.name_span.clone(),
                format!("cyclic definitions: {}", shown.join(" → ")),
            ));
        }
    }
}

struct Typer<'a, 'd> {
    scope: &'a Scope<'a>,
    dc: &'a DraftCtx<'a>,
    types: &'a BTreeMap<Key, Option<Type>>,
    diags: &'d mut Diagnostics,
}

impl Typer<'_, '_> {
    fn def(&mut self, def: &DraftDef) -> (Option<Type>, Option<DefBody>) {
        let rule = &self.dc.draft.id;
        match &def.body {
            DraftBody::Expr(src) => {
                let Some(r) = src.ast.as_ref().and_then(|ast| self.expr(src, ast)) else {
                    return (None, None);
                };
                if (def.role == DefRole::Condition || def.name == "montant_estime") && r.ty != Type::Booleen {
                    self.mismatch(
                        src,
                        src.ast.as_ref(),
                        format!("condition `{}` must be true or false, not a {}", def.name, r.ty.name()),
                    );
                    return (None, None);
                }
                // A benefit's amount and an event's amount at stake alike.
                if def.name == "montant_calcule" && r.ty != Type::Nombre {
                    let msg = format!("the amount must be a number, not a {}", r.ty.name());
                    self.mismatch(src, src.ast.as_ref(), msg);
                    return (None, None);
                }
                let ty = r.ty;
                (Some(ty), Some(DefBody::Expr(r, src.text.clone())))
            }
            DraftBody::Seuil(seuil) => {
                let calcule =
                    RExpr::new(RKind::Def { rule: rule.clone(), name: "montant_calcule".into() }, Type::Nombre);
                // A non-numeric amount is reported where it is typed (above).
                if self.types.get(&(rule.clone(), "montant_calcule".into())) != Some(&Some(Type::Nombre)) {
                    return (None, None);
                }
                let (threshold, text) = match seuil {
                    None => (RExpr::new(RKind::Nombre(0.0), Type::Nombre), "montant_calcule > 0".to_string()),
                    Some(src) => {
                        let Some(t) = src.ast.as_ref().and_then(|ast| self.expr(src, ast)) else {
                            return (None, None);
                        };
                        if t.ty != Type::Nombre {
                            self.mismatch(
                                src,
                                src.ast.as_ref(),
                                format!("the payment threshold must be a number, not a {}", t.ty.name()),
                            );
                            return (None, None);
                        }
                        (t, format!("montant_calcule >= {}", src.text))
                    }
                };
                let op = if seuil.is_some() { BinOp::Ge } else { BinOp::Gt };
                let r = RExpr::new(RKind::Binary(op, Box::new(calcule), Box::new(threshold)), Type::Booleen);
                (Some(Type::Booleen), Some(DefBody::Expr(r, text)))
            }
            DraftBody::Toutes(children) | DraftBody::UneDe(children) => {
                let names: Vec<String> = children.iter().map(|c| c.get_ref().clone()).collect();
                if names
                    .iter()
                    .any(|n| !matches!(self.types.get(&(rule.clone(), n.clone())), Some(Some(Type::Booleen))))
                {
                    return (None, None);
                }
                let body = if matches!(def.body, DraftBody::Toutes(_)) {
                    DefBody::Toutes(names)
                } else {
                    DefBody::UneDe(names)
                };
                (Some(Type::Booleen), Some(body))
            }
            DraftBody::Non(child) => {
                let name = child.get_ref().clone();
                if !matches!(self.types.get(&(rule.clone(), name.clone())), Some(Some(Type::Booleen))) {
                    return (None, None);
                }
                (Some(Type::Booleen), Some(DefBody::Non(name)))
            }
        }
    }

    fn span(&self, src: &ExprSrc, e: &Expr) -> std::ops::Range<usize> {
        self.dc.ctx.sub_span(&src.span, &src.text, &e.span)
    }

    fn mismatch(&mut self, src: &ExprSrc, at: Option<&Expr>, msg: String) {
        let span = at.map_or(src.span.clone(), |e| self.span(src, e));
        self.diags.push(self.dc.ctx.error(Kind::TypeMismatch, span, msg));
    }

    fn expect(&mut self, src: &ExprSrc, e: &Expr, r: RExpr, want: Type, what: &str) -> Option<RExpr> {
        if r.ty == want {
            Some(r)
        } else {
            self.mismatch(src, Some(e), format!("{what} must be a {}, found a {}", want.name(), r.ty.name()));
            None
        }
    }

    /// The declared values of a text operand, when it is an enumerated input or a
    /// rule's `statut`.
    fn enum_values(&self, r: &RExpr) -> Option<Vec<String>> {
        match &r.kind {
            RKind::Input(name) => self.scope.inputs.get(name)?.valeurs.clone(),
            RKind::Def { name, .. } if name == "statut" => {
                Some(["eligible", "non_eligible", "indetermine"].iter().map(|s| s.to_string()).collect())
            }
            _ => None,
        }
    }

    fn check_enum(&mut self, src: &ExprSrc, subject: &RExpr, literal: &RExpr, at: &Expr) {
        if let (Some(values), RKind::Texte(t)) = (self.enum_values(subject), &literal.kind)
            && !values.contains(t)
        {
            let span = self.span(src, at);
            self.diags.push(self.dc.ctx.error(
                Kind::UnknownValue,
                span,
                format!("\"{t}\" is not a possible value here (possible: {})", values.join(", ")),
            ));
        }
    }

    fn expr(&mut self, src: &ExprSrc, e: &Expr) -> Option<RExpr> {
        let rule = self.dc.draft.id.clone();
        match &e.kind {
            ExprKind::Number(n) => Some(RExpr::new(RKind::Nombre(*n), Type::Nombre)),
            ExprKind::Bool(b) => Some(RExpr::new(RKind::Booleen(*b), Type::Booleen)),
            ExprKind::Unknown => Some(RExpr::new(RKind::Inconnu, Type::Booleen)),
            ExprKind::Text(t) => Some(RExpr::new(RKind::Texte(t.clone()), Type::Texte)),
            ExprKind::Name(path) => match self.scope.resolve(&rule, path).ok()? {
                Ref::Input(name) => {
                    let ty = self.scope.inputs[&name].ty;
                    Some(RExpr::new(RKind::Input(name), ty))
                }
                Ref::MoisReference => Some(RExpr::new(RKind::MoisReference, Type::Date)),
                Ref::Def(key) => {
                    let ty = self.types.get(&key).copied().flatten()?;
                    Some(RExpr::new(RKind::Def { rule: key.0, name: key.1 }, ty))
                }
                Ref::Param(id) => {
                    let p = &self.scope.params[&id];
                    match p.kind {
                        ParamKind::Nombre => Some(RExpr::new(RKind::Param(id), Type::Nombre)),
                        ParamKind::Booleen => Some(RExpr::new(RKind::Param(id), Type::Booleen)),
                        ParamKind::Bareme => {
                            self.mismatch(
                                src,
                                Some(e),
                                format!("`{id}` is a bareme: read it with `bareme(param.{id}, x)`"),
                            );
                            None
                        }
                    }
                }
            },
            ExprKind::Unary(op, inner) => {
                let r = self.expr(src, inner)?;
                match op {
                    UnOp::Neg => {
                        let r = self.expect(src, inner, r, Type::Nombre, "the operand of `-`")?;
                        Some(RExpr::new(RKind::Neg(Box::new(r)), Type::Nombre))
                    }
                    UnOp::Not => {
                        let r = self.expect(src, inner, r, Type::Booleen, "the operand of `non`")?;
                        Some(RExpr::new(RKind::Not(Box::new(r)), Type::Booleen))
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                let (ra, rb) = (self.expr(src, a), self.expr(src, b));
                let (ra, rb) = (ra?, rb?);
                let op = *op;
                let sym = op.symbol();
                if op.is_arithmetic() {
                    let ra = self.expect(src, a, ra, Type::Nombre, &format!("the left operand of `{sym}`"))?;
                    let rb = self.expect(src, b, rb, Type::Nombre, &format!("the right operand of `{sym}`"))?;
                    return Some(RExpr::new(RKind::Binary(op, Box::new(ra), Box::new(rb)), Type::Nombre));
                }
                if matches!(op, BinOp::And | BinOp::Or) {
                    let ra = self.expect(src, a, ra, Type::Booleen, &format!("the left operand of `{sym}`"))?;
                    let rb = self.expect(src, b, rb, Type::Booleen, &format!("the right operand of `{sym}`"))?;
                    return Some(RExpr::new(RKind::Binary(op, Box::new(ra), Box::new(rb)), Type::Booleen));
                }
                // Comparisons.
                if ra.ty != rb.ty {
                    self.mismatch(src, Some(e), format!("cannot compare a {} with a {}", ra.ty.name(), rb.ty.name()));
                    return None;
                }
                let ordered = matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge);
                if ordered && !matches!(ra.ty, Type::Nombre | Type::Date) {
                    self.mismatch(src, Some(e), format!("`{sym}` compares numbers or dates, not a {}", ra.ty.name()));
                    return None;
                }
                self.check_enum(src, &ra, &rb, b);
                self.check_enum(src, &rb, &ra, a);
                Some(RExpr::new(RKind::Binary(op, Box::new(ra), Box::new(rb)), Type::Booleen))
            }
            ExprKind::In(subject, items) => {
                let rs = self.expr(src, subject)?;
                let mut out = Vec::new();
                for item in items {
                    let ri = self.expr(src, item)?;
                    if !matches!(ri.kind, RKind::Nombre(_) | RKind::Texte(_) | RKind::Booleen(_)) {
                        self.mismatch(src, Some(item), "the list after `dans` holds literal values".into());
                        return None;
                    }
                    let ri = self.expect(src, item, ri, rs.ty, "each value after `dans`")?;
                    self.check_enum(src, &rs, &ri, item);
                    out.push(ri);
                }
                if out.is_empty() {
                    self.mismatch(src, Some(e), "`dans` needs at least one value".into());
                    return None;
                }
                Some(RExpr::new(RKind::In(Box::new(rs), out), Type::Booleen))
            }
            ExprKind::Call(name, name_span, args) => self.call(src, e, name, name_span, args),
        }
    }

    fn call(
        &mut self,
        src: &ExprSrc,
        e: &Expr,
        name: &str,
        name_span: &std::ops::Range<usize>,
        args: &[Expr],
    ) -> Option<RExpr> {
        let arity = |n: usize| args.len() == n;
        let bad_arity = |this: &mut Self, expected: &str| this.bad_arity(src, e, name, args.len(), expected);
        match name {
            "min" | "max" => {
                if args.len() < 2 {
                    return bad_arity(self, "at least 2 arguments");
                }
                let mut rs = Vec::new();
                for a in args {
                    let r = self.expr(src, a)?;
                    rs.push(self.expect(src, a, r, Type::Nombre, &format!("each argument of `{name}`"))?);
                }
                let f = if name == "min" { Func::Min } else { Func::Max };
                Some(RExpr::new(RKind::Call(f, rs), Type::Nombre))
            }
            "si" => {
                if !arity(3) {
                    return bad_arity(self, "3 arguments (condition, alors, sinon)");
                }
                let c = self.expr(src, &args[0])?;
                let c = self.expect(src, &args[0], c, Type::Booleen, "the condition of `si`")?;
                let a = self.expr(src, &args[1])?;
                let b = self.expr(src, &args[2])?;
                let b = self.expect(src, &args[2], b, a.ty, "both branches of `si`: the `sinon` value")?;
                let ty = a.ty;
                Some(RExpr::new(RKind::Call(Func::Si, vec![c, a, b]), ty))
            }
            "arrondi" => {
                if !arity(2) {
                    return bad_arity(self, "2 arguments (value, decimals)");
                }
                let x = self.expr(src, &args[0])?;
                let x = self.expect(src, &args[0], x, Type::Nombre, "the value of `arrondi`")?;
                match args[1].kind {
                    ExprKind::Number(n) if n.fract() == 0.0 && (0.0..=6.0).contains(&n) => {
                        Some(RExpr::new(RKind::Call(Func::Arrondi(n as u32), vec![x]), Type::Nombre))
                    }
                    _ => {
                        self.mismatch(
                            src,
                            Some(&args[1]),
                            "the decimals of `arrondi` are a whole number from 0 to 6".into(),
                        );
                        None
                    }
                }
            }
            "arrondi_inf" | "arrondi_sup" | "mois_ecoules" | "mois_civil" => {
                if !arity(1) {
                    return bad_arity(self, "1 argument");
                }
                let x = self.expr(src, &args[0])?;
                let (want, f) = match name {
                    "arrondi_inf" => (Type::Nombre, Func::ArrondiInf),
                    "arrondi_sup" => (Type::Nombre, Func::ArrondiSup),
                    "mois_civil" => (Type::Date, Func::MoisCivil),
                    _ => (Type::Date, Func::MoisEcoules),
                };
                let x = self.expect(src, &args[0], x, want, &format!("the argument of `{name}`"))?;
                Some(RExpr::new(RKind::Call(f, vec![x]), Type::Nombre))
            }
            "est_connu" => {
                if !arity(1) {
                    return bad_arity(self, "1 argument");
                }
                let x = self.expr(src, &args[0])?;
                Some(RExpr::new(RKind::Call(Func::EstConnu, vec![x]), Type::Booleen))
            }
            "si_inconnu" => {
                if !arity(2) {
                    return bad_arity(self, "2 arguments (value, value if unknown)");
                }
                let x = self.expr(src, &args[0])?;
                let d = self.expr(src, &args[1])?;
                let d = self.expect(src, &args[1], d, x.ty, "the default of `si_inconnu`")?;
                let ty = x.ty;
                Some(RExpr::new(RKind::Call(Func::SiInconnu, vec![x, d]), ty))
            }
            "date" => {
                if !arity(1) {
                    return bad_arity(self, "1 argument (\"YYYY-MM-DD\")");
                }
                match &args[0].kind {
                    ExprKind::Text(t) if Date::parse(t).is_some() => {
                        Some(RExpr::new(RKind::DateLit(Date::parse(t)?), Type::Date))
                    }
                    _ => {
                        self.mismatch(src, Some(&args[0]), "`date` takes a text such as \"2025-04-01\"".into());
                        None
                    }
                }
            }
            "bareme" => {
                if !arity(2) {
                    return bad_arity(self, "2 arguments (param.x, value)");
                }
                self.bareme(src, args)
            }
            "au_1er_janvier" | "au_mois_precedent" => {
                let premier_janvier = name == "au_1er_janvier";
                if premier_janvier && !(arity(1) || arity(2)) {
                    return bad_arity(self, "1 or 2 arguments (param.x, and the years before M's year)");
                }
                if !premier_janvier && !arity(2) {
                    return bad_arity(self, "2 arguments (param.x, k)");
                }
                self.param_read(src, name, args)
            }
            _ => {
                let hint = suggest(name, BUILTIN_FUNCTIONS.iter().copied());
                let span = self.dc.ctx.sub_span(&src.span, &src.text, name_span);
                self.diags.push(self.dc.ctx.error(
                    Kind::UnknownFunction,
                    span,
                    format!("unknown function `{name}`{hint}"),
                ));
                None
            }
        }
    }

    /// A builtin called with the wrong number of arguments.
    fn bad_arity(&mut self, src: &ExprSrc, e: &Expr, name: &str, given: usize, expected: &str) -> Option<RExpr> {
        let span = self.dc.ctx.sub_span(&src.span, &src.text, &e.span);
        self.diags.push(self.dc.ctx.error(
            Kind::UnknownFunction,
            span,
            format!("`{name}` takes {expected}, given {given}"),
        ));
        None
    }

    /// The parameter `param.x` a builtin reads as its first argument, and its kind. `None`
    /// when the argument is not a parameter (reported here) or an unknown one (reported
    /// already as an unknown name).
    fn param_argument(&mut self, src: &ExprSrc, arg: &Expr, name: &str) -> Option<(String, ParamKind)> {
        let id = match &arg.kind {
            ExprKind::Name(path) if path.first().is_some_and(|p| p == "param") => path[1..].join("."),
            _ => String::new(),
        };
        match self.scope.params.get(&id).map(|p| p.kind) {
            Some(kind) => Some((id, kind)),
            None if id.is_empty() => {
                self.mismatch(src, Some(arg), format!("the first argument of `{name}` is a parameter `param.x`"));
                None
            }
            None => None,
        }
    }

    /// `bareme(param.x, value)`: the value looked up in a scale.
    fn bareme(&mut self, src: &ExprSrc, args: &[Expr]) -> Option<RExpr> {
        let (id, kind) = self.param_argument(src, &args[0], "bareme")?;
        if kind != ParamKind::Bareme {
            self.mismatch(src, Some(&args[0]), format!("`{id}` is not a bareme"));
            return None;
        }
        let x = self.expr(src, &args[1])?;
        let x = self.expect(src, &args[1], x, Type::Nombre, "the value looked up in a bareme")?;
        Some(RExpr::new(RKind::Bareme(id, Box::new(x)), Type::Nombre))
    }

    /// `au_1er_janvier(param.x[, years])` and `au_mois_precedent(param.x, k)`: a number or
    /// boolean parameter read at another date than the month's first day.
    fn param_read(&mut self, src: &ExprSrc, name: &str, args: &[Expr]) -> Option<RExpr> {
        let premier_janvier = name == "au_1er_janvier";
        let (id, kind) = self.param_argument(src, &args[0], name)?;
        let ty = match kind {
            ParamKind::Nombre => Type::Nombre,
            ParamKind::Booleen => Type::Booleen,
            ParamKind::Bareme => {
                self.mismatch(src, Some(&args[0]), format!("`{id}` is a bareme: `{name}` reads a number or a boolean"));
                return None;
            }
        };
        let when = if premier_janvier {
            // The years before M's year, a whole number written in the rule: 2
            // for the family benefits' year N-2.
            match args.get(1).map(|a| &a.kind) {
                None => Lecture::PremierJanvier(0),
                Some(ExprKind::Number(n)) if n.fract() == 0.0 && (0.0..=5.0).contains(n) => {
                    Lecture::PremierJanvier(*n as u8)
                }
                Some(_) => {
                    self.mismatch(
                        src,
                        Some(&args[1]),
                        "the second argument of `au_1er_janvier` is a whole number of years from 0 to 5".into(),
                    );
                    return None;
                }
            }
        } else {
            // The month is a whole number written in the rule (or a function's
            // argument that is one): the value is read when the rule is compiled.
            match &args[1].kind {
                ExprKind::Number(k) if k.fract() == 0.0 && (0.0..=24.0).contains(k) => Lecture::MoisPrecedent(*k as u8),
                ExprKind::Number(_) => {
                    self.mismatch(
                        src,
                        Some(&args[1]),
                        "the second argument of `au_mois_precedent` is a whole number of months from 0 to 24".into(),
                    );
                    return None;
                }
                // Computed for each foyer (the month a prime was due): read among
                // the months M … M-36 when the rule is evaluated.
                _ => {
                    let k = self.expr(src, &args[1])?;
                    let k = self.expect(src, &args[1], k, Type::Nombre, "the months of `au_mois_precedent`")?;
                    return Some(RExpr::new(RKind::ParamAuMois(id, Box::new(k)), ty));
                }
            }
        };
        Some(RExpr::new(RKind::ParamLu(id, when), ty))
    }
}
