//! Per-packet presentation for `packets` and `show`: what a user asks to see of each packet.
//! Here, the display filter (`-Y`) that picks the packets; it reads decoded packets and the
//! engine's annotations and prints nothing.

pub mod filter;
