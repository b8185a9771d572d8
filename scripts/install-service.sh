#!/usr/bin/env bash
# Install berthd's systemd units (contrib/systemd) for this checkout: always write them to
# /etc/systemd/system (or $SYSTEMD_UNIT_DIR), enable them only when systemd is running (PID 1),
# so berthd and its restart-policy containers come back after a reboot. Starting is left to the
# caller (`systemctl start berthd`): CI and test machines get the files but no system daemon.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${SYSTEMD_UNIT_DIR:-/etc/systemd/system}
mkdir -p "$dir"
for unit in berthd.service berthd.socket; do
  sed "s|@BERTH_ROOT@|$root|g" "$root/contrib/systemd/$unit" >"$dir/$unit.tmp"
  chmod 0644 "$dir/$unit.tmp"
  mv "$dir/$unit.tmp" "$dir/$unit"
done
if [ -d /run/systemd/system ] && [ -z "${SYSTEMD_UNIT_DIR:-}" ]; then
  systemctl daemon-reload
  systemctl enable berthd.socket berthd.service >/dev/null 2>&1
  echo "berth: systemd units installed and enabled (systemctl start berthd)"
else
  echo "berth: systemd units installed in $dir (systemd is not running: not enabled)"
fi
