//! Test cases written in rule files: known inputs, valid months and statuses.

use std::collections::BTreeMap;

use super::draft::Draft;
use super::{Ctx, suggest};
use crate::date::{Date, Mois};
use crate::diag::{Diagnostics, Kind};
use crate::model::{DefRole, Input, Rule, SourceFile, Statut, TestCase, Type, Value};
use crate::raw::SString;
use toml::Spanned;

/// A test value written `"inconnu"` is explicitly unknown (TOML has no null), which
/// lets a case override a value of `situation_de_base` with "unknown".
pub const UNKNOWN_MARKER: &str = "inconnu";

/// Converts a TOML value to a situation value of the input's type.
fn to_value(input: &Input, v: &toml::Value) -> Result<Value, String> {
    if matches!(v, toml::Value::String(s) if s == UNKNOWN_MARKER) {
        return Ok(Value::Inconnu);
    }
    let got = match v {
        toml::Value::Integer(_) | toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::String(_) => "a text",
        toml::Value::Datetime(_) => "a date",
        _ => "a table or list",
    };
    let value = match (input.ty, v) {
        (Type::Nombre, toml::Value::Integer(i)) => Value::Nombre(*i as f64),
        (Type::Nombre, toml::Value::Float(f)) => Value::Nombre(*f),
        (Type::Booleen, toml::Value::Boolean(b)) => Value::Booleen(*b),
        (Type::Texte, toml::Value::String(s)) => {
            if let Some(values) = &input.valeurs
                && !values.contains(s)
            {
                return Err(format!("\"{s}\" is not a value of `{}` (possible: {})", input.name, values.join(", ")));
            }
            Value::Texte(s.clone())
        }
        (Type::Date, toml::Value::Datetime(d)) => match (d.date, d.time) {
            (Some(date), None) => Value::Date(
                Date::new(date.year as i32, date.month as u32, date.day as u32).ok_or("invalid date")?.to_string(),
            ),
            _ => return Err("a date input takes a date such as 2025-04-01".into()),
        },
        (Type::Date, toml::Value::String(s)) if Date::parse(s).is_some() => Value::Date(s.clone()),
        _ => return Err(format!("`{}` is a {} input, given {got}", input.name, input.ty.name())),
    };
    Ok(value)
}

fn read_situation(
    ctx: Ctx<'_>,
    inputs: &BTreeMap<String, Input>,
    raw: &BTreeMap<SString, toml::Spanned<toml::Value>>,
    out: &mut BTreeMap<String, Value>,
    diags: &mut Diagnostics,
) {
    // A family name (`ressources_m{k}_foyer`) sets every input of the family; a name of
    // one of them, given too, overrides it (families are read first).
    let is_family = |name: &str| inputs.values().any(|i| i.famille.as_deref() == Some(name));
    let (families, single): (Vec<_>, Vec<_>) = raw.iter().partition(|(name, _)| is_family(name.get_ref()));
    for (name, value) in families.into_iter().chain(single) {
        let family: Vec<&Input> = inputs.values().filter(|i| i.famille.as_deref() == Some(name.get_ref())).collect();
        if !family.is_empty() {
            for input in family {
                match to_value(input, value.get_ref()) {
                    Ok(v) => {
                        out.insert(input.name.clone(), v);
                    }
                    Err(msg) => diags.push(ctx.error(Kind::TypeMismatch, value.span(), msg)),
                }
            }
            continue;
        }
        let Some(input) = inputs.get(name.get_ref()) else {
            let hint = suggest(name.get_ref(), inputs.keys().map(String::as_str));
            diags.push(ctx.error(
                Kind::UnknownTestInput,
                name.span(),
                format!("`{}` is not a situation input{hint}", name.get_ref()),
            ));
            continue;
        };
        match to_value(input, value.get_ref()) {
            Ok(v) => {
                out.insert(name.get_ref().clone(), v);
            }
            Err(msg) => {
                let kind = if msg.contains("is not a value of") { Kind::UnknownValue } else { Kind::TypeMismatch };
                diags.push(ctx.error(kind, value.span(), msg));
            }
        }
    }
}

/// Checks every draft's test cases and attaches them to the rules.
pub(crate) fn check_tests_of(
    files: &[SourceFile],
    inputs: &BTreeMap<String, Input>,
    drafts: &[Draft],
    mut rules: Vec<Rule>,
    diags: &mut Diagnostics,
) -> Vec<Rule> {
    for rule in &mut rules {
        let Some(draft) = drafts.iter().find(|d| d.id == rule.id) else { continue };
        let src = files.iter().find(|f| f.path == draft.path).map_or("", |f| f.text.as_str());
        let ctx = Ctx { path: &draft.path, src };
        let mut base = BTreeMap::new();
        read_situation(ctx, inputs, &draft.situation_de_base, &mut base, diags);
        for t in &draft.tests {
            let span = t.span();
            let t = t.get_ref();
            let Some(mois) = Mois::parse(t.mois.get_ref()) else {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    t.mois.span(),
                    format!("invalid month `{}` (expected YYYY-MM)", t.mois.get_ref()),
                ));
                continue;
            };
            let Some(statut) = Statut::parse(t.statut.get_ref()) else {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    t.statut.span(),
                    format!("unknown status `{}` (expected eligible, non_eligible or indetermine)", t.statut.get_ref()),
                ));
                continue;
            };
            let mut situation = base.clone();
            read_situation(ctx, inputs, &t.situation, &mut situation, diags);
            let conditions = expected_defs(ctx, rule, &t.conditions, DefRole::Condition, diags);
            let variables = expected_defs(ctx, rule, &t.variables, DefRole::Variable, diags);
            let mut manquants = None;
            if let Some(list) = &t.manquants {
                for m in list {
                    if !inputs.contains_key(m.get_ref()) {
                        diags.push(ctx.error(
                            Kind::UnknownTestInput,
                            m.span(),
                            format!("`{}` is not a situation input", m.get_ref()),
                        ));
                    }
                }
                let mut names: Vec<String> = list.iter().map(|m| m.get_ref().clone()).collect();
                names.sort();
                manquants = Some(names);
            }
            if (t.montant.is_some() || t.montant_estime.is_some()) && !rule.has_montant {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    span.clone(),
                    format!("rule `{}` computes no amount", rule.id),
                ));
            }
            rule.tests.push(TestCase {
                nom: t.nom.get_ref().clone(),
                mois,
                situation,
                statut,
                montant: t.montant.as_ref().map(|m| *m.get_ref()),
                montant_estime: t.montant_estime.as_ref().map(|m| *m.get_ref()),
                tolerance: t.tolerance.unwrap_or(0.01),
                source: t.source.clone(),
                conditions,
                variables,
                manquants,
                line: crate::diag::line_col(src, span.start).0,
            });
        }
    }
    rules
}

/// The expected values a test gives for definitions of `role` (conditions or
/// variables) of its own rule; a name that is not one is reported.
fn expected_defs<T: Copy>(
    ctx: Ctx<'_>,
    rule: &Rule,
    given: &BTreeMap<SString, Spanned<T>>,
    role: DefRole,
    diags: &mut Diagnostics,
) -> BTreeMap<String, T> {
    let what = if role == DefRole::Condition { "condition" } else { "variable" };
    let mut out = BTreeMap::new();
    for (name, value) in given {
        match rule.def(name.get_ref()) {
            Some(d) if d.role == role => {
                out.insert(name.get_ref().clone(), *value.get_ref());
            }
            _ => diags.push(ctx.error(
                Kind::UnknownName,
                name.span(),
                format!("`{}` is not a {what} of rule `{}`", name.get_ref(), rule.id),
            )),
        }
    }
    out
}
