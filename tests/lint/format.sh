#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lint: every C++ file of the tree is formatted as .clang-format says. Prints
# the files that are not, with the changes clang-format would make, and fails.
# Fix with: clang-format -i FILE...
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
command -v clang-format >/dev/null || { echo "clang-format is not installed" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
    '*.cc' '*.h' '*.h.in' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
else
  mapfile -t files < <(find agents include lib tests bench -name '*.cc' -o -name '*.h' -o -name '*.h.in')
fi
bad=0
for f in "${files[@]}"; do
  if ! diff -u --label "$f" --label "$f (formatted)" "$f" <(clang-format --style=file --assume-filename="${f%.in}" <"$f"); then
    bad=$((bad + 1))
  fi
done
if [ "$bad" -gt 0 ]; then
  echo "not ok - $bad of ${#files[@]} C++ files are not formatted as .clang-format says (clang-format -i FILE)"
  exit 1
fi
echo "ok - ${#files[@]} C++ files formatted as .clang-format says"
