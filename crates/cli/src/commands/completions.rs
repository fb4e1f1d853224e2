//! `reperage completions`: print the shell completion script of reperage for bash, zsh, fish, elvish or
//! PowerShell.

use anyhow::Result;

use clap::CommandFactory;

use crate::Exit;
use crate::common::stdout;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> Result<Exit> {
    let CompletionsArgs { shell } = args;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::Cli::command(), "reperage", &mut script);
    stdout(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Success)
}
