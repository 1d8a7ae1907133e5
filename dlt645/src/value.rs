//! Exact decoding of data-item values (work in progress).
