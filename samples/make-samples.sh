#!/usr/bin/env bash
# Regenerates the sample snapshots from the local Docker engine.
#
#   hardened-host.snapshot.json  containers started with every runtime hardening flag
#   insecure-host.snapshot.json  containers started (or created) with the classic mistakes
#
# Both are collected from the real engine and the real host configuration of the machine that
# runs this script (`dockproof collect --include-stopped`). Only containers of the sample are
# present while collecting: the script refuses to run when other containers exist, so a sample
# never captures someone else's workload. Everything it creates carries the label
# dockproof.sample=1 and is removed at the end. No registry is needed: the image is built from
# Debian's busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."

image=dockproof-sample/busybox:1
label=dockproof.sample=1

if [ -n "$(docker ps -aq)" ]; then
  echo "refusing: the engine has containers; run on an engine with none" >&2
  exit 2
fi

cleanup() {
  ids=$(docker ps -aq --filter "label=$label")
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
  docker image rm "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

root=$(mktemp -d)
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh sleep true id; do ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/tmp:/bin/sh\n' > "$root/etc/passwd"
tar -C "$root" -cf "$root.tar" .
docker import --change 'CMD ["/bin/sleep","86400"]' --change "LABEL $label" "$root.tar" "$image" >/dev/null
rm -rf "$root" "$root.tar"

cargo build --release --quiet
dockproof=target/release/dockproof

run() { docker run -d --label "$label" "$@" >/dev/null; }

# Hardened: non-root, read-only root filesystem, limits, no new privileges, all capabilities
# dropped, a health check, a bounded restart policy, ports bound to loopback only.
port=8443
for name in payments-api ledger-worker; do
  run --name "$name" --user 1000:1000 --read-only --memory 128m --cpus 0.5 --pids-limit 64 \
    --security-opt no-new-privileges:true --cap-drop ALL --restart on-failure:3 \
    --health-cmd 'true' --health-interval 2s -p "127.0.0.1:$port:8443" "$image"
  port=$((port + 1))
done
sleep 4 # let the first health probe report
$dockproof collect --include-stopped -o samples/hardened-host.snapshot.json
docker rm -f -v $(docker ps -aq --filter "label=$label") >/dev/null

# Insecure: the mistakes auditors find most often.
docker create --label "$label" --name legacy-admin --privileged "$image" >/dev/null
run --name web-frontend -p 80:80 -p '[::]:443:443' --cap-add NET_ADMIN --cap-add SYS_ADMIN \
  -e DB_PASSWORD=sample-not-a-real-secret -e APP_MODE=production --restart always "$image"
run --name monitoring-agent --network host --pid host --ipc host \
  -v /var/run:/host/var/run -v /etc:/host/etc:ro --security-opt seccomp=unconfined "$image"
run --name ci-runner -v /var/run/docker.sock:/var/run/docker.sock --user root "$image"
sleep 1
$dockproof collect --include-stopped -o samples/insecure-host.snapshot.json

echo "wrote samples/hardened-host.snapshot.json and samples/insecure-host.snapshot.json"
