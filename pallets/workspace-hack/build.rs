//! Cargo resolves `[build-dependencies]` only for a package with a build script; this one
//! exists so that the build dependencies in `Cargo.toml` take part in feature resolution.
fn main() {}
