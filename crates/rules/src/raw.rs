//! The shapes of the three kinds of TOML file, as written (before checking).
//!
//! Every field an error may point at is `Spanned`, so the checker can give file, line
//! and column. Unknown fields are refused (`deny_unknown_fields`): a misspelt key would
//! otherwise be silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type SString = Spanned<String>;

/// One legal (or practice) basis: a text, its article, where to read it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasisRaw {
    pub texte: Option<SString>,
    pub article: Option<SString>,
    pub url: Option<SString>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimplificationRaw {
    pub texte: SString,
    /// `surestimation`, `sous-estimation` or `indetermine`: the likely effect on the
    /// number of households found eligible or on the amount.
    pub effet: SString,
}

/// `rules/<id>.toml`: one benefit (`prestation`) or one life event (`evenement`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileRaw {
    pub id: SString,
    pub titre: SString,
    #[serde(rename = "type")]
    pub kind: SString,
    pub prestation: Option<SString>,
    pub description: Option<String>,
    #[serde(default)]
    pub base_legale: Vec<Spanned<LegalBasisRaw>>,
    #[serde(default)]
    pub simplifications: Vec<Spanned<SimplificationRaw>>,
    /// Boolean expression: a right to this benefit is in payment for the month.
    pub en_paiement: Option<SString>,
    #[serde(default)]
    pub fonctions: BTreeMap<SString, Spanned<FonctionRaw>>,
    #[serde(default)]
    pub variables: BTreeMap<SString, Spanned<VariableRaw>>,
    #[serde(default)]
    pub conditions: BTreeMap<SString, Spanned<ConditionRaw>>,
    pub eligibilite: Spanned<ConditionRaw>,
    pub montant: Option<Spanned<MontantRaw>>,
    /// Inputs shared by every test case of the file (each case may override them).
    #[serde(default)]
    pub situation_de_base: BTreeMap<SString, Spanned<toml::Value>>,
    #[serde(default)]
    pub tests: Vec<Spanned<TestRaw>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableRaw {
    pub titre: SString,
    pub expr: SString,
    pub unite: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub base_legale: Vec<Spanned<LegalBasisRaw>>,
}

/// A function of the rule: an expression of its parameters, expanded at each call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FonctionRaw {
    pub titre: SString,
    pub parametres: Vec<SString>,
    pub expr: SString,
    pub description: Option<String>,
    #[serde(default)]
    pub base_legale: Vec<Spanned<LegalBasisRaw>>,
}

/// A named condition: a boolean expression, or a combination of other conditions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionRaw {
    pub titre: Option<SString>,
    pub description: Option<String>,
    pub expr: Option<SString>,
    pub toutes: Option<Vec<SString>>,
    pub une_de: Option<Vec<SString>>,
    pub non: Option<SString>,
    #[serde(default)]
    pub base_legale: Vec<Spanned<LegalBasisRaw>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MontantRaw {
    pub titre: Option<SString>,
    pub expr: SString,
    /// Numeric expression: under this monthly amount nothing is paid.
    pub seuil_versement: Option<SString>,
    /// `mensuel` (the default) or `unique`: a benefit paid once (a prime, the allocation
    /// de rentrée scolaire), whose amount is that single payment.
    pub versement: Option<SString>,
    /// When the amount is only an estimate (an input the law reads is estimated from
    /// another), and why.
    pub estimation: Option<Spanned<EstimationRaw>>,
    pub description: Option<String>,
    #[serde(default)]
    pub base_legale: Vec<Spanned<LegalBasisRaw>>,
}

/// `estimation = { si = "…", titre = "…" }` of a `[montant]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimationRaw {
    /// Boolean expression: the amount of this foyer is an estimate.
    pub si: SString,
    /// What is estimated, in words (shown with the amount).
    pub titre: SString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRaw {
    pub nom: SString,
    pub mois: SString,
    #[serde(default)]
    pub situation: BTreeMap<SString, Spanned<toml::Value>>,
    pub statut: SString,
    pub montant: Option<Spanned<f64>>,
    /// Whether the amount is an estimate (`[montant] estimation`).
    pub montant_estime: Option<Spanned<bool>>,
    pub tolerance: Option<f64>,
    /// Where the expected figures come from (an official example, the computation).
    pub source: Option<String>,
    /// Expected values of named conditions (`true`, `false`; absent = not checked).
    #[serde(default)]
    pub conditions: BTreeMap<SString, Spanned<bool>>,
    /// Expected missing inputs of an undetermined result.
    pub manquants: Option<Vec<SString>>,
    /// Expected values of named numeric variables (within the test's tolerance).
    #[serde(default)]
    pub variables: BTreeMap<SString, Spanned<f64>>,
}

/// `rules/parametres/<namespace>.toml`: each top-level table is one parameter.
pub type ParamFileRaw = BTreeMap<SString, Spanned<ParamRaw>>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamRaw {
    pub titre: SString,
    pub unite: Option<String>,
    /// `nombre` (default), `booleen` or `bareme`.
    #[serde(rename = "type")]
    pub kind: Option<SString>,
    /// `annuelle`, `semestrielle`, `trimestrielle`, `mensuelle` or `aucune`.
    pub revalorisation: Option<SString>,
    /// Month (1–12) of the legal revaluation date (always a 1st: 1 January for the SMIC
    /// and the ASPA, 1 April for the minima and the BMAF): staleness counts from it.
    pub mois_revalorisation: Option<Spanned<i64>>,
    /// For values changed by decree without a calendar: the last time someone checked
    /// that the text still holds, and how many months that check stays good.
    pub verifie_le: Option<Spanned<toml::value::Datetime>>,
    pub revue_mois: Option<Spanned<i64>>,
    /// The corresponding OpenFisca-France parameter, for cross-checks.
    pub openfisca: Option<String>,
    pub description: Option<String>,
    pub valeurs: Vec<Spanned<ParamValueRaw>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamValueRaw {
    pub depuis: Spanned<toml::value::Datetime>,
    pub valeur: Option<Spanned<toml::Value>>,
    pub tranches: Option<Vec<Spanned<TrancheRaw>>>,
    /// Scales: added per unit above the last bracket (e.g. per extra person).
    pub par_unite_au_dela: Option<f64>,
    pub source: Option<SString>,
    pub url: Option<SString>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheRaw {
    /// Lower bound of the bracket (included).
    pub de: f64,
    pub valeur: f64,
}

/// `rules/situation.toml`: the inputs the situation builder provides, one table each.
pub type SituationFileRaw = BTreeMap<SString, Spanned<InputRaw>>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRaw {
    /// `nombre`, `booleen`, `date` or `texte`.
    #[serde(rename = "type")]
    pub kind: SString,
    pub titre: SString,
    pub unite: Option<String>,
    pub description: Option<String>,
    /// For `texte` inputs: every value the input may take.
    pub valeurs: Option<Vec<String>>,
    /// A family of inputs, one per month offset: a name with `{k}` (`ressources_m{k}_foyer`)
    /// and `mois = [1, 2, 3, 4]` declare `ressources_m1_foyer` … `ressources_m4_foyer`;
    /// `{k}` is replaced in the title and description too.
    pub mois: Option<Spanned<Vec<u32>>>,
}

/// `rules/campagnes/<id>.toml`: one outbound contact campaign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampagneRaw {
    pub id: SString,
    pub titre: SString,
    pub description: Option<String>,
    /// The rules whose signalements feed the campaign.
    pub regles: Spanned<Vec<SString>>,
    /// Contact channels in order of preference.
    pub canaux: Spanned<Vec<SString>>,
    /// Leave out foyers followed by a social worker.
    #[serde(default)]
    pub exclure_suivi_social: bool,
    /// No new contact within this many months of the last one for the campaign.
    pub delai_entre_contacts_mois: Spanned<i64>,
    /// Foyers listed per agency and per month.
    pub capacite_par_agence: Spanned<i64>,
    /// Capacity of named agencies, overriding `capacite_par_agence`.
    #[serde(default)]
    pub capacites: BTreeMap<SString, Spanned<i64>>,
    /// Rank in the arbitration between campaigns (1 takes a household first); absent:
    /// after every campaign that has one.
    pub priorite: Option<Spanned<i64>>,
    /// Share of the households the campaign would list that are drawn into a control
    /// group instead (not contacted).
    pub groupe_temoin: Option<Spanned<f64>>,
    /// `foyers` (the default) or `bailleurs`: the list names the landlords of the
    /// households the rules flag.
    pub liste: Option<SString>,
}

/// `rules/campagnes/_reglages.toml`: settings shared by every campaign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReglagesCampagnesRaw {
    /// No household is contacted, whatever the campaign, within this many months of its
    /// last contact by any campaign.
    pub delai_minimum_entre_contacts_mois: Spanned<i64>,
}
