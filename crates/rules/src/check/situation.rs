//! `situation.toml`: the declared situation inputs.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::{Diagnostics, Kind};
use crate::model::{Input, Type};
use crate::raw::SituationFileRaw;

pub(crate) fn check_situation(ctx: Ctx<'_>, diags: &mut Diagnostics) -> BTreeMap<String, Input> {
    let mut inputs = BTreeMap::new();
    let Some(raw) = ctx.parse_toml::<SituationFileRaw>(diags) else {
        return inputs;
    };
    for (name, decl) in raw {
        let span = name.span();
        let name = name.into_inner();
        if !is_identifier(&name) {
            diags.push(ctx.error(
                Kind::InvalidValue,
                span,
                format!("input name `{name}` must be lowercase letters, digits and `_`"),
            ));
            continue;
        }
        let decl = decl.into_inner();
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
        inputs.insert(
            name.clone(),
            Input {
                name,
                ty,
                titre: decl.titre.into_inner(),
                unite: decl.unite,
                description: decl.description,
                valeurs: decl.valeurs,
            },
        );
    }
    inputs
}

/// `[a-z_][a-z0-9_]*`: the names rules may use without accents or spaces.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
