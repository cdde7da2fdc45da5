//! pcaplab: a packet decoder and capture analyzer for people who learn, teach and debug network
//! programming.
//!
//! Bytes go up the stack as borrowed views: [`capture`] reads frames from pcap and pcapng,
//! [`decode`] turns each frame into OSI-labelled layers, and the stateful stages driven by
//! [`engine`] follow conversations. Findings come back as owned summaries in [`analysis`], and
//! [`report`] only formats them.
#![warn(missing_docs)]

pub mod analysis;
pub mod app;
pub mod capture;
pub mod decode;
pub mod engine;
mod error;
pub mod flow;
pub mod framing;
pub mod report;
pub mod view;

pub use error::Error;
