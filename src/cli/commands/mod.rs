//! One module per subcommand.

pub mod completions;
pub mod follow;
pub mod follow_udp;
pub mod grade;
pub mod http;
pub mod ladder;
pub mod packets;
pub mod report;
pub mod show;
pub mod stats;
pub mod sticky;
pub mod streams;
pub mod tftp;
