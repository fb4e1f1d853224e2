//! `parametres/*.toml`: parameters with dated values, each with its source.

use std::collections::BTreeMap;
use std::ops::Range;

use super::Ctx;
use crate::date::{Date, Mois};
use crate::diag::{Diagnostics, Kind};
use crate::model::{DatedValue, ParamKind, ParamValue, Parameter, Scale};
use crate::raw::{ParamFileRaw, ParamRaw, ParamValueRaw};

/// Months between revaluations, by the name used in parameter files.
fn revaluation_months(name: &str) -> Option<Option<u32>> {
    Some(match name {
        "mensuelle" => Some(1),
        "trimestrielle" => Some(3),
        "semestrielle" => Some(6),
        "annuelle" => Some(12),
        "aucune" => None,
        _ => return None,
    })
}

pub(crate) fn check_param_file(
    ctx: Ctx<'_>,
    mois: Mois,
    params: &mut BTreeMap<String, Parameter>,
    diags: &mut Diagnostics,
) {
    let Some(raw) = ctx.parse_toml::<ParamFileRaw>(diags) else {
        return;
    };
    let namespace = ctx.path.rsplit('/').next().and_then(|f| f.strip_suffix(".toml")).unwrap_or(ctx.path).to_string();
    for (key, param) in raw {
        let key_span = key.span();
        let id = format!("{namespace}.{}", key.get_ref());
        let p = param.into_inner();
        if let Some(existing) = params.get(&id) {
            diags.push(ctx.error(
                Kind::DuplicateId,
                key_span.clone(),
                format!("parameter `{id}` is already defined in {}", existing.file),
            ));
            continue;
        }
        let Some(kind) = param_kind(ctx, &p, key_span.clone(), diags) else { continue };
        let (revalorisation_mois, mois_revalorisation) = revaluation(ctx, &p, diags);
        let revue = review(ctx, &p, diags);
        let valeurs = dated_values(ctx, &id, kind, &p, diags);
        let parameter = Parameter {
            id: id.clone(),
            titre: p.titre.into_inner(),
            unite: p.unite,
            kind,
            revalorisation_mois,
            mois_revalorisation,
            revue,
            openfisca: p.openfisca,
            description: p.description,
            valeurs,
            file: ctx.path.to_string(),
        };
        match parameter.in_force(mois) {
            None => diags.push(ctx.error(
                Kind::NoValueInForce,
                key_span.clone(),
                format!("parameter `{id}` has no value in force in {mois}"),
            )),
            Some(_) => {
                if let Some(message) = parameter.stale_at(mois) {
                    diags.push(ctx.warning(Kind::StaleParameter, key_span.clone(), message));
                }
            }
        }
        params.insert(id, parameter);
    }
}

/// The parameter's type (`nombre` when not given); `None` for an unknown one (reported).
fn param_kind(ctx: Ctx<'_>, p: &ParamRaw, key_span: Range<usize>, diags: &mut Diagnostics) -> Option<ParamKind> {
    Some(match p.kind.as_ref().map(|k| k.get_ref().as_str()) {
        None | Some("nombre") => ParamKind::Nombre,
        Some("booleen") => ParamKind::Booleen,
        Some("bareme") => ParamKind::Bareme,
        Some(other) => {
            let span = p.kind.as_ref().map_or(key_span, |k| k.span());
            diags.push(ctx.error(
                Kind::InvalidValue,
                span,
                format!("unknown parameter type `{other}` (expected nombre, booleen or bareme)"),
            ));
            return None;
        }
    })
}

/// The months between revaluations and the month of the year they fall in, as far as
/// the file gives them right.
fn revaluation(ctx: Ctx<'_>, p: &ParamRaw, diags: &mut Diagnostics) -> (Option<u32>, Option<u32>) {
    let revalorisation_mois = match &p.revalorisation {
        None => None,
        Some(r) => match revaluation_months(r.get_ref()) {
            Some(months) => months,
            None => {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    r.span(),
                    format!(
                        "unknown revaluation period `{}` (expected annuelle, semestrielle, \
                         trimestrielle, mensuelle or aucune)",
                        r.get_ref()
                    ),
                ));
                None
            }
        },
    };

    let mois_revalorisation = match &p.mois_revalorisation {
        None => None,
        Some(m) if (1..=12).contains(m.get_ref()) && revalorisation_mois.is_some() => Some(*m.get_ref() as u32),
        Some(m) => {
            let why = if revalorisation_mois.is_some() {
                "must be a month number from 1 to 12"
            } else {
                "needs a periodic `revalorisation` (annuelle, semestrielle…)"
            };
            diags.push(ctx.error(Kind::InvalidValue, m.span(), format!("`mois_revalorisation` {why}")));
            None
        }
    };
    (revalorisation_mois, mois_revalorisation)
}

/// When the parameter's text was last checked, and for how many months that holds.
fn review(ctx: Ctx<'_>, p: &ParamRaw, diags: &mut Diagnostics) -> Option<(Date, u32)> {
    match (&p.verifie_le, &p.revue_mois) {
        (None, None) => None,
        (Some(d), Some(n)) => {
            let date = match (d.get_ref().date, d.get_ref().time) {
                (Some(x), None) => Date::new(x.year as i32, x.month as u32, x.day as u32),
                _ => None,
            };
            match (date, *n.get_ref()) {
                (Some(date), n) if n > 0 => Some((date, n as u32)),
                (None, _) => {
                    diags.push(ctx.error(
                        Kind::InvalidValue,
                        d.span(),
                        "`verifie_le` must be a date such as 2026-11-30",
                    ));
                    None
                }
                _ => {
                    diags.push(ctx.error(
                        Kind::InvalidValue,
                        n.span(),
                        "`revue_mois` must be a positive number of months",
                    ));
                    None
                }
            }
        }
        (Some(d), None) => {
            diags.push(ctx.error(
                Kind::InvalidValue,
                d.span(),
                "`verifie_le` goes with `revue_mois` (months the check holds)",
            ));
            None
        }
        (None, Some(n)) => {
            diags.push(ctx.error(
                Kind::InvalidValue,
                n.span(),
                "`revue_mois` goes with `verifie_le` (when the text was checked)",
            ));
            None
        }
    }
}

/// The dated values, each read and in strictly increasing date order (one out of order
/// or dated twice is reported and left out).
fn dated_values(ctx: Ctx<'_>, id: &str, kind: ParamKind, p: &ParamRaw, diags: &mut Diagnostics) -> Vec<DatedValue> {
    let mut valeurs: Vec<DatedValue> = Vec::new();
    let mut previous: Option<Date> = None;
    for v in &p.valeurs {
        let span = v.span();
        let Some(dated) = read_value(ctx, id, kind, v.get_ref(), span.clone(), diags) else {
            continue;
        };
        if let Some(prev) = previous {
            let date_span = v.get_ref().depuis.span();
            if dated.date == prev {
                diags.push(ctx.error(
                    Kind::ValuesOutOfOrder,
                    date_span,
                    format!("parameter `{id}` has two values dated {}", dated.date),
                ));
                continue;
            } else if dated.date < prev {
                diags.push(ctx.error(
                    Kind::ValuesOutOfOrder,
                    date_span,
                    format!("values of `{id}` must be in increasing date order: {} comes after {prev}", dated.date),
                ));
                continue;
            }
        }
        previous = Some(dated.date);
        valeurs.push(dated);
    }
    valeurs
}

fn read_value(
    ctx: Ctx<'_>,
    id: &str,
    kind: ParamKind,
    v: &ParamValueRaw,
    span: std::ops::Range<usize>,
    diags: &mut Diagnostics,
) -> Option<DatedValue> {
    let d = v.depuis.get_ref();
    let date = match (d.date, d.time) {
        (Some(date), None) => Date::new(date.year as i32, date.month as u32, date.day as u32),
        _ => None,
    };
    let Some(date) = date else {
        diags.push(ctx.error(Kind::InvalidValue, v.depuis.span(), "`depuis` must be a date such as 2025-04-01"));
        return None;
    };
    let mut missing = Vec::new();
    if v.source.as_ref().is_none_or(|s| s.get_ref().trim().is_empty()) {
        missing.push("source");
    }
    if v.url.as_ref().is_none_or(|s| s.get_ref().trim().is_empty()) {
        missing.push("url");
    }
    if !missing.is_empty() {
        diags.push(ctx.error(
            Kind::MissingLegalBasis,
            span.clone(),
            format!(
                "the value of `{id}` dated {date} has no {}: every value cites its legal text",
                missing.join(" and ")
            ),
        ));
    }
    let valeur = match kind {
        ParamKind::Bareme => {
            let Some(tranches) = &v.tranches else {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    span,
                    format!("`{id}` is a bareme: each value needs `tranches`"),
                ));
                return None;
            };
            let brackets: Vec<(f64, f64)> = tranches.iter().map(|t| (t.get_ref().de, t.get_ref().valeur)).collect();
            if brackets.is_empty() || brackets.windows(2).any(|w| w[1].0 <= w[0].0) {
                diags.push(ctx.error(
                    Kind::ValuesOutOfOrder,
                    span,
                    format!("the brackets of `{id}` must be non-empty with increasing `de`"),
                ));
                return None;
            }
            ParamValue::Bareme(Scale { tranches: brackets, par_unite_au_dela: v.par_unite_au_dela })
        }
        ParamKind::Nombre | ParamKind::Booleen => {
            let value = v.valeur.as_ref();
            let parsed = match (kind, value.map(|x| x.get_ref())) {
                (ParamKind::Nombre, Some(toml::Value::Integer(i))) => Some(ParamValue::Nombre(*i as f64)),
                (ParamKind::Nombre, Some(toml::Value::Float(f))) => Some(ParamValue::Nombre(*f)),
                (ParamKind::Booleen, Some(toml::Value::Boolean(b))) => Some(ParamValue::Booleen(*b)),
                _ => None,
            };
            match parsed {
                Some(p) => p,
                None => {
                    let at = value.map_or(span, |x| x.span());
                    let expected = if kind == ParamKind::Nombre { "a number" } else { "true or false" };
                    diags.push(ctx.error(Kind::TypeMismatch, at, format!("`valeur` of `{id}` must be {expected}")));
                    return None;
                }
            }
        }
    };
    Some(DatedValue {
        depuis: date.to_string(),
        date,
        valeur,
        source: v.source.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        url: v.url.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        note: v.note.clone(),
    })
}
