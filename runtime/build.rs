//! Builds the runtime's WASM blob (`WASM_BINARY`).
//!
//! The blob goes into the committed chain specs (`chain-specs/*-raw.json`, checked by the
//! node's tests), so it must be the same wherever it is built from: panic messages embed the
//! source path of the code they are in, which would make a checkout in another folder (CI's
//! clone), another cargo home or another toolchain location build another blob. Those
//! prefixes are remapped to fixed names; what remains is the toolchain's version
//! (`rust-toolchain.toml`) and the sources. (Flags are space-separated: the paths must not
//! contain spaces.)

fn main() {
	#[cfg(feature = "std")]
	{
		let mut builder = substrate_wasm_builder::WasmBuilder::init_with_defaults();
		for (prefix, name) in path_prefixes() {
			builder = builder
				.append_to_rust_flags(format!("--remap-path-prefix={}=/{name}", prefix.display()));
		}
		builder.build();
	}
}

/// The folders whose sources the blob is compiled from, and the fixed names they get in it.
#[cfg(feature = "std")]
fn path_prefixes() -> Vec<(std::path::PathBuf, &'static str)> {
	use std::{
		env,
		path::{Path, PathBuf},
		process::Command,
	};
	// As cargo names the workspace's sources to rustc.
	let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf);
	// The registry's sources: `CARGO_HOME`, by default `~/.cargo`.
	println!("cargo:rerun-if-env-changed=CARGO_HOME");
	let cargo_home = env::var_os("CARGO_HOME")
		.map(PathBuf::from)
		.or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
	// The standard library's sources (rustup's `rust-src`), which its generic code compiled
	// here points to: the toolchain's folder, as rustc reports it and with links resolved.
	let sysroot = Command::new("rustc")
		.args(["--print", "sysroot"])
		.output()
		.ok()
		.filter(|output| output.status.success())
		.map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
	let resolved_sysroot = sysroot.as_ref().and_then(|path| path.canonicalize().ok());

	let mut prefixes = Vec::new();
	for (path, name) in [
		(workspace, "thingschain"),
		(cargo_home, "cargo"),
		(sysroot, "rust"),
		(resolved_sysroot, "rust"),
	] {
		if let Some(path) = path.filter(|p| !prefixes.iter().any(|(q, _)| q == p)) {
			prefixes.push((path, name));
		}
	}
	prefixes
}
