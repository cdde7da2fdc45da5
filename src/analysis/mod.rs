//! Analyses: events from the engine → owned result structs. Nothing here prints.

pub mod packets;
