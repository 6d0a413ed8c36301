#!/usr/bin/env bash
# The node's container image, made around the release binary (docker/injected.Dockerfile):
#   scripts/docker.sh base          # Debian bookworm base image, made here (mmdebstrap, no registry)
#   scripts/docker.sh image         # base, then the node image $THINGSCHAIN_IMAGE (thingschain:local)
#   scripts/docker.sh run [ARGS]    # image, then ARGS (default: a --dev node), ports on 127.0.0.1
#   scripts/docker.sh network [--check]  # image, then compose.yml's 3 delegates and full node
#                                   # until Ctrl-C (--check: until blocks are finalized)
#   scripts/docker.sh test          # image, then a --dev node in it must serve RPC and make blocks
# The binary is $THINGSCHAIN_BIN, by default the release build (built here if missing). Podman
# (scripts/setup.sh installs it) runs everything; without podman, a running Docker engine does
# ($CONTAINER_ENGINE picks one), and its base image is debian:bookworm-slim ($BASE_IMAGE).
set -euo pipefail
source "$(dirname "$0")/env.sh"

say() { printf '[docker] %s\n' "$*"; }
usage() {
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
command=${1:-}
case "$command" in
base | image | run | network | test) shift ;;
*) usage ;;
esac

IMAGE=${THINGSCHAIN_IMAGE:-thingschain:local}
export THINGSCHAIN_BIN="${THINGSCHAIN_BIN:-$NODE_BIN}"

# --- the container engine ------------------------------------------------------------------
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
	if command -v podman >/dev/null; then
		engine=podman
	elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
		engine=docker
	else
		echo "neither podman nor a running Docker engine: scripts/setup.sh installs podman" >&2
		exit 1
	fi
fi
if [ "$engine" = podman ]; then
	# runc (scripts/setup.sh installs it, not crun); no default ulimits and cgroupfs, which work
	# in a VM or container without systemd and with a low hard open-files limit.
	if [ -z "${CONTAINERS_CONF:-}" ]; then
		CONTAINERS_CONF="$HOME/.cache/thingschain/podman/containers.conf"
		mkdir -p "$(dirname "$CONTAINERS_CONF")"
		cat >"$CONTAINERS_CONF" <<-'EOF'
			# Written by scripts/docker.sh.
			[containers]
			default_ulimits = []

			[engine]
			cgroup_manager = "cgroupfs"
		EOF
	fi
	export CONTAINERS_CONF
	ctr=(podman --runtime runc)
	# The base is made here; the build must not look for it (or anything) in a registry.
	BASE_IMAGE=${BASE_IMAGE:-localhost/thingschain-base:bookworm}
	LOCAL_BASE=localhost/thingschain-base:bookworm
	build_pull=(--pull=never)
	import_quiet=(--quiet)
	rm_time=(-t 5)
else
	ctr=("$engine")
	BASE_IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
	LOCAL_BASE=""
	build_pull=()
	import_quiet=()
	rm_time=()
fi
image_exists() { "${ctr[@]}" image inspect "$1" >/dev/null 2>&1; }
# Stops (SIGTERM first with podman) and removes containers, with their anonymous volumes.
remove() { "${ctr[@]}" rm -f -v "${rm_time[@]}" "$@" >/dev/null 2>&1 || true; }

# --- base: Debian bookworm with what the node needs: glibc, libgcc, OpenSSL, CA certificates ---
make_base() {
	if [ "$BASE_IMAGE" != "$LOCAL_BASE" ]; then
		say "base: $BASE_IMAGE (not made here; $engine pulls it if it must)"
		return
	fi
	if image_exists "$BASE_IMAGE"; then
		say "base: $BASE_IMAGE already there (${ctr[*]} rmi $BASE_IMAGE to make it afresh)"
		return
	fi
	command -v mmdebstrap >/dev/null || {
		echo "mmdebstrap is missing: scripts/setup.sh installs it" >&2
		exit 1
	}
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/thingschain-base.XXXXXX")
	# shellcheck disable=SC2064 # expand $dir now
	trap "rm -rf '$dir'" EXIT
	say "base: mmdebstrap minbase bookworm with ca-certificates and libssl3 (from the Debian mirrors)"
	mmdebstrap --quiet --variant=minbase --include=ca-certificates,libssl3 \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
		bookworm "$dir/base.tar"
	say "base: importing it as $BASE_IMAGE"
	"${ctr[@]}" import "${import_quiet[@]}" --change 'CMD ["/bin/bash"]' "$dir/base.tar" "$BASE_IMAGE" >/dev/null
	rm -rf "$dir"
	trap - EXIT
}

# --- image: the release binary and the chain specs on the base -------------------------------
make_image() {
	make_base
	if [ ! -x "$THINGSCHAIN_BIN" ]; then build_node; fi
	local ctx version old_id
	ctx=$(mktemp -d "${TMPDIR:-/tmp}/thingschain-image.XXXXXX")
	# shellcheck disable=SC2064 # expand $ctx now
	trap "rm -rf '$ctx'" EXIT
	# A build context of its own: the binary and the specs, not the checkout or the target dir.
	cp "$THINGSCHAIN_BIN" "$ctx/thingschain"
	cp -r "$REPO_ROOT/chain-specs" "$ctx/chain-specs"
	version=$("$ctx/thingschain" --version | awk '{print $2}')
	say "image: $IMAGE from $THINGSCHAIN_BIN ($version) on $BASE_IMAGE"
	old_id=$("${ctr[@]}" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
	"${ctr[@]}" build --quiet "${build_pull[@]}" -f "$REPO_ROOT/docker/injected.Dockerfile" \
		--build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg VERSION="$version" -t "$IMAGE" "$ctx" >/dev/null
	rm -rf "$ctx"
	trap - EXIT
	# The image the tag named before (an older binary) goes, unless a container still uses it.
	if [ -n "$old_id" ] && [ "$old_id" != "$("${ctr[@]}" image inspect -f '{{.Id}}' "$IMAGE")" ]; then
		"${ctr[@]}" rmi "$old_id" >/dev/null 2>&1 || true
	fi
}

rpc() { # rpc PORT METHOD: the JSON answer, or fails
	curl -sf --max-time 2 -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[]}" "http://127.0.0.1:$1"
}
best_number() { # best_number PORT: the best block's number
	local hex
	hex=$(rpc "$1" chain_getHeader | grep -o '"number":"0x[0-9a-f]*"' | cut -d'"' -f4)
	echo $((hex))
}
finalized_number() { # finalized_number PORT
	local hash hex
	hash=$(rpc "$1" chain_getFinalizedHead | grep -o '"result":"0x[0-9a-f]*"' | cut -d'"' -f4)
	hex=$(curl -sf --max-time 2 -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"chain_getHeader\",\"params\":[\"$hash\"]}" \
		"http://127.0.0.1:$1" | grep -o '"number":"0x[0-9a-f]*"' | cut -d'"' -f4)
	echo $((hex))
}
# wait_for SECONDS CONTAINER WHAT COMMAND...: polls COMMAND every second until it succeeds;
# fails after SECONDS or as soon as CONTAINER is no longer running.
wait_for() {
	local seconds=$1 container=$2 what=$3 deadline
	shift 3
	deadline=$(($(date +%s) + seconds))
	until "$@" >/dev/null 2>&1; do
		if [ "$("${ctr[@]}" inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" != true ]; then
			echo "[docker] $container stopped while waiting for $what" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "[docker] no $what after $seconds s" >&2
			return 1
		fi
		sleep 1
	done
}

case "$command" in
base) make_base ;;

image) make_image ;;

run)
	make_image
	if [ $# -eq 0 ]; then set -- --dev --rpc-external --rpc-cors all --prometheus-external; fi
	tty=()
	if [ -t 0 ] && [ -t 1 ]; then tty=(-it); fi
	name=${THINGSCHAIN_CONTAINER:-thingschain}
	say "run: $IMAGE $* as container $name (RPC 127.0.0.1:${RPC_PORT:-9944}, Prometheus 127.0.0.1:${PROMETHEUS_PORT:-9615}, p2p 127.0.0.1:${P2P_PORT:-30333})"
	exec "${ctr[@]}" run --rm "${tty[@]}" --name "$name" \
		-p "127.0.0.1:${RPC_PORT:-9944}:9944" -p "127.0.0.1:${PROMETHEUS_PORT:-9615}:9615" \
		-p "127.0.0.1:${P2P_PORT:-30333}:30333" "$IMAGE" "$@"
	;;

network)
	# docker/compose.yml's four nodes without compose: plain containers on a network of their
	# own. The full node answers RPC on 127.0.0.1:${RPC_PORT:-9944}; Ctrl-C removes them all (their
	# chains too). The others reach Alice as `alice` through /etc/hosts entries, as compose's DNS
	# does, on fixed addresses ($NETWORK_SUBNET, default 10.89.44.0/24).
	make_image
	net=thingschain-local
	subnet=${NETWORK_SUBNET:-10.89.44.0/24}
	prefix=${subnet%.*}
	nodes=(alice bob charlie full)
	hosts=()
	for i in "${!nodes[@]}"; do hosts+=(--add-host "${nodes[$i]}:$prefix.$((i + 10))"); done
	boot=/dns/alice/tcp/30333/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp
	cleanup() {
		say "network: removing its containers and network"
		for n in "${nodes[@]}"; do remove "thingschain-$n"; done
		"${ctr[@]}" network rm "$net" >/dev/null 2>&1 || true
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	if ! "${ctr[@]}" network inspect "$net" >/dev/null 2>&1; then
		"${ctr[@]}" network create --subnet "$subnet" "$net" >/dev/null
	fi
	for i in "${!nodes[@]}"; do
		n=${nodes[$i]}
		args=(--chain local --prometheus-external)
		case $n in
		full) args+=(--name full --bootnodes "$boot" --rpc-external --rpc-cors all) ;;
		*) args+=("--$n" --node-key "$(printf '%064x' $((i + 1)))") ;;
		esac
		if [ "$n" = bob ] || [ "$n" = charlie ]; then args+=(--bootnodes "$boot"); fi
		publish=()
		if [ "$n" = full ]; then publish=(-p "127.0.0.1:${RPC_PORT:-9944}:9944"); fi
		say "network: $n: ${args[*]}"
		"${ctr[@]}" run -d --name "thingschain-$n" --network "$net" --ip "$prefix.$((i + 10))" \
			"${hosts[@]}" "${publish[@]}" "$IMAGE" "${args[@]}" >/dev/null
	done
	port=${RPC_PORT:-9944}
	fail() {
		for n in "${nodes[@]}"; do
			echo "[docker] network: $n's last lines:" >&2
			"${ctr[@]}" logs --tail 15 "thingschain-$n" >&2 || true
		done
		exit 1
	}
	wait_for 60 thingschain-full "RPC from the full node" rpc "$port" system_health || fail
	finalized() { [ "$(finalized_number "$port")" -gt 0 ]; }
	wait_for 120 thingschain-full "finalized block" finalized || fail
	say "network: up, blocks are finalized (#$(finalized_number "$port")); RPC ws://127.0.0.1:$port; Ctrl-C stops it"
	say "network: logs: ${ctr[*]} logs -f thingschain-<alice|bob|charlie|full>"
	if [ "${1:-}" = --check ]; then exit 0; fi
	# In the background, so that a signal to this script stops the wait (and the network) too.
	"${ctr[@]}" wait thingschain-full >/dev/null &
	wait $!
	;;

test)
	# A --dev node in the image: it must answer RPC from the host and produce blocks, as uid 1000
	# with its chain in the /data volume. The container goes, whatever happens.
	make_image
	name=thingschain-test-$$
	cleanup() { remove "$name"; }
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	fail() {
		echo "[docker] test failed: $*; the node's last lines:" >&2
		"${ctr[@]}" logs --tail 40 "$name" >&2 || true
		exit 1
	}
	# The host port is a free one the engine picks.
	"${ctr[@]}" run -d --name "$name" -p 127.0.0.1::9944 "$IMAGE" \
		--dev --base-path /data --rpc-external >/dev/null
	port=$("${ctr[@]}" port "$name" 9944/tcp | head -n1 | sed 's/.*://')
	say "test: container $name, RPC on 127.0.0.1:$port"
	wait_for 60 "$name" "RPC answer (system_health)" rpc "$port" system_health || fail "no RPC"
	say "test: system_health $(rpc "$port" system_health | grep -o '"result":{[^}]*}')"
	first=$(best_number "$port")
	grown() { [ "$(best_number "$port")" -gt "$first" ]; }
	wait_for 30 "$name" "new block after #$first" grown || fail "no blocks"
	say "test: blocks are produced (#$first, then #$(best_number "$port"))"
	uid=$("${ctr[@]}" exec "$name" id -u)
	[ "$uid" = 1000 ] || fail "the node runs as uid $uid, not 1000"
	"${ctr[@]}" exec "$name" test -d /data/chains/thingschain_dev || fail "no chain in /data"
	say "test: the node runs as uid 1000 with its chain in /data"
	say "test: passed"
	;;
esac
