#!/bin/bash
# Build a busybox rootfs from Debian's busybox-static and import it into a running berthd as
# busybox:latest (CMD ["sh"]). Same layout as test/helpers/busybox.ts.
#   scripts/busybox-image.sh               build and import (socket: $BERTH_HOST or /run/berth/berth.sock)
#   scripts/busybox-image.sh --tar OUT     only write the rootfs tarball to OUT
set -euo pipefail

BUSYBOX=${BUSYBOX:-/bin/busybox}
out=''
if [[ ${1:-} == --tar ]]; then
  out=${2:?usage: $0 --tar OUT}
fi
[[ -x $BUSYBOX ]] || { echo "no $BUSYBOX: apt-get install busybox-static" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,dev,etc,home,proc,sys,usr,var,root,tmp}
chmod 0755 "$root"/{bin,dev,etc,home,proc,sys,usr,var}
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"
install -m 0755 "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [[ $applet == busybox || $applet == */* ]] && continue
  ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
echo busybox >"$root/etc/hostname"
: >"$root/etc/resolv.conf"
chmod 0644 "$root"/etc/*

tarball=${out:-$work/rootfs.tar}
tar --numeric-owner --owner=0 --group=0 --mtime='2024-01-01 00:00:00Z' --sort=name -C "$root" -cf "$tarball" .
if [[ -n $out ]]; then
  echo "$out"
  exit 0
fi

sock=${BERTH_HOST:-/run/berth/berth.sock}
sock=${sock#unix://}
curl -sS --fail-with-body --unix-socket "$sock" -X POST --data-binary @"$tarball" \
  -H 'Content-Type: application/x-tar' \
  'http://d/images/create?fromSrc=-&repo=busybox&tag=latest&changes=CMD%20%5B%22sh%22%5D'
echo
