//! Packed BCD codecs (work in progress).
