//! `campagnes/<id>.toml`: outbound contact campaigns. Checked against the rules they
//! name, with file:line:column diagnostics like every other rule-language file.

use std::collections::{BTreeMap, BTreeSet};

use super::situation::is_identifier;
use super::{Ctx, suggest};
use crate::diag::{Diagnostics, Kind};
use crate::model::{CANAUX, Campagne, Rule};
use crate::raw::CampagneRaw;

/// Reads one campaign file; `None` when it has errors (reported in `diags`).
pub(crate) fn read_campaign(ctx: Ctx<'_>, rules: &[Rule], diags: &mut Diagnostics) -> Option<Campagne> {
    let raw: CampagneRaw = ctx.parse_toml(diags)?;
    let errors_before = diags.errors().count();
    let id = raw.id.get_ref().clone();
    let stem = ctx.path.rsplit('/').next().and_then(|f| f.strip_suffix(".toml")).unwrap_or("");
    if !is_identifier(&id) || stem != id {
        diags.push(ctx.error(
            Kind::InvalidValue,
            raw.id.span(),
            format!("campaign id `{id}` must be a lowercase identifier and its file name (`{id}.toml`)"),
        ));
    }

    let known: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let mut regles = Vec::new();
    if raw.regles.get_ref().is_empty() {
        diags.push(ctx.error(Kind::InvalidValue, raw.regles.span(), "a campaign names at least one rule in `regles`"));
    }
    for r in raw.regles.get_ref() {
        let name = r.get_ref();
        if !known.contains(name.as_str()) {
            let hint = suggest(name, known.iter().copied());
            diags.push(ctx.error(Kind::UnknownName, r.span(), format!("unknown rule `{name}`{hint}")));
        } else if regles.contains(name) {
            diags.push(ctx.error(Kind::DuplicateId, r.span(), format!("rule `{name}` is listed twice")));
        } else {
            regles.push(name.clone());
        }
    }

    let mut canaux = Vec::new();
    if raw.canaux.get_ref().is_empty() {
        diags.push(ctx.error(
            Kind::InvalidValue,
            raw.canaux.span(),
            "a campaign names at least one channel in `canaux`",
        ));
    }
    for c in raw.canaux.get_ref() {
        let name = c.get_ref();
        if !CANAUX.contains(&name.as_str()) {
            diags.push(ctx.error(
                Kind::InvalidValue,
                c.span(),
                format!("unknown channel `{name}` (expected one of {})", CANAUX.join(", ")),
            ));
        } else if canaux.contains(name) {
            diags.push(ctx.error(Kind::DuplicateId, c.span(), format!("channel `{name}` is listed twice")));
        } else {
            canaux.push(name.clone());
        }
    }

    let count = |v: &toml::Spanned<i64>, min: i64, what: &str, diags: &mut Diagnostics| -> u32 {
        match u32::try_from(*v.get_ref()) {
            Ok(n) if i64::from(n) >= min => n,
            _ => {
                diags.push(ctx.error(Kind::InvalidValue, v.span(), format!("{what} is a whole number ≥ {min}")));
                0
            }
        }
    };
    let delai = count(&raw.delai_entre_contacts_mois, 0, "`delai_entre_contacts_mois`", diags);
    let capacite = count(&raw.capacite_par_agence, 1, "`capacite_par_agence`", diags);
    let mut capacites = BTreeMap::new();
    for (agence, n) in &raw.capacites {
        capacites.insert(agence.get_ref().clone(), count(n, 0, "an agency's capacity", diags));
    }

    (diags.errors().count() == errors_before).then(|| Campagne {
        id,
        titre: raw.titre.get_ref().clone(),
        description: raw.description,
        regles,
        canaux,
        exclure_suivi_social: raw.exclure_suivi_social,
        delai_entre_contacts_mois: delai,
        capacite_par_agence: capacite,
        capacites,
        file: ctx.path.to_string(),
    })
}
