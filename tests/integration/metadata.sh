#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every agent's meta-data validates the way the cluster tools read it:
#   - xmllint --valid as ocf-tester runs it (the document carries ra-api-1.dtd
#     extended by OCF 1.1's additions, which a DTD cannot add on top of it),
#   - the OCF 1.1 RelaxNG schema pcs checks before it accepts an agent,
#   - resource-agents' metadata.rng, which predates OCF 1.1: the only things
#     it may object to are OCF 1.1's reloadable and unique-group attributes
#     and deprecated elements, so those are removed before this check and
#     nothing else is.
# Usage: metadata.sh AGENT...
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin metadata

rng_ocf11=/usr/share/pcs/data/ocf-1.1.rng
rng_ra=/usr/share/resource-agents/metadata.rng

for name in "$@"; do
  agent=$(h_agent "$name") || { h_fail "$name is built"; continue; }
  xml="$H_TMP/$name.xml"
  h_expect_rc 0 "$name meta-data succeeds" "$agent" meta-data
  printf '%s\n' "$H_OUT" >"$xml"
  h_check "$name meta-data is valid as ocf-tester checks it (xmllint --valid)" \
    sh -c "cd /usr/share/resource-agents && xmllint --noout --valid - < '$xml'"
  h_check "$name meta-data is valid against the OCF 1.1 schema pcs uses" \
    xmllint --noout --relaxng "$rng_ocf11" "$xml"
  sed 's/ reloadable="1"//; s/ unique-group="[^"]*"//; /^<deprecated>.*<\/deprecated>$/d' "$xml" >"$xml.ra"
  h_check "$name meta-data is valid against resource-agents' metadata.rng" \
    xmllint --noout --relaxng "$rng_ra" "$xml.ra"
  h_run su nobody -s /bin/sh -c "'$agent' meta-data"
  if [ "$H_RC" = 0 ] && [ "$H_OUT" = "$(cat "$xml")" ]; then
    h_pass "$name meta-data works for an unprivileged user"
  else
    h_fail "$name meta-data as nobody: rc $H_RC"
  fi
  h_expect_rc 0 "$name usage succeeds" "$agent" usage
  h_expect_rc 0 "$name --help succeeds" "$agent" --help
  h_match "$name --help lists parameters" '^  --[a-z_]+ VALUE' "$H_OUT"
  h_expect_rc 3 "$name: an unknown action gives 3" "$agent" frobnicate
  h_match "$name: the unknown action's usage is printed" 'usage:' "$H_ERR"
  h_expect_rc 2 "$name: no action gives 2" "$agent"
done
h_done
