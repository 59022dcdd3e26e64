#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The shell hygiene gate: shellcheck -x on every shell script of the tree;
# fails with the findings. A script is a file named *.sh or one whose first
# line is a shell's shebang (sh, bash, dash, ksh; also through env), so a new
# script is checked without being listed anywhere. The files are git's
# (tracked, and untracked ones not ignored) in a git checkout, else every
# file below the top, build trees and .git aside.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
command -v shellcheck >/dev/null || {
  echo "shellcheck is not installed (Debian: apt-get install shellcheck)" >&2
  exit 1
}

tree_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . \( -path ./.git -o -path ./build -o -path './build-*' \) -prune -o -type f -print0
  fi
}

is_shell_script() {
  case $1 in *.sh) return 0 ;; esac
  head -n 1 "$1" 2>/dev/null | grep -qE '^#! *(/usr)?/bin/(env +)?(ba|da|k)?sh( |$)'
}

scripts=()
while IFS= read -r -d '' f; do
  f=${f#./}
  [ -f "$f" ] || continue  # deleted in the work tree, still in the index
  is_shell_script "$f" && scripts+=("$f")
done < <(tree_files)
[ ${#scripts[@]} -gt 0 ] || { echo "no shell scripts found below $top" >&2; exit 1; }

# From the top, so that the "source=SCRIPTDIR/..." directives resolve the
# same for every script.
if shellcheck -x "${scripts[@]}"; then
  echo "shellcheck -x: ${#scripts[@]} scripts clean"
else
  echo "shellcheck -x found the problems above (in ${#scripts[@]} scripts)" >&2
  exit 1
fi
