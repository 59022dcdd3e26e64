#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make-image.sh STANDIN-BINARY OUT.tar: the rootfs of the PMM stand-in image,
# for "podman import" / "docker import" (no registry needed):
#   podman import --change 'CMD ["/pmm-standin"]' --change 'USER 1000:1000' \
#     --change 'LABEL org.opencontainers.image.version=3.99.0-standin' OUT.tar localhost/pmm-standin:3
# tests/harness/lib.sh (h_standin_image) does exactly that.
set -eu
bin=${1:?usage: $0 STANDIN-BINARY OUT.tar}
out=${2:?usage: $0 STANDIN-BINARY OUT.tar}
root=$(mktemp -d)
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/srv" "$root/tmp" "$root/etc" "$root/bin"
cp "$bin" "$root/pmm-standin"
chmod 755 "$root/pmm-standin"
if bb=$(command -v busybox) && file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
  # A shell and tools inside the container help when looking around (the
  # heartbeat podman agent's monitor also execs /bin/true in it).
  cp "$bb" "$root/bin/busybox"
  for a in sh true cat ls sleep; do ln -s busybox "$root/bin/$a"; done
fi
printf 'root:x:0:0:root:/:/bin/sh\npmm:x:1000:1000:pmm:/srv:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\npmm:x:1000:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
# /srv belongs to PMM's user, as in PMM 3's image (the stand-in runs as uid
# 1000 and, like PMM, exits when it cannot write /srv).
tar -C "$root" --numeric-owner --owner=0 --group=0 --exclude=./srv -cf "$out" .
tar -C "$root" --numeric-owner --owner=1000 --group=1000 -rf "$out" ./srv
