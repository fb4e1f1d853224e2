//! The manifest's SHA-256 of each input file is the hash of the file's bytes (the CSV
//! tables are hashed while they are parsed; a BOM and every byte count).

use std::path::PathBuf;

use reperage_batch::extract;
use reperage_rules::Mois;
use sha2::{Digest, Sha256};

#[test]
fn input_hashes_are_the_hashes_of_the_file_bytes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-data/cas-limites");
    let e = extract::load(&dir, Mois::parse("2025-03").expect("month")).expect("loads");
    assert_eq!(e.fichiers.len(), 5);
    for f in &e.fichiers {
        let bytes = std::fs::read(&f.path).expect("read");
        let expected: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f.sha256, expected, "{}", f.path);
    }
    let foyers = e.fichiers.iter().find(|f| f.table == "foyers").expect("foyers");
    assert!(std::fs::read(&foyers.path).expect("read").starts_with(&[0xEF, 0xBB, 0xBF]), "the BOM case is covered");
}
