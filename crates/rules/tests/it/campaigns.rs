//! Campaign files together: their priorities and their shared settings.

use reperage_rules::{check, check::with_campaigns};

use crate::{base_files, checked, mois, with_file};

fn campaign(id: &str, priorite: Option<u32>) -> String {
    let mut text = format!(
        "id = \"{id}\"\ntitre = \"{id}\"\nregles = [\"demo\"]\ncanaux = [\"sms\"]\n\
         delai_entre_contacts_mois = 3\ncapacite_par_agence = 10\n"
    );
    if let Some(p) = priorite {
        text.push_str(&format!("# priorite in a comment\npriorite = {p}\n"));
    }
    text
}

/// Ranked campaigns first, by rank; those without a rank after, by id.
#[test]
fn campaigns_take_households_in_priority_order() {
    let mut files = base_files();
    for (id, p) in [("zeta", Some(2)), ("alpha", None), ("beta", Some(1)), ("aaa", None)] {
        files = with_file(files, &format!("campagnes/{id}.toml"), &campaign(id, p));
    }
    let rs = checked(&files, "2025-06");
    let order: Vec<&str> = rs.campagnes_par_priorite().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(order, ["beta", "zeta", "aaa", "alpha"]);
    assert_eq!(rs.reglages_campagnes.delai_minimum_entre_contacts_mois, 0, "no settings file: no shared delay");
}

/// Two campaigns of the same rank: which takes a household first would depend on their
/// names, so it is an error at the second one's `priorite` line.
#[test]
fn two_campaigns_of_the_same_priority_are_an_error() {
    let files = with_file(base_files(), "campagnes/a.toml", &campaign("a", Some(1)));
    let files = with_file(files, "campagnes/b.toml", &campaign("b", Some(1)));
    let c = check(&files, mois("2025-06"));
    assert!(c.ruleset.is_none());
    let errors: Vec<_> = c.diagnostics.errors().collect();
    assert_eq!(errors.len(), 1, "{}", c.diagnostics);
    assert_eq!(errors[0].file, "campagnes/b.toml");
    assert_eq!(errors[0].line, 8, "the key's line, not the comment's");
    assert!(errors[0].message.contains("campaign `a`"), "{}", errors[0].message);
}

/// `--campagnes DIR` replaces the shared settings with the folder's.
#[test]
fn a_campaign_folder_brings_its_own_settings() {
    let files = with_file(base_files(), "campagnes/a.toml", &campaign("a", None));
    let files = with_file(files, "campagnes/_reglages.toml", "delai_minimum_entre_contacts_mois = 2\n");
    let rs = checked(&files, "2025-06");
    assert_eq!(rs.reglages_campagnes.delai_minimum_entre_contacts_mois, 2);
    let folder = vec![
        reperage_rules::SourceFile { path: "b.toml".into(), text: campaign("b", None) },
        reperage_rules::SourceFile {
            path: "_reglages.toml".into(),
            text: "delai_minimum_entre_contacts_mois = 5\n".into(),
        },
    ];
    let (replaced, warnings) = with_campaigns(&rs, &folder).expect("valid folder");
    assert!(warnings.0.is_empty(), "{warnings}");
    assert_eq!(replaced.reglages_campagnes.delai_minimum_entre_contacts_mois, 5);
    assert_eq!(replaced.reglages_campagnes.file.as_deref(), Some("campagnes/_reglages.toml"));
    let ids: Vec<&str> = replaced.campagnes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["b"]);
}
