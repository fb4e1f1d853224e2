//! The short explanation an agent reads first (`reperage explain` without `--regle`):
//! for each rule that fires or is undetermined, its result, the conditions that decided
//! it and the missing inputs by their titles, and the parameter that sets its amount —
//! a screen at most. The rest on request: one rule's full tree ([`Explanation::detail`]),
//! the inputs the shown rules read ([`Explanation::situation_lue`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Explanation, Node, RuleExplanation, format_number, param_value_text, titre_et_id};
use crate::compile::UsedParam;
use crate::model::{RuleKind, Value};

/// At most this many lines by default: what fits a terminal without scrolling far.
pub const LIGNES_MAX: usize = 60;

/// How many condition titles and missing inputs a line names before counting the rest.
const NOMMES: usize = 2;

/// Where the summary puts a rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// It fires: a signalement of `screen` (a benefit likely not claimed, an event).
    Signale,
    /// Undetermined, without a signalement.
    Indetermine,
    /// Eligible and already in payment.
    EnPaiement,
    /// Not eligible, event not detected.
    Ecarte,
}

fn statut(r: &RuleExplanation) -> &str {
    match &r.statut {
        Value::Texte(t) => t.as_str(),
        _ => "indetermine",
    }
}

fn is_event(r: &RuleExplanation) -> bool {
    r.kind == RuleKind::Evenement.name()
}

/// As `screen` decides a signalement (`reperage_batch::screen::fires`).
fn place(r: &RuleExplanation) -> Place {
    let statut = statut(r);
    let fires = match &r.en_paiement {
        Some(paid) if !is_event(r) => statut != "non_eligible" && *paid == Value::Booleen(false),
        _ => statut == "eligible",
    };
    if fires {
        Place::Signale
    } else if statut == "indetermine" || (statut == "eligible" && r.en_paiement == Some(Value::Inconnu)) {
        Place::Indetermine
    } else if statut == "eligible" {
        Place::EnPaiement
    } else {
        Place::Ecarte
    }
}

/// The leaf conditions whose value gave `n` its value, in the order written: every true
/// child of a true `toutes`, the false ones of a false `toutes`, the unknown ones of an
/// unknown node (a false child would have decided it), and the converse for `une_de`.
fn decisive<'a>(n: &'a Node, out: &mut Vec<&'a Node>) {
    if n.conditions.is_empty() {
        out.push(n);
        return;
    }
    let before = out.len();
    for c in &n.conditions {
        let decides = match n.forme {
            "non" => true,
            _ => c.valeur == n.valeur,
        };
        if decides {
            decisive(c, out);
        }
    }
    if out.len() == before {
        out.push(n);
    }
}

/// `items` joined with " ; ", at most `NOMMES` of them, then how many more.
fn named(items: &[String], more: &str) -> String {
    let mut text = items.iter().take(NOMMES).cloned().collect::<Vec<_>>().join(" ; ");
    if items.len() > NOMMES {
        let _ = write!(text, " (+{} {more})", items.len() - NOMMES);
    }
    text
}

fn title(n: &Node) -> String {
    if n.titre.is_empty() { n.nom.clone() } else { n.titre.clone() }
}

impl Explanation {
    /// Input name → title, for the missing inputs.
    fn input_titles(&self) -> BTreeMap<&str, &str> {
        self.situation.iter().map(|i| (i.nom.as_str(), i.titre.as_str())).collect()
    }

    /// The rules the summary details: those that fire or are undetermined, or all.
    pub fn shown(&self, tout: bool) -> Vec<&RuleExplanation> {
        self.regles.iter().filter(|r| tout || matches!(place(r), Place::Signale | Place::Indetermine)).collect()
    }

    /// The first line of a rule: its result, amount and payment.
    fn headline(r: &RuleExplanation) -> String {
        let statut = match (statut(r), is_event(r)) {
            ("eligible", true) => "détecté",
            ("non_eligible", true) => "non détecté",
            ("eligible", false) => "éligible",
            ("non_eligible", false) => "non éligible",
            _ => "indéterminé",
        };
        let montant = match &r.montant {
            Value::Nombre(n) if *n == 0.0 => String::new(),
            Value::Nombre(n) if is_event(r) => format!(", {} €/mois en jeu", format_number(*n)),
            Value::Nombre(n) if r.versement_unique => format!(", {} € (versement unique)", format_number(*n)),
            Value::Nombre(n) => format!(", {} €/mois", format_number(*n)),
            _ => String::new(),
        };
        let paiement = match (&r.en_paiement, is_event(r)) {
            (Some(Value::Booleen(true)), false) => ", déjà versé",
            (Some(Value::Booleen(false)), false) if statut != "non éligible" => ", non versé",
            (Some(Value::Inconnu), false) => ", versement inconnu",
            _ => "",
        };
        format!("{} — {} : {statut}{montant}{paiement}", r.id, r.titre)
    }

    /// Why: the deciding conditions by their titles, or what is missing.
    fn reason(&self, r: &RuleExplanation) -> String {
        let mut leaves = Vec::new();
        decisive(&r.arbre, &mut leaves);
        if statut(r) == "indetermine" && !r.manquants.is_empty() {
            let titles = self.input_titles();
            let missing: Vec<String> =
                r.manquants.iter().map(|m| titre_et_id(titles.get(m.as_str()).copied().unwrap_or(""), m)).collect();
            return format!("    manque : {}", named(&missing, "autres données"));
        }
        let titles: Vec<String> = leaves.iter().map(|n| title(n)).collect();
        match (statut(r), &r.arbre.valeur) {
            ("indetermine", _) | (_, Value::Inconnu) => {
                format!("    inconnu (cas que la règle ne modélise pas) : {}", named(&titles, "autres conditions"))
            }
            (_, Value::Booleen(true)) => format!("    conditions remplies : {}", named(&titles, "autres conditions")),
            _ => format!("    condition non remplie : {}", named(&titles, "autres conditions")),
        }
    }

    /// The parameters that set the amount, one line each with its date and source: the
    /// first [`NOMMES`] in euros the amount's formula meets (its maxima, ceilings and
    /// forfaits; rates and thresholds in `--regle`), the others counted.
    fn amount_lines(r: &RuleExplanation) -> Vec<String> {
        if statut(r) == "non_eligible" {
            return vec![];
        }
        let params: Vec<&UsedParam> =
            r.parametres_du_montant.iter().filter_map(|id| r.parametres.iter().find(|p| &p.id == id)).collect();
        let in_euros = |p: &&UsedParam| p.unite.as_deref().is_some_and(|u| u.contains('€'));
        let mut ordered: Vec<&UsedParam> = params.iter().copied().filter(in_euros).collect();
        ordered.extend(params.iter().copied().filter(|p| !in_euros(p)));
        let mut lines: Vec<String> = ordered
            .iter()
            .take(NOMMES)
            .map(|p| {
                let unite = p.unite.as_deref().map_or(String::new(), |u| format!(" {u}"));
                format!(
                    "    montant : {} = {}{unite} depuis le {} ({})",
                    p.id,
                    param_value_text(p),
                    p.value.depuis,
                    p.value.source
                )
            })
            .collect();
        if ordered.len() > NOMMES
            && let Some(last) = lines.last_mut()
        {
            let _ = write!(last, " ; +{} paramètres : --regle {}", ordered.len() - NOMMES, r.id);
        }
        lines
    }

    /// The summary, in French: at most [`LIGNES_MAX`] lines unless `tout` (every rule
    /// detailed). Over the budget, the amount lines go first, then the undetermined
    /// rules are only named.
    pub fn resume(&self, tout: bool) -> String {
        let head = match &self.id_foyer {
            Some(id) => format!("Foyer {id} — mois de référence {}", self.mois),
            None => format!("Mois de référence {}", self.mois),
        };
        let block = |r: &RuleExplanation, with_amount: bool| -> Vec<String> {
            let mut lines = vec![Self::headline(r), self.reason(r)];
            if with_amount {
                lines.extend(Self::amount_lines(r));
            }
            lines
        };
        let ids =
            |p: Place| -> Vec<&str> { self.regles.iter().filter(|r| place(r) == p).map(|r| r.id.as_str()).collect() };
        let groups: [(Place, &str); 4] = [
            (Place::Signale, "Signalés (la règle se déclenche : droit probablement non demandé, ou événement)"),
            (Place::Indetermine, "Indéterminés (il manque une donnée)"),
            (Place::EnPaiement, "Éligibles, déjà versés"),
            (Place::Ecarte, "Non éligibles, événements non détectés"),
        ];
        let footer = "Détail : --regle <id> (l'arbre complet d'une règle), --situation (les données lues), \
                      --tout (toutes les règles), --format json (tout)";
        let render = |with_amount: bool, name_undetermined: bool| -> Vec<String> {
            let mut out = vec![head.clone()];
            for (p, label) in groups {
                let rules: Vec<&RuleExplanation> = self.regles.iter().filter(|r| place(r) == p).collect();
                if rules.is_empty() {
                    continue;
                }
                let detailed = tout || p == Place::Signale || (p == Place::Indetermine && !name_undetermined);
                if detailed {
                    out.push(format!("{label} : {}", rules.len()));
                    for r in rules {
                        out.extend(block(r, with_amount));
                    }
                } else {
                    out.push(format!("{label} : {}", ids(p).join(", ")));
                }
            }
            out.push(footer.to_string());
            out
        };
        let mut lines = render(true, false);
        if !tout && lines.len() > LIGNES_MAX {
            lines = render(false, false);
        }
        if !tout && lines.len() > LIGNES_MAX {
            lines = render(false, true);
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    /// One rule's full explanation (its condition tree, each legal basis once, variables,
    /// parameters, simplifications), or `None` for a rule not evaluated.
    pub fn detail(&self, id: &str) -> Option<String> {
        self.regles.iter().find(|r| r.id == id).map(|r| format!("Mois de référence {}\n\n{r}", self.mois))
    }

    /// The inputs the rules `ids` read, with their values and titles, in the situation's order.
    pub fn situation_lue(&self, ids: &[&str]) -> String {
        let read: std::collections::BTreeSet<&str> = self
            .regles
            .iter()
            .filter(|r| ids.contains(&r.id.as_str()))
            .flat_map(|r| r.entrees.iter().map(String::as_str))
            .collect();
        let mut out = format!("Données lues par {} :\n", ids.join(", "));
        for i in self.situation.iter().filter(|i| read.contains(i.nom.as_str())) {
            let _ = writeln!(out, "  {} = {} — {}", i.nom, i.valeur, i.titre);
        }
        out
    }
}
