# The node image around an already built binary, as Parity's binary_injected images are: no
# Rust in the image and no build inside it, so it is ready in seconds. scripts/docker.sh builds
# it from the release build (`scripts/docker.sh image`); by hand, from a folder (the build
# context) holding the binary and the chain specs:
#   cp "$HOME/.cache/thingschain/target/release/thingschain" ctx/ && cp -r chain-specs ctx/
#   docker build -f docker/injected.Dockerfile -t thingschain:local ctx
#   docker run --rm -p 127.0.0.1:9944:9944 thingschain:local --dev --rpc-external
# The binary links the system's OpenSSL (libssl3) and glibc: build it on Debian bookworm (or
# older) so the image's libraries match. docker/Dockerfile builds the same image from source.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# The base scripts/docker.sh makes (mmdebstrap) already has ca-certificates and libssl3, so
# this installs nothing and needs no network there; debian:bookworm-slim lacks both.
# The node's default base path, ~/.local/share/thingschain, is the /data volume, so the node and
# its subcommands (key insert, purge-chain, ...) agree on it without --base-path.
RUN if ! dpkg -s ca-certificates libssl3 >/dev/null 2>&1; then \
        apt-get update && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates libssl3 && \
        rm -rf /var/lib/apt/lists/*; \
    fi && \
    useradd -m -u 1000 -U -s /bin/sh -d /thingschain thingschain && \
    mkdir -p /data /thingschain/.local/share && \
    ln -s /data /thingschain/.local/share/thingschain && \
    chown -R thingschain:thingschain /data /thingschain

COPY thingschain /usr/local/bin/thingschain
COPY chain-specs /chain-specs
# Fails the build now rather than at `run` if a library is missing.
RUN /usr/local/bin/thingschain --version

# Last, so that a new binary rebuilds only the layers from COPY on.
ARG VERSION=unknown
LABEL org.opencontainers.image.title="thingschain" \
      org.opencontainers.image.description="ThingsChain node (binary injected)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/thingschain/thingschain"

USER thingschain
WORKDIR /thingschain
# p2p, RPC, Prometheus
EXPOSE 30333 9944 9615
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/thingschain"]
