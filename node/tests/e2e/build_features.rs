//! `cargo build -p thingschain-node` (what `scripts/dev.sh` runs) resolves the same features as
//! `cargo test --workspace` (what `scripts/test.sh` runs) for every crate in the node, so either
//! build reuses the other. Cargo unifies features over the packages it builds: the device SDK
//! and the tests' clients turn on features in crates the node shares with them, and each such
//! difference recompiles that crate and all that depend on it (once, a whole tokio and
//! networking stack: nine minutes). `node/Cargo.toml` names those features; this test finds any
//! new one without building anything.

use std::{
	collections::{BTreeMap, BTreeSet},
	path::Path,
	process::Command,
};

/// Each package of a `cargo tree` (as `name version`) and the feature sets it is built with
/// (a crate built for the host and for the target may be built twice, with different features).
fn resolved_features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
	let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
	let output = Command::new(env!("CARGO"))
		.current_dir(workspace)
		.args(["tree", "--locked", "--offline", "--prefix", "none", "--format", "{p}|{f}"])
		.args(args)
		.output()
		.expect("cargo tree runs");
	assert!(output.status.success(), "cargo tree: {}", String::from_utf8_lossy(&output.stderr));
	let mut packages = BTreeMap::<String, BTreeSet<String>>::new();
	for line in String::from_utf8(output.stdout).unwrap().lines() {
		let Some((package, features)) = line.split_once('|') else { continue };
		// `name vX.Y.Z (path)` for path packages; the path is the same in both trees.
		let package = package.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
		let features = features.trim_end_matches(" (*)").to_string();
		packages.entry(package).or_default().insert(features);
	}
	packages
}

#[test]
fn the_node_build_resolves_the_features_of_the_test_build() {
	let node = resolved_features(&["--package", "thingschain-node", "--edges", "normal,build"]);
	let workspace = resolved_features(&["--workspace"]);
	assert!(node.len() > 500, "the node's tree was read: {} packages", node.len());

	let differing: Vec<String> = node
		.iter()
		.filter(|(package, features)| {
			!workspace.get(*package).is_some_and(|w| w.is_superset(features))
		})
		.map(|(package, features)| {
			format!("{package}: node {features:?}, workspace {:?}", workspace.get(package))
		})
		.collect();
	assert!(
		differing.is_empty(),
		"name these features in node/Cargo.toml so `cargo build -p thingschain-node` reuses the \
		 test build:\n{}",
		differing.join("\n")
	);
}
