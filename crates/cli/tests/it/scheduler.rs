//! A partitioned run exactly as the deploy/ manifests run it: N concurrent processes of
//! `deploy/partition.sh`, each told its partition by the scheduler's variable
//! (Kubernetes' `JOB_COMPLETION_INDEX`, Slurm's `SLURM_ARRAY_TASK_ID`), then
//! `deploy/fusion.sh`; the merge must be the bytes of one whole run.

use std::path::Path;
use std::process::Command;

use super::{files_of, generate, read_manifest, reperage, root, screen, spoil};

const N: usize = 4;

/// Runs the N partitions concurrently through deploy/partition.sh with the scheduler's
/// variable `index_var`, then deploy/fusion.sh; returns the merge's folder.
fn scheduled_run(extract: &Path, precedent: &Path, sortie: &Path, index_var: &str) -> std::path::PathBuf {
    let env = |cmd: &mut Command| {
        cmd.env("REPERAGE_EXTRAIT", extract)
            .env("REPERAGE_PRECEDENT", precedent)
            .env("REPERAGE_MOIS", "2025-03")
            .env("REPERAGE_SORTIE", sortie)
            .env("REPERAGE_PARTITIONS", N.to_string())
            .env("REPERAGE_OPTIONS", "--format both")
            .env("REPERAGE_BIN", env!("CARGO_BIN_EXE_reperage"))
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID");
    };
    let children: Vec<_> = (0..N)
        .map(|k| {
            let mut cmd = Command::new("sh");
            cmd.arg(root().join("deploy/partition.sh"));
            env(&mut cmd);
            cmd.env(index_var, k.to_string());
            cmd.stderr(std::process::Stdio::piped()).spawn().expect("sh runs")
        })
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        let run = child.wait_with_output().expect("partition");
        assert!(run.status.success(), "partition {k}: {}", String::from_utf8_lossy(&run.stderr));
    }
    let mut cmd = Command::new("sh");
    cmd.arg(root().join("deploy/fusion.sh"));
    env(&mut cmd);
    let run = cmd.output().expect("sh runs");
    assert!(run.status.success(), "merge: {}", String::from_utf8_lossy(&run.stderr));
    sortie.join("resultat")
}

#[test]
fn partitions_run_as_the_schedulers_run_them_merge_into_the_bytes_of_one_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = tmp.path().join("extrait");
    let precedent = tmp.path().join("precedent");
    generate(&extract, "1200", &["--precedent", precedent.to_str().expect("utf-8")]);
    spoil(&extract);
    let single = tmp.path().join("seul");
    let run = screen(
        &extract,
        "2025-03",
        &single,
        &["--format", "both", "--precedent", precedent.to_str().expect("utf-8")],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let reference = files_of(&single);
    let refused = |name: &str| String::from_utf8_lossy(&reference[name]).lines().count() - 1;
    assert!(refused("quarantaine/personnes.csv") >= 2 && refused("quarantaine/ressources.csv") >= 1);
    assert!(refused("quarantaine/droits.csv") >= 1 && refused("quarantaine/foyers_exclus.csv") >= 2);
    assert!(reference.keys().any(|k| k.starts_with("campagnes/")), "the run lists contacts");
    let mut reference_manifest = read_manifest(&single);
    reference_manifest.as_object_mut().expect("object").remove("partitions");

    for index_var in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"] {
        let sortie = tmp.path().join(index_var);
        let merged = scheduled_run(&extract, &precedent, &sortie, index_var);
        // Each partition evaluated its share, not the whole extract.
        for k in 0..N {
            let part = read_manifest(&sortie.join(format!("parties/{k}")));
            assert_eq!(part["partition"], serde_json::json!({ "indice": k, "nombre": N }));
            let evalues = part["foyers"]["evalues"].as_u64().expect("count");
            assert!(evalues > 100 && evalues < 500, "partition {k}: {evalues} foyers");
        }
        let got = files_of(&merged);
        assert_eq!(got.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "{index_var}: file list");
        for (name, bytes) in &reference {
            if name != "manifest.json" {
                assert!(&got[name] == bytes, "{index_var}: {name} differs from the single run's");
            }
        }
        let mut manifest = read_manifest(&merged);
        let fusion = manifest.as_object_mut().expect("object").remove("fusion").expect("the partitions are listed");
        assert_eq!(fusion["partitions"].as_array().map(Vec::len), Some(N));
        manifest.as_object_mut().expect("object").remove("partitions");
        assert_eq!(manifest, reference_manifest, "{index_var}: manifest");
    }
}

/// The deploy/ manifests run the script the test runs, with the variables it sets, and
/// agree on N.
#[test]
fn the_kubernetes_and_slurm_manifests_run_the_tested_script() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect(p);
    let job = read("deploy/kubernetes/reperage-partitions.yaml");
    let fusion_job = read("deploy/kubernetes/reperage-fusion.yaml");
    let array = read("deploy/slurm/reperage-partitions.sbatch");
    let container = read("deploy/Containerfile");
    let script = read("deploy/partition.sh");
    assert!(job.contains("completionMode: Indexed") && job.contains("/usr/local/bin/reperage-partition"));
    assert!(container.contains("COPY deploy/partition.sh /usr/local/bin/reperage-partition"));
    assert!(container.contains("COPY deploy/fusion.sh /usr/local/bin/reperage-fusion"));
    assert!(fusion_job.contains("/usr/local/bin/reperage-fusion"));
    assert!(
        array.contains("partition.sh")
            && script.contains("SLURM_ARRAY_TASK_ID")
            && script.contains("JOB_COMPLETION_INDEX")
    );
    for var in ["REPERAGE_EXTRAIT", "REPERAGE_MOIS", "REPERAGE_SORTIE", "REPERAGE_PARTITIONS"] {
        assert!(job.contains(var) && script.contains(var), "{var}");
    }
    let value = |text: &str, key: &str| -> String {
        let at = text.find(key).unwrap_or_else(|| panic!("{key}"));
        text[at + key.len()..].chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect()
    };
    let n = value(&job, "completions:");
    assert_eq!(value(&job, "REPERAGE_PARTITIONS, value: \""), n);
    assert_eq!(value(&fusion_job, "REPERAGE_PARTITIONS, value: \""), n);
    let last: usize = value(&array, "#SBATCH --array=0-").parse().expect("array");
    assert_eq!(value(&array, "REPERAGE_PARTITIONS:-"), (last + 1).to_string());
}

#[test]
fn fusionner_refuses_missing_duplicated_foreign_and_altered_partitions() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = tmp.path().join("extrait");
    generate(&extract, "300", &[]);
    let part = |k: usize, n: usize, mois: &str| {
        let out = tmp.path().join(format!("p{k}-{n}-{mois}"));
        let run = screen(&extract, mois, &out, &["--partition", &format!("{k}/{n}")], &[]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        out.to_str().expect("utf-8").to_string()
    };
    let (p0, p1, p2) = (part(0, 3, "2025-03"), part(1, 3, "2025-03"), part(2, 3, "2025-03"));
    let merge = |parts: &[&str]| {
        let out = tmp.path().join("fusion");
        let mut args = vec!["fusionner", "--out", out.to_str().expect("utf-8")];
        args.extend_from_slice(parts);
        let run = reperage(&args, &[]);
        (run.status.code(), String::from_utf8_lossy(&run.stderr).to_string())
    };
    let (code, err) = merge(&[&p0, &p2]);
    assert_eq!(code, Some(1));
    assert!(err.contains("partition(s) 1 of 3 missing"), "{err}");
    let (code, err) = merge(&[&p0, &p1, &p1, &p2]);
    assert_eq!(code, Some(1));
    assert!(err.contains("partition 1 of 3 is given twice"), "{err}");
    let other_month = part(1, 3, "2025-04");
    let (code, err) = merge(&[&p0, &other_month, &p2]);
    assert_eq!(code, Some(1));
    assert!(err.contains("mois differs"), "{err}");
    let other_cut = part(1, 4, "2025-03");
    let (_, err) = merge(&[&p0, &other_cut, &p2]);
    assert!(err.contains("partition.nombre differs"), "{err}");
    let whole = tmp.path().join("seul");
    assert!(screen(&extract, "2025-03", &whole, &[], &[]).status.success());
    let (_, err) = merge(&[&p0, whole.to_str().expect("utf-8"), &p2]);
    assert!(err.contains("records no partition"), "{err}");
    // A partition's output changed after its run.
    let eligibilites = Path::new(&p1).join("eligibilites.csv");
    let mut bytes = std::fs::read(&eligibilites).expect("read");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&eligibilites, bytes).expect("write");
    let (code, err) = merge(&[&p0, &p1, &p2]);
    assert_eq!(code, Some(1));
    assert!(err.contains("eligibilites.csv differs from what its manifest records"), "{err}");
    assert!(!tmp.path().join("fusion").exists(), "nothing is written when the merge is refused");
}
