//! Async meter clients and a meter simulator (work in progress).
