//! `campagnes/<id>.toml`: outbound contact campaigns. Checked against the rules they
//! name, with file:line:column diagnostics like every other rule-language file.

use std::collections::{BTreeMap, BTreeSet};

use super::situation::is_identifier;
use super::{Ctx, suggest};
use crate::diag::{Diagnostics, Kind};
use crate::model::{CANAUX, CANAUX_BAILLEUR, Campagne, Liste, ReglagesCampagnes, Rule};
use crate::raw::{CampagneRaw, ReglagesCampagnesRaw};

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

    let liste = match raw.liste.as_ref().map(|l| (l, l.get_ref().as_str())) {
        None | Some((_, "foyers")) => Liste::Foyers,
        Some((_, "bailleurs")) => Liste::Bailleurs,
        Some((l, other)) => {
            diags.push(ctx.error(
                Kind::InvalidValue,
                l.span(),
                format!("unknown list `{other}` (expected `foyers` or `bailleurs`)"),
            ));
            Liste::Foyers
        }
    };
    // A landlord is reached by the channels of the `bailleurs` table.
    let usable: &[&str] = if liste == Liste::Bailleurs { &CANAUX_BAILLEUR } else { &CANAUX };
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
        if !usable.contains(&name.as_str()) {
            diags.push(ctx.error(
                Kind::InvalidValue,
                c.span(),
                format!("unknown channel `{name}` (expected one of {})", usable.join(", ")),
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

    let priorite = raw.priorite.as_ref().map(|p| count(p, 1, "`priorite`", diags));
    let groupe_temoin = match &raw.groupe_temoin {
        None => 0.0,
        Some(share) => {
            let v = *share.get_ref();
            if !(0.0..=0.5).contains(&v) {
                diags.push(ctx.error(
                    Kind::InvalidValue,
                    share.span(),
                    "`groupe_temoin` is a share between 0 and 0.5 (0.1: one household in ten is not contacted)",
                ));
            } else if v > 0.0 && delai < SUIVI_MOIS {
                // `reperage suivi` compares up to the third month: a control household the
                // campaign may contact again before then is no longer a control.
                diags.push(ctx.warning(
                    Kind::InvalidValue,
                    share.span(),
                    format!(
                        "with `delai_entre_contacts_mois` = {delai}, the control group may be contacted by this \
                         campaign before the follow-up's month {SUIVI_MOIS}: its comparison would not hold"
                    ),
                ));
            }
            v
        }
    };

    if liste == Liste::Bailleurs {
        // The household's facts do not apply to its landlord, and a landlord is not a
        // household `reperage suivi` follows.
        if raw.exclure_suivi_social {
            diags.push(ctx.error(
                Kind::InvalidValue,
                raw.id.span(),
                "a landlord campaign (`liste = \"bailleurs\"`) cannot exclude households followed by a social worker: it contacts their landlords",
            ));
        }
        if let Some(share) = raw.groupe_temoin.as_ref().filter(|s| *s.get_ref() > 0.0) {
            diags.push(ctx.error(
                Kind::InvalidValue,
                share.span(),
                "a landlord campaign (`liste = \"bailleurs\"`) draws no control group",
            ));
        }
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
        priorite,
        groupe_temoin,
        liste,
        file: ctx.path.to_string(),
    })
}

/// The months after a contact `reperage suivi` follows (M+1..M+3).
pub const SUIVI_MOIS: u32 = 3;

/// Reads `campagnes/_reglages.toml`; `None` when it has errors (reported in `diags`).
pub(crate) fn read_settings(ctx: Ctx<'_>, diags: &mut Diagnostics) -> Option<ReglagesCampagnes> {
    let raw: ReglagesCampagnesRaw = ctx.parse_toml(diags)?;
    let delai = raw.delai_minimum_entre_contacts_mois;
    match u32::try_from(*delai.get_ref()) {
        Ok(n) => Some(ReglagesCampagnes { delai_minimum_entre_contacts_mois: n, file: Some(ctx.path.to_string()) }),
        Err(_) => {
            diags.push(ctx.error(
                Kind::InvalidValue,
                delai.span(),
                "`delai_minimum_entre_contacts_mois` is a whole number ≥ 0",
            ));
            None
        }
    }
}

/// Two campaigns with the same `priorite` would take a household in an order their
/// names decide: an error, at the second one.
pub(crate) fn check_priorities(campagnes: &[Campagne], files: &[crate::model::SourceFile], diags: &mut Diagnostics) {
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for c in campagnes {
        let Some(p) = c.priorite else { continue };
        if let Some(first) = seen.insert(p, &c.id) {
            let Some(f) = files.iter().find(|f| f.path == c.file) else { continue };
            // The key at the start of a line, not a mention in a comment.
            let at = f.text.match_indices("priorite").map(|(i, _)| i).find(|&i| i == 0 || f.text[..i].ends_with('\n'));
            let at = at.unwrap_or(0);
            let ctx = Ctx { path: &f.path, src: &f.text };
            diags.push(ctx.error(
                Kind::DuplicateId,
                at..at + "priorite".len(),
                format!(
                    "`priorite = {p}` is also the priority of campaign `{first}`: which one takes a household first?"
                ),
            ));
        }
    }
}
