//! What an estimate is cut by (`estimer --par`): dimensions, each a hierarchy of levels.
//!
//! A foyer's place in every dimension is read from the evaluation frame (the situation
//! carries `caisse`, `commune`, `qpv`, `en_couple`, `nb_enfants` and the allocataire's
//! age); the coarser levels of a hierarchy are derived from the finest one, so that a
//! département is always the sum of its communes and "en QPV" the sum of its QPVs.

use polars::prelude::*;

/// The value of a level aggregated away (a margin).
pub const ENSEMBLE: &str = "Ensemble";
/// The value of `qpv` for a foyer outside every QPV, and of `en_qpv` then.
pub const HORS_QPV: &str = "hors QPV";
pub const EN_QPV: &str = "en QPV";
/// An input the extract did not give (a foyer without age or couple status).
pub const INCONNU: &str = "inconnu";

/// One column of the published tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Niveau {
    Caisse,
    Departement,
    Commune,
    EnQpv,
    Qpv,
    TypeFoyer,
    TrancheAge,
}

impl Niveau {
    pub fn name(self) -> &'static str {
        match self {
            Niveau::Caisse => "caisse",
            Niveau::Departement => "departement",
            Niveau::Commune => "commune",
            Niveau::EnQpv => "en_qpv",
            Niveau::Qpv => "qpv",
            Niveau::TypeFoyer => "type_foyer",
            Niveau::TrancheAge => "tranche_age",
        }
    }

    /// This level's value of a foyer whose value at a finer level `finer_level` of the
    /// same dimension is `finer`.
    pub fn from_finer(self, finer_level: Niveau, finer: &str) -> String {
        match (finer_level, self) {
            (a, b) if a == b => finer.to_string(),
            (Niveau::Commune, Niveau::Departement) => departement(finer),
            (Niveau::Qpv, Niveau::EnQpv) => {
                if finer == HORS_QPV {
                    HORS_QPV.to_string()
                } else {
                    EN_QPV.to_string()
                }
            }
            _ => finer.to_string(),
        }
    }
}

/// The département of an INSEE commune code: its first two characters (`2A`, `2B` in
/// Corsica), its first three overseas (`971` … `976`).
pub fn departement(commune: &str) -> String {
    let n = if commune.starts_with("97") { 3 } else { 2 };
    commune.chars().take(n).collect()
}

/// A dimension: its levels, coarsest first (a table details it at one of them, or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    pub nom: &'static str,
    pub niveaux: Vec<Niveau>,
}

impl Dimension {
    pub fn finest(&self) -> Niveau {
        *self.niveaux.last().expect("a dimension has a level")
    }

    /// The value at level index `i` (from 1; 0 is the margin) of a foyer whose finest
    /// value is `finest`.
    pub fn value(&self, i: usize, finest: &str) -> String {
        if i == 0 { ENSEMBLE.to_string() } else { self.niveaux[i - 1].from_finer(self.finest(), finest) }
    }

    /// The value at level index `i - 1` of a foyer whose value at level index `i` (≥ 1)
    /// is `value`: the parent of a cell in the margin one level up.
    pub fn parent_value(&self, i: usize, value: &str) -> String {
        if i <= 1 { ENSEMBLE.to_string() } else { self.niveaux[i - 2].from_finer(self.niveaux[i - 1], value) }
    }
}

/// The dimensions `estimer` cuts by when `--par` is not given.
pub const PAR_DEFAUT: &str = "commune,qpv,type_foyer,tranche_age";

/// Parses `--par`: names among caisse, departement, commune, qpv, type_foyer, tranche_age.
/// `commune` brings its département as a level (a margin between commune and the whole);
/// `qpv` brings "en QPV / hors QPV" the same way.
pub fn parse(text: &str) -> Result<Vec<Dimension>, String> {
    let mut names: Vec<&str> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !["caisse", "departement", "commune", "qpv", "type_foyer", "tranche_age"].contains(&name) {
            return Err(format!(
                "--par: `{name}` is not a dimension (caisse, departement, commune, qpv, type_foyer, tranche_age)"
            ));
        }
        if names.contains(&name) {
            return Err(format!("--par: `{name}` is given twice"));
        }
        names.push(name);
    }
    let mut dims = Vec::new();
    for name in &names {
        let dim = match *name {
            "caisse" => Dimension { nom: "caisse", niveaux: vec![Niveau::Caisse] },
            "departement" if names.contains(&"commune") => continue,
            "departement" => Dimension { nom: "departement", niveaux: vec![Niveau::Departement] },
            "commune" => Dimension { nom: "commune", niveaux: vec![Niveau::Departement, Niveau::Commune] },
            "qpv" => Dimension { nom: "qpv", niveaux: vec![Niveau::EnQpv, Niveau::Qpv] },
            "type_foyer" => Dimension { nom: "type_foyer", niveaux: vec![Niveau::TypeFoyer] },
            _ => Dimension { nom: "tranche_age", niveaux: vec![Niveau::TrancheAge] },
        };
        dims.push(dim);
    }
    Ok(dims)
}

/// The expression of a dimension's finest value, from the evaluation frame.
pub fn finest_expr(dim: &Dimension) -> Expr {
    let text = |name: &str| col(name).cast(DataType::String).fill_null(lit(INCONNU));
    let e = match dim.finest() {
        Niveau::Caisse => text("caisse"),
        Niveau::Commune => text("commune"),
        Niveau::Departement => {
            let c = col("commune").cast(DataType::String);
            when(c.clone().str().starts_with(lit("97")))
                .then(c.clone().str().slice(lit(0), lit(3)))
                .otherwise(c.str().slice(lit(0), lit(2)))
                .fill_null(lit(INCONNU))
        }
        Niveau::Qpv | Niveau::EnQpv => {
            let q = col("qpv").cast(DataType::String);
            when(q.clone().is_null().or(q.clone().eq(lit("")))).then(lit(HORS_QPV)).otherwise(q)
        }
        Niveau::TypeFoyer => {
            let enfants = col("nb_enfants").gt(lit(0));
            when(col("en_couple").is_null().or(col("nb_enfants").is_null()))
                .then(lit(INCONNU))
                .when(col("en_couple"))
                .then(when(enfants.clone()).then(lit("couple avec enfants")).otherwise(lit("couple sans enfant")))
                .otherwise(when(enfants).then(lit("famille monoparentale")).otherwise(lit("seul")))
        }
        Niveau::TrancheAge => {
            let ans = col("age_allocataire_mois").cast(DataType::Float64) / lit(12.0);
            when(ans.clone().is_null())
                .then(lit(INCONNU))
                .when(ans.clone().lt(lit(25.0)))
                .then(lit("moins de 25 ans"))
                .when(ans.clone().lt(lit(35.0)))
                .then(lit("25 à 34 ans"))
                .when(ans.clone().lt(lit(50.0)))
                .then(lit("35 à 49 ans"))
                .when(ans.lt(lit(65.0)))
                .then(lit("50 à 64 ans"))
                .otherwise(lit("65 ans ou plus"))
        }
    };
    e.alias(dim.nom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departements_of_mainland_corsica_and_overseas() {
        assert_eq!(departement("93008"), "93");
        assert_eq!(departement("2A004"), "2A");
        assert_eq!(departement("97411"), "974");
    }

    #[test]
    fn commune_brings_its_departement_and_qpv_its_margin() {
        let dims = parse("departement,commune,qpv").unwrap();
        assert_eq!(dims.len(), 2);
        assert_eq!(dims[0].niveaux, vec![Niveau::Departement, Niveau::Commune]);
        assert_eq!(dims[1].value(1, "QP093001"), EN_QPV);
        assert_eq!(dims[1].value(1, HORS_QPV), HORS_QPV);
        assert_eq!(dims[0].value(0, "93008"), ENSEMBLE);
        assert!(parse("commune,iris").unwrap_err().contains("iris"));
        assert!(parse("qpv,qpv").unwrap_err().contains("twice"));
    }
}
