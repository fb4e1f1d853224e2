//! Expressions after checking: every name resolved, every node typed.

use crate::date::Date;
use crate::expr::BinOp;
use crate::model::Type;

#[derive(Debug, Clone, PartialEq)]
pub struct RExpr {
    pub kind: RKind,
    pub ty: Type,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RKind {
    Nombre(f64),
    Booleen(bool),
    /// `inconnu`: a boolean stated unknown by the rule.
    Inconnu,
    Texte(String),
    DateLit(Date),
    /// A column of the situation.
    Input(String),
    /// A variable or condition (`rule`, `name`), local or of another rule.
    Def {
        rule: String,
        name: String,
    },
    /// A number or boolean parameter, resolved at the reference month.
    Param(String),
    /// A number or boolean parameter read at another date than the reference month:
    /// `au_1er_janvier(param.x)` (the SMIC "en vigueur au 1er janvier de l'année" of the
    /// ASPA) or `au_mois_precedent(param.x, k)` (the value of a reference month M-k).
    ParamLu(String, Lecture),
    /// `au_mois_precedent(param.x, k)` with `k` computed for each foyer (the prime of a
    /// birth at the BMAF of the month it was due): the value in force on the first day of
    /// M-k, for k a whole number from 0 to [`MOIS_PRECEDENTS_MAX`]; unknown otherwise.
    ParamAuMois(String, Box<RExpr>),
    /// The first day of the reference month.
    MoisReference,
    Neg(Box<RExpr>),
    Not(Box<RExpr>),
    Binary(BinOp, Box<RExpr>, Box<RExpr>),
    In(Box<RExpr>, Vec<RExpr>),
    Call(Func, Vec<RExpr>),
    /// `bareme(param.x, n)`: the scale's value for `n`.
    Bareme(String, Box<RExpr>),
}

/// The functions of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
    /// `si(condition, alors, sinon)`; unknown condition gives unknown.
    Si,
    /// `arrondi(x, decimales)`: half away from zero.
    Arrondi(u32),
    ArrondiInf,
    ArrondiSup,
    /// Whole months from a date's month to the reference month.
    MoisEcoules,
    /// The calendar month of a date, 1 (January) to 12: what a benefit paid in one month
    /// of the year (the allocation de rentrée scolaire in August) is evaluated against.
    MoisCivil,
    /// True when the value is known; never unknown itself.
    EstConnu,
    /// `si_inconnu(x, valeur)`: an explicit, visible default.
    SiInconnu,
}

impl RExpr {
    pub fn new(kind: RKind, ty: Type) -> RExpr {
        RExpr { kind, ty }
    }

    /// Visits every node, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a RExpr)) {
        f(self);
        match &self.kind {
            RKind::Neg(e) | RKind::Not(e) | RKind::Bareme(_, e) | RKind::ParamAuMois(_, e) => e.walk(f),
            RKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            RKind::In(e, items) => {
                e.walk(f);
                items.iter().for_each(|i| i.walk(f));
            }
            RKind::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            RKind::Nombre(_)
            | RKind::Booleen(_)
            | RKind::Inconnu
            | RKind::Texte(_)
            | RKind::DateLit(_)
            | RKind::Input(_)
            | RKind::Def { .. }
            | RKind::Param(_)
            | RKind::ParamLu(..)
            | RKind::MoisReference => {}
        }
    }

    /// Situation inputs referenced directly (not through definitions).
    pub fn inputs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let RKind::Input(name) = &e.kind {
                out.push(name.as_str());
            }
        });
        out
    }

    /// Definitions referenced directly, as (rule, name).
    pub fn defs(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let RKind::Def { rule, name } = &e.kind {
                out.push((rule.as_str(), name.as_str()));
            }
        });
        out
    }

    /// Parameters referenced directly (scales included).
    pub fn params(&self) -> Vec<&str> {
        self.param_reads().into_iter().map(|(p, _)| p).collect()
    }

    /// Parameters referenced directly, each with when its value is read.
    pub fn param_reads(&self) -> Vec<(&str, Lecture)> {
        let mut out = Vec::new();
        self.walk(&mut |e| match &e.kind {
            RKind::Param(p) | RKind::Bareme(p, _) => out.push((p.as_str(), Lecture::Mois)),
            RKind::ParamLu(p, when) => out.push((p.as_str(), *when)),
            RKind::ParamAuMois(p, _) => out.push((p.as_str(), Lecture::MoisPrecedents)),
            _ => {}
        });
        out
    }
}

/// When a parameter's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lecture {
    /// In force on the first day of the reference month.
    Mois,
    /// In force on 1 January of the reference month's year, or of the year `n` years
    /// before (the family benefits' N-2).
    PremierJanvier(u8),
    /// In force on the first day of the month M-k.
    MoisPrecedent(u8),
    /// In force on the first day of one of the months M … M-[`MOIS_PRECEDENTS_MAX`],
    /// which one depending on the foyer.
    MoisPrecedents,
}

/// How far back `au_mois_precedent(param.x, k)` reads when `k` is computed per foyer.
pub const MOIS_PRECEDENTS_MAX: u8 = 36;

impl Lecture {
    /// The date the value is read at, for `mois`.
    pub fn date(self, mois: crate::date::Mois) -> Date {
        match self {
            Lecture::Mois => mois.first_day(),
            Lecture::PremierJanvier(n) => Date::new(mois.year - i32::from(n), 1, 1).unwrap_or(mois.first_day()),
            Lecture::MoisPrecedent(k) => mois.plus(-i32::from(k)).first_day(),
            // Each value it may take is listed by the compiler at its own date.
            Lecture::MoisPrecedents => mois.first_day(),
        }
    }
}

impl RExpr {
    /// The expression in the rule language's syntax, for reports: names of `rule`'s own
    /// definitions unqualified, other rules' qualified, parameters as `param.x`. Function
    /// calls are shown expanded (the checker inlines them); every compound operand of an
    /// operator is parenthesised, so the text reads the same whatever the precedences.
    pub fn texte(&self, rule: &str) -> String {
        let sub = |e: &RExpr| {
            let t = e.texte(rule);
            if matches!(e.kind, RKind::Binary(..) | RKind::In(..) | RKind::Neg(_) | RKind::Not(_)) {
                format!("({t})")
            } else {
                t
            }
        };
        let list = |args: &[RExpr]| args.iter().map(|a| a.texte(rule)).collect::<Vec<_>>().join(", ");
        match &self.kind {
            RKind::Nombre(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{n:.0}")
                } else {
                    format!("{n}")
                }
            }
            RKind::Booleen(b) => (if *b { "vrai" } else { "faux" }).to_string(),
            RKind::Inconnu => "inconnu".to_string(),
            RKind::Texte(t) => format!("\"{t}\""),
            RKind::DateLit(d) => format!("date(\"{d}\")"),
            RKind::Input(name) => name.clone(),
            RKind::Def { rule: r, name } if r == rule => name.clone(),
            RKind::Def { rule: r, name } => format!("{r}.{name}"),
            RKind::Param(p) => format!("param.{p}"),
            RKind::ParamLu(p, Lecture::PremierJanvier(0)) => format!("au_1er_janvier(param.{p})"),
            RKind::ParamLu(p, Lecture::PremierJanvier(n)) => format!("au_1er_janvier(param.{p}, {n})"),
            RKind::ParamLu(p, Lecture::MoisPrecedent(k)) => format!("au_mois_precedent(param.{p}, {k})"),
            RKind::ParamLu(p, _) => format!("param.{p}"),
            RKind::ParamAuMois(p, k) => format!("au_mois_precedent(param.{p}, {})", k.texte(rule)),
            RKind::MoisReference => "mois_reference".to_string(),
            RKind::Neg(x) => format!("-{}", sub(x)),
            RKind::Not(x) => format!("non {}", sub(x)),
            RKind::Binary(op, a, b) => format!("{} {} {}", sub(a), op.symbol(), sub(b)),
            RKind::In(x, items) => format!("{} dans ({})", sub(x), list(items)),
            RKind::Bareme(p, x) => format!("bareme(param.{p}, {})", x.texte(rule)),
            RKind::Call(f, args) => {
                let name = match f {
                    Func::Min => "min",
                    Func::Max => "max",
                    Func::Si => "si",
                    Func::Arrondi(d) => return format!("arrondi({}, {d})", list(args)),
                    Func::ArrondiInf => "arrondi_inf",
                    Func::ArrondiSup => "arrondi_sup",
                    Func::MoisEcoules => "mois_ecoules",
                    Func::MoisCivil => "mois_civil",
                    Func::EstConnu => "est_connu",
                    Func::SiInconnu => "si_inconnu",
                };
                format!("{name}({})", list(args))
            }
        }
    }
}
