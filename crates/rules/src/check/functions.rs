//! Functions of a rule file (`[fonctions.<name>]`): a named expression with parameters,
//! for a computation the law repeats (the prime of each of three reference months, the
//! bonus of each earner). A call is expanded inline before names are resolved, so a
//! function adds no column and nothing downstream (types, unknowns, compilation) needs
//! to know about it: `f(a, b)` is exactly its body with `a` and `b` put in place of the
//! parameters.
//!
//! Inside a body, a name that is not a parameter means what it means anywhere in the
//! rule (an input, a definition of the rule, another rule's output, a parameter). Errors
//! found after expansion (an unknown name, a type) point at the call.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use super::Ctx;
use super::draft::{ExprSrc, legal_bases};
use super::situation::is_identifier;
use crate::diag::{Diagnostics, Kind};
use crate::expr::{Expr, ExprKind, Span};
use crate::model::Fonction;
use crate::raw::{FonctionRaw, SString};

/// The functions of the language itself; a rule's function may not take their names.
pub(crate) const BUILTIN_FUNCTIONS: [&str; 14] = [
    "min",
    "max",
    "si",
    "arrondi",
    "arrondi_inf",
    "arrondi_sup",
    "mois_ecoules",
    "mois_civil",
    "est_connu",
    "si_inconnu",
    "date",
    "bareme",
    "au_1er_janvier",
    "au_mois_precedent",
];

/// A function as read, its body expanded once every function it calls is.
pub(crate) struct Function {
    pub doc: Fonction,
    params: Vec<String>,
    src: ExprSrc,
}

/// Reads and checks the functions of a rule file, expands the calls between them
/// (reporting cycles), and returns them by name.
pub(crate) fn read(
    ctx: Ctx<'_>,
    raw: &BTreeMap<SString, Spanned<FonctionRaw>>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Function> {
    let mut out = BTreeMap::new();
    for (name, f) in raw {
        let n = name.get_ref();
        if !is_identifier(n) || BUILTIN_FUNCTIONS.contains(&n.as_str()) {
            let why = if is_identifier(n) { "is a function of the language" } else { "is not a valid name" };
            diags.push(ctx.error(Kind::InvalidValue, name.span(), format!("function name `{n}` {why}")));
            continue;
        }
        let f = f.get_ref();
        let mut params: Vec<String> = Vec::new();
        for p in &f.parametres {
            let pn = p.get_ref();
            if !is_identifier(pn) || pn == "param" {
                diags.push(ctx.error(Kind::InvalidValue, p.span(), format!("invalid parameter name `{pn}`")));
            } else if params.contains(pn) {
                diags.push(ctx.error(Kind::DuplicateId, p.span(), format!("parameter `{pn}` is given twice")));
            } else {
                params.push(pn.clone());
            }
        }
        let src = ExprSrc::parse(ctx, &f.expr, diags);
        if let Some(ast) = &src.ast {
            let used: BTreeSet<&str> =
                ast.names().into_iter().filter(|(path, _)| path.len() == 1).map(|(path, _)| path[0].as_str()).collect();
            for p in f.parametres.iter().filter(|p| !used.contains(p.get_ref().as_str())) {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    p.span(),
                    format!("parameter `{}` is not used in the body of `{n}`", p.get_ref()),
                ));
            }
        }
        let doc = Fonction {
            name: n.clone(),
            titre: f.titre.get_ref().clone(),
            parametres: params.clone(),
            expr: src.text.clone(),
            description: f.description.clone(),
            base_legale: legal_bases(ctx, &f.base_legale, None, diags),
        };
        out.insert(n.clone(), Function { doc, params, src });
    }
    expand_bodies(ctx, &mut out, diags);
    out
}

/// Expands, in every function body, the calls to other functions, in an order where a
/// callee is expanded before its callers. A function in a cycle keeps no body.
fn expand_bodies(ctx: Ctx<'_>, funcs: &mut BTreeMap<String, Function>, diags: &mut Diagnostics) {
    let calls = |f: &Function| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(ast) = &f.src.ast {
            called(ast, &mut out);
        }
        out.into_iter().filter(|c| funcs.contains_key(c)).collect()
    };
    let mut pending: BTreeMap<String, BTreeSet<String>> = funcs.iter().map(|(n, f)| (n.clone(), calls(f))).collect();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !pending.contains_key(d)))
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            for name in pending.keys() {
                let span = funcs[name].src.span.clone();
                diags.push(ctx.error(Kind::Cycle, span, format!("function `{name}` calls itself, directly or not")));
                if let Some(f) = funcs.get_mut(name) {
                    f.src.ast = None;
                }
            }
            return;
        }
        for name in ready {
            pending.remove(&name);
            let Some(mut src) = funcs.get(&name).map(|f| f.src.clone()) else { continue };
            inline_calls(ctx, &mut src, funcs, diags);
            if let Some(f) = funcs.get_mut(&name) {
                f.src = src;
            }
        }
    }
}

/// The names of the functions `e` calls.
fn called(e: &Expr, out: &mut BTreeSet<String>) {
    e.walk(&mut |x| {
        if let ExprKind::Call(name, _, _) = &x.kind {
            out.insert(name.clone());
        }
    });
}

/// Replaces, in `src`, every call to one of `funcs` by the function's body.
pub(crate) fn inline_calls(
    ctx: Ctx<'_>,
    src: &mut ExprSrc,
    funcs: &BTreeMap<String, Function>,
    diags: &mut Diagnostics,
) {
    if funcs.is_empty() {
        return;
    }
    if let Some(ast) = src.ast.take() {
        let at = Where { ctx, span: &src.span, text: &src.text };
        src.ast = inline(&ast, funcs, &at, diags);
    }
}

/// The expression being expanded, to locate errors in its file.
struct Where<'a> {
    ctx: Ctx<'a>,
    span: &'a Range<usize>,
    text: &'a str,
}

fn inline(e: &Expr, funcs: &BTreeMap<String, Function>, at: &Where, diags: &mut Diagnostics) -> Option<Expr> {
    let go = |x: &Expr, diags: &mut Diagnostics| inline(x, funcs, at, diags).map(Box::new);
    let kind = match &e.kind {
        ExprKind::Call(name, name_span, args) => {
            let args = args.iter().map(|a| go(a, diags).map(|b| *b)).collect::<Option<Vec<_>>>()?;
            match funcs.get(name) {
                None => ExprKind::Call(name.clone(), name_span.clone(), args),
                Some(f) => {
                    if args.len() != f.params.len() {
                        let span = at.ctx.sub_span(at.span, at.text, name_span);
                        diags.push(at.ctx.error(
                            Kind::UnknownFunction,
                            span,
                            format!(
                                "`{name}` takes {} argument(s) ({}), given {}",
                                f.params.len(),
                                f.params.join(", "),
                                args.len()
                            ),
                        ));
                        return None;
                    }
                    // A body that did not parse was reported where it is written.
                    let body = f.src.ast.as_ref()?;
                    return Some(substitute(body, &f.params, &args, &e.span));
                }
            }
        }
        ExprKind::Unary(op, x) => ExprKind::Unary(*op, go(x, diags)?),
        ExprKind::Binary(op, a, b) => ExprKind::Binary(*op, go(a, diags)?, go(b, diags)?),
        ExprKind::In(x, items) => {
            let items = items.iter().map(|i| go(i, diags).map(|b| *b)).collect::<Option<Vec<_>>>()?;
            ExprKind::In(go(x, diags)?, items)
        }
        other => other.clone(),
    };
    Some(Expr { kind, span: e.span.clone() })
}

/// The body with each parameter replaced by its argument; the body's own nodes take the
/// span of the call, so that an error inside them points at the call.
fn substitute(body: &Expr, params: &[String], args: &[Expr], call: &Span) -> Expr {
    let sub = |x: &Expr| Box::new(substitute(x, params, args, call));
    let kind = match &body.kind {
        ExprKind::Name(path) if path.len() == 1 => {
            if let Some(i) = params.iter().position(|p| p == &path[0]) {
                return args[i].clone();
            }
            body.kind.clone()
        }
        ExprKind::Call(name, _, a) => {
            ExprKind::Call(name.clone(), call.clone(), a.iter().map(|x| substitute(x, params, args, call)).collect())
        }
        ExprKind::Unary(op, x) => ExprKind::Unary(*op, sub(x)),
        ExprKind::Binary(op, a, b) => ExprKind::Binary(*op, sub(a), sub(b)),
        ExprKind::In(x, items) => {
            ExprKind::In(sub(x), items.iter().map(|i| substitute(i, params, args, call)).collect())
        }
        other => other.clone(),
    };
    Expr { kind, span: call.clone() }
}
