//! `pcaplab http` (being written).

use anyhow::Result;
use clap::Args;
use pcaplab::report::Terminal;

use crate::Outcome;
use crate::cli::args::InputArgs;

/// `pcaplab http`.
#[derive(Debug, Args)]
pub struct HttpArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

/// Runs the command.
pub fn run(_args: HttpArgs, _term: Terminal) -> Result<Outcome> {
    anyhow::bail!("not written yet")
}
