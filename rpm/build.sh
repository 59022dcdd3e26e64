#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rpm/build.sh [--noopt] OUTDIR: builds the binary rpm and the source rpm (which mock
# rebuilds on a clean RHEL, Rocky or Fedora) with rpmbuild from this source
# tree. On a Debian machine (CI) the RHEL BuildRequires cannot be checked
# against an rpm database, so they are not (--nodeps), the build itself uses
# the Debian -dev packages, and rpm/macros.cmake gives the %cmake macros
# Debian's rpm lacks. --noopt compiles without optimisation (a Debug build
# with -O0: about half the compile time), for the package test.
set -eu
noopt=
if [ "${1:-}" = --noopt ]; then
  noopt=1
  shift
fi
out=$(mkdir -p "${1:?usage: $0 OUTDIR}" && cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^project(pmm-ha-agents VERSION \([^ )]*\).*/\1/p' "$top/CMakeLists.txt")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{SOURCES,BUILD,RPMS,SRPMS,SPECS}
src="$work/pmm-ha-agents-$version"
mkdir "$src"
(cd "$top" && { git ls-files -z --cached --others --exclude-standard 2>/dev/null ||
  find . -path ./build -prune -o -path './build-*' -prune -o -path ./.git -prune -o -type f -print0; }) |
  (cd "$top" && xargs -0 cp --parents -t "$src")
# The spec, with the version CMake's project(VERSION) gives, at the tarball's
# top so that rpmbuild -ta finds it too.
sed "s/@VERSION@/$version/g" "$top/rpm/pmm-ha-agents.spec.in" >"$src/pmm-ha-agents.spec"
tar -C "$work" -czf "$work/SOURCES/pmm-ha-agents-$version.tar.gz" "pmm-ha-agents-$version"
opts=(--define "_topdir $work" --define 'debug_package %{nil}')
[ -z "$noopt" ] || opts+=(--define 'optflags -O0 -g' --define 'pmmha_build_type Debug')
# rpm itself is in the rpm database of an rpm-based system, whose rpmbuild
# checks the BuildRequires; Debian's is empty. Debian's brp-compress is a
# bash script run by dash there (read -d fails): bash runs it, so that man
# pages are gzipped as on Fedora, RHEL and SUSE.
if ! rpm -q --quiet rpm 2>/dev/null; then
  opts+=(--nodeps --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}')
fi
[ -n "$(rpm --eval '%{?cmake:defined}')" ] || opts+=(--load "$top/rpm/macros.cmake")
build() {
  rpmbuild "$1" "${opts[@]}" "$src/pmm-ha-agents.spec" >>"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    exit 1
  }
}
# The source rpm first: rpmbuild -bs checks no BuildRequires, so where the
# binary build stops at missing ones, dnf builddep or mock can take it.
build -bs
cp "$work"/SRPMS/*.src.rpm "$out/"
build -bb
find "$work/RPMS" -name '*.rpm' -exec cp {} "$out/" \;
ls "$out"/*.rpm
