//! Resource inputs of the situation: sums of the `ressources` table over the windows the
//! rules read, per foyer, with unknown months kept unknown (docs/situation.md).
//!
//! A month is *known* for a foyer when the allocataire and, if there is one, the conjoint
//! each have at least one row for it; a sum over a window is unknown unless all its
//! months are known (then a nature without a row counts 0). The windows, as offsets
//! before the reference month M:
//!
//! | inputs | months | read by |
//! |---|---|---|
//! | `ressources_m{k}_*`, `revenus_activite_m{k}_*` | M-k, k = 1 … 4 | RSA, prime d'activité (M-4 … M-2 since 2025-03, M-3 … M-1 before) |
//! | `ressources_3m_*`, `revenus_activite_3m_*` | M-3 … M-1 | ASPA |
//! | `ressources_m13_m2_*`, `pensions_alimentaires_m13_m2_couple` | M-13 … M-2 | CSS (décret n° 2021-1642) |
//! | `{salaires,revenus_independants,chomage,pensions,bourses,autres_ressources}_m13_m2_{allocataire,conjoint}` | M-13 … M-2 | aides au logement (R822-3 CCH) |
//! | `chomage_m1_{allocataire,conjoint}` | M-1 | aides au logement (abattement, neutralisation) |
//! | `{salaires,revenus_independants,chomage,pensions,bourses,autres_ressources}_3m_{allocataire,conjoint}` | M-3 … M-1 | AAH (évaluation trimestrielle) |
//! | `revenus_remplacement_m1_*`, `pensions_invalidite_m1_*` | M-1 | AAH (abattement, neutralisation, pension non cumulable) |

use polars::prelude::*;
use reperage_rules::{Date, Mois};

use super::{Rangs, days, number_column, strings};
use crate::extract::mois::is_alive_on;
use crate::extract::schema::NATURES;
use crate::extract::{Extract, Table};

const ID: &str = "id_foyer";

/// Months of history read, as offsets before M: M-1 … M-13.
const HISTORY: i32 = 13;
const HISTORY_MONTHS: usize = HISTORY as usize;

/// Per-month resource inputs, for months M-1 … M-`MONTHS_BY_MONTH`.
pub const MONTHS_BY_MONTH: i32 = 4;
const BY_MONTH: usize = MONTHS_BY_MONTH as usize;

/// Age (in months) from which a child is no longer à charge: the same bound as
/// `nb_enfants_moins_25ans`.
const ENFANT_A_CHARGE_MOIS: i32 = 300;

/// Natures whose gross amount the ASPA reads: pensions, and earned income.
const PENSIONS: [&str; 2] = ["retraite", "invalidite"];
const ACTIVITE: [&str; 2] = ["salaire", "independant"];

/// The groups of natures the housing aid (over M-13 … M-2) and the AAH (over M-3 … M-1)
/// tell apart for each member of the couple, by the tax category each falls in (R822-4
/// CCH, R821-4 CSS: revenus nets catégoriels): wages and sick-pay (indemnités
/// journalières, taxed as wages), self-employed profits, unemployment benefit, pensions
/// (retirement, invalidity, alimony received), bourses, anything else. The names of the
/// inputs, in the order of the groups.
const GROUPES: [&str; 6] = ["salaires", "revenus_independants", "chomage", "pensions", "bourses", "autres_ressources"];
const CHOMAGE: usize = 2;

fn groupe(nature: &str) -> usize {
    match nature {
        "salaire" | "indemnites_journalieres" => 0,
        "independant" => 1,
        "chomage" => CHOMAGE,
        "retraite" | "invalidite" | "pension_alimentaire" => 3,
        "bourse" => 4,
        _ => 5,
    }
}

/// What the sums need to know of a nature, told once per nature rather than by
/// comparing its name on every row.
#[derive(Clone, Copy)]
struct Nature {
    /// Its index in `NATURES`.
    index: usize,
    /// Earned income.
    activite: bool,
    /// The couple's pensions (0) or earned income (1), whose gross amount is summed too.
    brut: Option<usize>,
    pension_alimentaire: bool,
    bourse: bool,
    /// Its group (an index of `GROUPES`).
    groupe: usize,
    /// A replacement income (unemployment benefit, retirement or invalidity pension),
    /// which the AAH's abatement and neutralisation look for in M-1.
    remplacement: bool,
    invalidite: bool,
}

impl Nature {
    fn of(index: usize) -> Nature {
        let name = NATURES[index];
        let activite = ACTIVITE.contains(&name);
        let brut = if PENSIONS.contains(&name) { Some(0) } else { activite.then_some(1) };
        Nature {
            index,
            activite,
            brut,
            pension_alimentaire: name == "pension_alimentaire",
            bourse: name == "bourse",
            groupe: groupe(name),
            remplacement: matches!(name, "chomage" | "retraite" | "invalidite"),
            invalidite: name == "invalidite",
        }
    }
}

/// The two members whose resources are told apart: the allocataire and the conjoint.
const ALLOCATAIRE: usize = 0;
const CONJOINT: usize = 1;

/// What a resource row's person is to its foyer.
#[derive(Clone, Copy)]
struct Membre {
    /// Row of the foyer in the `foyers` table.
    foyer: u32,
    /// ALLOCATAIRE, CONJOINT, or neither.
    couple: Option<usize>,
    /// Outside the foyer of the RSA, the prime d'activité and the CSS: a person of role
    /// "autre", and a child of 25 or more at M (no longer a person à charge, R262-3
    /// CASF, L861-1 CSS), whose resources are not the foyer's.
    autre: bool,
}

/// The sums of one foyer, before the unknown months mask them.
#[derive(Clone, Default)]
struct Sommes {
    /// Every resource, M-3 … M-1; of those outside the foyer; of the couple.
    s3: f64,
    s3_autres: f64,
    s3_couple: f64,
    /// Every resource, M-13 … M-2; of those outside; the couple's pensions alimentaires.
    s_m13_m2: f64,
    s_m13_m2_autres: f64,
    s_m13_m2_couple_pensions_alimentaires: f64,
    /// The allocataire's and the conjoint's resources, M-13 … M-2, by housing-aid group;
    /// their unemployment benefit of M-1.
    m13_m2_logement: [[f64; GROUPES.len()]; 2],
    chomage_m1: [f64; 2],
    /// The allocataire's and the conjoint's resources, M-3 … M-1, by group; their
    /// replacement income and invalidity pension of M-1.
    groupes_3m: [[f64; GROUPES.len()]; 2],
    remplacement_m1: [f64; 2],
    invalidite_m1: [f64; 2],
    /// The members' resources by nature, M-3 … M-1 (in the order of `NATURES`).
    s3_nature: [f64; NATURES.len()],
    /// Earned income of the allocataire and of the conjoint, M-3 … M-1.
    act3: [f64; 2],
    /// The couple's pensions (0) and earned income (1), M-3 … M-1: net, gross, and the
    /// rows without a gross amount.
    couple_net: [f64; 2],
    couple_brut: [f64; 2],
    couple_sans_brut: [u32; 2],
    /// Per month M-k, k = 1 … 4: every resource, the members' bourses and pensions
    /// alimentaires, those outside's, the earned income of the allocataire and of the
    /// conjoint.
    m: [f64; BY_MONTH],
    m_bourse: [f64; BY_MONTH],
    m_pension_alimentaire: [f64; BY_MONTH],
    m_autres: [f64; BY_MONTH],
    m_act: [[f64; 2]; BY_MONTH],
    /// Rows of the allocataire and of the conjoint in each month M-j, j = 1 … 13.
    lignes: [[u32; 2]; HISTORY_MONTHS],
}

impl Sommes {
    /// Adds one row of month M-`j` (1 … 13) of `membre`, of nature `nature` (an index of
    /// `NATURES`).
    fn add(&mut self, j: usize, membre: Membre, nature: Nature, montant: f64, montant_brut: Option<f64>) {
        let last3 = j <= 3;
        let m13_m2 = j >= 2;
        if let Some(who) = membre.couple {
            self.lignes[j - 1][who] += 1;
        }
        if last3 {
            self.s3 += montant;
            if membre.autre {
                self.s3_autres += montant;
            } else {
                self.s3_nature[nature.index] += montant;
            }
            if let Some(who) = membre.couple {
                self.s3_couple += montant;
                self.groupes_3m[who][nature.groupe] += montant;
                if nature.activite {
                    self.act3[who] += montant;
                }
                if let Some(kind) = nature.brut {
                    self.couple_net[kind] += montant;
                    // A row of 0 net is 0 gross; a gross sum is unknown as soon as one
                    // of its rows has no gross amount.
                    match if montant == 0.0 { Some(0.0) } else { montant_brut } {
                        Some(b) => self.couple_brut[kind] += b,
                        None => self.couple_sans_brut[kind] += 1,
                    }
                }
            }
        }
        if m13_m2 {
            self.s_m13_m2 += montant;
            if membre.autre {
                self.s_m13_m2_autres += montant;
            }
            if membre.couple.is_some() && nature.pension_alimentaire {
                self.s_m13_m2_couple_pensions_alimentaires += montant;
            }
            if let Some(who) = membre.couple {
                self.m13_m2_logement[who][nature.groupe] += montant;
            }
        }
        if j == 1
            && let Some(who) = membre.couple
        {
            if nature.groupe == CHOMAGE {
                self.chomage_m1[who] += montant;
            }
            if nature.remplacement {
                self.remplacement_m1[who] += montant;
            }
            if nature.invalidite {
                self.invalidite_m1[who] += montant;
            }
        }
        if j <= BY_MONTH {
            let k = j - 1;
            self.m[k] += montant;
            if membre.autre {
                self.m_autres[k] += montant;
            } else if nature.bourse {
                self.m_bourse[k] += montant;
            } else if nature.pension_alimentaire {
                self.m_pension_alimentaire[k] += montant;
            }
            if let Some(who) = membre.couple
                && nature.activite
            {
                self.m_act[k][who] += montant;
            }
        }
    }
}

/// The names of the resource inputs of each member of the couple: by group over the
/// housing aid's and the AAH's windows, and of M-1 (docs/situation.md).
pub(super) fn inputs_par_membre() -> Vec<String> {
    let by_group = GROUPES.iter().flat_map(|g| [format!("{g}_m13_m2"), format!("{g}_3m")]);
    let m1 = ["chomage_m1", "revenus_remplacement_m1", "pensions_invalidite_m1"].map(String::from);
    by_group.chain(m1).flat_map(|name| [format!("{name}_allocataire"), format!("{name}_conjoint")]).collect()
}

/// One foyer's months: which are known (the allocataire and, in a couple, the conjoint
/// each have a row), and the sums masked by them.
struct Foyer<'s> {
    sommes: &'s Sommes,
    en_couple: bool,
    /// Bit `j` set: month M-`j` is known (j = 1 … 13), computed once for every input.
    connus: u16,
}

impl Foyer<'_> {
    fn new(sommes: &Sommes, en_couple: bool) -> Foyer<'_> {
        let mut connus = 0;
        for (i, rows) in sommes.lignes.iter().enumerate() {
            if rows[ALLOCATAIRE] > 0 && (!en_couple || rows[CONJOINT] > 0) {
                connus |= 1 << (i + 1);
            }
        }
        Foyer { sommes, en_couple, connus }
    }

    /// Month M-`j` is known.
    fn known(&self, j: usize) -> bool {
        self.connus & (1 << j) != 0
    }

    /// How many of the months M-`from` … M-`to` are known.
    fn known_among(&self, from: usize, to: usize) -> usize {
        let window = (1u16 << (from + 1)) - (1u16 << to);
        (self.connus & window).count_ones() as usize
    }

    /// `sum` when every month M-3 … M-1 is known, else unknown.
    fn w3(&self, sum: f64) -> Option<f64> {
        (self.known_among(3, 1) == 3).then_some(sum)
    }

    /// `sum` when every month M-13 … M-2 is known, else unknown.
    fn wcss(&self, sum: f64) -> Option<f64> {
        (self.known_among(13, 2) == 12).then_some(sum)
    }

    /// `sum` when month M-`j` is known, else unknown.
    fn wk(&self, j: usize, sum: f64) -> Option<f64> {
        self.known(j).then_some(sum)
    }

    /// `value` in a couple, else unknown (a single person has no conjoint).
    fn conjoint(&self, value: Option<f64>) -> Option<f64> {
        value.filter(|_| self.en_couple)
    }
}

/// Age in whole months on the first day of `mois` of a person born on `days` (a
/// month-only birth date counts as the last day of its month: `jour_connu` false), as
/// `situation::age_mois_on` computes it.
fn age_mois(mois: Mois, days: i32, jour_connu: bool) -> i32 {
    let born = Date::from_days(days);
    let incomplete = !jour_connu || born.day > 1;
    mois.index() - born.mois().index() - i32::from(incomplete)
}

/// The resource inputs of every foyer of the extract (one row per row of `foyers`, in
/// its order: `rangs`): one column per input, and `mois_ressources_inconnus` (the
/// unknown months among M-13 … M-1, e.g. "2024-02, 2024-03"; unknown when all are
/// known). A foyer without any resource row has every month unknown.
///
/// Computed in one pass over the rows, not as a Polars query: the sixty masked sums of a
/// group-by over the resource rows (twenty a foyer) were most of building the
/// situation (docs/performance.md). Each foyer's rows are added in file order.
pub(super) fn inputs(extract: &Extract, mois: Mois, rangs: &Rangs) -> PolarsResult<DataFrame> {
    let mut foyer_of = rangs.recherche();

    // Each person's foyer and place in it; a foyer is a couple when it has a conjoint
    // alive at the first day of M.
    let personnes = extract.table(Table::Personnes);
    let naissance = days(personnes, "date_naissance")?;
    let deces = days(personnes, "date_deces")?;
    let mut en_couple = vec![false; rangs.len()];
    // The persons, each the head of a chain of the others of the same id (validation
    // refuses an id twice; were one left, its rows would count for each, as in a join).
    let mut membres: Vec<(Membre, Option<u32>)> = Vec::with_capacity(personnes.height());
    let mut premier: PlHashMap<&str, u32> = PlHashMap::with_capacity(personnes.height());
    let rows = strings(personnes, "id_personne")?
        .iter()
        .zip(strings(personnes, ID)?.iter())
        .zip(strings(personnes, "role")?.iter())
        .zip(naissance.iter().zip(personnes.column("date_naissance_jour_connu")?.bool()?.iter()))
        .zip(deces.iter());
    for ((((id, foyer), role), (naissance, jour_connu)), deces) in rows {
        let (Some(id), Some(foyer), Some(role)) = (id, foyer, role) else { continue };
        let Some(foyer) = foyer_of.rang(foyer) else { continue };
        if role == "conjoint" && is_alive_on(deces, mois) {
            en_couple[foyer as usize] = true;
        }
        let age = naissance.map(|d| age_mois(mois, d, jour_connu.unwrap_or(false)));
        let membre = Membre {
            foyer,
            couple: match role {
                "allocataire" => Some(ALLOCATAIRE),
                "conjoint" => Some(CONJOINT),
                _ => None,
            },
            autre: role == "autre" || (role == "enfant" && age.is_some_and(|a| a >= ENFANT_A_CHARGE_MOIS)),
        };
        let at = membres.len() as u32;
        let before = premier.insert(id, at);
        membres.push((membre, before));
    }

    // The first day of M-13 … M, to tell a row's month (a `mois` cell is the first day
    // of its month) without a calendar conversion per row.
    let debuts: Vec<i32> = (0..=HISTORY).rev().map(|j| mois.plus(-j).first_day().to_days()).collect();
    let ressources = extract.table(Table::Ressources);
    let rmois = days(ressources, "mois")?;
    let rows = strings(ressources, "id_personne")?
        .iter()
        .zip(strings(ressources, "nature")?.iter())
        .zip(rmois.iter())
        .zip(ressources.column("montant")?.f64()?.iter())
        .zip(ressources.column("montant_brut")?.f64()?.iter());
    let mut sommes = vec![Sommes::default(); rangs.len()];
    let natures: Vec<Nature> = (0..NATURES.len()).map(Nature::of).collect();
    let mut derniere_nature: Option<(&str, Nature)> = None;
    let mut dernier: Option<(&str, Option<u32>)> = None;
    for ((((id, nature), day), montant), brut) in rows {
        let (Some(id), Some(nature), Some(day), Some(montant)) = (id, nature, day, montant) else { continue };
        // debuts[i] is the first day of M-(13-i); M-j for j in 1 … 13 has i = 13 - j.
        let Some(i) = debuts[..HISTORY_MONTHS].iter().position(|&d| d == day) else { continue };
        let j = HISTORY_MONTHS - i;
        // Rows of one nature often follow one another: the last one is kept.
        let nature = match derniere_nature {
            Some((last, n)) if last == nature => n,
            _ => {
                let Some(n) = natures.iter().find(|n| NATURES[n.index] == nature).copied() else { continue };
                derniere_nature = Some((nature, n));
                n
            }
        };
        // A person's rows usually follow one another: the last lookup is kept.
        let first = match dernier {
            Some((last, at)) if last == id => at,
            _ => {
                let at = premier.get(id).copied();
                dernier = Some((id, at));
                at
            }
        };
        let mut next = first;
        while let Some(at) = next {
            let (membre, before) = membres[at as usize];
            sommes[membre.foyer as usize].add(j, membre, nature, montant, brut);
            next = before;
        }
    }
    frame(&sommes, &en_couple, mois)
}

/// The frame of the inputs, one row per foyer.
fn frame(sommes: &[Sommes], en_couple: &[bool], mois: Mois) -> PolarsResult<DataFrame> {
    let foyers: Vec<Foyer> =
        sommes.iter().zip(en_couple).map(|(sommes, &en_couple)| Foyer::new(sommes, en_couple)).collect();
    let mut columns: Vec<Column> = Vec::with_capacity(64);
    let mut push = |name: String, values: &dyn Fn(&Foyer) -> Option<f64>| {
        columns.push(number_column(name, &foyers, values));
    };
    push("mois_connus_3m".into(), &|f| Some(f.known_among(3, 1) as f64));
    push("mois_connus_m13_m2".into(), &|f| Some(f.known_among(13, 2) as f64));
    push("ressources_3m_foyer".into(), &|f| f.w3(f.sommes.s3));
    push("ressources_3m_autres".into(), &|f| f.w3(f.sommes.s3_autres));
    push("ressources_3m_couple".into(), &|f| f.w3(f.sommes.s3_couple));
    push("ressources_m13_m2_foyer".into(), &|f| f.wcss(f.sommes.s_m13_m2));
    push("ressources_m13_m2_autres".into(), &|f| f.wcss(f.sommes.s_m13_m2_autres));
    push("pensions_alimentaires_m13_m2_couple".into(), &|f| f.wcss(f.sommes.s_m13_m2_couple_pensions_alimentaires));
    push("revenus_activite_3m_allocataire".into(), &|f| f.w3(f.sommes.act3[ALLOCATAIRE]));
    push("revenus_activite_3m_conjoint".into(), &|f| f.conjoint(f.w3(f.sommes.act3[CONJOINT])));
    for (n, nature) in NATURES.iter().enumerate() {
        push(format!("ressources_3m_{nature}"), &|f| f.w3(f.sommes.s3_nature[n]));
    }
    for (g, groupe) in GROUPES.iter().enumerate() {
        push(format!("{groupe}_m13_m2_allocataire"), &|f| f.wcss(f.sommes.m13_m2_logement[ALLOCATAIRE][g]));
        push(format!("{groupe}_m13_m2_conjoint"), &|f| f.conjoint(f.wcss(f.sommes.m13_m2_logement[CONJOINT][g])));
    }
    for (g, groupe) in GROUPES.iter().enumerate() {
        push(format!("{groupe}_3m_allocataire"), &|f| f.w3(f.sommes.groupes_3m[ALLOCATAIRE][g]));
        push(format!("{groupe}_3m_conjoint"), &|f| f.conjoint(f.w3(f.sommes.groupes_3m[CONJOINT][g])));
    }
    type DuCouple = fn(&Sommes) -> &[f64; 2];
    let m1: [(&str, DuCouple); 3] = [
        ("chomage_m1", |s| &s.chomage_m1),
        ("revenus_remplacement_m1", |s| &s.remplacement_m1),
        ("pensions_invalidite_m1", |s| &s.invalidite_m1),
    ];
    for (name, of) in m1 {
        push(format!("{name}_allocataire"), &|f| f.wk(1, of(f.sommes)[ALLOCATAIRE]));
        push(format!("{name}_conjoint"), &|f| f.conjoint(f.wk(1, of(f.sommes)[CONJOINT])));
    }
    for (kind, input) in ["ressources_3m_couple_pensions", "revenus_activite_3m_couple"].iter().enumerate() {
        push(input.to_string(), &|f| f.w3(f.sommes.couple_net[kind]));
        push(format!("{input}_brut"), &|f| {
            f.w3(f.sommes.couple_brut[kind]).filter(|_| f.sommes.couple_sans_brut[kind] == 0)
        });
    }
    for j in 1..=BY_MONTH {
        let k = j - 1;
        push(format!("ressources_m{j}_foyer"), &|f| f.wk(j, f.sommes.m[k]));
        push(format!("ressources_m{j}_bourse"), &|f| f.wk(j, f.sommes.m_bourse[k]));
        push(format!("ressources_m{j}_pension_alimentaire"), &|f| f.wk(j, f.sommes.m_pension_alimentaire[k]));
        push(format!("ressources_m{j}_autres"), &|f| f.wk(j, f.sommes.m_autres[k]));
        push(format!("revenus_activite_m{j}_allocataire"), &|f| f.wk(j, f.sommes.m_act[k][ALLOCATAIRE]));
        push(format!("revenus_activite_m{j}_conjoint"), &|f| f.conjoint(f.wk(j, f.sommes.m_act[k][CONJOINT])));
    }
    // The unknown months among M-13 … M-1, named, for the reasons of undetermined results.
    let labels: Vec<String> = (0..=HISTORY).map(|j| mois.plus(-j).to_string()).collect();
    let inconnus = foyers.iter().map(|f| {
        let mut unknown = (1..=HISTORY_MONTHS).rev().filter(|&j| !f.known(j)).peekable();
        unknown.peek()?;
        let mut text = String::with_capacity(9 * HISTORY_MONTHS);
        for j in unknown {
            if !text.is_empty() {
                text.push_str(", ");
            }
            text.push_str(&labels[j]);
        }
        Some(text)
    });
    columns.push(StringChunked::from_iter_options("mois_ressources_inconnus".into(), inconnus).into_column());
    DataFrame::new_infer_height(columns)
}
