//! `diff`: what changes for the same foyers between two rule sets, or between the
//! parameters of two months (the impact of a revaluation, of a proposed rule change).
//!
//! The extract is evaluated once by the common step (crate::evaluation) with the rules
//! "after" at `--mois`; each piece's situations are then evaluated again with the rules
//! "before" (another folder, or the same rules with the parameters in force at
//! `--mois-avant`, dates and ages still counted from `--mois`): the same situations, so
//! only the rules or their parameters differ.
//! Per rule: status transitions, signalements appearing and disappearing, the
//! distribution of amount changes; the ids of foyers whose status or signalement changed
//! go to a separate file, never to the page. Definitions: docs/audit.md.

pub mod page;
pub mod textes;

use std::path::PathBuf;

use polars::prelude::*;
use reperage_rules::{Compiled, CompiledRule, Mois, RuleSet, StaleParameter};

use crate::commande::{self, Entrees, Ouverture};
use crate::couverture::comptes::STATUTS;
use crate::evaluation::{self, Etapes};
use crate::extract::Extract;
use crate::output::{Format, TableWriter};
use crate::screen::{self, Lu, ScreenError};

/// What the evaluation "before" uses.
pub enum Avant<'a> {
    /// Another rule folder, at the same month.
    Regles(&'a RuleSet),
    /// The same rules, with the parameters in force at another month.
    Mois(Mois),
}

pub struct Options<'a> {
    pub progress: &'a dyn Fn(&str),
    /// The extract, the month, the rules "after", `--out` and the reading options.
    pub entrees: Entrees<'a>,
    pub avant: Avant<'a>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub foyers_evalues: u64,
    pub regles_comparees: usize,
    pub foyers_modifies: u64,
    pub parametres_modifies: usize,
    pub definitions_modifiees: usize,
    pub parametres_perimes: Vec<StaleParameter>,
    pub fichiers_ecrits: Vec<String>,
}

/// The changes of one rule over the foyers compared.
#[derive(Debug, Clone, Default)]
pub struct RegleDiff {
    pub id: String,
    /// `transitions[a][b]`: foyers of status `a` before and `b` after ([`STATUTS`]).
    pub transitions: [[u64; 3]; 3],
    pub signalements_apparus: u64,
    pub signalements_disparus: u64,
    /// Amount after − amount before, for foyers eligible both times.
    pub ecarts: Vec<f64>,
}

impl RegleDiff {
    /// Foyers not eligible before (non eligible or undetermined) and eligible after.
    pub fn gagnent(&self) -> u64 {
        self.transitions[1][0] + self.transitions[2][0]
    }

    /// Foyers eligible before and not after.
    pub fn perdent(&self) -> u64 {
        self.transitions[0][1] + self.transitions[0][2]
    }
}

/// The distribution of the amount changes: count, changed, sum, min, quartiles, max.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    pub n: u64,
    pub modifies: u64,
    pub somme: f64,
    pub min: f64,
    pub q1: f64,
    pub mediane: f64,
    pub q3: f64,
    pub max: f64,
}

/// Quantile `p` of sorted values, linearly interpolated between order statistics.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

pub fn distribution(ecarts: &[f64]) -> Option<Distribution> {
    if ecarts.is_empty() {
        return None;
    }
    let mut v = ecarts.to_vec();
    v.sort_by(f64::total_cmp);
    Some(Distribution {
        n: v.len() as u64,
        modifies: v.iter().filter(|d| d.abs() >= 0.005).count() as u64,
        somme: v.iter().sum(),
        min: v[0],
        q1: quantile(&v, 0.25),
        mediane: quantile(&v, 0.5),
        q3: quantile(&v, 0.75),
        max: v[v.len() - 1],
    })
}

struct Comparaison<'a> {
    progress: &'a dyn Fn(&str),
    avant_rules: &'a RuleSet,
    mois_avant: Mois,
    avant: Option<Compiled>,
    regles: Vec<RegleDiff>,
    foyers: u64,
    foyers_modifies: u64,
    modifies: TableWriter,
}

fn statut_index(s: Option<&str>) -> usize {
    match s {
        Some("eligible") => 0,
        Some("non_eligible") => 1,
        _ => 2,
    }
}

/// The columns of one rule, before and after, for one piece.
fn compare_rule(
    eval: &DataFrame,
    after: &CompiledRule,
    before_df: &DataFrame,
    before: &CompiledRule,
    diff: &mut RegleDiff,
) -> PolarsResult<DataFrame> {
    let fired = |df: &DataFrame, cr: &CompiledRule| -> PolarsResult<Column> {
        let c = df.clone().lazy().select([screen::fires(cr).fill_null(lit(false)).alias("f")]).collect()?;
        Ok(c.column("f")?.clone())
    };
    let (fa, fb) = (fired(before_df, before)?, fired(eval, after)?);
    let (sa, sb) = (before_df.column(&before.statut)?.str()?, eval.column(&after.statut)?.str()?);
    let (ma, mb) = (before_df.column(&before.montant)?.f64()?, eval.column(&after.montant)?.f64()?);
    let (fa_b, fb_b) = (fa.bool()?, fb.bool()?);
    let mut changed = Vec::new();
    for i in 0..eval.height() {
        let (a, b) = (statut_index(sa.get(i)), statut_index(sb.get(i)));
        diff.transitions[a][b] += 1;
        let (x, y) = (fa_b.get(i) == Some(true), fb_b.get(i) == Some(true));
        diff.signalements_apparus += u64::from(!x && y);
        diff.signalements_disparus += u64::from(x && !y);
        if a == 0
            && b == 0
            && let (Some(m0), Some(m1)) = (ma.get(i), mb.get(i))
        {
            diff.ecarts.push(m1 - m0);
        }
        if a != b || x != y {
            changed.push(i as IdxSize);
        }
    }
    let idx = IdxCa::from_vec("i".into(), changed);
    let arrondi = |c: &Column| -> PolarsResult<Column> {
        Ok(c.as_materialized_series().round(2, RoundMode::HalfAwayFromZero)?.into())
    };
    let mut df = DataFrame::new_infer_height(vec![
        eval.column("id_foyer")?.clone(),
        Column::new("regle".into(), vec![after.id.as_str(); eval.height()]),
        before_df.column(&before.statut)?.clone().with_name("statut_avant".into()),
        eval.column(&after.statut)?.clone().with_name("statut_apres".into()),
        arrondi(before_df.column(&before.montant)?)?.with_name("montant_avant".into()),
        arrondi(eval.column(&after.montant)?)?.with_name("montant_apres".into()),
        fa.with_name("signalement_avant".into()),
        fb.with_name("signalement_apres".into()),
    ])?;
    df = df.take(&idx)?;
    Ok(df)
}

impl Etapes for Comparaison<'_> {
    fn validee(&mut self, _: usize, _: &Extract, _: Option<&Extract>) -> Result<bool, ScreenError> {
        Ok(true)
    }

    fn evaluee(&mut self, k: usize, compiled: &Compiled, _: &Extract, eval: DataFrame) -> Result<(), ScreenError> {
        (self.progress)(&format!("piece {} evaluated twice ({} foyers)", k + 1, eval.height()));
        if self.avant.is_none() {
            self.avant = Some(Compiled::with_parameters_of(self.avant_rules, compiled.mois, self.mois_avant, None)?);
        }
        let avant = self.avant.as_ref().expect("compiled above");
        // The same situations: the inputs the rules "before" read, from this piece.
        avant.check_schema(eval.schema())?;
        let inputs: Vec<&str> = avant.inputs.keys().map(String::as_str).collect();
        let situation = eval.select(inputs)?;
        let before_df = avant.evaluate(situation, true)?;
        self.foyers += eval.height() as u64;
        let mut parts = Vec::new();
        for diff in &mut self.regles {
            let (Some(a), Some(b)) = (avant.rule(&diff.id), compiled.rule(&diff.id)) else { continue };
            parts.push(compare_rule(&eval, b, &before_df, a, diff)?.lazy());
        }
        if !parts.is_empty() {
            let mut changed = concat(parts, UnionArgs::default())?
                .sort(["id_foyer", "regle"], SortMultipleOptions::default())
                .collect()?;
            let ids = changed.column("id_foyer")?.n_unique()? as u64;
            self.foyers_modifies += ids;
            self.modifies.write(&mut changed)?;
        }
        Ok(())
    }
}

/// Evaluates the extract twice and writes what changed under `opts.entrees.out` (replaced as a
/// whole, as `screen` does).
pub fn diff(opts: &Options) -> Result<Report, ScreenError> {
    let (avant_rules, mois_avant) = match opts.avant {
        Avant::Regles(r) => (r, opts.entrees.mois),
        Avant::Mois(m) => (opts.entrees.rules, m),
    };
    let Ouverture { out_dir, out, spill, lu: Lu { mut current, mut previous, .. }, stale } =
        commande::ouvrir(&opts.entrees)?;
    let fichiers = current.fichiers.clone();
    (opts.progress)("reading the extract");
    let regles: Vec<RegleDiff> = opts
        .entrees
        .rules
        .rules
        .iter()
        .filter(|r| avant_rules.rule(&r.id).is_some())
        .map(|r| RegleDiff { id: r.id.clone(), ..RegleDiff::default() })
        .collect();
    let mut etapes = Comparaison {
        progress: opts.progress,
        avant_rules,
        mois_avant,
        avant: None,
        regles,
        foyers: 0,
        foyers_modifies: 0,
        modifies: TableWriter::create(&out, "foyers_modifies", Format::Csv)?,
    };
    let compiled =
        evaluation::evaluate(&mut current, previous.as_mut(), opts.entrees.rules, opts.entrees.mois, &mut etapes)?;
    drop((current, previous));
    let _ = std::fs::remove_dir_all(&spill);
    let avant = match etapes.avant.take() {
        Some(a) => a,
        None => Compiled::with_parameters_of(avant_rules, opts.entrees.mois, mois_avant, None)?,
    };
    (opts.progress)("writing");
    let mut written: Vec<PathBuf> = etapes.modifies.finish()?;
    let parametres = textes::parametres(&avant, &compiled);
    let definitions = textes::definitions(avant_rules, opts.entrees.rules);
    let ajoutees: Vec<&str> =
        opts.entrees.rules.rules.iter().filter(|r| avant_rules.rule(&r.id).is_none()).map(|r| r.id.as_str()).collect();
    for (name, mut df) in [
        ("diff_regles", regles_frame(&etapes.regles)?),
        ("diff_parametres", textes::parametres_frame(&parametres)?),
        ("diff_definitions", textes::definitions_frame(&definitions)?),
    ] {
        let mut w = TableWriter::create(&out, name, Format::Csv)?;
        w.write(&mut df)?;
        written.extend(w.finish()?);
    }
    let comparaison = match opts.avant {
        Avant::Regles(_) => "regles".to_string(),
        Avant::Mois(m) => format!("parametres de {m}"),
    };
    let manifest = serde_json::json!({
        "statut": "complet",
        "commande": "diff",
        "moteur": { "nom": "reperage", "version": env!("CARGO_PKG_VERSION") },
        "mois": opts.entrees.mois.to_string(),
        "mois_avant": mois_avant.to_string(),
        "avant": comparaison,
        "extrait": screen::input_files(&fichiers),
        "colonnes_autorisees": opts.entrees.colonnes_autorisees,
        "regles_avant": commande::fichiers_regles(avant_rules),
        "regles_apres": commande::fichiers_regles(opts.entrees.rules),
        "parametres_perimes": stale,
        "foyers": { "compares": etapes.foyers, "modifies": etapes.foyers_modifies },
        "regles_sans_equivalent_avant": ajoutees,
    });
    let html = page::html(&page::Contexte {
        mois: opts.entrees.mois,
        mois_avant,
        par_regles: matches!(opts.avant, Avant::Regles(_)),
        foyers: etapes.foyers,
        regles: &etapes.regles,
        rules: opts.entrees.rules,
        parametres: &parametres,
        definitions: &definitions,
    });
    written.push(commande::ecrire_page(&out, "diff.html", &html)?);
    let fichiers_ecrits = screen::commit_files(out_dir, manifest, written)?;
    Ok(Report {
        foyers_evalues: etapes.foyers,
        regles_comparees: etapes.regles.len(),
        foyers_modifies: etapes.foyers_modifies,
        parametres_modifies: parametres.len(),
        definitions_modifiees: definitions.len(),
        parametres_perimes: stale,
        fichiers_ecrits,
    })
}

/// `diff_regles.csv`: one row per rule compared.
fn regles_frame(regles: &[RegleDiff]) -> PolarsResult<DataFrame> {
    let d: Vec<Option<Distribution>> = regles.iter().map(|r| distribution(&r.ecarts)).collect();
    let u = |name: &str, f: &dyn Fn(&RegleDiff) -> u64| -> Column {
        Column::new(name.into(), regles.iter().map(f).collect::<Vec<u64>>())
    };
    let stat = |name: &str, f: &dyn Fn(&Distribution) -> f64| -> Column {
        Column::new(name.into(), d.iter().map(|x| x.map(|x| (f(&x) * 100.0).round() / 100.0)).collect::<Vec<_>>())
    };
    let mut cols = vec![
        Column::new("regle".into(), regles.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()),
        u("gagnent", &|r| r.gagnent()),
        u("perdent", &|r| r.perdent()),
        u("signalements_apparus", &|r| r.signalements_apparus),
        u("signalements_disparus", &|r| r.signalements_disparus),
    ];
    for (a, sa) in STATUTS.iter().enumerate() {
        for (b, sb) in STATUTS.iter().enumerate() {
            let name = format!("{sa}_vers_{sb}");
            cols.push(Column::new(name.into(), regles.iter().map(|r| r.transitions[a][b]).collect::<Vec<u64>>()));
        }
    }
    cols.push(Column::new(
        "montant_foyers_compares".into(),
        d.iter().map(|x| x.map_or(0, |x| x.n)).collect::<Vec<u64>>(),
    ));
    cols.push(Column::new(
        "montant_foyers_modifies".into(),
        d.iter().map(|x| x.map_or(0, |x| x.modifies)).collect::<Vec<u64>>(),
    ));
    cols.push(stat("ecart_somme", &|x| x.somme));
    cols.push(stat("ecart_min", &|x| x.min));
    cols.push(stat("ecart_q1", &|x| x.q1));
    cols.push(stat("ecart_mediane", &|x| x.mediane));
    cols.push(stat("ecart_q3", &|x| x.q3));
    cols.push(stat("ecart_max", &|x| x.max));
    DataFrame::new_infer_height(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_between_order_statistics() {
        let d = distribution(&[4.0, 1.0, 3.0, 2.0, 0.0]).expect("values");
        assert_eq!((d.min, d.q1, d.mediane, d.q3, d.max), (0.0, 1.0, 2.0, 3.0, 4.0));
        assert_eq!((d.n, d.modifies, d.somme), (5, 4, 10.0));
        let d = distribution(&[1.0, 2.0]).expect("values");
        assert_eq!((d.q1, d.mediane, d.q3), (1.25, 1.5, 1.75));
        assert!(distribution(&[]).is_none());
    }
}
