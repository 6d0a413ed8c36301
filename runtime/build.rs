//! Builds the runtime's WASM blob (`substrate-wasm-builder`).

fn main() {
	#[cfg(feature = "std")]
	{
		let mut builder = substrate_wasm_builder::WasmBuilder::init_with_defaults();
		for flag in reproducible::remap_path_flags() {
			builder = builder.append_to_rust_flags(flag);
		}
		builder.build();
	}
}

/// The same sources build the same blob wherever they are checked out, so the committed raw
/// chain specs can be checked byte for byte against the built runtime (a panic message names
/// its source file, and the paths of this checkout, the crate registry and the target dir
/// would otherwise be in the blob).
#[cfg(feature = "std")]
mod reproducible {
	use std::{env, path::PathBuf};

	/// `--remap-path-prefix` flags for the WASM build: the home directory (the default place
	/// of the registry and of our target dir), then the registry and the workspace wherever
	/// they are (rustc applies the last prefix that matches).
	pub fn remap_path_flags() -> Vec<String> {
		let home = env::var_os("HOME").map(PathBuf::from);
		let cargo_home = env::var_os("CARGO_HOME")
			.map(PathBuf::from)
			.or_else(|| home.as_ref().map(|home| home.join(".cargo")));
		let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
			.parent()
			.expect("the runtime is a workspace member")
			.to_path_buf();
		[(home, "/home"), (cargo_home, "/cargo"), (Some(workspace), "/thingschain")]
			.into_iter()
			.filter_map(|(path, to)| Some(format!("--remap-path-prefix={}={to}", path?.display())))
			.collect()
	}
}
