//! Who each campaign contacts, and through which channel: exclusions, cooldowns,
//! control group, channel, ranking, capacity, and the arbitration that puts a household
//! on one list at most (docs/campaigns.md). Pure: the same candidates give the same
//! selections in the same order.

use std::collections::{BTreeMap, HashMap};

use reperage_rules::Mois;
use reperage_rules::model::{CANAUX, Campagne, ReglagesCampagnes};

/// Why a foyer with a reason for the campaign is not listed, in the order they are
/// tested (a foyer is counted under the first that applies).
pub const EXCLUSIONS: [&str; 8] = [
    "dossier_clos",
    "allocataire_decede",
    "opposition_contact",
    "opposition_inconnue",
    "suivi_social",
    "delai_entre_contacts",
    "delai_entre_campagnes",
    "aucun_canal",
];

/// Why a foyer that passed every exclusion is not listed: ranked below its agency's capacity.
pub const COUPE_CAPACITE: &str = "coupe_capacite";

/// Why a foyer that passed every exclusion is not listed: a campaign of higher priority
/// took it, in its list or its control group.
pub const AUTRE_CAMPAGNE: &str = "autre_campagne";

/// The `canal` of a control household in `contacts_prevus.csv` and the `contacts` table.
pub const TEMOIN: &str = "temoin";

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
    /// Month of the latest contact (or planned contact) for this campaign, control
    /// rows included: a control household is not drawn again before the cooldown ends.
    pub dernier_contact: Option<Mois>,
    /// Month of the latest contact (or planned contact) by any campaign, control rows
    /// aside (they were not contacted).
    #[serde(default)]
    pub dernier_contact_toutes_campagnes: Option<Mois>,
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

/// A foyer with a reason for the campaign that it does not contact.
#[derive(Debug, Clone)]
pub struct NonRetenu {
    pub candidat: Candidat,
    /// An entry of [`EXCLUSIONS`], [`COUPE_CAPACITE`] or [`AUTRE_CAMPAGNE`].
    pub motif: &'static str,
    /// For [`AUTRE_CAMPAGNE`]: the campaign that took it, and its channel there
    /// ([`TEMOIN`] for its control group).
    pub vers: Option<(String, &'static str)>,
}

#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Sorted by agency, then rank.
    pub retenus: Vec<Retenu>,
    /// The control group: would have been listed, drawn not to be contacted; by id.
    pub temoins: Vec<Candidat>,
    /// Every other foyer with a reason, with why it is not listed.
    pub non_retenus: Vec<NonRetenu>,
}

impl Selection {
    /// Foyers with at least one reason for the campaign.
    pub fn signales(&self) -> u64 {
        (self.retenus.len() + self.temoins.len() + self.non_retenus.len()) as u64
    }

    /// Foyers not listed for `why`.
    pub fn count(&self, why: &str) -> u64 {
        self.non_retenus.iter().filter(|n| n.motif == why).count() as u64
    }
}

/// The first exclusion that applies, or the channel to use.
fn exclusion_or_channel(
    c: &Candidat,
    campagne: &Campagne,
    reglages: &ReglagesCampagnes,
    mois: Mois,
) -> Result<&'static str, &'static str> {
    if c.dossier_clos {
        return Err("dossier_clos");
    }
    if c.allocataire_decede {
        return Err("allocataire_decede");
    }
    opposition(c.opposition_contact)?;
    if campagne.exclure_suivi_social && c.suivi_social == Some(true) {
        return Err("suivi_social");
    }
    cooldowns(c.dernier_contact, c.dernier_contact_toutes_campagnes, campagne, reglages, mois)?;
    channel(campagne, &CANAUX, &c.canaux)
}

/// Who refused contact, or may have (unknown), is not contacted (a household or a
/// landlord alike).
pub(super) fn opposition(opposition_contact: Option<bool>) -> Result<(), &'static str> {
    match opposition_contact {
        Some(true) => Err("opposition_contact"),
        None => Err("opposition_inconnue"),
        Some(false) => Ok(()),
    }
}

/// The campaign's own cooldown from the last contact for it (`campagne`), then the
/// shared one from the last contact by any campaign (`toutes`), in months.
pub(super) fn cooldowns(
    campagne_derniere: Option<Mois>,
    toutes: Option<Mois>,
    campagne: &Campagne,
    reglages: &ReglagesCampagnes,
    mois: Mois,
) -> Result<(), &'static str> {
    let too_recent = |last: Option<Mois>, delai: u32| last.is_some_and(|l| mois.index() - l.index() < delai as i32);
    if too_recent(campagne_derniere, campagne.delai_entre_contacts_mois) {
        return Err("delai_entre_contacts");
    }
    if too_recent(toutes, reglages.delai_minimum_entre_contacts_mois) {
        return Err("delai_entre_campagnes");
    }
    Ok(())
}

/// The first of the campaign's channels that is usable: `usable[i]` tells whether
/// `known[i]` is (unknown is not).
pub(super) fn channel(
    campagne: &Campagne,
    known: &[&'static str],
    usable: &[Option<bool>],
) -> Result<&'static str, &'static str> {
    campagne
        .canaux
        .iter()
        .filter_map(|want| known.iter().position(|c| c == want))
        .find(|&i| usable[i] == Some(true))
        .map(|i| known[i])
        .ok_or("aucun_canal")
}

/// FNV-1a of `<purpose>|campagne|mois|id`: stable across runs, platforms and library
/// versions, and changing with the campaign and the month, so the same foyers are not
/// always last, nor always in the control group. Made once per campaign and month,
/// then continued with each id.
#[derive(Clone, Copy)]
pub(super) struct Hache(u64);

impl Hache {
    pub(super) fn new(purpose: &str, campagne: &str, mois: Mois) -> Hache {
        Hache(0xcbf2_9ce4_8422_2325).then(format!("{purpose}|{campagne}|{mois}|").as_bytes())
    }

    fn then(self, bytes: &[u8]) -> Hache {
        Hache(bytes.iter().fold(self.0, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)))
    }

    pub(super) fn of(self, id: &str) -> u64 {
        self.then(id.as_bytes()).0
    }

    /// A number in [0, 1) drawn from the id ([`unite`]).
    fn unit(self, id: &str) -> f64 {
        unite(self.of(id))
    }
}

/// FNV-1a of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    Hache(0xcbf2_9ce4_8422_2325).then(bytes).0
}

/// A number in [0, 1) from a hash: FNV's last bytes barely move its high bits, so they
/// are mixed first (the SplitMix64 finaliser), then the top 53 bits are kept.
pub(crate) fn unite(hash: u64) -> f64 {
    let mut z = hash;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// One campaign's candidates sorted out before the arbitration: those excluded, and
/// the others ranked per agency, each with its channel and whether the control draw
/// picked it.
struct Prepared {
    exclus: Vec<NonRetenu>,
    /// Per agency, best ranked first.
    classes: BTreeMap<String, Vec<Classe>>,
}

struct Classe {
    candidat: Candidat,
    canal: &'static str,
    tire: bool,
}

/// Exclusions; then per agency the highest amount at stake, the most recent event, the
/// tie-break and the id; and the control draw of each foyer, from the campaign, the
/// month and its id (independent of its rank and of the id order).
fn prepare(campagne: &Campagne, reglages: &ReglagesCampagnes, mois: Mois, candidats: Vec<Candidat>) -> Prepared {
    let mut prep = Prepared { exclus: Vec::new(), classes: BTreeMap::new() };
    let tirage = Hache::new("temoin", &campagne.id, mois);
    let tie_break = Hache::new("rang", &campagne.id, mois);
    let mut keyed: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for c in candidats.into_iter().filter(|c| !c.raisons.is_empty()) {
        match exclusion_or_channel(&c, campagne, reglages, mois) {
            Err(motif) => prep.exclus.push(NonRetenu { candidat: c, motif, vers: None }),
            Ok(canal) => {
                let tire = tirage.unit(&c.id_foyer) < campagne.groupe_temoin;
                // The keys computed once per foyer, not at each comparison.
                let key = (c.montant_en_jeu(), c.date_recente(), tie_break.of(&c.id_foyer));
                keyed.entry(c.agence.clone()).or_default().push((key, Classe { candidat: c, canal, tire }));
            }
        }
    }
    for (agence, mut list) in keyed {
        list.sort_by(|((montant_a, date_a, tie_a), a), ((montant_b, date_b, tie_b), b)| {
            montant_b
                .total_cmp(montant_a)
                // Most recent first; a foyer without a dated event after those with one.
                .then_with(|| date_b.cmp(date_a))
                .then_with(|| tie_a.cmp(tie_b))
                .then_with(|| a.candidat.id_foyer.cmp(&b.candidat.id_foyer))
        });
        prep.classes.insert(agence, list.into_iter().map(|(_, c)| c).collect());
    }
    prep
}

/// Selects who each campaign contacts in `mois`. `campagnes` come in priority order
/// ([`reperage_rules::RuleSet::campagnes_par_priorite`]), `candidats[i]` are those of
/// `campagnes[i]`. Each campaign is prepared on its own thread (exclusions, ranking,
/// draw); then, in priority order, each campaign walks its agencies' ranked foyers,
/// skipping those a campaign before it took (a household is on one list, or in one
/// control group, at most): a foyer the draw picked goes to the control group, any other
/// to the list, until the agency's capacity of *contacted* foyers is reached; the rest
/// are cut. So the control group is drawn among the very foyers the campaign would have
/// contacted — the comparison `reperage suivi` makes holds — and capacity is spent on
/// contacted foyers only.
pub fn select(
    campagnes: &[&Campagne],
    reglages: &ReglagesCampagnes,
    mois: Mois,
    candidats: Vec<Vec<Candidat>>,
) -> Vec<Selection> {
    let prepared = on_threads(campagnes.iter().zip(candidats), |(campagne, candidats)| {
        prepare(campagne, reglages, mois, candidats)
    });
    // Foyer → (campaign index, channel or TEMOIN) of the campaign that took it.
    let mut pris: HashMap<String, (usize, &'static str)> = HashMap::new();
    let mut out = Vec::with_capacity(campagnes.len());
    for (i, (campagne, prep)) in campagnes.iter().zip(prepared).enumerate() {
        let mut sel = Selection { non_retenus: prep.exclus, ..Selection::default() };
        for (agence, list) in prep.classes {
            let capacite = campagne.capacite(&agence);
            let mut rang = 0;
            for Classe { candidat, canal, tire } in list {
                if let Some(&(j, pris_par)) = pris.get(&candidat.id_foyer) {
                    let vers = Some((campagnes[j].id.clone(), pris_par));
                    sel.non_retenus.push(NonRetenu { candidat, motif: AUTRE_CAMPAGNE, vers });
                } else if rang >= capacite {
                    sel.non_retenus.push(NonRetenu { candidat, motif: COUPE_CAPACITE, vers: None });
                } else if tire {
                    pris.insert(candidat.id_foyer.clone(), (i, TEMOIN));
                    sel.temoins.push(candidat);
                } else {
                    rang += 1;
                    pris.insert(candidat.id_foyer.clone(), (i, canal));
                    sel.retenus.push(Retenu { candidat, canal, rang });
                }
            }
        }
        sel.temoins.sort_by(|a, b| a.id_foyer.cmp(&b.id_foyer));
        out.push(sel);
    }
    out
}

/// `work` of each item, each on a thread of its own (campaigns are independent), the
/// results in the items' order; a panic in one is raised again here, as if `work` had
/// run on this thread.
pub(crate) fn on_threads<T: Send, R: Send>(items: impl IntoIterator<Item = T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let work = &work;
        let running: Vec<_> = items.into_iter().map(|item| s.spawn(move || work(item))).collect();
        running.into_iter().map(|r| r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
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
            priorite: None,
            groupe_temoin: 0.0,
            liste: reperage_rules::model::Liste::Foyers,
            file: "campagnes/test.toml".into(),
        }
    }

    fn mois() -> Mois {
        Mois::parse("2025-06").expect("month")
    }

    /// One campaign alone, no shared settings.
    fn select_one(campagne: &Campagne, candidats: Vec<Candidat>) -> Selection {
        select(&[campagne], &ReglagesCampagnes::default(), mois(), vec![candidats]).remove(0)
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
            dernier_contact_toutes_campagnes: None,
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
        let sel = select_one(&campagne(), vec![opposed, unknown, closed, dead, candidat("OK", 10.0)]);
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
        let sel = select_one(&campagne(), vec![at("2024-12"), at("2025-01"), at("2025-07")]);
        assert_eq!(ids(&sel), ["2024-12"]);
        assert_eq!(sel.count("delai_entre_contacts"), 2);
    }

    #[test]
    fn social_work_exclusion_follows_the_campaign() {
        let mut followed = candidat("SUIVI", 100.0);
        followed.suivi_social = Some(true);
        let sel = select_one(&campagne(), vec![followed.clone()]);
        assert_eq!(sel.count("suivi_social"), 1);
        let mut open = campagne();
        open.exclure_suivi_social = false;
        assert_eq!(ids(&select_one(&open, vec![followed])), ["SUIVI"]);
    }

    #[test]
    fn channel_follows_preference_then_availability() {
        let mut no_sms = candidat("NOSMS", 100.0);
        no_sms.canaux = [Some(true), Some(false), Some(true), Some(true)];
        let mut unknown_sms = candidat("SMS?", 90.0);
        unknown_sms.canaux = [Some(true), None, Some(true), Some(true)];
        let mut phone_only = candidat("TEL", 80.0);
        phone_only.canaux = [Some(true), Some(false), Some(false), Some(false)];
        let sel = select_one(&campagne(), vec![no_sms, unknown_sms, phone_only, candidat("SMS", 70.0)]);
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
        let sel = select_one(&campagne(), others);
        // A1: capacity 3, ranked by amount at stake; PETITE: capacity 1.
        assert_eq!(ids(&sel), ["B", "D", "A", "P2"]);
        assert_eq!(sel.retenus.iter().map(|r| r.rang).collect::<Vec<_>>(), [1, 2, 3, 1]);
        assert_eq!(sel.count(COUPE_CAPACITE), 2);
        let cut: Vec<&str> = sel.non_retenus.iter().map(|n| n.candidat.id_foyer.as_str()).collect();
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
        let first = select_one(&campagne(), input.clone());
        assert_eq!(ids(&first), ["NEW", "OLD", "U"]);
        // Same inputs in another order: the same list in the same order.
        let mut reversed = input;
        reversed.reverse();
        assert_eq!(ids(&select_one(&campagne(), reversed)), ["NEW", "OLD", "U"]);
        let ties: Vec<Candidat> = (0..20).map(|i| candidat(&format!("T{i:02}"), 1.0)).collect();
        let a = select_one(&campagne(), ties.clone());
        let b = select_one(&campagne(), ties.into_iter().rev().collect());
        assert_eq!(ids(&a), ids(&b));
    }

    /// Two campaigns with the given ids and priorities order, capacity 2 each.
    fn pair() -> (Campagne, Campagne) {
        let mut first = campagne();
        first.id = "premiere".into();
        first.capacite_par_agence = 2;
        let mut second = campagne();
        second.id = "seconde".into();
        second.capacite_par_agence = 2;
        (first, second)
    }

    fn run(campagnes: &[&Campagne], candidats: Vec<Vec<Candidat>>) -> Vec<Selection> {
        select(campagnes, &ReglagesCampagnes::default(), mois(), candidats)
    }

    /// A foyer both campaigns flag goes to the first that can take it; the second counts
    /// it as taken by the other, with where it went. A foyer the first cuts for capacity
    /// remains free for the second.
    #[test]
    fn a_household_goes_to_the_first_campaign_that_can_take_it() {
        let (first, second) = pair();
        let both = |id: &str, m: f64| candidat(id, m);
        let sels = run(
            &[&first, &second],
            vec![
                vec![both("A", 300.0), both("B", 200.0), both("C", 100.0)],
                vec![both("A", 300.0), both("C", 100.0), both("D", 50.0)],
            ],
        );
        assert_eq!(ids(&sels[0]), ["A", "B"]);
        assert_eq!(sels[0].count(COUPE_CAPACITE), 1, "C is cut by the first campaign's capacity");
        assert_eq!(ids(&sels[1]), ["C", "D"], "C, cut by the first, and D are free for the second");
        let moved: Vec<_> = sels[1].non_retenus.iter().filter(|n| n.motif == AUTRE_CAMPAGNE).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].candidat.id_foyer, "A");
        assert_eq!(moved[0].vers, Some(("premiere".to_string(), "sms")));
        // Ranks count the listed foyers only: C is first in the second campaign.
        assert_eq!(sels[1].retenus.iter().map(|r| r.rang).collect::<Vec<_>>(), [1, 2]);
        // In the other priority order, the second campaign takes A and C.
        let sels = run(&[&second, &first], vec![vec![both("A", 300.0), both("C", 100.0)], vec![both("A", 300.0)]]);
        assert_eq!(ids(&sels[0]), ["A", "C"]);
        assert_eq!(sels[1].count(AUTRE_CAMPAGNE), 1);
    }

    /// A campaign that cannot reach the foyer (no channel of its own) leaves it to the next.
    #[test]
    fn a_campaign_without_a_channel_for_the_foyer_leaves_it_to_the_next() {
        let (mut first, second) = pair();
        first.canaux = vec!["telephone".into()];
        let mut c = candidat("F", 100.0);
        c.canaux = [Some(false), Some(true), Some(false), Some(false)];
        let sels = run(&[&first, &second], vec![vec![c.clone()], vec![c]]);
        assert_eq!(sels[0].count("aucun_canal"), 1);
        assert_eq!(ids(&sels[1]), ["F"]);
    }

    /// The shared delay counts contacts of every campaign, but not control rows.
    #[test]
    fn the_shared_delay_counts_every_campaigns_contacts() {
        let reglages = ReglagesCampagnes { delai_minimum_entre_contacts_mois: 2, file: None };
        let at = |id: &str, m: Option<&str>| {
            let mut c = candidat(id, 100.0);
            c.dernier_contact_toutes_campagnes = m.map(|m| Mois::parse(m).expect("month"));
            c
        };
        let cands = vec![at("M-1", Some("2025-05")), at("M-2", Some("2025-04")), at("JAMAIS", None)];
        let sel = select(&[&campagne()], &reglages, mois(), vec![cands]).remove(0);
        let mut listed = ids(&sel);
        listed.sort();
        assert_eq!(listed, ["JAMAIS", "M-2"]);
        assert_eq!(sel.count("delai_entre_campagnes"), 1);
    }

    fn share(sel: &Selection) -> f64 {
        sel.temoins.len() as f64 / (sel.temoins.len() + sel.retenus.len()) as f64
    }

    /// The control group is drawn among the foyers the campaign would contact: its share
    /// of them holds whatever the capacity, which counts contacted foyers only; no control
    /// foyer ranks below a cut one; the draw is the same in any input order, and changes
    /// with the month.
    #[test]
    fn the_control_group_is_drawn_among_those_the_campaign_would_contact() {
        let mut c = campagne();
        c.groupe_temoin = 0.2;
        c.capacite_par_agence = 100_000;
        let many: Vec<Candidat> = (0..5000).map(|i| candidat(&format!("F{i:05}"), f64::from(i % 997))).collect();
        let sel = select_one(&c, many.clone());
        assert!((share(&sel) - 0.2).abs() < 0.02, "{}", share(&sel));
        c.capacite_par_agence = 1000;
        let sel = select_one(&c, many.clone());
        assert_eq!(sel.retenus.len(), 1000, "capacity applies to the contacted only");
        assert!((share(&sel) - 0.2).abs() < 0.03, "{}", share(&sel));
        let lowest_listed = sel.retenus.iter().map(|r| r.candidat.montant_en_jeu()).fold(f64::MAX, f64::min);
        assert!(sel.temoins.iter().all(|t| t.montant_en_jeu() >= lowest_listed), "controls rank with the listed");
        let best_cut = sel.non_retenus.iter().map(|n| n.candidat.montant_en_jeu()).fold(0.0, f64::max);
        assert!(best_cut <= lowest_listed);
        assert_eq!(sel.signales(), 5000);
        let again = select_one(&c, many.iter().rev().cloned().collect());
        let temoins = |s: &Selection| s.temoins.iter().map(|c| c.id_foyer.clone()).collect::<Vec<_>>();
        assert_eq!(temoins(&sel), temoins(&again));
        let next_month = select(&[&c], &ReglagesCampagnes::default(), mois().plus(1), vec![many]).remove(0);
        assert_ne!(temoins(&sel), temoins(&next_month));
        // Consecutive ids are not drawn in runs: the draw does not follow the id order.
        let drawn: std::collections::BTreeSet<&str> = sel.temoins.iter().map(|c| c.id_foyer.as_str()).collect();
        let runs = (1..5000).filter(|i| {
            drawn.contains(format!("F{:05}", i - 1).as_str()) && drawn.contains(format!("F{i:05}").as_str())
        });
        assert!(runs.count() < 5000 / 5 / 5 * 2, "about a fifth of a fifth of pairs are both drawn");
    }

    /// A household in a campaign's control group is not listed by another that month.
    #[test]
    fn a_control_household_is_not_listed_by_another_campaign() {
        let (mut first, second) = pair();
        first.groupe_temoin = 0.5;
        first.capacite_par_agence = 1000;
        let many: Vec<Candidat> = (0..200).map(|i| candidat(&format!("F{i:03}"), 1.0)).collect();
        let mut second = second;
        second.capacite_par_agence = 1000;
        let sels = run(&[&first, &second], vec![many.clone(), many]);
        assert!(!sels[0].temoins.is_empty());
        assert_eq!(sels[0].temoins.len() + sels[0].retenus.len(), 200);
        assert!(sels[1].retenus.is_empty(), "every foyer is listed or a control of the first");
        let to_control = sels[1].non_retenus.iter().filter(|n| n.vers.as_ref().is_some_and(|v| v.1 == TEMOIN));
        assert_eq!(to_control.count(), sels[0].temoins.len());
    }
}
