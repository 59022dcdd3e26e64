#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sets up a fresh Debian 12 machine (as root), builds, and runs the whole test
# suite: unit, integration and cluster tests. This is the command README.md
# gives and the one CI runs.
set -eu
cd "$(dirname "$0")"
scripts/setup-debian
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPMMHA_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure --timeout 900 -j3
