//! The command-line interface: clap arguments and one module per subcommand.

pub mod args;
pub mod commands;
pub mod input;
