//! Cross-protocol analyses: consumers of the engine's events and notes that build owned result
//! structs ([`sticky`], [`follow`], [`stats`], [`streams`]). Nothing here prints.

pub mod follow;
pub mod follow_udp;
pub mod icmp;
pub mod ladder;
pub mod lru;
pub mod order;
pub mod page;
pub mod spill;
pub mod stats;
pub mod sticky;
pub mod streams;
pub mod udp;
