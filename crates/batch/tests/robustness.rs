//! Mangled extracts never panic: random byte mutations of the hand-written edge cases
//! end either in a clear error or in a load whose row accounting holds.

use std::path::PathBuf;

use reperage_batch::extract::{self, ExtractError};
use reperage_batch::generate::Rng;
use reperage_rules::Mois;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-data").join(name)
}

#[test]
fn random_mutations_end_in_an_error_or_a_balanced_quarantine() {
    let mois = Mois::parse("2025-03").expect("month");
    let tables = ["foyers.csv", "personnes.csv", "ressources.csv", "droits.csv", "evenements.csv"];
    let mut rng = Rng::new(20251122);
    let (mut loaded, mut refused) = (0, 0);
    for round in 0..400 {
        let dir = tempfile::tempdir().expect("tmp");
        for t in tables {
            std::fs::copy(sample("cas-limites").join(t), dir.path().join(t)).expect("copy");
        }
        // Mutate one table: overwrite, insert or delete a few bytes.
        let target = dir.path().join(tables[round % tables.len()]);
        let mut bytes = std::fs::read(&target).expect("read");
        for _ in 0..rng.range(1, 6) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.range(0, bytes.len() as i64 - 1) as usize;
            let byte = *rng.pick(&[b';', b'\n', b'"', b',', b'-', b'0', b'9', b'x', 0xC3, 0xFF, 0x00, b' ']);
            match rng.range(0, 2) {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        std::fs::write(&target, &bytes).expect("write");
        match extract::load(dir.path(), mois) {
            Ok(e) => {
                loaded += 1;
                for c in &e.comptes {
                    assert_eq!(c.lus, c.utilises + c.quarantaines, "round {round}: {c:?}");
                }
            }
            Err(ExtractError::Internal(msg)) => panic!("round {round}: internal error {msg}"),
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(loaded > 0 && loaded + refused == 400, "{loaded} loaded, {refused} refused");
}
