//! The checker: from source files to a checked [`RuleSet`], or diagnostics.
//!
//! Files are recognised by their place in the rules folder:
//! - `situation.toml`: the situation inputs rules may use;
//! - `parametres/*.toml`: parameters with dated values;
//! - `*.toml` at the top: one rule each;
//! - `campagnes/*.toml`: outbound contact campaigns, checked against the rules they name.
//!
//! Other files (documentation) are not rule-language files and are skipped.
//!
//! The checker never stops at the first error: it reports everything it can, and only
//! returns a rule set when there is no error.

mod campaigns;
pub use campaigns::SUIVI_MOIS;
mod draft;
mod exprs;
mod functions;
mod params;
mod rules;
mod situation;
mod testcases;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::date::Mois;
use crate::diag::{Diagnostic, Diagnostics, Kind};
use crate::model::{Campagne, ReglagesCampagnes, RuleSet, SourceFile};

/// The role of a file in the rules folder, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Situation,
    Parametres,
    Regle,
    /// `campagnes/<id>.toml`: an outbound contact campaign.
    Campagne,
    /// `campagnes/_reglages.toml`: settings shared by every campaign.
    ReglagesCampagnes,
    /// Not a rule-language file (e.g. `campagnes/…`, `README.md`).
    Autre,
}

pub fn file_role(path: &str) -> FileRole {
    if !path.ends_with(".toml") {
        return FileRole::Autre;
    }
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["situation.toml"] => FileRole::Situation,
        ["parametres", _] => FileRole::Parametres,
        ["campagnes", "_reglages.toml"] => FileRole::ReglagesCampagnes,
        ["campagnes", _] => FileRole::Campagne,
        [_] => FileRole::Regle,
        _ => FileRole::Autre,
    }
}

/// A source file being checked: its path and text, to locate diagnostics.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub path: &'a str,
    pub src: &'a str,
}

impl Ctx<'_> {
    pub fn error(&self, kind: Kind, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(kind, self.path, self.src, span, msg)
    }

    pub fn warning(&self, kind: Kind, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(kind, self.path, self.src, span, msg)
    }

    /// Parses a TOML file into `T`, turning a syntax error into a located diagnostic.
    pub fn parse_toml<T: serde::de::DeserializeOwned>(&self, diags: &mut Diagnostics) -> Option<T> {
        match toml::from_str::<T>(self.src) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                diags.push(self.error(Kind::Syntax, span, e.message().trim().to_string()));
                None
            }
        }
    }

    /// Where the content of a TOML string value starts in the file, when the text
    /// between the quotes is exactly the value (no escapes): then positions inside the
    /// string map one-to-one to the file.
    pub fn string_content_offset(&self, span: &Range<usize>, value: &str) -> Option<usize> {
        let raw = self.src.get(span.clone())?;
        for quote in ["\"\"\"", "'''", "\"", "'"] {
            if raw.len() >= 2 * quote.len() && raw.starts_with(quote) && raw.ends_with(quote) {
                let mut start = span.start + quote.len();
                let mut inner = &raw[quote.len()..raw.len() - quote.len()];
                if quote.len() == 3 {
                    for newline in ["\r\n", "\n"] {
                        if let Some(rest) = inner.strip_prefix(newline) {
                            inner = rest;
                            start += newline.len();
                            break;
                        }
                    }
                }
                return (inner == value).then_some(start);
            }
        }
        None
    }

    /// The file span of `inner` (a span inside a string value at `span`), or the whole
    /// string when positions cannot be mapped exactly.
    pub fn sub_span(&self, span: &Range<usize>, value: &str, inner: &Range<usize>) -> Range<usize> {
        match self.string_content_offset(span, value) {
            Some(start) => start + inner.start..start + inner.end.max(inner.start + 1),
            None => span.clone(),
        }
    }
}

/// Closest candidate to `name` (edit distance ≤ 2), for "did you mean" hints.
pub(crate) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let best = candidates.map(|c| (levenshtein(name, c), c)).filter(|(d, _)| *d <= 2).min();
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The result of a check: the rule set when there is no error, and every diagnostic.
pub struct Checked {
    pub ruleset: Option<RuleSet>,
    pub diagnostics: Diagnostics,
}

/// Checks a whole rules folder (given as its files) for the reference month `mois`.
pub fn check(files: &[SourceFile], mois: Mois) -> Checked {
    let mut diags = Diagnostics::default();
    let mut files: Vec<SourceFile> = files.to_vec();
    files.sort_by(|a, b| a.path.cmp(&b.path));

    let situation_files: Vec<&SourceFile> =
        files.iter().filter(|f| file_role(&f.path) == FileRole::Situation).collect();
    let inputs = match situation_files.first() {
        Some(f) => situation::check_situation(Ctx { path: &f.path, src: &f.text }, &mut diags),
        None => {
            diags.push(Diagnostic::error(
                Kind::Syntax,
                "situation.toml",
                "",
                0..0,
                "the rules folder has no `situation.toml` declaring the situation inputs",
            ));
            BTreeMap::new()
        }
    };

    let mut params = BTreeMap::new();
    for f in files.iter().filter(|f| file_role(&f.path) == FileRole::Parametres) {
        params::check_param_file(Ctx { path: &f.path, src: &f.text }, mois, &mut params, &mut diags);
    }

    let mut drafts = Vec::new();
    for f in files.iter().filter(|f| file_role(&f.path) == FileRole::Regle) {
        if let Some(draft) = rules::read_rule_file(Ctx { path: &f.path, src: &f.text }, &mut diags) {
            drafts.push(draft);
        }
    }
    rules::check_duplicate_ids(&drafts, &files, &mut diags);

    let rules = exprs::resolve_and_type(&files, &inputs, &params, &drafts, &mut diags);
    let rules = testcases::check_tests_of(&files, &inputs, &drafts, rules, &mut diags);
    let (campagnes, reglages_campagnes) = read_campaigns(&files, &rules, &mut diags);

    diags.sort();
    let ruleset =
        (!diags.has_errors()).then_some(RuleSet { inputs, params, rules, campagnes, reglages_campagnes, files });
    Checked { ruleset, diagnostics: diags }
}

/// The campaigns of `files`, sorted by id, and their shared settings (all at 0 without
/// a `_reglages.toml`).
fn read_campaigns(
    files: &[SourceFile],
    rules: &[crate::model::Rule],
    diags: &mut Diagnostics,
) -> (Vec<Campagne>, ReglagesCampagnes) {
    let mut out: Vec<Campagne> = files
        .iter()
        .filter(|f| file_role(&f.path) == FileRole::Campagne)
        .filter_map(|f| campaigns::read_campaign(Ctx { path: &f.path, src: &f.text }, rules, diags))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    campaigns::check_priorities(&out, files, diags);
    let reglages = files
        .iter()
        .find(|f| file_role(&f.path) == FileRole::ReglagesCampagnes)
        .and_then(|f| campaigns::read_settings(Ctx { path: &f.path, src: &f.text }, diags))
        .unwrap_or_default();
    (out, reglages)
}

/// Replaces the campaigns of a checked rule set by those of another folder (`screen
/// --campagnes DIR`: its `*.toml` files, at the top of the folder or under
/// `campagnes/`), checked against the set's rules, with the warnings found. On errors,
/// returns the diagnostics.
pub fn with_campaigns(rs: &RuleSet, files: &[SourceFile]) -> Result<(RuleSet, Diagnostics), Diagnostics> {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|f| {
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            SourceFile { path: format!("campagnes/{name}"), text: f.text.clone() }
        })
        .collect();
    let mut diags = Diagnostics::default();
    let (campagnes, reglages) = read_campaigns(&files, &rs.rules, &mut diags);
    diags.sort();
    if diags.has_errors() {
        return Err(diags);
    }
    let mut out = rs.clone();
    out.files.retain(|f| !matches!(file_role(&f.path), FileRole::Campagne | FileRole::ReglagesCampagnes));
    out.files.extend(files);
    out.campagnes = campagnes;
    out.reglages_campagnes = reglages;
    Ok((out, diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_folder_layout() {
        assert_eq!(file_role("situation.toml"), FileRole::Situation);
        assert_eq!(file_role("parametres/rsa.toml"), FileRole::Parametres);
        assert_eq!(file_role("rsa.toml"), FileRole::Regle);
        assert_eq!(file_role("campagnes/rdv.toml"), FileRole::Campagne);
        assert_eq!(file_role("campagnes/_reglages.toml"), FileRole::ReglagesCampagnes);
        assert_eq!(file_role("campagnes/README.md"), FileRole::Autre);
        assert_eq!(file_role("README.md"), FileRole::Autre);
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let names = ["nb_enfants", "age_allocataire_mois"];
        assert_eq!(suggest("nb_enfant", names.iter().copied()), " (did you mean `nb_enfants`?)");
        assert_eq!(suggest("zzz", names.iter().copied()), "");
    }

    #[test]
    fn string_offsets_map_only_when_exact() {
        let src = "a = \"x + y\"\nb = \"\"\"\nz\"\"\"\nc = \"q\\\"\"";
        let ctx = Ctx { path: "f", src };
        assert_eq!(ctx.string_content_offset(&(4..11), "x + y"), Some(5));
        let b = src.find("\"\"\"").unwrap();
        let end = b + src[b + 3..].find("\"\"\"").unwrap() + 6;
        assert_eq!(ctx.string_content_offset(&(b..end), "z"), Some(b + 4));
        let c = src.rfind("\"q").unwrap();
        assert_eq!(ctx.string_content_offset(&(c..src.len()), "q\""), None);
    }
}
