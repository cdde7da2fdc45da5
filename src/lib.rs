//! pcaplab: a packet decoder and capture analyzer for people who learn, teach and debug network
//! programming.
//!
//! Bytes go up the stack as borrowed views: [`capture`] reads frames from pcap and pcapng,
//! [`decode`] turns each frame into OSI-labelled layers, [`flow`] follows TCP connections,
//! [`framing`] cuts streams into messages, [`app`] holds everything about each application
//! protocol, [`view`] turns a packet into text for the per-packet commands, and [`analysis`]
//! builds cross-protocol summaries. [`engine`] is the loop that feeds a command's consumers;
//! [`grade`] drives it for rubrics; [`report`] only formats results. The layers point one way,
//! in that order ([`units`] and [`Error`] at the bottom).
#![warn(missing_docs)]

pub mod analysis;
pub mod app;
pub mod capture;
pub mod decode;
pub mod engine;
mod error;
pub mod extract;
pub mod flow;
pub mod framing;
pub mod grade;
pub mod report;
pub mod units;
pub mod view;

pub use error::Error;
