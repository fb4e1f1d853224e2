//! What a rule file becomes once its structure is checked and before its names are
//! resolved: expressions parsed with their positions, definitions with their bodies,
//! legal bases read. `rules` builds it, `functions` expands calls in it, `exprs` resolves
//! and types it, `testcases` reads its cases.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::Ctx;
use crate::diag::{Diagnostics, Kind};
use crate::expr::{self, Expr};
use crate::model::{DefRole, Fonction, LegalBasis, RuleKind, Simplification};
use crate::raw::{LegalBasisRaw, SString, TestRaw};

/// An expression as written in a file: its text, the span of the TOML string holding
/// it, and its syntax tree when it parsed.
#[derive(Debug, Clone)]
pub(crate) struct ExprSrc {
    pub text: String,
    pub span: Range<usize>,
    pub ast: Option<Expr>,
}

impl ExprSrc {
    pub(crate) fn parse(ctx: Ctx<'_>, s: &SString, diags: &mut Diagnostics) -> ExprSrc {
        let text = s.get_ref().clone();
        let span = s.span();
        let ast = match expr::parse(&text) {
            Ok(e) => Some(e),
            Err(e) => {
                diags.push(ctx.error(Kind::ExpressionSyntax, ctx.sub_span(&span, &text, &e.span), e.message));
                None
            }
        };
        ExprSrc { text, span, ast }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum DraftBody {
    Expr(ExprSrc),
    Toutes(Vec<SString>),
    UneDe(Vec<SString>),
    Non(SString),
    /// `montant_calcule >= seuil` (or `> 0` without a threshold).
    Seuil(Option<ExprSrc>),
}

#[derive(Debug, Clone)]
pub(crate) struct DraftDef {
    pub name: String,
    pub name_span: Range<usize>,
    pub titre: String,
    pub role: DefRole,
    pub body: DraftBody,
    pub unite: Option<String>,
    pub description: Option<String>,
    pub base_legale: Vec<LegalBasis>,
}

/// A rule file that passed the structural checks.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub path: String,
    pub id: String,
    pub id_span: Range<usize>,
    pub titre: String,
    pub kind: RuleKind,
    pub prestation: Option<String>,
    pub description: Option<String>,
    pub base_legale: Vec<LegalBasis>,
    pub simplifications: Vec<Simplification>,
    pub defs: Vec<DraftDef>,
    pub fonctions: Vec<Fonction>,
    pub has_montant: bool,
    pub versement_unique: bool,
    pub has_en_paiement: bool,
    pub situation_de_base: BTreeMap<SString, Spanned<toml::Value>>,
    pub tests: Vec<Spanned<TestRaw>>,
}

/// Reads the legal bases of an element; reports entries without text or URL, and an
/// empty list when `required`.
pub(crate) fn legal_bases(
    ctx: Ctx<'_>,
    raw: &[Spanned<LegalBasisRaw>],
    required: Option<(&str, Range<usize>)>,
    diags: &mut Diagnostics,
) -> Vec<LegalBasis> {
    let mut out = Vec::new();
    for b in raw {
        let v = b.get_ref();
        let get = |s: &Option<SString>| s.as_ref().map(|x| x.get_ref().trim().to_string()).filter(|x| !x.is_empty());
        match (get(&v.texte), get(&v.url)) {
            (Some(texte), Some(url)) => out.push(LegalBasis { texte, article: get(&v.article), url }),
            (texte, _) => diags.push(ctx.error(
                Kind::MissingLegalBasis,
                b.span(),
                if texte.is_none() {
                    "a legal basis needs `texte` (the text and, in `article`, its article)"
                } else {
                    "a legal basis needs `url` (where an auditor reads the text)"
                },
            )),
        }
    }
    if let Some((what, span)) = required
        && raw.is_empty()
    {
        diags.push(ctx.error(
            Kind::MissingLegalBasis,
            span,
            format!("{what} has no legal basis: add `base_legale = [{{ texte = …, article = …, url = … }}]`"),
        ));
    }
    out
}
