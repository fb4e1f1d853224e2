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

/// A landlord list: reached by telephone, email or mail (the `bailleurs` table has no
/// SMS); no control group and no social-worker exclusion, which are households' facts.
#[test]
fn a_landlord_list_takes_the_landlords_channels_and_no_household_setting() {
    let landlord = |extra: &str| {
        format!(
            "id = \"b\"\ntitre = \"b\"\nliste = \"bailleurs\"\nregles = [\"demo\"]\ncanaux = [\"telephone\", \"courrier\"]\n\
             delai_entre_contacts_mois = 3\ncapacite_par_agence = 10\n{extra}"
        )
    };
    let rs = checked(&with_file(base_files(), "campagnes/b.toml", &landlord("")), "2025-06");
    assert_eq!(rs.campagnes[0].liste, reperage_rules::model::Liste::Bailleurs);
    assert_eq!(
        checked(&with_file(base_files(), "campagnes/a.toml", &campaign("a", None)), "2025-06").campagnes[0].liste,
        reperage_rules::model::Liste::Foyers
    );
    for (extra, line, says) in [
        ("groupe_temoin = 0.1\n", 8, "draws no control group"),
        ("exclure_suivi_social = true\n", 1, "cannot exclude households followed"),
    ] {
        let c = check(&with_file(base_files(), "campagnes/b.toml", &landlord(extra)), mois("2025-06"));
        let errors: Vec<_> = c.diagnostics.errors().collect();
        assert_eq!(errors.len(), 1, "{}", c.diagnostics);
        assert_eq!(errors[0].line, line, "{}", errors[0].message);
        assert!(errors[0].message.contains(says), "{}", errors[0].message);
    }
    let sms = landlord("").replace("\"telephone\", \"courrier\"", "\"sms\"");
    let c = check(&with_file(base_files(), "campagnes/b.toml", &sms), mois("2025-06"));
    let errors: Vec<_> = c.diagnostics.errors().collect();
    assert_eq!(errors.len(), 1, "{}", c.diagnostics);
    assert!(errors[0].message.contains("unknown channel `sms` (expected one of telephone, email, courrier)"));
    let other = landlord("").replace("\"bailleurs\"", "\"proprietaires\"");
    let c = check(&with_file(base_files(), "campagnes/b.toml", &other), mois("2025-06"));
    assert!(
        c.diagnostics.errors().any(|e| e.line == 3 && e.message.contains("unknown list `proprietaires`")),
        "{}",
        c.diagnostics
    );
}
