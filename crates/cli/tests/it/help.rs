//! Every command says what each of its options does, and shows how it is run.

use crate::reperage;

/// The commands `reperage --help` lists.
fn commands() -> Vec<String> {
    let run = reperage(&["--help"], &[]);
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    let section = text.split("Commands:\n").nth(1).expect("a Commands section");
    section
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// In `reperage <command> -h`, every argument and option has its line of help (clap
/// writes the flag, two spaces or more, then the help; a flag alone has none), and the
/// help ends with examples that run the command.
#[test]
fn every_option_of_every_command_has_help_and_each_command_examples() {
    let commands = commands();
    assert!(commands.len() >= 13 && commands.iter().any(|c| c == "completions"), "{commands:?}");
    let mut undocumented = Vec::new();
    for command in &commands {
        let run = reperage(&[command, "-h"], &[]);
        assert!(run.status.success(), "{command} -h");
        let text = String::from_utf8_lossy(&run.stdout).to_string();
        undocumented.extend(without_help(&text).into_iter().map(|e| format!("{command}: {e}")));
        let examples = text.split_once("Example").map(|(_, e)| e).unwrap_or_default();
        assert!(examples.contains(&format!("reperage {command}")), "{command} -h shows no example:\n{text}");
    }
    assert!(undocumented.is_empty(), "options without help:\n{}", undocumented.join("\n"));
}

/// `reperage completions bash` prints a script that completes the commands and options.
#[test]
fn completions_are_generated_for_the_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let run = reperage(&["completions", shell], &[]);
        assert!(run.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&run.stdout);
        // bash and zsh spell the options `--regle`, fish `-l regle`.
        assert!(script.contains("screen") && script.contains("extract") && script.contains("regle"), "{shell}");
    }
    let run = reperage(&["completions", "cmd"], &[]);
    assert_eq!(run.status.code(), Some(1), "an unknown shell is a usage error");
}

/// The arguments and options of a `-h` text that have no help: clap writes the flag,
/// then its help on the same line after two spaces or more, or (when some help is long)
/// on the next line, indented further.
fn without_help(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut section = "";
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with(' ') {
            section = line;
            continue;
        }
        let entry = line.trim_start();
        let is_entry =
            (section == "Options:" && entry.starts_with('-')) || (section == "Arguments:" && entry.starts_with('<'));
        if !is_entry {
            continue;
        }
        let same_line = entry.split_once("  ").is_some_and(|(_, help)| !help.trim().is_empty());
        let indent = line.len() - entry.len();
        let next_line = lines.get(i + 1).is_some_and(|next| {
            let text = next.trim_start();
            next.len() - text.len() > indent && !text.is_empty() && !text.starts_with('-')
        });
        if !same_line && !next_line {
            out.push(entry.to_string());
        }
    }
    out
}

/// The reading above finds an option without help in both of clap's layouts.
#[test]
fn an_option_without_help_is_found() {
    let same_line = "Usage: x\n\nArguments:\n  <PARTS>...  The parts\n\nOptions:\n      --out <OUT>  The folder\n      --rules <RULES>\n  -h, --help       Print help\n";
    assert_eq!(without_help(same_line), ["--rules <RULES>"]);
    let next_line = "Options:\n      --extract <EXTRACT>\n          The extract\n      --mois <MOIS>\n      --foyer <FOYER>\n          The foyer\n  -h, --help\n          Print help\n";
    assert_eq!(without_help(next_line), ["--mois <MOIS>"]);
    let positional = "Arguments:\n  <SHELL>\n\nOptions:\n  -h, --help  Print help\n";
    assert_eq!(without_help(positional), ["<SHELL>"]);
}
