//! Rule files, structurally: ids, kinds, conditions, legal bases, amounts.
//!
//! Expressions are parsed here (with positions) but resolved and typed in `exprs`.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::Ctx;
use super::draft::{Draft, DraftBody, DraftDef, ExprSrc, legal_bases};
use super::functions;
use super::situation::is_identifier;
use crate::diag::{Diagnostics, Kind};
use crate::expr;
use crate::model::{DefRole, LegalBasis, RESERVED_NAMES, RuleKind, Simplification, SourceFile};
use crate::raw::{ConditionRaw, MontantRaw, RuleFileRaw, SString};

fn condition_body(
    ctx: Ctx<'_>,
    name: &str,
    span: Range<usize>,
    c: &ConditionRaw,
    diags: &mut Diagnostics,
) -> Option<DraftBody> {
    let given = [c.expr.is_some(), c.toutes.is_some(), c.une_de.is_some(), c.non.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        diags.push(ctx.error(
            Kind::InvalidValue,
            span,
            format!("condition `{name}` needs exactly one of `expr`, `toutes`, `une_de` or `non`"),
        ));
        return None;
    }
    Some(if let Some(e) = &c.expr {
        DraftBody::Expr(ExprSrc::parse(ctx, e, diags))
    } else if let Some(list) = &c.toutes {
        DraftBody::Toutes(list.clone())
    } else if let Some(list) = &c.une_de {
        DraftBody::UneDe(list.clone())
    } else {
        DraftBody::Non(c.non.clone()?)
    })
}

pub(crate) fn read_rule_file(ctx: Ctx<'_>, diags: &mut Diagnostics) -> Option<Draft> {
    let raw: RuleFileRaw = ctx.parse_toml(diags)?;
    let errors_before = diags.errors().count();
    let (id, id_span) = (raw.id.get_ref().clone(), raw.id.span());
    let kind = identity(ctx, &raw, diags)?;
    let base_legale = legal_bases(ctx, &raw.base_legale, Some(("this rule", id_span.clone())), diags);
    let simplifications = simplifications(ctx, &raw, diags);

    let mut defs = named_definitions(ctx, &raw, diags);
    defs.extend(root_condition(ctx, &raw, &base_legale, diags));
    // A benefit's amount conditions its eligibility (nothing payable, no right); an
    // event's amount is what the rights it opens put at stake: the event holds whatever
    // it is, so it has no payment threshold and no `montant_versable`.
    let montant_en_jeu = kind == RuleKind::Evenement;
    let mut versement_unique = false;
    if let Some(m) = &raw.montant {
        let (amount_defs, unique) = amount_definitions(ctx, m, montant_en_jeu, diags);
        defs.extend(amount_defs);
        versement_unique = unique;
    }
    if let Some(p) = &raw.en_paiement {
        defs.push(DraftDef {
            name: "en_paiement".into(),
            name_span: p.span(),
            titre: "Un droit est en paiement pour le mois".into(),
            role: DefRole::Variable,
            body: DraftBody::Expr(ExprSrc::parse(ctx, p, diags)),
            unite: None,
            description: None,
            base_legale: Vec::new(),
        });
    }
    let has_montant = raw.montant.is_some();
    defs.push(eligible(raw.eligibilite.span(), has_montant && !montant_en_jeu, &base_legale));

    // Calls to the rule's functions are expanded before names are resolved.
    let funcs = functions::read(ctx, &raw.fonctions, diags);
    for def in &mut defs {
        match &mut def.body {
            DraftBody::Expr(src) | DraftBody::Seuil(Some(src)) => functions::inline_calls(ctx, src, &funcs, diags),
            _ => {}
        }
    }

    if diags.errors().count() > errors_before && defs.is_empty() {
        return None;
    }
    Some(Draft {
        path: ctx.path.to_string(),
        id,
        id_span,
        titre: raw.titre.get_ref().clone(),
        kind,
        prestation: raw.prestation.as_ref().map(|p| p.get_ref().clone()),
        description: raw.description.clone(),
        base_legale,
        simplifications,
        defs,
        fonctions: funcs.into_values().map(|f| f.doc).collect(),
        has_montant,
        versement_unique,
        has_en_paiement: raw.en_paiement.is_some(),
        situation_de_base: raw.situation_de_base,
        tests: raw.tests,
    })
}

/// The rule's id (an identifier, its file's name) and its kind; a benefit's rule names
/// its benefit and when a right is in payment. `None` for an unknown kind.
fn identity(ctx: Ctx<'_>, raw: &RuleFileRaw, diags: &mut Diagnostics) -> Option<RuleKind> {
    let id = raw.id.get_ref();
    let id_span = raw.id.span();
    if !is_identifier(id) || id == "param" {
        diags.push(ctx.error(Kind::InvalidValue, id_span.clone(), format!("invalid rule id `{id}`")));
    }
    let stem = ctx.path.rsplit('/').next().and_then(|f| f.strip_suffix(".toml")).unwrap_or("");
    if stem != id {
        diags.push(ctx.error(
            Kind::InvalidValue,
            id_span.clone(),
            format!("rule id `{id}` must be its file name (`{id}.toml`), so auditors find it"),
        ));
    }
    let kind = match raw.kind.get_ref().as_str() {
        "prestation" => RuleKind::Prestation,
        "evenement" => RuleKind::Evenement,
        other => {
            diags.push(ctx.error(
                Kind::InvalidValue,
                raw.kind.span(),
                format!("unknown rule type `{other}` (expected prestation or evenement)"),
            ));
            return None;
        }
    };
    if kind == RuleKind::Prestation {
        if raw.prestation.is_none() {
            diags.push(ctx.error(
                Kind::InvalidValue,
                id_span.clone(),
                "a prestation rule names its benefit code in `prestation`",
            ));
        }
        if raw.en_paiement.is_none() {
            diags.push(ctx.error(
                Kind::InvalidValue,
                id_span,
                "a prestation rule says in `en_paiement` when a right is in payment",
            ));
        }
    }
    Some(kind)
}

/// The simplifications the rule states, each with a known effect.
fn simplifications(ctx: Ctx<'_>, raw: &RuleFileRaw, diags: &mut Diagnostics) -> Vec<Simplification> {
    raw.simplifications
        .iter()
        .filter_map(|s| {
            let s = s.get_ref();
            let effet = s.effet.get_ref().as_str();
            if !["surestimation", "sous-estimation", "indetermine"].contains(&effet) {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    s.effet.span(),
                    format!("unknown effect `{effet}` (expected surestimation, sous-estimation or indetermine)"),
                ));
                return None;
            }
            Some(Simplification { texte: s.texte.get_ref().clone(), effet: effet.to_string() })
        })
        .collect()
}

/// The variables and conditions the file names, in file order whichever table they are
/// in; a name that is invalid, reserved or given twice is reported and left out.
fn named_definitions(ctx: Ctx<'_>, raw: &RuleFileRaw, diags: &mut Diagnostics) -> Vec<DraftDef> {
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut declare = |name: &SString, diags: &mut Diagnostics| -> bool {
        let n = name.get_ref();
        if !is_identifier(n) {
            diags.push(ctx.error(
                Kind::InvalidValue,
                name.span(),
                format!("invalid name `{n}`: lowercase letters, digits and `_`"),
            ));
            return false;
        }
        if RESERVED_NAMES.contains(&n.as_str()) {
            diags.push(ctx.error(
                Kind::DuplicateId,
                name.span(),
                format!("`{n}` is defined by every rule and cannot be redefined"),
            ));
            return false;
        }
        if seen.insert(n.clone(), name.span()).is_some() {
            diags.push(ctx.error(Kind::DuplicateId, name.span(), format!("`{n}` is defined twice in this rule")));
            return false;
        }
        true
    };
    let mut entries: Vec<(usize, DraftDef)> = Vec::new();
    for (name, v) in &raw.variables {
        if !declare(name, diags) {
            continue;
        }
        let v_span = v.span();
        let v = v.get_ref();
        entries.push((
            v_span.start,
            DraftDef {
                name: name.get_ref().clone(),
                name_span: name.span(),
                titre: v.titre.get_ref().clone(),
                role: DefRole::Variable,
                body: DraftBody::Expr(ExprSrc::parse(ctx, &v.expr, diags)),
                unite: v.unite.clone(),
                description: v.description.clone(),
                base_legale: legal_bases(ctx, &v.base_legale, None, diags),
            },
        ));
    }
    for (name, c) in &raw.conditions {
        if !declare(name, diags) {
            continue;
        }
        let c_span = c.span();
        let c = c.get_ref();
        let n = name.get_ref();
        let Some(titre) = &c.titre else {
            diags.push(ctx.error(Kind::InvalidValue, name.span(), format!("condition `{n}` needs a `titre`")));
            continue;
        };
        let what = format!("condition `{n}`");
        let base = legal_bases(ctx, &c.base_legale, Some((&what, name.span())), diags);
        let Some(body) = condition_body(ctx, n, name.span(), c, diags) else { continue };
        entries.push((
            c_span.start,
            DraftDef {
                name: n.clone(),
                name_span: name.span(),
                titre: titre.get_ref().clone(),
                role: DefRole::Condition,
                body,
                unite: None,
                description: c.description.clone(),
                base_legale: base,
            },
        ));
    }
    entries.sort_by_key(|(start, _)| *start);
    entries.into_iter().map(|(_, d)| d).collect()
}

/// The root condition `eligibilite`; it cites the rule's bases unless it has its own.
fn root_condition(
    ctx: Ctx<'_>,
    raw: &RuleFileRaw,
    rule_bases: &[LegalBasis],
    diags: &mut Diagnostics,
) -> Option<DraftDef> {
    let e = raw.eligibilite.get_ref();
    let e_span = raw.eligibilite.span();
    let own = legal_bases(ctx, &e.base_legale, None, diags);
    let body = condition_body(ctx, "eligibilite", e_span.clone(), e, diags)?;
    Some(DraftDef {
        name: "eligibilite".into(),
        name_span: e_span,
        titre: e
            .titre
            .as_ref()
            .map_or_else(|| format!("Conditions : {}", raw.titre.get_ref()), |t| t.get_ref().clone()),
        role: DefRole::Condition,
        body,
        unite: None,
        description: e.description.clone(),
        base_legale: if own.is_empty() { rule_bases.to_vec() } else { own },
    })
}

/// The definitions an amount brings: `montant_calcule`, `montant_versable` (a benefit's
/// payment threshold; an event has none: `montant_en_jeu`) and `montant_estime`; and
/// whether the amount is paid once.
fn amount_definitions(
    ctx: Ctx<'_>,
    m: &Spanned<MontantRaw>,
    montant_en_jeu: bool,
    diags: &mut Diagnostics,
) -> (Vec<DraftDef>, bool) {
    let span = m.span();
    let m = m.get_ref();
    let mut defs = Vec::new();
    let mut versement_unique = false;
    let base = legal_bases(ctx, &m.base_legale, Some(("the amount (`montant`)", span.clone())), diags);
    if montant_en_jeu && (m.seuil_versement.is_some() || m.estimation.is_some()) {
        diags.push(ctx.error(
            Kind::InvalidValue,
            span.clone(),
            "an event's amount is the amount at stake of the rights it opens: it has no `seuil_versement` \
             or `estimation` (the benefits' rules have them)",
        ));
    }
    if let Some(v) = &m.versement {
        match v.get_ref().as_str() {
            "mensuel" => {}
            "unique" if !montant_en_jeu => versement_unique = true,
            "unique" => diags.push(ctx.error(
                Kind::InvalidValue,
                v.span(),
                "an event's amount is the monthly amount at stake of the rights it opens: it is not paid once",
            )),
            other => diags.push(ctx.error(
                Kind::InvalidValue,
                v.span(),
                format!("unknown `versement` `{other}` (expected mensuel or unique)"),
            )),
        }
    }
    let default_titre = match (montant_en_jeu, versement_unique) {
        (true, _) => "Montant mensuel en jeu",
        (false, true) => "Montant calculé (versement unique)",
        (false, false) => "Montant mensuel calculé",
    };
    defs.push(DraftDef {
        name: "montant_calcule".into(),
        name_span: m.expr.span(),
        titre: m.titre.as_ref().map_or(default_titre.into(), |t| t.get_ref().clone()),
        role: DefRole::Variable,
        body: DraftBody::Expr(ExprSrc::parse(ctx, &m.expr, diags)),
        unite: Some(if versement_unique { "€" } else { "€/mois" }.into()),
        description: m.description.clone(),
        base_legale: base.clone(),
    });
    let seuil = m.seuil_versement.as_ref().map(|s| ExprSrc::parse(ctx, s, diags));
    if !montant_en_jeu {
        defs.push(DraftDef {
            name: "montant_versable".into(),
            name_span: m.seuil_versement.as_ref().map_or(span.clone(), |s| s.span()),
            titre: if seuil.is_some() {
                "Le montant calculé atteint le seuil de versement".into()
            } else {
                "Le montant calculé est positif".into()
            },
            role: DefRole::Condition,
            body: DraftBody::Seuil(seuil),
            unite: None,
            description: None,
            base_legale: base.clone(),
        });
    }
    // Whether the amount is an estimate: `estimation.si`, or never.
    let (titre, body, name_span) = match &m.estimation {
        Some(est) => {
            let e = est.get_ref();
            (e.titre.get_ref().clone(), DraftBody::Expr(ExprSrc::parse(ctx, &e.si, diags)), e.si.span())
        }
        None => (
            "Le montant n'est pas une estimation".to_string(),
            DraftBody::Expr(ExprSrc { text: "faux".into(), span: span.clone(), ast: expr::parse("faux").ok() }),
            span,
        ),
    };
    defs.push(DraftDef {
        name: "montant_estime".into(),
        name_span,
        titre,
        role: DefRole::Variable,
        body,
        unite: None,
        description: None,
        base_legale: base,
    });
    (defs, versement_unique)
}

/// The rule's root, `eligible`: its conditions, and for a payable amount (a benefit's),
/// that the amount reaches the payment threshold.
fn eligible(span: Range<usize>, payable: bool, rule_bases: &[LegalBasis]) -> DraftDef {
    let root_children = if payable { vec!["eligibilite", "montant_versable"] } else { vec!["eligibilite"] };
    DraftDef {
        name: "eligible".into(),
        name_span: span.clone(),
        titre: if payable { "Éligible, pour un montant versable".into() } else { "Conditions remplies".into() },
        role: DefRole::Condition,
        body: DraftBody::Toutes(root_children.into_iter().map(|c| Spanned::new(span.clone(), c.to_string())).collect()),
        unite: None,
        description: None,
        base_legale: rule_bases.to_vec(),
    }
}

/// Two rule files with the same id: the second is reported.
pub(crate) fn check_duplicate_ids(drafts: &[Draft], files: &[SourceFile], diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for d in drafts {
        if let Some(first) = seen.insert(&d.id, &d.path) {
            let src = files.iter().find(|f| f.path == d.path).map_or("", |f| f.text.as_str());
            let ctx = Ctx { path: &d.path, src };
            diags.push(ctx.error(
                Kind::DuplicateId,
                d.id_span.clone(),
                format!("rule id `{}` is already used by {first}", d.id),
            ));
        }
    }
}
