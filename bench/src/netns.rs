//! Processes in network namespaces of their own, on one bridge: each has its own address and
//! its own firewall, so a test can cut one off from the others (`iptables` inside its
//! namespace) while the rest of the network goes on. Needs root (`ip netns`, veth pairs,
//! `iptables`); this machine's kernel has no `netem`, so delays go through
//! [`crate::latency`]'s relays.
//!
//! ```text
//!  this process (the host namespace): bridge tcb<id> 10.<a>.<b>.1/24, relays, WebChain
//!    ├─ veth ─ namespace tc<id>n0: eth0 10.<a>.<b>.10
//!    ├─ veth ─ namespace tc<id>n1: eth0 10.<a>.<b>.11
//!    └─ …
//! ```
//!
//! Everything made is removed when the [`Namespaces`] are dropped (a namespace's veth end
//! goes with it).

use std::{
	io,
	net::{IpAddr, Ipv4Addr},
	process::Command,
};

/// Namespaces on a bridge of their own.
pub struct Namespaces {
	id: String,
	subnet: [u8; 3],
	count: usize,
}

/// Runs `program` with `args`; an error naming the command if it fails.
fn run(program: &str, args: &[&str]) -> io::Result<()> {
	let output = Command::new(program).args(args).output()?;
	if output.status.success() {
		return Ok(());
	}
	Err(io::Error::other(format!(
		"`{program} {}` failed: {}",
		args.join(" "),
		String::from_utf8_lossy(&output.stderr).trim()
	)))
}

impl Namespaces {
	/// `count` namespaces, each with one address on a new bridge, named after this process
	/// (so tests in other processes do not collide).
	pub fn create(count: usize) -> io::Result<Namespaces> {
		let pid = std::process::id();
		let subnet = [10, 100 + (pid % 100) as u8, ((pid / 100) % 250) as u8];
		let namespaces = Namespaces { id: format!("{}", pid % 100_000), subnet, count };
		let bridge = namespaces.bridge();
		let host = format!("{}/24", namespaces.host());
		run("ip", &["link", "add", &bridge, "type", "bridge"])?;
		run("ip", &["addr", "add", &host, "dev", &bridge])?;
		run("ip", &["link", "set", &bridge, "up"])?;
		for index in 0..count {
			let (name, veth) = (namespaces.name(index), format!("tcv{}x{index}", namespaces.id));
			let address = format!("{}/24", namespaces.address(index));
			run("ip", &["netns", "add", &name])?;
			run(
				"ip",
				&["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &name],
			)?;
			run("ip", &["link", "set", &veth, "master", &bridge])?;
			run("ip", &["link", "set", &veth, "up"])?;
			run("ip", &["-n", &name, "addr", "add", &address, "dev", "eth0"])?;
			run("ip", &["-n", &name, "link", "set", "eth0", "up"])?;
			run("ip", &["-n", &name, "link", "set", "lo", "up"])?;
		}
		Ok(namespaces)
	}

	fn bridge(&self) -> String {
		format!("tcb{}", self.id)
	}

	/// Namespace `index`'s name.
	pub fn name(&self, index: usize) -> String {
		format!("tc{}n{index}", self.id)
	}

	/// The host's address on the bridge: where the namespaces reach this process.
	pub fn host(&self) -> IpAddr {
		let [a, b, c] = self.subnet;
		IpAddr::V4(Ipv4Addr::new(a, b, c, 1))
	}

	/// Namespace `index`'s address.
	pub fn address(&self, index: usize) -> IpAddr {
		let [a, b, c] = self.subnet;
		IpAddr::V4(Ipv4Addr::new(a, b, c, 10 + index as u8))
	}

	/// Cuts namespace `index` off from TCP `ports` of the host (outgoing) and from anyone
	/// reaching its own `listening` ports (incoming): its connections through those ports
	/// stall, as across a broken link, while the rest of its traffic goes on.
	pub fn partition(&self, index: usize, ports: &[u16], listening: &[u16]) -> io::Result<()> {
		let name = self.name(index);
		let host = self.host().to_string();
		for port in ports.iter().map(u16::to_string) {
			let out = ["-A", "OUTPUT", "-p", "tcp", "-d", &host, "--dport", &port, "-j", "DROP"];
			run("ip", &[&["netns", "exec", &name, "iptables"][..], &out].concat())?;
			let back = ["-A", "INPUT", "-p", "tcp", "-s", &host, "--sport", &port, "-j", "DROP"];
			run("ip", &[&["netns", "exec", &name, "iptables"][..], &back].concat())?;
		}
		for port in listening.iter().map(u16::to_string) {
			let inbound = ["-A", "INPUT", "-p", "tcp", "--dport", &port, "-j", "DROP"];
			run("ip", &[&["netns", "exec", &name, "iptables"][..], &inbound].concat())?;
		}
		Ok(())
	}

	/// Undoes [`Self::partition`] of namespace `index`.
	pub fn heal(&self, index: usize) -> io::Result<()> {
		run("ip", &["netns", "exec", &self.name(index), "iptables", "-F"])
	}
}

impl Drop for Namespaces {
	fn drop(&mut self) {
		for index in 0..self.count {
			let _ = run("ip", &["netns", "del", &self.name(index)]);
		}
		let _ = run("ip", &["link", "del", &self.bridge()]);
	}
}
