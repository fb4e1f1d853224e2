//! `situation.toml`: the declared situation inputs.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::{Diagnostics, Kind};
use crate::model::{Input, Type};
use crate::raw::SituationFileRaw;

/// The placeholder of a family of inputs, one per month offset.
const MOIS_K: &str = "{k}";

pub(crate) fn check_situation(ctx: Ctx<'_>, diags: &mut Diagnostics) -> BTreeMap<String, Input> {
    let mut inputs = BTreeMap::new();
    let Some(raw) = ctx.parse_toml::<SituationFileRaw>(diags) else {
        return inputs;
    };
    for (name, decl) in raw {
        let span = name.span();
        let name = name.into_inner();
        let decl = decl.into_inner();
        // A family (`ressources_m{k}_foyer` with `mois = [1, 2]`) declares one input per month.
        let offsets: Vec<Option<u32>> = match (&decl.mois, name.contains(MOIS_K)) {
            (None, false) => vec![None],
            (Some(m), true) if !m.get_ref().is_empty() => m.get_ref().iter().map(|k| Some(*k)).collect(),
            (Some(m), false) => {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    m.span(),
                    format!("input `{name}` lists `mois` but its name has no `{{k}}` to put them in"),
                ));
                continue;
            }
            (_, true) => {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    span,
                    format!("input family `{name}` needs `mois = [1, 2, …]`, the month offsets it declares"),
                ));
                continue;
            }
        };
        let Some(ty) = Type::parse(decl.kind.get_ref()) else {
            diags.push(ctx.error(
                Kind::InvalidValue,
                decl.kind.span(),
                format!("unknown type `{}` (expected nombre, booleen, date or texte)", decl.kind.get_ref()),
            ));
            continue;
        };
        if decl.valeurs.is_some() && ty != Type::Texte {
            diags.push(ctx.error(
                Kind::InvalidValue,
                span.clone(),
                format!("input `{name}` lists `valeurs` but is not of type texte"),
            ));
        }
        for k in offsets {
            let fill = |s: &str| k.map_or_else(|| s.to_string(), |k| s.replace(MOIS_K, &k.to_string()));
            let one = fill(&name);
            if !is_identifier(&one) {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    span.clone(),
                    format!("input name `{one}` must be lowercase letters, digits and `_`"),
                ));
                break;
            }
            if inputs.contains_key(&one) {
                diags.push(ctx.error(Kind::DuplicateId, span.clone(), format!("input `{one}` is declared twice")));
                continue;
            }
            inputs.insert(
                one.clone(),
                Input {
                    name: one,
                    ty,
                    titre: fill(decl.titre.get_ref()),
                    unite: decl.unite.clone(),
                    description: decl.description.as_deref().map(fill),
                    valeurs: decl.valeurs.clone(),
                    famille: k.map(|_| name.clone()),
                },
            );
        }
    }
    inputs
}

/// `[a-z_][a-z0-9_]*`: the names rules may use without accents or spaces.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
