//! No code: see `Cargo.toml`. The pallets' tests depend on this crate so that their
//! dependencies are built with the features the whole workspace's build gives them.
#![no_std]
