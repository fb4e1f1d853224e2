//! Landlord lists (`liste = "bailleurs"`, docs/campaigns.md): the private landlords of
//! the foyers a campaign's rules flag, one row per landlord with how many of its tenants
//! are concerned, the housing aid at stake and the reasons counted by kind — never a
//! household id, nor a reason of another campaign (a landlord learns nothing of its
//! tenants' other benefits).
//!
//! ```text
//! evaluation piece ─► tenants: flagged foyers with an id_bailleur (Locataire)
//! bailleurs table + contacts with a landlord ─► what each landlord allows (FaitsBailleur)
//!     (both in one piece of one process: extract::routage)
//! all pieces ─► grouped by landlord ─► exclusions, channel ─► ranked and capped per agency
//! ```
//!
//! Landlord lists take no part in the households' arbitration (select.rs): the agent
//! calls a landlord, not the household, which another list may name the same month.

use std::collections::BTreeMap;

use polars::prelude::*;
use reperage_rules::model::{CANAUX_BAILLEUR, Campagne, ReglagesCampagnes};
use reperage_rules::{Date, Mois};

use super::Raison;
use super::select::{Hache, channel, cooldowns, opposition};

/// Why a landlord with concerned tenants is not listed, in the order they are tested.
pub const EXCLUSIONS_BAILLEUR: [&str; 6] = [
    "bailleur_absent",
    "opposition_contact",
    "opposition_inconnue",
    "delai_entre_contacts",
    "delai_entre_campagnes",
    "aucun_canal",
];

/// A foyer a landlord campaign's rules flag whose landlord is known: the reasons of that
/// campaign's rules only.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Locataire {
    pub id_bailleur: String,
    pub agence: String,
    pub raisons: Vec<Raison>,
}

impl Locataire {
    /// The housing aid at stake: the reasons are events about the same aid (arrears,
    /// suspension, indecency), so the largest counts, never their sum.
    fn aide_en_jeu(&self) -> Option<f64> {
        self.raisons.iter().filter_map(|r| r.montant).reduce(f64::max)
    }
}

/// What the `bailleurs` table and the landlord rows of `contacts` say of a landlord.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaitsBailleur {
    pub opposition_contact: Option<bool>,
    /// Usable channels, in the order of [`CANAUX_BAILLEUR`]; unknown is not usable.
    pub canaux: [Option<bool>; 3],
    /// Month of the latest contact per campaign.
    pub derniers_contacts: BTreeMap<String, Mois>,
    /// Month of the latest contact by any campaign.
    pub dernier_contact_toutes_campagnes: Option<Mois>,
}

/// The landlords of the extract with what they allow, by id: from the `bailleurs` table,
/// then the contacts with a landlord (a contact with a landlord the table does not hold
/// is dropped: such a landlord is not listed anyway).
pub fn faits(bailleurs: &DataFrame, contacts: &DataFrame) -> PolarsResult<BTreeMap<String, FaitsBailleur>> {
    let mut out = BTreeMap::new();
    if bailleurs.height() == 0 {
        return Ok(out);
    }
    let ids = bailleurs.column("id_bailleur")?.str()?;
    let opposition = bailleurs.column("opposition_contact")?.bool()?;
    let canaux = super::canal_columns(bailleurs, &CANAUX_BAILLEUR)?;
    for i in 0..bailleurs.height() {
        let Some(id) = ids.get(i) else { continue };
        let faits = FaitsBailleur {
            opposition_contact: opposition.get(i),
            canaux: [canaux[0].get(i), canaux[1].get(i), canaux[2].get(i)],
            ..FaitsBailleur::default()
        };
        out.insert(id.to_string(), faits);
    }
    let ids = contacts.column("id_bailleur")?.str()?;
    let campagnes = contacts.column("campagne")?.str()?;
    let dates = contacts.column("date")?.cast(&DataType::Int32)?;
    let dates = dates.i32()?;
    for i in 0..contacts.height() {
        let (Some(id), Some(campagne), Some(d)) = (ids.get(i), campagnes.get(i), dates.get(i)) else { continue };
        let Some(f) = out.get_mut(id) else { continue };
        let mois = Date::from_days(d).mois();
        let last = f.derniers_contacts.entry(campagne.to_string()).or_insert(mois);
        *last = (*last).max(mois);
        f.dernier_contact_toutes_campagnes = Some(f.dernier_contact_toutes_campagnes.map_or(mois, |m| m.max(mois)));
    }
    Ok(out)
}

/// One landlord campaign's tenants, gathered piece after piece.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Locataires {
    pub locataires: Vec<Locataire>,
    /// Foyers the rules flag without a known landlord (no `id_bailleur`): a social
    /// landlord, an owner, or a landlord the caisse does not know.
    pub sans_bailleur: u64,
    /// Foyers the rules flag whose file is closed or whose allocataire died: no aid to
    /// keep paid.
    pub dossier_clos: u64,
    /// Foyers the rules flag with no housing aid at stake (none paid, none due): nothing
    /// for the landlord to keep paid.
    #[serde(default)]
    pub sans_aide: u64,
}

impl Locataires {
    /// A foyer the campaign's rules flag (`locataire`, with the reasons of those rules),
    /// with or without a known landlord, its dossier closed (or its allocataire
    /// deceased) or not.
    pub fn add(&mut self, locataire: Locataire, a_un_bailleur: bool, clos: bool) {
        if clos {
            self.dossier_clos += 1;
            return;
        }
        if !a_un_bailleur {
            self.sans_bailleur += 1;
            return;
        }
        // An unknown amount is not zero: such a tenant may have an aid at stake.
        if locataire.raisons.iter().all(|r| r.montant == Some(0.0)) {
            self.sans_aide += 1;
            return;
        }
        self.locataires.push(locataire);
    }

    pub fn append(&mut self, other: Locataires) {
        self.locataires.extend(other.locataires);
        self.sans_bailleur += other.sans_bailleur;
        self.dossier_clos += other.dossier_clos;
        self.sans_aide += other.sans_aide;
    }

    /// Foyers the rules flag.
    pub fn foyers(&self) -> u64 {
        self.locataires.len() as u64 + self.sans_bailleur + self.dossier_clos + self.sans_aide
    }
}

/// A landlord with concerned tenants.
#[derive(Debug, Clone)]
pub struct Bailleur {
    pub id_bailleur: String,
    /// The agency of most of its concerned tenants (the first in code order on a tie).
    pub agence: String,
    /// Concerned tenant foyers.
    pub locataires: u32,
    /// The housing aid at stake per month, over its tenants; none when no tenant's is known.
    pub aide_en_jeu: Option<f64>,
    /// Per rule, in the campaign's order: its title and the tenants it flags.
    pub motifs: Vec<(String, String, u32)>,
}

#[derive(Debug, Clone)]
pub struct BailleurRetenu {
    pub bailleur: Bailleur,
    pub canal: &'static str,
    /// Rank within its agency, from 1.
    pub rang: u32,
}

#[derive(Debug, Clone, Default)]
pub struct SelectionBailleurs {
    /// Sorted by agency, then rank.
    pub retenus: Vec<BailleurRetenu>,
    /// Every other landlord with concerned tenants, with why (an entry of
    /// [`EXCLUSIONS_BAILLEUR`] or [`super::COUPE_CAPACITE`]); by id.
    pub non_retenus: Vec<(Bailleur, &'static str)>,
    /// The foyers the rules flag, and those left out before grouping.
    pub foyers_signales: u64,
    pub sans_bailleur: u64,
    pub dossier_clos: u64,
    pub sans_aide: u64,
}

impl SelectionBailleurs {
    /// Landlords with at least one concerned tenant.
    pub fn signales(&self) -> u64 {
        (self.retenus.len() + self.non_retenus.len()) as u64
    }

    pub fn count(&self, why: &str) -> u64 {
        self.non_retenus.iter().filter(|(_, m)| *m == why).count() as u64
    }
}

/// The tenants grouped by landlord, by id.
fn group(campagne: &Campagne, locataires: &[Locataire]) -> Vec<Bailleur> {
    let mut by: BTreeMap<&str, Vec<&Locataire>> = BTreeMap::new();
    for l in locataires {
        by.entry(&l.id_bailleur).or_default().push(l);
    }
    by.into_iter()
        .map(|(id, tenants)| {
            let mut agences: BTreeMap<&str, u32> = BTreeMap::new();
            for t in &tenants {
                *agences.entry(&t.agence).or_default() += 1;
            }
            // Most tenants first; on a tie the first code (max_by keeps the last maximum).
            let agence = agences.iter().rev().max_by_key(|(_, n)| **n).map(|(a, _)| a.to_string()).unwrap_or_default();
            let aides: Vec<f64> = tenants.iter().filter_map(|t| t.aide_en_jeu()).collect();
            let aide_en_jeu = (!aides.is_empty()).then(|| (aides.iter().sum::<f64>() * 100.0).round() / 100.0);
            let motifs = campagne
                .regles
                .iter()
                .filter_map(|regle| {
                    let with: Vec<&Raison> =
                        tenants.iter().filter_map(|t| t.raisons.iter().find(|r| *r.regle == **regle)).collect();
                    let first = with.first()?;
                    Some((regle.clone(), first.titre.to_string(), with.len() as u32))
                })
                .collect();
            Bailleur { id_bailleur: id.to_string(), agence, locataires: tenants.len() as u32, aide_en_jeu, motifs }
        })
        .collect()
}

/// The first exclusion that applies to a landlord, or the channel to use.
fn exclusion_or_channel(
    faits: Option<&FaitsBailleur>,
    campagne: &Campagne,
    reglages: &ReglagesCampagnes,
    mois: Mois,
) -> Result<&'static str, &'static str> {
    let f = faits.ok_or("bailleur_absent")?;
    opposition(f.opposition_contact)?;
    cooldowns(
        f.derniers_contacts.get(&campagne.id).copied(),
        f.dernier_contact_toutes_campagnes,
        campagne,
        reglages,
        mois,
    )?;
    channel(campagne, &CANAUX_BAILLEUR, &f.canaux)
}

/// Selects the landlords campaign `campagne` contacts in `mois`: exclusions, then per
/// agency the most housing aid at stake, the most tenants, a tie-break drawn from the
/// campaign, the month and the id, and the id; the first `capacite` of each agency.
pub fn select(
    campagne: &Campagne,
    reglages: &ReglagesCampagnes,
    mois: Mois,
    locataires: &Locataires,
    faits: &BTreeMap<String, FaitsBailleur>,
) -> SelectionBailleurs {
    let mut sel = SelectionBailleurs {
        foyers_signales: locataires.foyers(),
        sans_bailleur: locataires.sans_bailleur,
        dossier_clos: locataires.dossier_clos,
        sans_aide: locataires.sans_aide,
        ..SelectionBailleurs::default()
    };
    let tie_break = Hache::new("rang", &campagne.id, mois);
    // By agency, in code order: each landlord with its channel and tie-break.
    let mut by_agency: BTreeMap<String, Vec<(Bailleur, &'static str, u64)>> = BTreeMap::new();
    for b in group(campagne, &locataires.locataires) {
        match exclusion_or_channel(faits.get(&b.id_bailleur), campagne, reglages, mois) {
            Err(motif) => sel.non_retenus.push((b, motif)),
            Ok(canal) => {
                let tie = tie_break.of(&b.id_bailleur);
                by_agency.entry(b.agence.clone()).or_default().push((b, canal, tie));
            }
        }
    }
    for (agence, mut list) in by_agency {
        list.sort_by(|(a, _, tie_a), (b, _, tie_b)| {
            b.aide_en_jeu
                .unwrap_or(0.0)
                .total_cmp(&a.aide_en_jeu.unwrap_or(0.0))
                .then_with(|| b.locataires.cmp(&a.locataires))
                .then_with(|| tie_a.cmp(tie_b))
                .then_with(|| a.id_bailleur.cmp(&b.id_bailleur))
        });
        let capacite = campagne.capacite(&agence);
        for (rang, (bailleur, canal, _)) in list.into_iter().enumerate() {
            if (rang as u32) < capacite {
                sel.retenus.push(BailleurRetenu { bailleur, canal, rang: rang as u32 + 1 });
            } else {
                sel.non_retenus.push((bailleur, super::COUPE_CAPACITE));
            }
        }
    }
    sel.non_retenus.sort_by(|a, b| a.0.id_bailleur.cmp(&b.0.id_bailleur));
    sel
}

/// The reasons as an agent reads them to a landlord: each kind with its tenant count.
pub fn motifs(b: &Bailleur) -> String {
    b.motifs
        .iter()
        .map(|(_, titre, n)| format!("{titre} : {n} locataire{}", if *n > 1 { "s" } else { "" }))
        .collect::<Vec<_>>()
        .join(" ; ")
}

pub fn regles(b: &Bailleur) -> String {
    b.motifs.iter().map(|(r, _, _)| r.as_str()).collect::<Vec<_>>().join(", ")
}

/// A landlord list: `id_bailleur;agence;canal;rang;locataires;aide_logement_en_jeu;motifs;regles`.
pub fn list_frame(retenus: &[&BailleurRetenu]) -> PolarsResult<DataFrame> {
    df!(
        "id_bailleur" => retenus.iter().map(|r| r.bailleur.id_bailleur.as_str()).collect::<Vec<_>>(),
        "agence" => retenus.iter().map(|r| r.bailleur.agence.as_str()).collect::<Vec<_>>(),
        "canal" => retenus.iter().map(|r| r.canal).collect::<Vec<_>>(),
        "rang" => retenus.iter().map(|r| r.rang).collect::<Vec<_>>(),
        "locataires" => retenus.iter().map(|r| r.bailleur.locataires).collect::<Vec<_>>(),
        "aide_logement_en_jeu" => retenus.iter().map(|r| r.bailleur.aide_en_jeu).collect::<Vec<_>>(),
        "motifs" => retenus.iter().map(|r| motifs(&r.bailleur)).collect::<Vec<_>>(),
        "regles" => retenus.iter().map(|r| regles(&r.bailleur)).collect::<Vec<_>>(),
    )
}

/// The landlords not listed, with why, by id.
pub fn left_out_frame(non_retenus: &[(Bailleur, &'static str)]) -> PolarsResult<DataFrame> {
    df!(
        "id_bailleur" => non_retenus.iter().map(|(b, _)| b.id_bailleur.as_str()).collect::<Vec<_>>(),
        "agence" => non_retenus.iter().map(|(b, _)| b.agence.as_str()).collect::<Vec<_>>(),
        "motif_non_retenu" => non_retenus.iter().map(|(_, m)| *m).collect::<Vec<_>>(),
        "locataires" => non_retenus.iter().map(|(b, _)| b.locataires).collect::<Vec<_>>(),
        "aide_logement_en_jeu" => non_retenus.iter().map(|(b, _)| b.aide_en_jeu).collect::<Vec<_>>(),
        "motifs" => non_retenus.iter().map(|(b, _)| motifs(b)).collect::<Vec<_>>(),
        "regles" => non_retenus.iter().map(|(b, _)| regles(b)).collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reperage_rules::model::Liste;

    fn campagne() -> Campagne {
        Campagne {
            id: "bailleurs".into(),
            titre: "Bailleurs".into(),
            description: None,
            regles: vec!["impaye_loyer".into(), "aide_logement_suspendue".into()],
            canaux: vec!["telephone".into(), "courrier".into()],
            exclure_suivi_social: false,
            delai_entre_contacts_mois: 3,
            capacite_par_agence: 2,
            capacites: BTreeMap::new(),
            priorite: None,
            groupe_temoin: 0.0,
            liste: Liste::Bailleurs,
            file: "campagnes/bailleurs.toml".into(),
        }
    }

    fn mois() -> Mois {
        Mois::parse("2025-06").expect("month")
    }

    fn raison(regle: &str, montant: f64) -> Raison {
        Raison {
            regle: regle.into(),
            titre: regle.into(),
            montant: Some(montant),
            evenement: true,
            unique: false,
            date: None,
        }
    }

    fn locataire(bailleur: &str, agence: &str, raisons: Vec<Raison>) -> Locataire {
        Locataire { id_bailleur: bailleur.into(), agence: agence.into(), raisons }
    }

    fn joignable() -> FaitsBailleur {
        FaitsBailleur { opposition_contact: Some(false), canaux: [Some(true); 3], ..FaitsBailleur::default() }
    }

    fn ids(sel: &SelectionBailleurs) -> Vec<&str> {
        sel.retenus.iter().map(|r| r.bailleur.id_bailleur.as_str()).collect()
    }

    /// One row per landlord: its tenants counted, the aid of each tenant counted once
    /// (two reasons about the same aid), the reasons counted by kind, the agency of most.
    #[test]
    fn tenants_are_grouped_by_landlord() {
        let tenants = Locataires {
            locataires: vec![
                locataire("B1", "A2", vec![raison("impaye_loyer", 300.0), raison("aide_logement_suspendue", 300.0)]),
                locataire("B1", "A1", vec![raison("impaye_loyer", 150.5)]),
                locataire("B1", "A1", vec![raison("aide_logement_suspendue", 99.5)]),
                locataire("B2", "A2", vec![raison("impaye_loyer", 80.0)]),
            ],
            sans_bailleur: 3,
            dossier_clos: 1,
            sans_aide: 2,
        };
        let faits = BTreeMap::from([("B1".to_string(), joignable()), ("B2".to_string(), joignable())]);
        let sel = select(&campagne(), &ReglagesCampagnes::default(), mois(), &tenants, &faits);
        assert_eq!(sel.foyers_signales, 10);
        let b1 = &sel.retenus.iter().find(|r| r.bailleur.id_bailleur == "B1").expect("B1").bailleur;
        assert_eq!(b1.locataires, 3);
        assert_eq!(b1.aide_en_jeu, Some(550.0));
        assert_eq!(b1.agence, "A1");
        assert_eq!(motifs(b1), "impaye_loyer : 2 locataires ; aide_logement_suspendue : 2 locataires");
        let b2 = &sel.retenus.iter().find(|r| r.bailleur.id_bailleur == "B2").expect("B2").bailleur;
        assert_eq!((b2.locataires, b2.agence.as_str(), motifs(b2).as_str()), (1, "A2", "impaye_loyer : 1 locataire"));
    }

    /// On a tie of tenants, the landlord's agency is the first code; the shared delay
    /// between campaigns counts a landlord's contact by any campaign.
    #[test]
    fn agency_tie_takes_the_first_code_and_the_shared_delay_applies() {
        let tenants = Locataires {
            locataires: vec![
                locataire("B1", "A2", vec![raison("impaye_loyer", 100.0)]),
                locataire("B1", "A1", vec![raison("impaye_loyer", 100.0)]),
                locataire("B2", "A1", vec![raison("impaye_loyer", 100.0)]),
            ],
            ..Locataires::default()
        };
        let mut called = joignable();
        called.dernier_contact_toutes_campagnes = Some(Mois::parse("2025-05").expect("m"));
        let faits = BTreeMap::from([("B1".to_string(), joignable()), ("B2".to_string(), called)]);
        let reglages = ReglagesCampagnes { delai_minimum_entre_contacts_mois: 2, file: None };
        let sel = select(&campagne(), &reglages, mois(), &tenants, &faits);
        assert_eq!(ids(&sel), ["B1"]);
        assert_eq!(sel.retenus[0].bailleur.agence, "A1");
        assert_eq!(sel.count("delai_entre_campagnes"), 1);
    }

    #[test]
    fn opposition_unknown_landlord_cooldown_and_channel_exclude() {
        let mut opposed = joignable();
        opposed.opposition_contact = Some(true);
        let mut unknown = joignable();
        unknown.opposition_contact = None;
        let mut recent = joignable();
        recent.derniers_contacts.insert("bailleurs".into(), Mois::parse("2025-04").expect("m"));
        let mut old = joignable();
        old.derniers_contacts.insert("bailleurs".into(), Mois::parse("2025-03").expect("m"));
        let mut email_only = joignable();
        // In the order of CANAUX_BAILLEUR: telephone, email, courrier.
        email_only.canaux = [Some(false), Some(true), None];
        let faits = BTreeMap::from([
            ("OPP".to_string(), opposed),
            ("INC".to_string(), unknown),
            ("RECENT".to_string(), recent),
            ("ANCIEN".to_string(), old),
            ("EMAIL".to_string(), email_only),
        ]);
        let tenants = Locataires {
            locataires: ["OPP", "INC", "RECENT", "ANCIEN", "EMAIL", "ABSENT"]
                .iter()
                .map(|b| locataire(b, "A1", vec![raison("impaye_loyer", 100.0)]))
                .collect(),
            ..Locataires::default()
        };
        let sel = select(&campagne(), &ReglagesCampagnes::default(), mois(), &tenants, &faits);
        assert_eq!(ids(&sel), ["ANCIEN"], "three months after the last call, a landlord is called again");
        for (why, id) in [
            ("opposition_contact", "OPP"),
            ("opposition_inconnue", "INC"),
            ("delai_entre_contacts", "RECENT"),
            ("aucun_canal", "EMAIL"),
            ("bailleur_absent", "ABSENT"),
        ] {
            assert!(sel.non_retenus.iter().any(|(b, m)| *m == why && b.id_bailleur == id), "{id}: {why}");
        }
    }

    #[test]
    fn ranked_by_aid_at_stake_and_capped_per_agency() {
        let tenants = Locataires {
            locataires: vec![
                locataire("PETIT", "A1", vec![raison("impaye_loyer", 50.0)]),
                locataire("GROS", "A1", vec![raison("impaye_loyer", 400.0)]),
                locataire("MOYEN", "A1", vec![raison("impaye_loyer", 200.0)]),
                locataire("AUTRE", "A2", vec![raison("impaye_loyer", 10.0)]),
            ],
            ..Locataires::default()
        };
        let faits = ["PETIT", "GROS", "MOYEN", "AUTRE"].iter().map(|b| (b.to_string(), joignable())).collect();
        let sel = select(&campagne(), &ReglagesCampagnes::default(), mois(), &tenants, &faits);
        assert_eq!(ids(&sel), ["GROS", "MOYEN", "AUTRE"]);
        assert_eq!(sel.retenus.iter().map(|r| r.rang).collect::<Vec<_>>(), [1, 2, 1]);
        assert_eq!(sel.count(super::super::COUPE_CAPACITE), 1);
        assert_eq!(sel.retenus[0].canal, "telephone");
    }
}
