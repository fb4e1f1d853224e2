//! Synthetic extracts following the contract, for `sample-data/`, tests and benchmarks.
//!
//! Deterministic: the same seed, month and size give byte-identical files. Distributions
//! are documented in docs/synthetic.md. Non-take-up is planted: among foyers whose
//! profile makes a benefit likely, the right is put in payment except for a chosen
//! share, and the ground truth (written beside the extract, never inside it) says which
//! rights were withheld. The profile is deliberately rough (age, income band): the
//! generator does not re-implement the rules, so the ground truth says what was
//! planted, not what the law decides.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::{Date, Mois};

use crate::output::{OutputError, TableWriter};

pub mod suivi;

/// Non-take-up rates planted by default, from published estimates (docs/synthetic.md).
/// The ASF's and the PAJE's are assumptions of this sample, not published estimates.
pub const TAUX_NON_RECOURS: &[(&str, f64)] = &[
    ("aspa", 0.50),
    ("rsa", 0.34),
    ("ppa", 0.27),
    ("css", 0.44),
    ("asf", 0.20),
    ("paje_base", 0.05),
    ("cf", 0.10),
    ("paje_naissance", 0.05),
    ("aide_logement", 0.10),
    ("aah", 0.25),
];

/// How much each département's planted non-take-up differs from the benefit's rate
/// (points), and how much more a foyer in a QPV claims nothing: assumptions of the
/// synthetic data, so that estimates by territory have something to find (no published
/// territorial estimate is used; docs/synthetic.md).
pub const ECARTS_DEPARTEMENT: &[(&str, f64)] = &[
    ("93", 0.10),
    ("75", -0.06),
    ("92", -0.10),
    ("69", 0.02),
    ("13", 0.06),
    ("59", 0.04),
    ("31", -0.04),
    ("33", -0.02),
    ("35", -0.08),
    ("63", 0.0),
    ("23", 0.08),
    ("48", 0.04),
    ("2A", 0.02),
    ("974", 0.12),
    ("971", 0.14),
    ("08", 0.05),
];
pub const ECART_QPV: f64 = 0.08;

/// The planted non-take-up rate of a benefit for a foyer of this commune, in a QPV or
/// not: the benefit's rate, plus the département's and the QPV's differences, kept
/// between 2 % and 90 %.
pub fn taux_plante(prestation: &str, commune: &str, en_qpv: bool) -> f64 {
    let base = TAUX_NON_RECOURS.iter().find(|(c, _)| *c == prestation).map_or(0.0, |x| x.1);
    let departement = ECARTS_DEPARTEMENT.iter().find(|(d, _)| commune.starts_with(d)).map_or(0.0, |x| x.1);
    (base + departement + if en_qpv { ECART_QPV } else { 0.0 }).clamp(0.02, 0.90)
}

/// splitmix64: small, fast, and stable across platforms and versions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1).max(1) as u64)) as i64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// Cents-rounded amount uniform in [lo, hi].
    pub fn amount(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + self.unit() * (hi - lo)) * 100.0).round() / 100.0
    }
}

/// (commune, zone de logement, caisse)
const COMMUNES: &[(&str, i32, &str)] = &[
    ("93008", 1, "931"),
    ("93048", 1, "931"),
    ("93066", 1, "931"),
    ("75056", 1, "751"),
    ("92050", 1, "921"),
    ("69123", 2, "691"),
    ("13055", 2, "131"),
    ("59350", 2, "591"),
    ("31555", 2, "311"),
    ("33063", 2, "331"),
    ("35238", 2, "351"),
    ("63113", 2, "631"),
    ("23096", 3, "231"),
    ("48095", 3, "481"),
    ("2A004", 3, "2A1"),
    ("97411", 3, "974"),
    ("97105", 3, "971"),
    ("08105", 3, "081"),
];

/// (id_foyer, id_personne, prestation, date_debut, date_fin, montant_mensuel)
type DroitRow = (String, String, &'static str, String, String, Option<f64>);

#[derive(Default)]
struct Tables {
    foyers: Vec<[String; 22]>,
    personnes: Vec<[String; 19]>,
    /// (id_personne, mois, nature, montant, montant_brut)
    ressources: Vec<(String, String, &'static str, f64, Option<f64>)>,
    droits: Vec<DroitRow>,
    evenements: Vec<(String, String, &'static str, String, &'static str)>,
    contacts: Vec<(String, String, String, &'static str, &'static str)>,
    /// The private landlords ([`bailleurs`]): (id_bailleur, telephone, courrier, email,
    /// opposition), and the contacts with them (id_bailleur, campagne, date, canal, resultat).
    bailleurs: Vec<[String; 5]>,
    contacts_bailleurs: Vec<(String, String, String, &'static str, &'static str)>,
    verite: Vec<(String, &'static str, String)>,
}

fn b(v: Option<bool>) -> String {
    match v {
        Some(true) => "1".into(),
        Some(false) => "0".into(),
        None => String::new(),
    }
}

fn money(v: f64) -> String {
    format!("{v:.2}").replace('.', ",")
}

struct Member {
    id: String,
    role: &'static str,
    naissance: Date,
    activite: Option<&'static str>,
    /// The activity written in the extract when it is not the one the resources show
    /// (a planted mismatch, [`plant_discordances`]).
    declaree: Option<&'static str>,
    /// Monthly net income and its nature (None: no income, written as 0).
    revenu: Option<(&'static str, f64)>,
}

/// The mismatches planted between the activity a member of the couple declared and the
/// resources the caisse receives (rule `ressources_a_valider`): for 3 % of them, an
/// activity their resources contradict — a wage earner declared unemployed, inactive or a
/// student, a person on unemployment benefit declared a wage earner, an inactive person
/// declared retired or a wage earner. Drawn from a stream of their own (`rng`), so the
/// rest of the sample does not move; the ground truth names the condition expected.
fn plant_discordances(rng: &mut Rng, members: &mut [Member], id_foyer: &str, t: &mut Tables) {
    for m in members.iter_mut().filter(|m| matches!(m.role, "allocataire" | "conjoint")) {
        if !rng.chance(0.03) {
            continue;
        }
        let (declaree, condition) = match (m.activite, m.revenu) {
            (Some("salarie"), Some(("salaire", _))) => *rng.pick(&[
                ("chomeur", "chomeur_salarie_sans_chomage"),
                ("inactif", "inactif_avec_salaire_regulier"),
                ("etudiant", "inactif_avec_salaire_regulier"),
            ]),
            (Some("chomeur"), Some(("chomage", _))) => ("salarie", "salarie_sans_salaire"),
            (Some("inactif"), None) => {
                *rng.pick(&[("retraite", "retraite_sans_pension"), ("salarie", "salarie_sans_salaire")])
            }
            _ => continue,
        };
        m.declaree = Some(declaree);
        t.verite.push((id_foyer.to_string(), "ressources_a_valider", format!("{condition}_{}", m.role)));
    }
}

/// About one private landlord per this many foyers: with the tenants a landlord has
/// (four in eight foyers rent, most from a private landlord), most landlords have one to
/// eight tenants, a few more.
const FOYERS_PAR_BAILLEUR: usize = 12;

/// The landlords of an extract of `n` foyers.
fn bailleurs_count(n: usize) -> usize {
    (n / FOYERS_PAR_BAILLEUR).max(1)
}

fn bailleur_id(k: usize) -> String {
    format!("B{k:06}")
}

/// The private landlord of the foyer just drawn, and what makes its landlord worth a
/// call: for a tenant of a private landlord (most of those whose dwelling is not
/// conventionné, a few of the others), a landlord drawn among `pool` (the lowest ids
/// more often, so that some have many tenants); then, for 4 % of them (25 % of the five
/// largest landlords' tenants), a rent arrears reported by the landlord this month or
/// last, for 20 % of the largest landlords' an indecent dwelling reported by the
/// commune, and for 5 % of those without a housing
/// aid in payment, an ALS or ALF that ended on the last day of M-1 (a suspended aid). Drawn
/// from a stream of their own (`rng`): the rest of the extract does not move. The ground
/// truth names each planted reason (`impaye_loyer`, `logement_indecent`,
/// `aide_logement_suspendue`).
fn plant_bailleur(rng: &mut Rng, mois: Mois, pool: usize, t: &mut Tables) {
    let Some(f) = t.foyers.last_mut() else { return };
    let locataire = matches!(f[7].as_str(), "locataire" | "locataire_meuble");
    let prive = if f[9] == "1" { 0.1 } else { 0.8 };
    if !locataire || !rng.chance(prive) {
        return;
    }
    let u = rng.unit();
    let k = 1 + ((u.powf(1.3) * pool as f64) as usize).min(pool - 1);
    f[21] = bailleur_id(k);
    let id = f[0].clone();
    // The five largest landlords let run-down dwellings: more arrears, some indecent.
    let marchand = k <= 5;
    for (kind, p, source, regle) in [
        ("impaye_loyer", if marchand { 0.25 } else { 0.04 }, "bailleur", "impaye_loyer"),
        ("indecence_logement", if marchand { 0.2 } else { 0.0 }, "commune", "logement_indecent"),
    ] {
        if rng.chance(p) {
            let when = mois.plus(-(rng.range(0, 1) as i32));
            let date = Date::new(when.year, when.month, rng.range(1, 28) as u32).unwrap_or(when.first_day());
            t.evenements.push((id.clone(), String::new(), kind, date.to_string(), source));
            t.verite.push((id.clone(), regle, format!("{kind}_signale")));
        }
    }
    let first = mois.first_day().to_string();
    let aide_en_paiement = t
        .droits
        .iter()
        .rev()
        .take_while(|d| d.0 == id)
        .any(|d| matches!(d.2, "al" | "apl" | "als") && (d.4.is_empty() || d.4 >= first));
    if !aide_en_paiement && rng.chance(0.05) {
        let code =
            if t.personnes.iter().rev().take_while(|p| p[1] == id).any(|p| p[2] == "enfant") { "al" } else { "als" };
        let (debut, fin) = (mois.plus(-13).first_day().to_string(), mois.plus(-1).last_day().to_string());
        t.droits.push((id.clone(), String::new(), code, debut, fin, Some(rng.amount(80.0, 300.0))));
        t.verite.push((id, "aide_logement_suspendue", "aide_suspendue".into()));
    }
}

/// The `pool` landlords (a landlord without a tenant among the foyers drawn is still in
/// the caisse's table), each from a stream of its own: reachable by phone for 80 %, by
/// mail for all but a few unknown, by email for half; 5 % opposed to being contacted,
/// 3 % unknown. A tenth were called by the landlord campaign in one of the six months
/// before M (some within its three-month cooldown).
fn bailleurs(seed: u64, mois: Mois, pool: usize, t: &mut Tables) {
    for k in 1..=pool {
        let mut rng = Rng::new(seed ^ 0x6261_696c_6c65_7572 ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let id = bailleur_id(k);
        let opposition = if rng.chance(0.03) { None } else { Some(rng.chance(0.05)) };
        t.bailleurs.push([
            id.clone(),
            b(Some(rng.chance(0.8))),
            b(if rng.chance(0.02) { None } else { Some(true) }),
            b(Some(rng.chance(0.5))),
            b(opposition),
        ]);
        if rng.chance(0.1) {
            let when = mois.plus(-(rng.range(1, 6) as i32)).first_day();
            t.contacts_bailleurs.push((
                id,
                "bailleurs_aide_logement".into(),
                when.to_string(),
                "telephone",
                *rng.pick(&["joint", "injoignable"]),
            ));
        }
    }
}

/// Months of resources written before M (docs/extract.md: up to the 14 months before).
pub const HISTORY_MONTHS: i32 = 14;

/// A plausible gross amount for a net one: wages before employee contributions (about
/// 21 % of gross), pensions before social levies (CSG at the reduced rate and CRDS);
/// other natures have no gross amount in the extract.
fn gross_of(nature: &str, net: f64) -> Option<f64> {
    let rate = match nature {
        "salaire" => 0.2084,
        "retraite" | "invalidite" => 0.043,
        _ => return None,
    };
    Some((net / (1.0 - rate) * 100.0).round() / 100.0)
}

fn birth(rng: &mut Rng, mois: Mois, age_years: i64) -> Date {
    let months = age_years * 12 + rng.range(0, 11);
    let m = mois.plus(-(months as i32));
    let day = rng.range(1, reperage_rules::date::days_in_month(m.year, m.month) as i64) as u32;
    Date::new(m.year, m.month, day).unwrap_or(m.first_day())
}

fn adult_profile(rng: &mut Rng, age: i64) -> (&'static str, Option<(&'static str, f64)>) {
    if age >= 63 {
        let pension = if rng.chance(0.25) { rng.amount(250.0, 950.0) } else { rng.amount(950.0, 2800.0) };
        return ("retraite", Some(("retraite", pension)));
    }
    if age < 25 && rng.chance(0.35) {
        return if rng.chance(0.5) {
            ("etudiant", None)
        } else {
            ("apprenti", Some(("salaire", rng.amount(500.0, 1100.0))))
        };
    }
    let u = rng.unit();
    if u < 0.50 {
        let full = rng.chance(0.75);
        let pay = if full { rng.amount(1400.0, 3600.0) } else { rng.amount(450.0, 1250.0) };
        ("salarie", Some(("salaire", pay)))
    } else if u < 0.58 {
        ("independant", Some(("independant", rng.amount(200.0, 3000.0))))
    } else if u < 0.72 {
        ("chomeur", if rng.chance(0.7) { Some(("chomage", rng.amount(550.0, 1400.0))) } else { None })
    } else if u < 0.80 {
        ("invalide", Some(("invalidite", rng.amount(300.0, 950.0))))
    } else {
        ("inactif", None)
    }
}

/// One foyer: its rows drawn from `rng`, its planted mismatches of declared activity from
/// `discordances` ([`plant_discordances`]).
fn foyer(rng: &mut Rng, discordances: &mut Rng, mois: Mois, index: usize, t: &mut Tables) {
    let id = format!("F{index:07}");
    let (commune, zone, caisse) = *rng.pick(COMMUNES);
    let kind = rng.unit();
    // Household type: single 38 %, couple 24 %, couple with children 24 %, single parent 14 %.
    let (couple, n_children) = if kind < 0.38 {
        (false, 0)
    } else if kind < 0.62 {
        (true, 0)
    } else if kind < 0.86 {
        (true, rng.range(1, 4))
    } else {
        (false, rng.range(1, 3))
    };
    let age = if n_children > 0 {
        rng.range(20, 55)
    } else if rng.chance(0.3) {
        rng.range(62, 95)
    } else {
        rng.range(18, 61)
    };
    let mut members = Vec::new();
    let (act, rev) = adult_profile(rng, age);
    members.push(Member {
        id: format!("{id}-1"),
        role: "allocataire",
        naissance: birth(rng, mois, age),
        activite: Some(act),
        declaree: None,
        revenu: rev,
    });
    let age_conjoint = couple.then(|| (age + rng.range(-6, 6)).clamp(18, 99));
    if let Some(a2) = age_conjoint {
        let (act, rev) = adult_profile(rng, a2);
        members.push(Member {
            id: format!("{id}-2"),
            role: "conjoint",
            naissance: birth(rng, mois, a2),
            activite: Some(act),
            declaree: None,
            revenu: rev,
        });
    }
    plant_discordances(discordances, &mut members, &id, t);
    for k in 0..n_children {
        let max_age = (age - 18).clamp(0, 24);
        let a = rng.range(0, max_age);
        let naissance = if a == 0 && rng.chance(0.3) {
            // A birth within the last two months (a life event).
            let m = mois.plus(-(rng.range(0, 1) as i32));
            Date::new(m.year, m.month, 1 + rng.range(0, 20) as u32).unwrap_or(m.first_day())
        } else {
            birth(rng, mois, a)
        };
        members.push(Member {
            id: format!("{id}-{}", k + 3),
            role: "enfant",
            naissance,
            activite: None,
            declaree: None,
            revenu: None,
        });
    }
    if !couple && n_children == 0 && rng.chance(0.03) {
        let a = rng.range(60, 90);
        members.push(Member {
            id: format!("{id}-9"),
            role: "autre",
            naissance: birth(rng, mois, a),
            activite: Some("retraite"),
            declaree: None,
            revenu: Some(("retraite", rng.amount(300.0, 900.0))),
        });
    }

    let statut = *rng.pick(&[
        "locataire",
        "locataire",
        "locataire",
        "locataire_meuble",
        "proprietaire",
        "accedant",
        "heberge_gratuit",
        "foyer",
    ]);
    let loyer = matches!(statut, "locataire" | "locataire_meuble" | "foyer")
        .then(|| rng.amount(250.0, 450.0) + (4 - zone) as f64 * 150.0);
    let closed = rng.chance(0.02);
    let opened = mois.plus(-(rng.range(1, 240) as i32)).first_day();
    let declaration = if rng.chance(0.06) {
        "manquante"
    } else if rng.chance(0.1) {
        "non_requise"
    } else {
        "recue"
    };
    let channels = [rng.chance(0.85), rng.chance(0.75), rng.chance(0.6), rng.chance(0.98)];
    t.foyers.push([
        id.clone(),
        caisse.to_string(),
        format!("{caisse}-A{}", rng.range(1, 4)),
        commune.to_string(),
        String::new(),
        if rng.chance(0.1) { format!("QP{}{:03}", &commune[..2], rng.range(1, 40)) } else { String::new() },
        zone.to_string(),
        statut.to_string(),
        loyer.map(money).unwrap_or_default(),
        b(loyer.map(|_| rng.chance(0.5))),
        b(Some(rng.chance(0.04))),
        b(Some(rng.chance(0.08))),
        declaration.to_string(),
        if rng.chance(0.3) { mois.plus(-(rng.range(1, 6) as i32)).to_string() } else { String::new() },
        b(Some(rng.chance(0.03))),
        b(Some(channels[0])),
        b(Some(channels[1])),
        b(Some(channels[2])),
        b(Some(channels[3])),
        opened.to_string(),
        if closed { mois.plus(-(rng.range(1, 12) as i32)).first_day().to_string() } else { String::new() },
        // The private landlord: drawn apart ([`plant_bailleur`]).
        String::new(),
    ]);

    // Resources of the 14 months before M (the CSS reads M-13 … M-2, docs/extract.md).
    let window: Vec<Mois> = (1..=HISTORY_MONTHS).rev().map(|k| mois.plus(-k)).collect();
    let mut household_income = 0.0;
    // The allocataire's and conjoint's (not an `autre` member's, who is not of the couple).
    let mut couple_income = 0.0;
    let enfants_moins_20 = u8::try_from(
        members.iter().filter(|m| m.role == "enfant" && mois.index() - m.naissance.mois().index() < 240).count(),
    )
    .unwrap_or(u8::MAX);
    // The members of the couple the AAH's profile draws: (id, estimated amount).
    let mut aah_drawn: Vec<(String, f64)> = Vec::new();
    for m in &members {
        let month_only = rng.chance(0.1);
        let naissance = if month_only { m.naissance.mois().to_string() } else { m.naissance.to_string() };
        let adult = matches!(m.role, "allocataire" | "conjoint" | "autre");
        let taux = (adult && rng.chance(0.05)).then(|| rng.range(50, 90));
        let sexe = rng.pick(&["F", "M"]).to_string();
        let femme = sexe == "F";
        let nationalite = *rng.pick(&["francaise", "francaise", "francaise", "francaise", "ue", "hors_ue"]);
        // Residence permits of non-EU adults (10 years for the ASPA, a valid one for the
        // RSA and prime d'activité majorés): optional columns, given here.
        let hors_ue_adult = adult && nationalite == "hors_ue";
        let n2: Option<String>;
        let sejour_10ans = b(hors_ue_adult.then(|| rng.chance(0.6)));
        let sejour = b(hors_ue_adult.then(|| rng.chance(0.95)));
        t.personnes.push([
            m.id.clone(),
            id.clone(),
            m.role.to_string(),
            naissance,
            sexe,
            nationalite.to_string(),
            b(adult.then(|| rng.chance(0.9))),
            m.declaree.or(m.activite).unwrap_or("").to_string(),
            // A declared pregnancy: a woman of the couple aged 18 to 45 (the draw is made
            // for every adult, so that the rest of the sample does not move).
            b(adult.then(|| {
                let drawn = rng.chance(0.02);
                let years = (mois.index() - m.naissance.mois().index()) / 12;
                drawn && femme && matches!(m.role, "allocataire" | "conjoint") && (18..=45).contains(&years)
            })),
            taux.map(|x| x.to_string()).unwrap_or_default(),
            b(taux.map(|_| rng.chance(0.5))),
            b((m.role == "enfant").then(|| rng.chance(0.9))),
            {
                n2 = (adult && rng.chance(0.95))
                    .then(|| money(m.revenu.map_or(0.0, |r| r.1) * 12.0 * rng.amount(0.85, 1.1)));
                n2.clone().unwrap_or_default()
            },
            String::new(),
            b(Some(rng.chance(0.88))),
            rng.pick(&["privee", "privee", "privee", "aucune", "css"]).to_string(),
            sejour_10ans,
            sejour,
            // Its part of earned income (the AAH's abatements): all of it for a wage
            // earner or a self-employed person, none otherwise. No draw of its own.
            match (&n2, m.revenu) {
                (None, _) => String::new(),
                (Some(v), Some(("salaire" | "independant", _))) => v.clone(),
                (Some(_), _) => money(0.0),
            },
        ]);
        if !adult {
            continue;
        }
        // The AAH's profile, wider than the law (docs/synthetic.md): a member of the couple
        // with a rate of 80 %, or of 50 % with the RSDAE before 62, whose income (earnings
        // after the abatements, roughly) is under 1.2 times the ceiling (raised by half per
        // child under 20) plus 50 €.
        let years = (mois.index() - m.naissance.mois().index()) / 12;
        let rsdae = t.personnes.last().is_some_and(|p| p[10] == "1");
        let handicap = taux.is_some_and(|x| x >= 80 || (rsdae && years < 62));
        let (nature, mensuel) = m.revenu.unwrap_or(("autre", 0.0));
        let ressources = if matches!(nature, "salaire" | "independant") { 0.6 * mensuel - 216.0 } else { mensuel };
        let plafond = 1033.32 * (1.0 + 0.5 * f64::from(enfants_moins_20));
        if matches!(m.role, "allocataire" | "conjoint") && handicap && ressources < 1.2 * plafond + 50.0 {
            aah_drawn.push((m.id.clone(), (plafond - ressources.max(0.0)).clamp(0.0, 1033.32)));
        }
        // 3 % of adults have one unknown month (no row at all that month).
        let missing = rng.chance(0.03).then(|| rng.range(0, HISTORY_MONTHS as i64 - 1) as usize);
        // The source gives the gross amount of pensions and wages for 70 % of persons.
        let with_gross = rng.chance(0.7);
        for (k, mm) in window.iter().enumerate() {
            if Some(k) == missing {
                continue;
            }
            match m.revenu {
                Some((nature, amount)) => {
                    let v = (amount * rng.amount(0.9, 1.1) * 100.0).round() / 100.0;
                    if k >= window.len() - 3 {
                        household_income += v;
                        if m.role != "autre" {
                            couple_income += v;
                        }
                    }
                    let gross = with_gross.then(|| gross_of(nature, v)).flatten();
                    t.ressources.push((m.id.clone(), mm.to_string(), nature, v, gross));
                }
                None => t.ressources.push((m.id.clone(), mm.to_string(), "autre", 0.0, None)),
            }
        }
    }

    // Rights: put in payment for every foyer a benefit's profile draws, except a planted
    // share (non-take-up) that depends on the benefit, the département and the QPV. The
    // profiles are wider than the law (docs/synthetic.md): every foyer the rules find
    // eligible is drawn, so that the ground truth is the whole non-take-up among them.
    let monthly = household_income / 3.0;
    let couple_monthly = couple_income / 3.0;
    let under_3 =
        members.iter().any(|m| m.role == "enfant" && (1..=35).contains(&(mois.index() - m.naissance.mois().index())));
    let oldest = age_conjoint.map_or(age, |a2| age.max(a2));
    let persons = members.len() as f64;
    let n = n_children as f64;
    let outre_mer = ["971", "972", "973", "974"].iter().any(|r| commune.starts_with(r));
    let en_qpv = t.foyers.last().is_some_and(|f| !f[5].is_empty());
    let enceinte = t.personnes.iter().rev().take(members.len()).any(|p| p[8] == "1");
    let actif = members.iter().any(|m| {
        matches!(m.role, "allocataire" | "conjoint")
            && matches!(m.activite, Some("salarie" | "apprenti" | "independant"))
    });
    // Children's ages in months at M (month of birth to M).
    let ages: Vec<i32> =
        members.iter().filter(|m| m.role == "enfant").map(|m| mois.index() - m.naissance.mois().index()).collect();
    let cf_children = ages.iter().filter(|a| (36..=252).contains(*a)).count();
    // (benefit, drawn, estimated amount)
    let drawn: Vec<(&'static str, bool, f64)> = vec![
        // Earnings are partly disregarded for the ASPA (D815-2-1): an active couple is
        // drawn further up.
        (
            "aspa",
            oldest >= 62
                && couple_monthly
                    < if couple { 1900.0 } else { 1250.0 }
                        + if actif { if couple { 1500.0 } else { 900.0 } } else { 0.0 },
            (1034.0 - monthly).max(0.0),
        ),
        (
            "rsa",
            (oldest >= 25 || n_children > 0 || enceinte)
                && couple_monthly
                    < if couple {
                        700.0 * (1.6 + 0.5 * n)
                    } else {
                        800.0 * (1.0 + 0.5 * n + f64::from(u8::from(enceinte)))
                    },
            (650.0 * persons.min(3.0) - monthly).max(0.0),
        ),
        ("ppa", actif && couple_monthly < 2600.0 * (1.0 + 0.5 * f64::from(u8::from(couple)) + 0.3 * n), 150.0),
        ("css", monthly < 1400.0 * persons, 0.0),
        ("asf", !couple && n_children > 0, 200.0 * n),
        ("paje_base", under_3, 197.58),
        // Overseas, the complément familial goes to a family with a child of 3 or 4
        // (L755-16; drawn from 3 to 6); in metropolitan France, to three of 3 to 21.
        (
            "cf",
            !under_3 && if outre_mer { ages.iter().any(|a| (36..=72).contains(a)) } else { cf_children >= 3 },
            197.58,
        ),
    ];
    let start = mois.plus(-(rng.range(2, 60) as i32)).first_day().to_string();
    // One draw of the foyer's stream seeds the planting of every benefit (its own stream
    // each), so that widening a profile does not move the rest of the extract.
    let graine = rng.next_u64();
    let plante = |code: &str| {
        let taux = taux_plante(code, commune, en_qpv);
        let mut r = Rng::new(code.bytes().fold(graine, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)));
        r.chance(taux)
    };
    for (code, drawn, amount) in drawn {
        if !drawn || closed {
            continue;
        }
        if plante(code) {
            t.verite.push((id.clone(), code, "droit_non_demande".into()));
        } else {
            let person = if matches!(code, "aspa" | "css") { format!("{id}-1") } else { String::new() };
            let amount = (code != "css").then(|| (amount * 100.0).round() / 100.0);
            t.droits.push((id.clone(), person, code, start.clone(), String::new(), amount));
        }
    }
    // The AAH of each member of the couple the profile draws, paid to that person; planted
    // for the foyer (the rule tells a foyer's AAH in payment, not a person's).
    if !aah_drawn.is_empty() && !closed {
        if plante("aah") {
            t.verite.push((id.clone(), "aah", "droit_non_demande".into()));
        } else {
            // An estimate of 0 € (resources at the ceiling or above) is no payment: no row.
            for (person, amount) in aah_drawn.into_iter().filter(|(_, a)| *a >= 0.005) {
                let amount = Some((amount * 100.0).round() / 100.0);
                t.droits.push((id.clone(), person, "aah", start.clone(), String::new(), amount));
            }
        }
    }
    // The prime à la naissance, paid once in the 7th month of the pregnancy: for the
    // youngest child born from M-23 to M, dated two months before its birth; for a
    // declared pregnancy (which comes first, as in the rule), paid in M-1 (a pregnancy
    // is declared in the sample once its prime is due: the rule cannot tell the month
    // of a pregnancy).
    let recent = ages.iter().copied().filter(|a| (0..=23).contains(a)).min();
    let prime_due = if closed {
        None
    } else if enceinte {
        Some(mois.plus(-1))
    } else {
        recent.map(|a| mois.plus(-a - 2))
    };
    if let Some(paid) = prime_due {
        if plante("paje_naissance") {
            t.verite.push((id.clone(), "paje_naissance", "droit_non_demande".into()));
        } else {
            let (debut, fin) = (paid.first_day().to_string(), paid.last_day().to_string());
            t.droits.push((id.clone(), String::new(), "paje_naissance", debut, fin, Some(1089.87)));
        }
    }
    // The housing aid: for a tenant (vide or meublé) whose income is under 2,000 € plus
    // 1,000 € per further person, planted like the others; paid as the APL in a
    // conventionné dwelling, as the ALF with a child, the ALS otherwise. A resident of a
    // logement-foyer under 1,500 € gets the ALS (the rule does not compute it). The two
    // draws of the foyer's stream are made as before, for foyers under 1,500 €, so that the
    // rest of the extract does not move; the band above draws from its own stream.
    let conventionne = t.foyers.last().is_some_and(|f| f[9] == "1");
    let locataire = matches!(statut, "locataire" | "locataire_meuble");
    let draws = (loyer.is_some() && monthly < 1500.0).then(|| {
        // The draw of the code (APL or AL) an earlier version made outside logements-foyers:
        // kept, unused.
        if statut != "foyer" {
            let _ = rng.chance(0.5);
        }
        rng.amount(80.0, 350.0)
    });
    if locataire && !closed && monthly < 2000.0 + 1000.0 * (persons - 1.0) {
        let amount = draws.unwrap_or_else(|| {
            let mut r = Rng::new(graine ^ 0x6C6F_6765_6D65_6E74);
            r.amount(80.0, 350.0)
        });
        if plante("aide_logement") {
            t.verite.push((id.clone(), "aide_logement", "droit_non_demande".into()));
        } else {
            let code = if conventionne {
                "apl"
            } else if n_children > 0 {
                "al"
            } else {
                "als"
            };
            t.droits.push((id.clone(), String::new(), code, start.clone(), String::new(), Some(amount)));
        }
    } else if let Some(amount) = draws.filter(|_| statut == "foyer") {
        t.droits.push((id.clone(), String::new(), "als", start.clone(), String::new(), Some(amount)));
    }
    // The allocations familiales from the second child, from the first in an overseas
    // region (L755-11: rules/af.toml).
    if n_children >= 2 || (outre_mer && n_children == 1) {
        let montant = match n_children {
            1 => 27.43,
            2 => 151.0,
            _ => 345.0,
        };
        t.droits.push((id.clone(), String::new(), "af", start.clone(), String::new(), Some(montant)));
    }
    // A CSS ending within five months (its renewal is asked 4 to 2 months before), but
    // not where the ground truth says the CSS was not claimed.
    let css_non_demandee = t.verite.iter().rev().take_while(|v| v.0 == id).any(|v| v.1 == "css");
    if rng.chance(0.04) && !css_non_demandee {
        let end = mois.plus(rng.range(0, 5) as i32).last_day().to_string();
        t.droits.push((id.clone(), String::new(), "css", start.clone(), end, None));
    }

    // Events of the last six months.
    for m in members.iter().filter(|m| m.role == "enfant" && m.naissance >= mois.plus(-2).first_day()) {
        t.evenements.push((id.clone(), m.id.clone(), "naissance", m.naissance.to_string(), "allocataire"));
    }
    for (kind, p, source) in [
        ("separation", 0.01, "allocataire"),
        ("demenagement", 0.02, "allocataire"),
        ("impaye_loyer", 0.005, "bailleur"),
        ("indecence_logement", 0.002, "commune"),
        ("perte_emploi", 0.01, "dsn"),
    ] {
        if rng.chance(p) {
            let when = mois.plus(-(rng.range(0, 5) as i32));
            let date = Date::new(when.year, when.month, rng.range(1, 28) as u32).unwrap_or(when.first_day());
            t.evenements.push((id.clone(), String::new(), kind, date.to_string(), source));
        }
    }
    if rng.chance(0.05) {
        let when = mois.plus(-(rng.range(1, 12) as i32)).first_day();
        let canal = *rng.pick(&["telephone", "sms", "email", "courrier"]);
        t.contacts.push((
            id.clone(),
            "rendez_vous_des_droits".into(),
            when.to_string(),
            canal,
            *rng.pick(&["joint", "injoignable", "rdv_pris"]),
        ));
    }
}

fn frame(names: &[&str], rows: Vec<Vec<String>>) -> PolarsResult<DataFrame> {
    let columns: Vec<Column> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Column::new((*n).into(), rows.iter().map(|r| r[i].as_str()).collect::<Vec<_>>()))
        .collect();
    DataFrame::new_infer_height(columns)
}

/// Last month's extract of the same foyers, for `screen --precedent` (docs/synthetic.md):
/// the month before, minus what happened in M — children born in M were not yet members,
/// a foyer that moved in M lived in another commune, a foyer separated in M still had
/// its conjoint — plus, for 1 % of the open dossiers, a housing aid that ended on the
/// last day of M−1 (a right that stopped). Resources cover the 14 months before M−1.
fn previous_month(t: &Tables, mois: Mois, rng: &mut Rng) -> Tables {
    let this = mois.to_string();
    let in_m = |d: &str| d.starts_with(&this);
    let event_in_m = |kind: &str| -> std::collections::HashSet<&str> {
        t.evenements.iter().filter(|e| e.2 == kind && in_m(&e.3)).map(|e| e.0.as_str()).collect()
    };
    let moved = event_in_m("demenagement");
    let separated = event_in_m("separation");
    let mut p = Tables::default();
    let before = mois.plus(-1);
    let first = mois.first_day().to_string();
    // Each foyer's rights in the order drawn, so that a stopped housing aid is listed
    // with its foyer's rights: the file is the same whatever the batches (generate).
    let mut droits: std::collections::HashMap<&str, Vec<&DroitRow>> = std::collections::HashMap::new();
    for d in t.droits.iter().filter(|d| d.3 < first) {
        droits.entry(d.0.as_str()).or_default().push(d);
    }
    for f in &t.foyers {
        let mut f = f.clone();
        if moved.contains(f[0].as_str()) {
            let i = COMMUNES.iter().position(|c| c.0 == f[3]).unwrap_or(0);
            f[3] = COMMUNES[(i + 1) % COMMUNES.len()].0.to_string();
        }
        if f[20].is_empty() && rng.chance(0.01) {
            let start = mois.plus(-13).first_day().to_string();
            let end = before.last_day().to_string();
            p.droits.push((f[0].clone(), String::new(), "al", start, end, Some(rng.amount(80.0, 300.0))));
        }
        p.droits.extend(droits.remove(f[0].as_str()).unwrap_or_default().into_iter().cloned());
        p.foyers.push(f);
    }
    let has_conjoint: std::collections::HashSet<&str> =
        t.personnes.iter().filter(|r| r[2] == "conjoint").map(|r| r[1].as_str()).collect();
    for r in &t.personnes {
        if r[2] == "enfant" && in_m(&r[3]) {
            continue;
        }
        p.personnes.push(r.clone());
        if r[2] == "allocataire" && separated.contains(r[1].as_str()) && !has_conjoint.contains(r[1].as_str()) {
            let mut c = r.clone();
            c[0] = format!("{}-2", r[1]);
            c[2] = "conjoint".to_string();
            p.personnes.push(c);
        }
    }
    // Resources of M−15 … M−2: the month M−1 is not yet known; M−15 repeats M−14.
    let oldest = mois.plus(-HISTORY_MONTHS).to_string();
    let (m1, older) = (before.to_string(), mois.plus(-HISTORY_MONTHS - 1).to_string());
    for r in t.ressources.iter().filter(|r| r.1 != m1) {
        if r.1 == oldest {
            p.ressources.push((r.0.clone(), older.clone(), r.2, r.3, r.4));
        }
        p.ressources.push(r.clone());
    }
    p.evenements.extend(t.evenements.iter().filter(|e| e.3 < first).cloned());
    p.contacts.extend(t.contacts.iter().filter(|c| c.2 < first).cloned());
    p
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("screening the generated extract for its follow-up: {0}")]
    Ecran(Box<crate::screen::ScreenError>),
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

/// The tables of an extract being written in `out`, a batch of foyers at a time.
struct ExtractWriter {
    tables: Vec<(&'static str, TableWriter)>,
    parquet: bool,
}

const TABLES: [&str; 7] = ["foyers", "personnes", "ressources", "droits", "evenements", "contacts", "bailleurs"];

impl ExtractWriter {
    fn create(out: &Path, parquet: bool) -> Result<ExtractWriter, GenerateError> {
        let tables = TABLES
            .iter()
            .map(|name| Ok((*name, TableWriter::extract_table(out, name, parquet)?)))
            .collect::<Result<_, OutputError>>()?;
        Ok(ExtractWriter { tables, parquet })
    }

    /// Appends the rows of `t` to every table.
    fn append(&mut self, t: Tables) -> Result<(), GenerateError> {
        for ((name, writer), (table, df)) in self.tables.iter_mut().zip(frames(t)?) {
            debug_assert_eq!(*name, table);
            // Empty cells are unknown: written as nothing, not as a quoted empty string.
            let exprs: Vec<Expr> = df
                .get_column_names()
                .iter()
                .map(|c| {
                    when(col(c.as_str()).eq(lit("")))
                        .then(lit(NULL).cast(DataType::String))
                        .otherwise(col(c.as_str()))
                        .alias(c.as_str())
                })
                .collect();
            let df = df.lazy().select(exprs).collect()?;
            let mut df = if self.parquet { in_own_types(table, df)? } else { df };
            writer.write(&mut df)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<PathBuf>, GenerateError> {
        let mut written = Vec::new();
        for (_, writer) in self.tables {
            written.extend(writer.finish()?);
        }
        Ok(written)
    }
}

/// A table's frame of text with its amounts, dates and booleans in their own Parquet
/// types (64-bit floats, dates, booleans), as a caisse's Parquet export has them: each
/// cell parsed by the reader's cell parser, so that the file holds the values the CSV
/// text reads as. Months, and dates that may be months (`date_naissance`), stay text.
fn in_own_types(table: &str, df: DataFrame) -> PolarsResult<DataFrame> {
    use crate::extract::cells::{Cell, parse_cell};
    use crate::extract::schema::ColType;
    let Some(table) = crate::extract::Table::ALL.into_iter().find(|t| t.name() == table) else { return Ok(df) };
    let mut columns = Vec::with_capacity(df.width());
    for column in df.columns() {
        let def =
            table.column(column.name()).filter(|d| matches!(d.ty, ColType::Decimal | ColType::Date | ColType::Booleen));
        let Some(def) = def else {
            columns.push(column.clone());
            continue;
        };
        let cells: Vec<Option<Cell>> = column
            .str()?
            .iter()
            .map(|v| v.map(|v| parse_cell(def.ty, v.trim())).transpose())
            .collect::<Result<_, String>>()
            .map_err(|e| polars_err!(ComputeError: "generate: {}.{}: {e}", table.name(), def.name))?;
        columns.extend(crate::extract::reader::typed_column(def, cells)?);
    }
    DataFrame::new_infer_height(columns)
}

/// The rows of `t` as one frame of text per table, in [`TABLES`] order.
fn frames(t: Tables) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    let mut tables: Vec<(&'static str, DataFrame)> = Vec::new();
    let foyer_cols = [
        "id_foyer",
        "caisse",
        "agence",
        "commune",
        "iris",
        "qpv",
        "zone_logement",
        "statut_logement",
        "loyer",
        "logement_conventionne",
        "colocation",
        "suivi_social",
        "declaration_annuelle",
        "dtr_derniere",
        "opposition_contact",
        "canal_telephone",
        "canal_sms",
        "canal_email",
        "canal_courrier",
        "date_ouverture",
        "date_cloture",
        "id_bailleur",
    ];
    tables.push(("foyers", frame(&foyer_cols, t.foyers.into_iter().map(Vec::from).collect())?));
    let personne_cols = [
        "id_personne",
        "id_foyer",
        "role",
        "date_naissance",
        "sexe",
        "nationalite",
        "sejour_regulier_5ans",
        "activite",
        "enceinte",
        "taux_incapacite",
        "rsdae",
        "scolarise",
        "revenu_n2",
        "date_deces",
        "medecin_traitant",
        "complementaire_sante",
        "sejour_regulier_10ans",
        "sejour_regulier",
        "revenus_activite_n2",
    ];
    tables.push(("personnes", frame(&personne_cols, t.personnes.into_iter().map(Vec::from).collect())?));
    tables.push((
        "ressources",
        frame(
            &["id_personne", "mois", "nature", "montant", "montant_brut"],
            t.ressources
                .into_iter()
                .map(|(p, m, n, v, g)| vec![p, m, n.to_string(), money(v), g.map(money).unwrap_or_default()])
                .collect(),
        )?,
    ));
    tables.push((
        "droits",
        frame(
            &["id_foyer", "id_personne", "prestation", "date_debut", "date_fin", "montant_mensuel"],
            t.droits
                .into_iter()
                .map(|(f, p, c, d, e, v)| vec![f, p, c.to_string(), d, e, v.map(money).unwrap_or_default()])
                .collect(),
        )?,
    ));
    tables.push((
        "evenements",
        frame(
            &["id_foyer", "id_personne", "type", "date", "source"],
            t.evenements.into_iter().map(|(f, p, k, d, s)| vec![f, p, k.to_string(), d, s.to_string()]).collect(),
        )?,
    ));
    // A contact is with a foyer or with a landlord: the other id is empty.
    let foyers =
        t.contacts.into_iter().map(|(f, c, d, k, r)| vec![f, String::new(), c, d, k.to_string(), r.to_string()]);
    let bailleurs = t
        .contacts_bailleurs
        .into_iter()
        .map(|(b, c, d, k, r)| vec![String::new(), b, c, d, k.to_string(), r.to_string()]);
    tables.push((
        "contacts",
        frame(
            &["id_foyer", "id_bailleur", "campagne", "date", "canal", "resultat"],
            foyers.chain(bailleurs).collect(),
        )?,
    ));
    tables.push((
        "bailleurs",
        frame(
            &["id_bailleur", "canal_telephone", "canal_courrier", "canal_email", "opposition_contact"],
            t.bailleurs.into_iter().map(Vec::from).collect(),
        )?,
    ));
    Ok(tables)
}

/// Where the ground truth goes: beside the extract folder, never inside it.
pub fn ground_truth_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "extrait".into());
    out.with_file_name(format!("{name}.verite.csv"))
}

/// Foyers generated and written at a time: the generator's memory is bounded by a batch,
/// whatever the number of foyers.
const BATCH: usize = 50_000;

/// Writes a synthetic extract of `n` foyers for `mois` in `out` (CSV `;` or Parquet),
/// and its ground truth beside it; with `precedent`, also last month's extract of the
/// same foyers there (see [`previous_month`]). Returns the paths written.
///
/// Rows come foyer after foyer, a batch at a time, and every table is the same whatever
/// the batch size (each foyer's rows are drawn from one random sequence, in order).
pub fn generate(
    n: usize,
    mois: Mois,
    seed: u64,
    out: &Path,
    precedent: Option<&Path>,
    parquet: bool,
) -> Result<Vec<PathBuf>, GenerateError> {
    generate_in_batches(n, mois, seed, out, precedent, parquet, BATCH)
}

fn generate_in_batches(
    n: usize,
    mois: Mois,
    seed: u64,
    out: &Path,
    precedent: Option<&Path>,
    parquet: bool,
    batch: usize,
) -> Result<Vec<PathBuf>, GenerateError> {
    let mut rng = Rng::new(seed);
    let mut rng_precedent = Rng::new(seed ^ 0x7072_6563_6564_656e);
    let mut rng_discordances = Rng::new(seed ^ 0x6469_7363_6f72_6465);
    let mut rng_bailleurs = Rng::new(seed ^ 0x6c6f_6361_7461_6972);
    let pool = bailleurs_count(n);
    let mut previous = precedent.map(|dir| ExtractWriter::create(dir, parquet)).transpose()?;
    let mut current = ExtractWriter::create(out, parquet)?;
    let truth_path = ground_truth_path(out);
    let truth_name = truth_path.file_stem().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut truth = TableWriter::extract_table(truth_path.parent().unwrap_or(Path::new(".")), &truth_name, false)?;
    // A batch of foyers at a time, so that memory does not grow with `n`; each foyer's
    // rows are drawn from the same random sequence whatever the batch.
    for start in (0..n.max(1)).step_by(batch.max(1)) {
        let mut t = Tables::default();
        for i in start..n.min(start + batch.max(1)) {
            foyer(&mut rng, &mut rng_discordances, mois, i + 1, &mut t);
            plant_bailleur(&mut rng_bailleurs, mois, pool, &mut t);
        }
        // The landlords with the last batch: the table does not depend on the batches.
        if start + batch.max(1) >= n {
            bailleurs(seed, mois, pool, &mut t);
        }
        if let Some(p) = &mut previous {
            p.append(previous_month(&t, mois, &mut rng_precedent))?;
        }
        let verite = std::mem::take(&mut t.verite);
        truth.write(&mut frame(
            &["id_foyer", "prestation", "plante"],
            verite.into_iter().map(|(f, c, k)| vec![f, c.to_string(), k]).collect(),
        )?)?;
        current.append(t)?;
    }
    let mut written = Vec::new();
    if let Some(p) = previous {
        written.extend(p.finish()?);
    }
    written.extend(current.finish()?);
    written.extend(truth.finish()?);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `dir` (not in its folders), by name, with its bytes.
    fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .map(|p| (p.file_name().expect("name").to_string_lossy().to_string(), std::fs::read(&p).expect("read")))
            .collect()
    }

    #[test]
    fn the_extract_does_not_depend_on_the_batch_size() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mois = Mois::parse("2025-03").expect("month");
        let mut runs = Vec::new();
        for batch in [300, 7, 1] {
            let dir = tmp.path().join(format!("b{batch}"));
            let (out, prev) = (dir.join("extrait"), dir.join("precedent"));
            generate_in_batches(300, mois, 9, &out, Some(&prev), false, batch).expect("generate");
            runs.push((files(&dir), files(&out), files(&prev)));
        }
        let (_, out, prev) = &runs[0];
        assert_eq!(out.len(), 7);
        // Last month's rights include housing aids that stopped (drawn for 1 % of the
        // foyers), whose place in the file is what batches could change.
        assert!(
            String::from_utf8_lossy(&prev["droits.csv"]).contains(";;al;2024-02-01;2025-02-28;"),
            "a stopped housing aid"
        );
        for run in &runs[1..] {
            assert!(run.0 == runs[0].0, "the ground truth");
            assert!(run.1 == *out, "this month's extract");
            assert!(run.2 == *prev, "last month's extract");
        }
    }
}
