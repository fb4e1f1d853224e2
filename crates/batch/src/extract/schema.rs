//! The extract contract (docs/extract.md) as data: tables, columns, types, enums.

/// The type of a column as the contract states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Text; the id columns are texts.
    Texte,
    /// A decimal number (`.` or `,` as decimal separator).
    Decimal,
    /// A whole number within bounds.
    Entier { min: i64, max: i64 },
    /// `1/0`, `true/false`, `oui/non`, `O/N`, case-insensitive.
    Booleen,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD` or `YYYY-MM` (the day may be absent).
    DateOuMois,
    /// `YYYY-MM`.
    Mois,
    /// One of a fixed list of values.
    Enum(&'static [&'static str]),
    /// INSEE commune code: 5 characters, digits or `2A`/`2B` then digits.
    Commune,
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: ColType,
    pub required: bool,
    /// Amounts that cannot be negative.
    pub non_negative: bool,
}

const fn col(name: &'static str, ty: ColType, required: bool) -> ColumnDef {
    ColumnDef { name, ty, required, non_negative: false }
}

const fn amount(name: &'static str, required: bool) -> ColumnDef {
    ColumnDef { name, ty: ColType::Decimal, required, non_negative: true }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Foyers,
    Personnes,
    Ressources,
    Droits,
    Evenements,
    Contacts,
    Bailleurs,
}

pub const STATUTS_LOGEMENT: &[&str] =
    &["locataire", "locataire_meuble", "proprietaire", "accedant", "heberge_gratuit", "foyer", "sans_domicile"];
pub const ROLES: &[&str] = &["allocataire", "conjoint", "enfant", "autre"];
pub const ACTIVITES: &[&str] =
    &["salarie", "independant", "chomeur", "etudiant", "apprenti", "retraite", "inactif", "invalide"];
pub const NATURES: &[&str] = &[
    "salaire",
    "independant",
    "chomage",
    "indemnites_journalieres",
    "retraite",
    "invalidite",
    "pension_alimentaire",
    "bourse",
    "autre",
];
pub const PRESTATIONS: &[&str] = &[
    "rsa",
    "ppa",
    "al",
    "apl",
    "als",
    "af",
    "cf",
    "ars",
    "paje_base",
    "asf",
    "aah",
    "aspa",
    // Extension: allocation supplémentaire d'invalidité (a CSS resource and presumption).
    "asi",
    "css",
    "ajpp",
    "prime_demenagement",
    // Extension: the primes à la naissance and à l'adoption of the PAJE, one-off payments
    // (a row dated the month paid).
    "paje_naissance",
    "paje_adoption",
];
pub const TYPES_EVENEMENT: &[&str] = &[
    "naissance",
    "naissance_multiple",
    "adoption",
    "separation",
    "mise_en_couple",
    "deces_conjoint",
    "deces_enfant",
    "demenagement",
    "impaye_loyer",
    "indecence_logement",
    "perte_emploi",
    "debut_ajpp",
];
/// `temoin` (extension): a household drawn into a campaign's control group, not contacted.
pub const CANAUX_CONTACT: &[&str] = &["telephone", "sms", "email", "courrier", "rdv", "temoin"];

const FOYERS: &[ColumnDef] = &[
    col("id_foyer", ColType::Texte, true),
    col("caisse", ColType::Texte, true),
    col("agence", ColType::Texte, false),
    col("commune", ColType::Commune, true),
    col("iris", ColType::Texte, false),
    col("qpv", ColType::Texte, false),
    col("zone_logement", ColType::Entier { min: 1, max: 3 }, false),
    col("statut_logement", ColType::Enum(STATUTS_LOGEMENT), false),
    amount("loyer", false),
    col("logement_conventionne", ColType::Booleen, false),
    col("colocation", ColType::Booleen, false),
    col("suivi_social", ColType::Booleen, false),
    col("declaration_annuelle", ColType::Enum(&["recue", "manquante", "non_requise"]), false),
    col("dtr_derniere", ColType::Mois, false),
    col("opposition_contact", ColType::Booleen, false),
    col("canal_telephone", ColType::Booleen, false),
    col("canal_sms", ColType::Booleen, false),
    col("canal_email", ColType::Booleen, false),
    col("canal_courrier", ColType::Booleen, false),
    col("date_ouverture", ColType::Date, false),
    col("date_cloture", ColType::Date, false),
    // Extension: the pseudonymous id of the foyer's private landlord (`bailleurs`).
    col("id_bailleur", ColType::Texte, false),
];

const PERSONNES: &[ColumnDef] = &[
    col("id_personne", ColType::Texte, true),
    col("id_foyer", ColType::Texte, true),
    col("role", ColType::Enum(ROLES), true),
    col("date_naissance", ColType::DateOuMois, true),
    col("sexe", ColType::Enum(&["F", "M"]), false),
    col("nationalite", ColType::Enum(&["francaise", "ue", "hors_ue"]), false),
    col("sejour_regulier_5ans", ColType::Booleen, false),
    // Extension of the contract (docs/extract.md): the 10-year residence of the ASPA.
    col("sejour_regulier_10ans", ColType::Booleen, false),
    // Extension: a valid residence permit (the regular residence of L512-2 CSS), which
    // replaces the 5 years for a parent entitled to the RSA or prime d'activité majorés.
    col("sejour_regulier", ColType::Booleen, false),
    col("activite", ColType::Enum(ACTIVITES), false),
    col("enceinte", ColType::Booleen, false),
    col("taux_incapacite", ColType::Entier { min: 0, max: 100 }, false),
    col("rsdae", ColType::Booleen, false),
    col("scolarise", ColType::Booleen, false),
    amount("revenu_n2", false),
    // Extension: the part of revenu_n2 that is earned income (wages, self-employed
    // profits), on which the AAH applies its abatements (D821-9 CSS).
    amount("revenus_activite_n2", false),
    col("date_deces", ColType::Date, false),
    col("medecin_traitant", ColType::Booleen, false),
    col("complementaire_sante", ColType::Enum(&["aucune", "css", "privee"]), false),
];

const RESSOURCES: &[ColumnDef] = &[
    col("id_personne", ColType::Texte, true),
    col("mois", ColType::Mois, true),
    col("nature", ColType::Enum(NATURES), true),
    amount("montant", true),
    amount("montant_brut", false),
];

const DROITS: &[ColumnDef] = &[
    col("id_foyer", ColType::Texte, true),
    col("id_personne", ColType::Texte, false),
    col("prestation", ColType::Enum(PRESTATIONS), true),
    col("date_debut", ColType::Date, true),
    col("date_fin", ColType::Date, false),
    amount("montant_mensuel", false),
];

const EVENEMENTS: &[ColumnDef] = &[
    col("id_foyer", ColType::Texte, true),
    col("id_personne", ColType::Texte, false),
    col("type", ColType::Enum(TYPES_EVENEMENT), true),
    col("date", ColType::Date, true),
    col("source", ColType::Texte, false),
];

/// A contact is with a foyer or, for a landlord campaign, with a landlord: exactly one
/// of `id_foyer` and `id_bailleur` (extension) is given (checked in validate.rs).
const CONTACTS: &[ColumnDef] = &[
    col("id_foyer", ColType::Texte, false),
    col("id_bailleur", ColType::Texte, false),
    col("campagne", ColType::Texte, true),
    col("date", ColType::Date, true),
    col("canal", ColType::Enum(CANAUX_CONTACT), true),
    col("resultat", ColType::Texte, false),
    // Extension: the rules that selected the household (`contacts_prevus.csv` writes
    // them), which `reperage suivi` reads to know what the contact was about.
    col("regles", ColType::Texte, false),
];

/// Extension: the private landlords of the foyers (`foyers.id_bailleur`), as the
/// landlord campaigns reach them.
const BAILLEURS: &[ColumnDef] = &[
    col("id_bailleur", ColType::Texte, true),
    col("canal_telephone", ColType::Booleen, false),
    col("canal_courrier", ColType::Booleen, false),
    col("canal_email", ColType::Booleen, false),
    col("opposition_contact", ColType::Booleen, false),
];

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Foyers,
        Table::Personnes,
        Table::Ressources,
        Table::Droits,
        Table::Evenements,
        Table::Contacts,
        Table::Bailleurs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Foyers => "foyers",
            Table::Personnes => "personnes",
            Table::Ressources => "ressources",
            Table::Droits => "droits",
            Table::Evenements => "evenements",
            Table::Contacts => "contacts",
            Table::Bailleurs => "bailleurs",
        }
    }

    pub fn columns(self) -> &'static [ColumnDef] {
        match self {
            Table::Foyers => FOYERS,
            Table::Personnes => PERSONNES,
            Table::Ressources => RESSOURCES,
            Table::Droits => DROITS,
            Table::Evenements => EVENEMENTS,
            Table::Contacts => CONTACTS,
            Table::Bailleurs => BAILLEURS,
        }
    }

    /// `contacts` and `bailleurs` may be absent from an extract.
    pub fn required(self) -> bool {
        !matches!(self, Table::Contacts | Table::Bailleurs)
    }

    pub fn column(self, name: &str) -> Option<&'static ColumnDef> {
        self.columns().iter().find(|c| c.name == name)
    }
}
