//! `reperage screen`: screen an extract for a month: evaluate every rule on every foyer and write
//! signalements, eligibilites, the contact lists, quarantaine/ and manifest.json.
//! For the caisse's data team, each month.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;
use reperage_batch::extract::ColonneAutorisee;
use reperage_batch::screen;
use reperage_rules::Mois;

use crate::Exit;
use crate::common::{
    OutFormat, ReglesArgs, log_autorisees, out_format, parse_colonne, parse_mois, parse_partie, parse_size,
    print_stale, rules_and_campaigns,
};

#[derive(clap::Args)]
pub struct ScreenArgs {
    /// The extract folder (foyers, personnes, ressources, droits, evenements[, contacts]).
    #[arg(long)]
    pub extract: PathBuf,
    /// Last month's extract of the same caisse: compared with this one to find a new
    /// child, a conjoint who left, a change of commune, a right that stopped.
    #[arg(long)]
    pub precedent: Option<PathBuf>,
    /// Reference month YYYY-MM.
    #[arg(long)]
    pub mois: String,
    /// Output folder (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub regles: ReglesArgs,
    /// Output files as CSV (`;`, UTF-8 with BOM), Parquet, or both.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutFormat,
    /// Fail (exit 2) when any input row is quarantined.
    #[arg(long)]
    pub strict: bool,
    /// Refuse to run (exit 1) when a parameter may be out of date for the month:
    /// a legal revaluation date has passed since its last value.
    #[arg(long)]
    pub parametres_a_jour: bool,
    /// A column the caisse vouches for holds no direct identifier (`table.colonne`,
    /// repeatable): the privacy guard does not examine it. Logged and recorded in
    /// manifest.json.
    #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
    pub colonnes_autorisees: Vec<ColonneAutorisee>,
    /// Load, validate and evaluate the foyers in N pieces of consecutive ids, one
    /// after the other (less memory; the outputs are the same bytes whatever N).
    /// Default: as --memoire-max allows, at most 50,000 foyers a piece.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub partitions: Option<u32>,
    /// Memory budget of the run (e.g. 6G, 800M; powers of 1024): the extract is read
    /// once, its rows dealt to pieces small enough to load, validate and evaluate
    /// within it. Default: three quarters of the machine's memory.
    #[arg(long = "memoire-max", value_parser = parse_size)]
    pub memoire_max: Option<u64>,
    /// Run only partition K of N (K from 0 to N-1) of the extract, for a scheduler
    /// running the N partitions as N processes (deploy/); `reperage fusionner` then
    /// merges their --out folders into exactly what one run writes. Contact lists
    /// are selected by the merge (capacity is per agency of the whole caisse).
    #[arg(long, value_parser = parse_partie)]
    pub partition: Option<screen::Partie>,
}

pub fn run(args: ScreenArgs) -> Result<Exit> {
    let ScreenArgs {
        extract,
        precedent,
        mois,
        out,
        regles,
        format,
        strict,
        parametres_a_jour,
        colonnes_autorisees,
        partitions,
        memoire_max,
        partition,
    } = args;
    let mois = parse_mois(&mois)?;
    log_autorisees(&colonnes_autorisees);
    let rs = rules_and_campaigns(&regles, mois)?;
    let format = out_format(format);
    eprintln!("screening {} for {mois}…", extract.display());
    // On a terminal, a spinner with the phase and the foyers per second; otherwise
    // (a scheduler's log) one timestamped line per phase and per partition.
    // Never on stdout, which a pipeline may read.
    let bar = indicatif::ProgressBar::new_spinner();
    let on_terminal = std::io::stderr().is_terminal();
    if on_terminal {
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    let started = std::time::Instant::now();
    // In a log, a phase's start always, its progress notes at most every 10 s.
    let last_note = std::cell::Cell::new(None::<std::time::Instant>);
    let progress = |stage: &str| {
        if on_terminal {
            bar.set_message(stage.to_string());
            return;
        }
        let is_note = stage.contains(": ");
        if is_note && last_note.get().is_some_and(|t| t.elapsed().as_secs() < 10) {
            return;
        }
        if is_note {
            last_note.set(Some(std::time::Instant::now()));
        }
        eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
    };
    let opts = screen::Options {
        progress: &progress,
        extract: &extract,
        precedent: precedent.as_deref(),
        mois,
        out: &out,
        rules: &rs,
        format,
        strict,
        parametres_a_jour,
        colonnes_autorisees: &colonnes_autorisees,
        partitions: partitions.map(|n| n as usize),
        memoire_max,
        partie: partition,
    };
    let result = screen::screen(&opts);
    bar.finish_and_clear();
    let report = result?;
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    print_summary(&report);
    if report.comptes.iter().any(|c| c.lus != c.utilises + c.quarantaines) {
        // Every row is used or quarantined: a count that does not add up is a bug
        // of reperage, and the outputs are not to be trusted.
        eprintln!(
            "error: rows read ≠ used + quarantined (MISMATCH above): please report it with the extract's manifest.json"
        );
        return Ok(Exit::Failure);
    }
    if let Some(p) = report.partie {
        eprintln!(
            "partition {} of {} (from 0): campaign candidates written to {}; merge the {} partitions with `reperage fusionner` for the contact lists",
            p.indice,
            p.nombre,
            out.join(reperage_batch::campagnes::CANDIDATS).display(),
            p.nombre
        );
    }
    if report.strict_stop {
        eprintln!(
            "--strict: rows were quarantined (see {}/quarantaine/); no other output written but manifest.json",
            out.display()
        );
        return Ok(Exit::Strict);
    }
    Ok(Exit::Success)
}

fn print_summary(r: &screen::Report) {
    // The warnings printed, which the last line points to.
    let mut warnings = usize::from(!r.parametres_perimes.is_empty());
    if let Some(mois) = Mois::parse(&r.mois) {
        print_stale(&r.parametres_perimes, mois);
    }
    if let Some(h) = &r.historique_ressources {
        let starts = h.premier_mois_extrait.as_deref().unwrap_or("(no row)");
        eprintln!(
            "resources read: {} … {} (M-13 … M-1); the extract starts at {starts}",
            h.premier_mois_lu, h.dernier_mois_lu
        );
        if h.premier_mois_extrait.as_deref().is_none_or(|s| s > h.premier_mois_lu.as_str()) {
            warnings += 1;
            eprintln!(
                "warning: the extract's resources start after {}: results that read the missing months are undetermined",
                h.premier_mois_lu
            );
        }
        let by_rule: Vec<String> = h.indetermines_faute_de_ressources.iter().map(|(r, n)| format!("{r} {n}")).collect();
        eprintln!(
            "  {} foyers lack months of resources; undetermined for missing resources: {}",
            h.foyers_avec_mois_inconnus,
            if by_rule.is_empty() { "none".to_string() } else { by_rule.join(", ") }
        );
    }
    eprintln!("rows read = used + quarantined:");
    for c in &r.comptes {
        let ok = if c.lus == c.utilises + c.quarantaines { "ok" } else { "MISMATCH" };
        eprintln!("  {:<11} {:>9} = {:>9} + {:>7}  {ok}", c.table, c.lus, c.utilises, c.quarantaines);
    }
    eprintln!("foyers: {} read, {} evaluated, {} quarantined", r.foyers_lus, r.foyers_evalues, r.foyers_quarantaine);
    let times: Vec<String> = r
        .phases
        .iter()
        .map(|p| match p.foyers {
            Some(n) if p.secondes > 0.0 => {
                format!("{} {:.1} s ({:.0} foyers/s)", p.phase.label(), p.secondes, n as f64 / p.secondes)
            }
            _ => format!("{} {:.1} s", p.phase.label(), p.secondes),
        })
        .collect();
    eprintln!("time per phase: {}", times.join(", "));
    let gb = |b: u64| b as f64 / (1u64 << 30) as f64;
    match &r.memoire {
        Some(m) => {
            eprintln!(
                "memory budget {:.1} GiB: {} piece(s) of at most {} foyers, evaluated one after the other, the next loaded while one is evaluated{}",
                gb(m.budget),
                r.partitions,
                m.foyers_par_partition,
                r.pic.map_or(String::new(), |p| format!("; peak {:.1} GiB", gb(p)))
            );
            if !m.tenu {
                warnings += 1;
                eprintln!(
                    "warning: even pieces of {} foyers do not fit in the memory budget; the run may exceed it",
                    m.foyers_par_partition
                );
            }
        }
        None if r.partitions > 1 => eprintln!(
            "evaluated in {} pieces of consecutive foyer ids{}",
            r.partitions,
            r.pic.map_or(String::new(), |p| format!("; peak {:.1} GiB", gb(p)))
        ),
        None => {}
    }
    if let Some((n, why)) = &r.sans_cse {
        warnings += 1;
        eprintln!(
            "warning: Polars' common-subexpression elimination failed on {n} piece(s) ({why}); they were evaluated without it (same results, slower): please report it with the rules used"
        );
    }
    // The names' column as wide as the longest name, so the figures line up.
    let width = r
        .signalements
        .keys()
        .map(String::len)
        .chain(r.campagnes.iter().map(|(c, _, _)| c.len()))
        .chain(r.listes_bailleurs.iter().map(|(c, _)| c.len()))
        .max()
        .unwrap_or(0);
    if !r.strict_stop {
        eprintln!("signalements per rule:");
        for (rule, n) in &r.signalements {
            eprintln!("  {rule:<width$} {n:>9}");
        }
        if r.signalements.is_empty() {
            eprintln!("  (none)");
        }
        if !r.campagnes.is_empty() {
            eprintln!(
                "foyers listed per campaign, in priority order, each on one list at most (campagnes/resume.csv says who was left out and why):"
            );
            for (c, n, temoins) in &r.campagnes {
                let control = if *temoins > 0 {
                    format!(" (+ {temoins} in its control group, not contacted)")
                } else {
                    String::new()
                };
                eprintln!("  {c:<width$} {n:>9}{control}");
            }
        }
        if !r.listes_bailleurs.is_empty() {
            eprintln!(
                "landlords listed per landlord campaign (campagnes/resume_bailleurs.csv says who was left out and why):"
            );
            for (c, n) in &r.listes_bailleurs {
                eprintln!("  {c:<width$} {n:>9}");
            }
        }
    }
    eprintln!("wrote {} files:", r.fichiers_ecrits.len());
    for f in &r.fichiers_ecrits {
        eprintln!("  {f}");
    }
    eprintln!("{}", next_step(r, warnings));
}

/// One line: what to read first after a run.
fn next_step(r: &screen::Report, warnings: usize) -> String {
    let mut items = Vec::new();
    let quarantined: u64 = r.comptes.iter().map(|c| c.quarantaines).sum();
    if quarantined > 0 {
        items.push(format!("quarantaine/ ({quarantined} rows set aside, each with its reason)"));
    }
    if warnings > 0 {
        items.push(format!("the {warnings} warning(s) above"));
    }
    let lists = r
        .fichiers_ecrits
        .iter()
        .filter(|f| {
            f.contains("campagnes/")
                && !["resume", "resume_bailleurs", "temoins", "non_retenus"]
                    .iter()
                    .any(|n| f.contains(&format!("/{n}.")))
        })
        .count();
    if r.strict_stop {
        items.push("manifest.json".to_string());
    } else if lists > 0 {
        items.push(format!("the {lists} contact list(s) under campagnes/ (campagnes/resume.csv: who was left out)"));
    } else {
        items.push("signalements.csv".to_string());
    }
    format!("next: read {}", items.join("; then "))
}
