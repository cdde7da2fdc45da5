//! Analyses: events from the engine → owned result structs. Nothing here prints.

pub mod grade;
pub mod http;
pub mod packets;
pub mod stats;
pub mod sticky;
pub mod streams;
pub mod tftp;
