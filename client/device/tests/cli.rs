//! The CLI without a chain: keys, the offline queue, and clear errors when the node cannot be
//! reached (the readings stay queued). `node/tests/e2e/device_cli.rs` runs it against a real node.

use std::{
	net::TcpListener,
	path::Path,
	process::{Command, Output},
};

fn cli(args: &[&str]) -> Output {
	Command::new(env!("CARGO_BIN_EXE_thingschain-device"))
		.args(args)
		.output()
		.expect("the CLI runs")
}

fn stdout(output: &Output) -> String {
	String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
	String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path(p: &Path) -> &str {
	p.to_str().unwrap()
}

/// A URL nothing listens on.
fn dead_url() -> String {
	let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
	format!("ws://127.0.0.1:{port}")
}

#[test]
fn keygen_writes_a_new_key_file_and_never_overwrites_one() {
	let dir = tempfile::tempdir().unwrap();
	let keys = dir.path().join("device.json");
	let made = cli(&["keygen", "--out", path(&keys)]);
	assert!(made.status.success(), "{}", stderr(&made));
	let shown = cli(&["show", "--keys", path(&keys)]);
	assert_eq!(stdout(&shown), stdout(&made));
	assert!(stdout(&shown).contains("device account: 5"), "{}", stdout(&shown));
	assert!(stdout(&shown).contains("reader key: 0x"), "{}", stdout(&shown));
	let again = cli(&["keygen", "--out", path(&keys)]);
	assert!(!again.status.success());
	assert_eq!(stdout(&cli(&["show", "--keys", path(&keys)])), stdout(&made));
}

#[test]
fn an_offline_device_keeps_its_readings_queued() {
	let dir = tempfile::tempdir().unwrap();
	let (keys, queue) = (dir.path().join("device.json"), dir.path().join("queue"));
	assert!(cli(&["keygen", "--out", path(&keys)]).status.success());
	for reading in ["21.5 C", "21.6 C"] {
		let queued = cli(&["enqueue", "--queue", path(&queue), "--data", reading]);
		assert!(queued.status.success(), "{}", stderr(&queued));
	}
	let url = dead_url();
	let flush = cli(&[
		"flush",
		"--url",
		&url,
		"--keys",
		path(&keys),
		"--queue",
		path(&queue),
		"--attempts",
		"2",
		"--retry-delay",
		"0",
	]);
	assert!(!flush.status.success());
	let errors = stderr(&flush);
	assert!(errors.contains("attempt 1: the node cannot be reached"), "{errors}");
	assert!(errors.contains("attempt 2: the node cannot be reached"), "{errors}");
	assert!(errors.contains("2 readings kept in the queue"), "{errors}");
	let files = std::fs::read_dir(&queue).unwrap().count();
	assert_eq!(files, 2);
}

#[test]
fn bad_input_gets_a_clear_error() {
	let dir = tempfile::tempdir().unwrap();
	let missing = cli(&["show", "--keys", path(&dir.path().join("none.json"))]);
	assert!(!missing.status.success());
	assert!(stderr(&missing).starts_with("error: "), "{}", stderr(&missing));
	let url = dead_url();
	let bad_reader =
		cli(&["grant", "--url", &url, "--owner", "//Bob", "--device", "0", "--reader", "0x12"]);
	assert!(!bad_reader.status.success());
	assert!(stderr(&bad_reader).contains("bad key: expected 32 bytes"), "{}", stderr(&bad_reader));
	let bad_owner = cli(&["register", "--url", &url, "--owner", "not a uri", "--keys", "x"]);
	assert!(stderr(&bad_owner).contains("bad key"), "{}", stderr(&bad_owner));
}
