#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# deb/build.sh [--noopt] OUTDIR: builds pmm-ha-agents_<version>_<arch>.deb
# from this source tree. The tree keeps its packaging in deb/; a copy of the
# tree gets it as debian/, and dpkg-buildpackage builds there. --noopt
# compiles without optimisation (dpkg's noopt: about half the compile time),
# for the package test, which checks what the package holds, not its code.
set -eu
noopt=
if [ "${1:-}" = --noopt ]; then
  noopt=noopt
  shift
fi
out=$(mkdir -p "${1:?usage: $0 OUTDIR}" && cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$work/pmm-ha-agents"
mkdir "$src"
# The files of the source tree, without build directories.
(cd "$top" && { git ls-files -z --cached --others --exclude-standard 2>/dev/null ||
  find . -path ./build -prune -o -path './build-*' -prune -o -path ./.git -prune -o -type f -print0; }) |
  (cd "$top" && xargs -0 cp --parents -t "$src")
cp -r "$src/deb" "$src/debian"
# The version is CMake's project(VERSION), written nowhere else.
version=$(sed -n 's/^project(pmm-ha-agents VERSION \([^ )]*\).*/\1/p' "$top/CMakeLists.txt")
sed -i "s/@VERSION@/$version/g" "$src/debian/changelog"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck $noopt" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
  tail -n 40 "$work/build.log" >&2
  exit 1
}
cp "$work"/*.deb "$out/"
ls "$out"/*.deb
