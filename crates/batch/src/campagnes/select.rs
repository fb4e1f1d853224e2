//! Who a campaign contacts, and through which channel: exclusions, cooldown, channel,
//! ranking and capacity (docs/campaigns.md). Pure: the same candidates give the same
//! selection in the same order.

use std::collections::BTreeMap;

use reperage_rules::Mois;
use reperage_rules::model::{CANAUX, Campagne};

/// Why a foyer with a reason for the campaign is not listed, in the order they are
/// tested (a foyer is counted under the first that applies).
pub const EXCLUSIONS: [&str; 7] = [
    "dossier_clos",
    "allocataire_decede",
    "opposition_contact",
    "opposition_inconnue",
    "suivi_social",
    "delai_entre_contacts",
    "aucun_canal",
];

/// One reason a foyer is in the campaign: a rule that fired for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Raison {
    /// The rule's id and title, shared by every reason from the rule: a national run
    /// holds millions of candidates until the lists are selected.
    pub regle: std::sync::Arc<str>,
    pub titre: std::sync::Arc<str>,
    /// Monthly amount at stake (benefits with an amount, events that compute the amount
    /// at stake of the rights they open).
    pub montant: Option<f64>,
    /// The rule is a life event: its amount is that of rights another event of the same
    /// foyer may open too.
    #[serde(default)]
    pub evenement: bool,
    /// The amount is paid once (a prime, the allocation de rentrée scolaire), not each
    /// month: the foyer's monthly amount at stake counts a twelfth of it.
    #[serde(default)]
    pub unique: bool,
    /// Date of the event, in days since 1970-01-01 (event rules that define one).
    pub date: Option<i32>,
}

/// A foyer with at least one reason, and what the exclusions and channels read.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Candidat {
    pub id_foyer: String,
    pub agence: String,
    pub raisons: Vec<Raison>,
    pub dossier_clos: bool,
    pub allocataire_decede: bool,
    pub opposition_contact: Option<bool>,
    pub suivi_social: Option<bool>,
    /// Usable channels, in the order of [`CANAUX`]; unknown is not usable.
    pub canaux: [Option<bool>; 4],
    /// Month of the latest contact (or planned contact) for this campaign.
    pub dernier_contact: Option<Mois>,
}

impl Candidat {
    /// The benefits' monthly amounts add up, with a twelfth of a payment made once (its
    /// monthly share over a year); two events of one foyer (a separation and the
    /// conjoint's death, twins who are a first birth) usually open the same rights, so
    /// only the largest event amount is added, never the same right twice.
    pub fn montant_en_jeu(&self) -> f64 {
        let prestations: f64 = self
            .raisons
            .iter()
            .filter(|r| !r.evenement)
            .filter_map(|r| r.montant.map(|m| if r.unique { m / 12.0 } else { m }))
            .sum();
        let evenement = self.raisons.iter().filter(|r| r.evenement).filter_map(|r| r.montant).fold(0.0, f64::max);
        prestations + evenement
    }

    fn date_recente(&self) -> Option<i32> {
        self.raisons.iter().filter_map(|r| r.date).max()
    }
}

/// A listed foyer.
#[derive(Debug, Clone)]
pub struct Retenu {
    pub candidat: Candidat,
    pub canal: &'static str,
    /// Rank within its agency, from 1.
    pub rang: u32,
}

/// Why a foyer that passed every exclusion is not listed: ranked below its agency's capacity.
pub const COUPE_CAPACITE: &str = "coupe_capacite";

#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Sorted by agency, then rank.
    pub retenus: Vec<Retenu>,
    /// Every other foyer with a reason, with why it is not listed (an entry of
    /// [`EXCLUSIONS`] or [`COUPE_CAPACITE`]).
    pub non_retenus: Vec<(Candidat, &'static str)>,
}

impl Selection {
    /// Foyers with at least one reason for the campaign.
    pub fn signales(&self) -> u64 {
        (self.retenus.len() + self.non_retenus.len()) as u64
    }

    /// Foyers not listed for `why`.
    pub fn count(&self, why: &str) -> u64 {
        self.non_retenus.iter().filter(|(_, w)| *w == why).count() as u64
    }
}

/// The first exclusion that applies, or the channel to use.
fn exclusion_or_channel(c: &Candidat, campagne: &Campagne, mois: Mois) -> Result<&'static str, &'static str> {
    if c.dossier_clos {
        return Err("dossier_clos");
    }
    if c.allocataire_decede {
        return Err("allocataire_decede");
    }
    match c.opposition_contact {
        Some(true) => return Err("opposition_contact"),
        None => return Err("opposition_inconnue"),
        Some(false) => {}
    }
    if campagne.exclure_suivi_social && c.suivi_social == Some(true) {
        return Err("suivi_social");
    }
    if let Some(last) = c.dernier_contact
        && mois.index() - last.index() < campagne.delai_entre_contacts_mois as i32
    {
        return Err("delai_entre_contacts");
    }
    campagne
        .canaux
        .iter()
        .filter_map(|want| CANAUX.iter().position(|c| c == want))
        .find(|&i| c.canaux[i] == Some(true))
        .map(|i| CANAUX[i])
        .ok_or("aucun_canal")
}

/// FNV-1a of `campagne|mois|id`: a tie-break that is stable across runs, platforms and
/// library versions, and changes with the campaign and the month, so the same foyers
/// are not always last. Made once per campaign and month, then continued with each id.
#[derive(Clone, Copy)]
struct TieBreak(u64);

impl TieBreak {
    fn new(campagne: &str, mois: Mois) -> TieBreak {
        TieBreak(0xcbf2_9ce4_8422_2325).then(format!("{campagne}|{mois}|").as_bytes())
    }

    fn then(self, bytes: &[u8]) -> TieBreak {
        TieBreak(bytes.iter().fold(self.0, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)))
    }

    fn of(self, id: &str) -> u64 {
        self.then(id.as_bytes()).0
    }
}

/// Selects the foyers a campaign contacts in `mois`: exclusions, then per agency the
/// highest amount at stake, then the most recent event, then the tie-break, up to the
/// agency's capacity.
pub fn select(campagne: &Campagne, mois: Mois, candidats: Vec<Candidat>) -> Selection {
    let mut sel = Selection::default();
    let mut by_agency: BTreeMap<String, Vec<(Candidat, &'static str)>> = BTreeMap::new();
    for c in candidats.into_iter().filter(|c| !c.raisons.is_empty()) {
        match exclusion_or_channel(&c, campagne, mois) {
            Err(why) => sel.non_retenus.push((c, why)),
            Ok(canal) => by_agency.entry(c.agence.clone()).or_default().push((c, canal)),
        }
    }
    let tie_break = TieBreak::new(&campagne.id, mois);
    for (agence, list) in by_agency {
        // The keys computed once per foyer, not at each comparison.
        let mut list: Vec<_> = list
            .into_iter()
            .map(|(c, canal)| ((c.montant_en_jeu(), c.date_recente(), tie_break.of(&c.id_foyer)), c, canal))
            .collect();
        list.sort_by(|((montant_a, date_a, tie_a), a, _), ((montant_b, date_b, tie_b), b, _)| {
            montant_b
                .total_cmp(montant_a)
                // Most recent first; a foyer without a dated event after those with one.
                .then_with(|| date_b.cmp(date_a))
                .then_with(|| tie_a.cmp(tie_b))
                .then_with(|| a.id_foyer.cmp(&b.id_foyer))
        });
        let capacite = campagne.capacite(&agence) as usize;
        for (i, (_, candidat, canal)) in list.into_iter().enumerate() {
            if i < capacite {
                sel.retenus.push(Retenu { candidat, canal, rang: i as u32 + 1 });
            } else {
                sel.non_retenus.push((candidat, COUPE_CAPACITE));
            }
        }
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campagne() -> Campagne {
        Campagne {
            id: "test".into(),
            titre: "Test".into(),
            description: None,
            regles: vec!["rsa".into()],
            canaux: vec!["sms".into(), "courrier".into()],
            exclure_suivi_social: true,
            delai_entre_contacts_mois: 6,
            capacite_par_agence: 3,
            capacites: BTreeMap::from([("PETITE".to_string(), 1)]),
            file: "campagnes/test.toml".into(),
        }
    }

    fn mois() -> Mois {
        Mois::parse("2025-06").expect("month")
    }

    /// A contactable foyer of agency A1 with `montant` at stake, reachable by SMS.
    fn candidat(id: &str, montant: f64) -> Candidat {
        Candidat {
            id_foyer: id.into(),
            agence: "A1".into(),
            raisons: vec![Raison {
                regle: "rsa".into(),
                titre: "RSA".into(),
                montant: Some(montant),
                evenement: false,
                unique: false,
                date: None,
            }],
            dossier_clos: false,
            allocataire_decede: false,
            opposition_contact: Some(false),
            suivi_social: Some(false),
            canaux: [Some(true), Some(true), Some(true), Some(true)],
            dernier_contact: None,
        }
    }

    fn ids(sel: &Selection) -> Vec<&str> {
        sel.retenus.iter().map(|r| r.candidat.id_foyer.as_str()).collect()
    }

    /// A reason of rule `regle` with `montant` at stake.
    fn raison(regle: &str, montant: f64, evenement: bool) -> Raison {
        Raison {
            regle: regle.into(),
            titre: regle.into(),
            montant: Some(montant),
            evenement,
            unique: false,
            date: None,
        }
    }

    #[test]
    fn two_events_count_their_rights_once_benefits_add_up() {
        let mut c = candidat("F", 0.0);
        c.raisons = vec![
            raison("separation", 400.36, true),
            raison("deces_conjoint", 200.18, true),
            raison("rsa", 100.0, false),
            raison("css", 30.0, false),
        ];
        assert!((c.montant_en_jeu() - (400.36 + 100.0 + 30.0)).abs() < 1e-9);
        c.raisons.retain(|r| r.evenement);
        assert!((c.montant_en_jeu() - 400.36).abs() < 1e-9);
    }

    /// A prime paid once counts a twelfth of it in the monthly amount at stake: a prime à
    /// la naissance of 1 089,87 € weighs 90,82 € a month beside an RSA of 100 €/month.
    #[test]
    fn a_payment_made_once_counts_a_twelfth() {
        let mut c = candidat("F", 0.0);
        let mut prime = raison("paje_naissance", 1089.87, false);
        prime.unique = true;
        c.raisons = vec![prime, raison("rsa", 100.0, false)];
        assert!((c.montant_en_jeu() - (1089.87 / 12.0 + 100.0)).abs() < 1e-9);
    }

    #[test]
    fn opposition_closed_and_deceased_are_never_listed() {
        let mut opposed = candidat("OPP", 900.0);
        opposed.opposition_contact = Some(true);
        let mut unknown = candidat("INC", 900.0);
        unknown.opposition_contact = None;
        let mut closed = candidat("CLO", 900.0);
        closed.dossier_clos = true;
        let mut dead = candidat("DEC", 900.0);
        dead.allocataire_decede = true;
        let sel = select(&campagne(), mois(), vec![opposed, unknown, closed, dead, candidat("OK", 10.0)]);
        assert_eq!(ids(&sel), ["OK"]);
        assert_eq!(sel.count("opposition_contact"), 1);
        assert_eq!(sel.count("opposition_inconnue"), 1);
        assert_eq!(sel.count("dossier_clos"), 1);
        assert_eq!(sel.count("allocataire_decede"), 1);
        assert_eq!(sel.signales(), 5);
    }

    #[test]
    fn cooldown_counts_months_since_the_last_contact() {
        let at = |m: &str| {
            let mut c = candidat(m, 100.0);
            c.dernier_contact = Some(Mois::parse(m).expect("month"));
            c
        };
        // Cooldown of 6 months in June 2025: a contact in December 2024 (6 months ago)
        // allows a new one; January 2025 (5 months) does not; a planned July contact neither.
        let sel = select(&campagne(), mois(), vec![at("2024-12"), at("2025-01"), at("2025-07")]);
        assert_eq!(ids(&sel), ["2024-12"]);
        assert_eq!(sel.count("delai_entre_contacts"), 2);
    }

    #[test]
    fn social_work_exclusion_follows_the_campaign() {
        let mut followed = candidat("SUIVI", 100.0);
        followed.suivi_social = Some(true);
        let sel = select(&campagne(), mois(), vec![followed.clone()]);
        assert_eq!(sel.count("suivi_social"), 1);
        let mut open = campagne();
        open.exclure_suivi_social = false;
        assert_eq!(ids(&select(&open, mois(), vec![followed])), ["SUIVI"]);
    }

    #[test]
    fn channel_follows_preference_then_availability() {
        let mut no_sms = candidat("NOSMS", 100.0);
        no_sms.canaux = [Some(true), Some(false), Some(true), Some(true)];
        let mut unknown_sms = candidat("SMS?", 90.0);
        unknown_sms.canaux = [Some(true), None, Some(true), Some(true)];
        let mut phone_only = candidat("TEL", 80.0);
        phone_only.canaux = [Some(true), Some(false), Some(false), Some(false)];
        let sel = select(&campagne(), mois(), vec![no_sms, unknown_sms, phone_only, candidat("SMS", 70.0)]);
        let canal = |id: &str| sel.retenus.iter().find(|r| r.candidat.id_foyer == id).map(|r| r.canal);
        assert_eq!(canal("SMS"), Some("sms"), "first preference when usable");
        assert_eq!(canal("NOSMS"), Some("courrier"), "next preference when the first is not usable");
        assert_eq!(canal("SMS?"), Some("courrier"), "an unknown channel is not usable");
        assert_eq!(canal("TEL"), None, "telephone is not a channel of this campaign");
        assert_eq!(sel.count("aucun_canal"), 1);
    }

    #[test]
    fn capacity_cuts_the_lowest_ranked_per_agency() {
        let mut others = vec![candidat("A", 50.0), candidat("B", 400.0), candidat("C", 10.0), candidat("D", 200.0)];
        let mut small = candidat("P1", 5.0);
        small.agence = "PETITE".into();
        let mut small2 = candidat("P2", 6.0);
        small2.agence = "PETITE".into();
        others.extend([small, small2]);
        let sel = select(&campagne(), mois(), others);
        // A1: capacity 3, ranked by amount at stake; PETITE: capacity 1.
        assert_eq!(ids(&sel), ["B", "D", "A", "P2"]);
        assert_eq!(sel.retenus.iter().map(|r| r.rang).collect::<Vec<_>>(), [1, 2, 3, 1]);
        assert_eq!(sel.count(COUPE_CAPACITE), 2);
        let cut: Vec<&str> = sel.non_retenus.iter().map(|(c, _)| c.id_foyer.as_str()).collect();
        assert_eq!(cut, ["C", "P1"], "the lowest-ranked of each agency");
    }

    #[test]
    fn equal_amounts_rank_by_recency_then_a_stable_tie_break() {
        let dated = |id: &str, day: i32| {
            let mut c = candidat(id, 0.0);
            c.raisons[0].montant = None;
            c.raisons[0].date = Some(day);
            c
        };
        let mut undated = candidat("U", 0.0);
        undated.raisons[0].montant = None;
        let input = vec![undated, dated("OLD", 20_000), dated("NEW", 20_100)];
        let first = select(&campagne(), mois(), input.clone());
        assert_eq!(ids(&first), ["NEW", "OLD", "U"]);
        // Same inputs in another order: the same list in the same order.
        let mut reversed = input;
        reversed.reverse();
        assert_eq!(ids(&select(&campagne(), mois(), reversed)), ["NEW", "OLD", "U"]);
        let ties: Vec<Candidat> = (0..20).map(|i| candidat(&format!("T{i:02}"), 1.0)).collect();
        let a = select(&campagne(), mois(), ties.clone());
        let b = select(&campagne(), mois(), ties.into_iter().rev().collect());
        assert_eq!(ids(&a), ids(&b));
    }
}
