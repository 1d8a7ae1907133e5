//! The data-identifier catalogue (work in progress).
