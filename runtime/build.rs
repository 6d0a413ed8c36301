fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
		// The rehearsal runtime: the same code with the `fast-runtime` periods and the
		// try-runtime checks, which the upgrade tests run a local network on and upgrade to
		// (`thingschain_runtime::rehearsal`). Both builds share one WASM target dir, so only
		// the crates the two features change are compiled twice.
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.enable_feature("fast-runtime")
			.enable_feature("try-runtime")
			.set_file_name("rehearsal_wasm_binary.rs")
			.build();
	}
}
