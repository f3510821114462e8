# The dockproof container image: one static binary in an empty filesystem, nothing else (no
# shell, no package manager, no ssh client). The build needs no network: the binary is built on
# the host first and the build context carries it (.dockerignore sends nothing else).
#
#   RUSTFLAGS='-C target-feature=+crt-static' \
#     cargo build --release --locked --target x86_64-unknown-linux-gnu
#   strip target/x86_64-unknown-linux-gnu/release/dockproof
#   docker build -t dockproof:0.1.0 .
#
# How to run it (socket and host root read-only, output directory writable): README.md,
# "Container image"; Kubernetes manifests: deploy/kubernetes/.
FROM scratch
COPY target/x86_64-unknown-linux-gnu/release/dockproof /usr/local/bin/dockproof
# The engine mounted from the host; -H or --docker-host still chooses another.
ENV DOCKER_HOST=unix:///var/run/docker.sock
WORKDIR /out
ENTRYPOINT ["/usr/local/bin/dockproof"]
CMD ["--help"]
LABEL org.opencontainers.image.title="dockproof" \
      org.opencontainers.image.description="Audits Docker hosts and writes compliance evidence bundles" \
      org.opencontainers.image.licenses="Apache-2.0"
