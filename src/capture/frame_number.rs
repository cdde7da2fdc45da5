//! `FrameNumber`: the 1-based packet number shared by every layer (defined in `units`).

pub use crate::units::FrameNumber;
