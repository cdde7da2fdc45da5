//! `pcaplab completions SHELL` and `pcaplab man`: a shell completion script (clap_complete) and
//! the manual page (clap_mangen), generated from the same command definition as the parser, so
//! they never disagree with it.

use std::io::{self, Write};

use anyhow::{Context as _, Result};
use clap::Args;
use clap_complete::Shell;

use crate::cli::Outcome;

/// `pcaplab completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `pcaplab man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The page of one subcommand (`pcaplab-packets(1)`) instead of the main page.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Writes the completion script to standard output: generated into memory first (clap_complete
/// panics on a write error), then written like every other output, so a closed pipe ends the
/// run quietly and another write error is a sentence.
///
/// # Errors
/// A write error.
pub fn run_completions(args: &CompletionsArgs) -> Result<Outcome> {
    let mut cmd = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "pcaplab", &mut script);
    write_stdout(&script)?;
    Ok(Outcome::Ok)
}

/// Writes `bytes` to standard output and flushes it.
///
/// # Errors
/// `writing to standard output: …` (a closed pipe is recognised by the caller).
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("writing to standard output")
}

/// Writes the manual page (roff) to standard output.
///
/// # Errors
/// An unknown subcommand, or a write error.
pub fn run_man(args: &ManArgs) -> Result<Outcome> {
    let cmd = crate::cli::command();
    let page = match &args.command {
        None => cmd,
        Some(name) => {
            let Some(sub) = cmd.find_subcommand(name) else {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                anyhow::bail!(
                    "man: no command {}: the commands are {}",
                    pcaplab::view::text::Escaped(name),
                    names.join(", ")
                );
            };
            let full = format!("pcaplab-{}", sub.get_name());
            sub.clone()
                .name(full.clone())
                .bin_name(full)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    write_stdout(&roff)?;
    Ok(Outcome::Ok)
}
