#!/usr/bin/env bash
# Quick start: install and build, start berthd with its defaults in the background, import the
# busybox image, and run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
SOCK=/run/berth/berth.sock
if ! curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup ./bin/berthd >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
./bin/berth image inspect busybox:latest >/dev/null 2>&1 || ./scripts/busybox-image.sh
./bin/berth run --rm busybox echo hello from berth
