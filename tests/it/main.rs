//! The one integration-test binary: runs the real `pcaplab` executable on captures and compares
//! what it prints with independent references (tshark output, truth files written by the
//! programs that generated the fixtures).

mod cli;
mod damaged;
mod filter;
mod grade;
mod http;
mod reference;
mod stats;
mod streams;
mod tftp;
mod tshark;
mod util;
