//! One module per subcommand.

pub mod packets;
pub mod show;
pub mod tftp;
