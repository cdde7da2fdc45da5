//! `FrameNumber`: the 1-based packet number shared by every layer.

/// 1-based frame number, the same as Wireshark's `frame.number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct FrameNumber(pub u64);

impl std::fmt::Display for FrameNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
