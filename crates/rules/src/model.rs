//! The checked rule set: what the compiler, the test runner and `explain` work from.
//!
//! Everything here has passed the checker: names are resolved, types agree, there is no
//! cycle, every rule and condition cites its legal basis.

use std::collections::BTreeMap;

use crate::date::{Date, Mois};
use crate::resolved::RExpr;

/// The four types of the rule language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    Nombre,
    Booleen,
    Date,
    Texte,
}

impl Type {
    pub fn parse(s: &str) -> Option<Type> {
        Some(match s {
            "nombre" => Type::Nombre,
            "booleen" => Type::Booleen,
            "date" => Type::Date,
            "texte" => Type::Texte,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::Nombre => "nombre",
            Type::Booleen => "booleen",
            Type::Date => "date",
            Type::Texte => "texte",
        }
    }
}

/// A legal or practice basis.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LegalBasis {
    pub texte: String,
    pub article: Option<String>,
    pub url: String,
}

impl std::fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.article {
            Some(a) => write!(f, "{}, {} <{}>", self.texte, a, self.url),
            None => write!(f, "{} <{}>", self.texte, self.url),
        }
    }
}

/// One input of the situation (one column per foyer).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Input {
    pub name: String,
    pub ty: Type,
    pub titre: String,
    pub unite: Option<String>,
    pub description: Option<String>,
    /// The values a `texte` input may take.
    pub valeurs: Option<Vec<String>>,
    /// The family this input belongs to, as declared (`ressources_m{k}_foyer`).
    pub famille: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scale {
    /// `(lower bound included, value)`, increasing bounds.
    pub tranches: Vec<(f64, f64)>,
    /// Added per unit above the last bound.
    pub par_unite_au_dela: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Nombre(f64),
    Booleen(bool),
    Bareme(Scale),
}

impl ParamValue {
    pub fn ty(&self) -> Type {
        match self {
            ParamValue::Nombre(_) | ParamValue::Bareme(_) => Type::Nombre,
            ParamValue::Booleen(_) => Type::Booleen,
        }
    }
}

/// One dated value of a parameter, with the text that sets it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DatedValue {
    pub depuis: String,
    #[serde(skip)]
    pub date: Date,
    pub valeur: ParamValue,
    pub source: String,
    pub url: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    Nombre,
    Booleen,
    Bareme,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Parameter {
    /// `<namespace>.<name>`, e.g. `aspa.plafond_personne_seule`.
    pub id: String,
    pub titre: String,
    pub unite: Option<String>,
    pub kind: ParamKind,
    /// Expected months between revaluations (`None`: no regular revaluation).
    pub revalorisation_mois: Option<u32>,
    /// Month (1–12) of the legal revaluation date; staleness counts from it.
    pub mois_revalorisation: Option<u32>,
    /// For values changed by decree without a calendar: when the text was last checked,
    /// and for how many months that check holds.
    #[serde(skip)]
    pub revue: Option<(Date, u32)>,
    pub openfisca: Option<String>,
    pub description: Option<String>,
    /// Increasing dates.
    pub valeurs: Vec<DatedValue>,
    pub file: String,
}

impl Parameter {
    /// The value in force on `date`: the last one whose date is on or before it.
    pub fn at(&self, date: Date) -> Option<&DatedValue> {
        self.valeurs.iter().rev().find(|v| v.date <= date)
    }

    /// The value in force for a reference month (on its first day).
    pub fn in_force(&self, mois: Mois) -> Option<&DatedValue> {
        self.at(mois.first_day())
    }

    /// Why the value used for `mois` may be out of date, if it may:
    /// - a parameter revalued on a legal date (`mois_revalorisation`): the last legal
    ///   revaluation date on or before `mois` is after its last value;
    /// - a revalued parameter without that date: its last value is older than the
    ///   period plus one month;
    /// - a parameter under review (`revue`): the last check is older than the review period.
    pub fn stale_at(&self, mois: Mois) -> Option<String> {
        let last = self.valeurs.last()?;
        if let Some(period) = self.revalorisation_mois {
            match self.mois_revalorisation {
                Some(m0) => {
                    let offset = (mois.month as i32 - m0 as i32).rem_euclid(period as i32);
                    let due = mois.plus(-offset).first_day();
                    if last.date < due {
                        const MONTHS: [&str; 12] = [
                            "January",
                            "February",
                            "March",
                            "April",
                            "May",
                            "June",
                            "July",
                            "August",
                            "September",
                            "October",
                            "November",
                            "December",
                        ];
                        let on = MONTHS.get((m0 as usize).saturating_sub(1)).copied().unwrap_or("?");
                        let every =
                            if period == 12 { "every year".to_string() } else { format!("every {period} months") };
                        return Some(format!(
                            "parameter `{}` is revalued {every} on 1 {on}: a value from {due} is expected for \
                             {mois}, the last one dates from {}; add the new value with its text",
                            self.id, last.depuis
                        ));
                    }
                }
                None => {
                    let age = mois.months_since(last.date.mois());
                    if age > period as i32 + 1 {
                        return Some(format!(
                            "parameter `{}` is revalued every {period} months but its last value dates \
                             from {} ({age} months before {mois}): check for a newer text",
                            self.id, last.depuis
                        ));
                    }
                }
            }
        }
        if let Some((checked, months)) = self.revue
            && mois.months_since(checked.mois()) > months as i32
        {
            return Some(format!(
                "parameter `{}` changes by decree without a calendar: its text was last checked on \
                 {checked}, more than {months} months before {mois}; check it still holds and update \
                 `verifie_le`",
                self.id
            ));
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Prestation,
    Evenement,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Prestation => "prestation",
            RuleKind::Evenement => "evenement",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Simplification {
    pub texte: String,
    pub effet: String,
}

/// What a definition computes.
#[derive(Debug, Clone)]
pub enum DefBody {
    /// A typed expression, with its source text for display.
    Expr(RExpr, String),
    /// Kleene conjunction of conditions of the same rule.
    Toutes(Vec<String>),
    /// Kleene disjunction of conditions of the same rule.
    UneDe(Vec<String>),
    /// Negation of a condition of the same rule.
    Non(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DefRole {
    /// An intermediate quantity.
    Variable,
    /// A named condition (counted, explained, cited as a reason).
    Condition,
}

/// A named variable or condition of a rule; each becomes one column `<rule>.<name>`.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub titre: String,
    pub role: DefRole,
    pub ty: Type,
    pub body: DefBody,
    pub unite: Option<String>,
    pub description: Option<String>,
    pub base_legale: Vec<LegalBasis>,
}

/// A function of a rule (`[fonctions.x]`), kept for documentation: its calls are
/// already expanded in the definitions' bodies.
#[derive(Debug, Clone)]
pub struct Fonction {
    pub name: String,
    pub titre: String,
    pub parametres: Vec<String>,
    pub expr: String,
    pub description: Option<String>,
    pub base_legale: Vec<LegalBasis>,
}

/// Expected result of a test case.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub nom: String,
    pub mois: Mois,
    /// Input values (merged with the file's `situation_de_base`).
    pub situation: BTreeMap<String, Value>,
    pub statut: Statut,
    pub montant: Option<f64>,
    /// Expected value of `montant_estime`, when given.
    pub montant_estime: Option<bool>,
    pub tolerance: f64,
    pub source: Option<String>,
    pub conditions: BTreeMap<String, bool>,
    /// Expected values of named variables of the rule.
    pub variables: BTreeMap<String, f64>,
    pub manquants: Option<Vec<String>>,
    /// 1-based line of the test in its file, for reports.
    pub line: usize,
}

/// A value of the situation or of an evaluated column, for tests and explanations.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Inconnu,
    Nombre(f64),
    Booleen(bool),
    Date(String),
    Texte(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Inconnu => f.write_str("inconnu"),
            Value::Nombre(n) => write!(f, "{}", crate::explain::format_number(*n)),
            Value::Booleen(true) => f.write_str("vrai"),
            Value::Booleen(false) => f.write_str("faux"),
            Value::Date(d) => f.write_str(d),
            Value::Texte(t) => write!(f, "\"{t}\""),
        }
    }
}

/// The three-valued result of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Statut {
    Eligible,
    NonEligible,
    Indetermine,
}

impl Statut {
    pub fn name(self) -> &'static str {
        match self {
            Statut::Eligible => "eligible",
            Statut::NonEligible => "non_eligible",
            Statut::Indetermine => "indetermine",
        }
    }

    pub fn parse(s: &str) -> Option<Statut> {
        Some(match s {
            "eligible" => Statut::Eligible,
            "non_eligible" => Statut::NonEligible,
            "indetermine" => Statut::Indetermine,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub titre: String,
    pub kind: RuleKind,
    pub prestation: Option<String>,
    pub description: Option<String>,
    pub base_legale: Vec<LegalBasis>,
    pub simplifications: Vec<Simplification>,
    /// Variables and conditions in file order, then the definitions every rule gets:
    /// `eligibilite` (the root condition), and for benefits `montant_calcule`,
    /// `montant_versable` (the amount reaches the payment threshold) and `en_paiement`;
    /// last `eligible` (eligibility and a payable amount).
    pub defs: Vec<Def>,
    pub fonctions: Vec<Fonction>,
    /// The rule computes an amount (`montant_calcule`).
    pub has_montant: bool,
    /// The amount is paid once (`[montant] versement = "unique"`), not each month.
    pub versement_unique: bool,
    /// The rule says whether a right is in payment (`en_paiement`).
    pub has_en_paiement: bool,
    pub tests: Vec<TestCase>,
    pub file: String,
}

impl Rule {
    pub fn def(&self, name: &str) -> Option<&Def> {
        self.defs.iter().find(|d| d.name == name)
    }
}

/// The contact channels of the `contacts` table a campaign may use (`rdv` is an outcome
/// of a contact, not a way to reach a foyer).
pub const CANAUX: [&str; 4] = ["telephone", "sms", "email", "courrier"];

/// The channels of a landlord (the `bailleurs` table): no SMS.
pub const CANAUX_BAILLEUR: [&str; 3] = ["telephone", "email", "courrier"];

/// Whom a campaign's list names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Liste {
    /// One row per household (`id_foyer`).
    Foyers,
    /// One row per private landlord (`id_bailleur`) of the households its rules flag,
    /// with how many of them and the housing aid at stake; no household id.
    Bailleurs,
}

/// An outbound contact campaign (`rules/campagnes/<id>.toml`, docs/campaigns.md).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Campagne {
    pub id: String,
    pub titre: String,
    pub description: Option<String>,
    /// Rule ids whose signalements feed the campaign.
    pub regles: Vec<String>,
    /// Channels in order of preference, among [`CANAUX`].
    pub canaux: Vec<String>,
    pub exclure_suivi_social: bool,
    pub delai_entre_contacts_mois: u32,
    pub capacite_par_agence: u32,
    /// Per-agency capacities overriding `capacite_par_agence`.
    pub capacites: BTreeMap<String, u32>,
    /// Rank in the arbitration between campaigns: 1 takes a household first; `None`
    /// after every campaign with a rank ([`RuleSet::campagnes_par_priorite`]).
    pub priorite: Option<u32>,
    /// Share (0 to 0.5) of the households the campaign would list that form its control
    /// group: drawn before capacity, not contacted, compared with by `reperage suivi`.
    pub groupe_temoin: f64,
    /// Households (the default) or their landlords.
    pub liste: Liste,
    pub file: String,
}

/// Settings shared by every campaign (`rules/campagnes/_reglages.toml`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReglagesCampagnes {
    /// A household contacted by any campaign (control rows aside) less than this many
    /// months before the month screened is not contacted again; 0: no such delay.
    pub delai_minimum_entre_contacts_mois: u32,
    /// The file they come from; `None` when there is none (every setting at 0).
    pub file: Option<String>,
}

impl Campagne {
    pub fn capacite(&self, agence: &str) -> u32 {
        self.capacites.get(agence).copied().unwrap_or(self.capacite_par_agence)
    }
}

/// A source file of the rule set, kept for the manifest (hashes) and diagnostics.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the rules folder, with `/` separators.
    pub path: String,
    pub text: String,
}

/// A whole checked rule set.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub inputs: BTreeMap<String, Input>,
    pub params: BTreeMap<String, Parameter>,
    /// Sorted by id.
    pub rules: Vec<Rule>,
    /// The campaigns of `campagnes/`, sorted by id.
    pub campagnes: Vec<Campagne>,
    pub reglages_campagnes: ReglagesCampagnes,
    pub files: Vec<SourceFile>,
}

impl RuleSet {
    /// The campaigns in the order they take a household: by `priorite`, those without
    /// one last, then by id.
    pub fn campagnes_par_priorite(&self) -> Vec<&Campagne> {
        let mut out: Vec<&Campagne> = self.campagnes.iter().collect();
        out.sort_by(|a, b| (a.priorite.is_none(), a.priorite, &a.id).cmp(&(b.priorite.is_none(), b.priorite, &b.id)));
        out
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The parameters whose value for `mois` may be out of date, with why
    /// ([`Parameter::stale_at`]), in id order.
    pub fn stale_parameters(&self, mois: Mois) -> Vec<StaleParameter> {
        self.params
            .values()
            .filter_map(|p| {
                p.stale_at(mois).map(|message| StaleParameter {
                    parametre: p.id.clone(),
                    fichier: p.file.clone(),
                    message,
                })
            })
            .collect()
    }
}

/// A parameter whose value may be out of date at a month: what `screen`, `explain` and
/// the manifest report (and `--parametres-a-jour` refuses).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaleParameter {
    pub parametre: String,
    pub fichier: String,
    pub message: String,
}

/// Names every rule gets without declaring them (they cannot be redefined).
pub const RESERVED_NAMES: [&str; 10] = [
    "eligibilite",
    "eligible",
    "statut",
    "montant",
    "montant_en_jeu",
    "montant_calcule",
    "montant_versable",
    "montant_estime",
    "en_paiement",
    "manquants",
];

/// The column holding `<rule>.<name>` in the evaluation frame.
pub fn column(rule: &str, name: &str) -> String {
    format!("{rule}.{name}")
}
