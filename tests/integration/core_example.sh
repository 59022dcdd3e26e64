#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The OCF core end to end, through the example agent: ocf-tester, the command
# line for humans, and crm_resource running it as the cluster does.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin core_example
h_ocf_env
agent=$(h_agent pmm-example)
export OCF_RESOURCE_INSTANCE=example

h_expect_rc 0 "ocf-tester passes on an agent built on the core" \
  ocf-tester -n example -o state="$H_TMP/state" "$agent"
h_match "ocf-tester ran every test" 'passed all tests' "$H_OUT"
h_expect_rc 1 "ocf-tester fails an agent whose start fails" \
  ocf-tester -n example -o state="$H_TMP/state" -o fail_start=yes "$agent"

# The environment, as Pacemaker passes it.
export OCF_RESKEY_state="$H_TMP/env-state"
h_expect_rc 7 "probe before start: not running" env OCF_RESKEY_CRM_meta_interval=0 "$agent" monitor
h_expect_rc 0 "start" "$agent" start
h_expect_rc 0 "monitor after start" "$agent" monitor
h_expect_rc 0 "start again is idempotent" "$agent" start
h_expect_rc 0 "stop" "$agent" stop
h_expect_rc 0 "stop again is idempotent" "$agent" stop
unset OCF_RESKEY_state

# The command line, as an admin types it.
h_expect_rc 0 "start from the command line" "$agent" start --state "$H_TMP/cli-state"
h_check "the command-line parameter was used" test -e "$H_TMP/cli-state"
h_expect_rc 6 "a relative path from the command line is refused" "$agent" start --state rel/path
h_match "the reason names the parameter and the value" \
  "^parameter 'state' = 'rel/path': must be an absolute path$" "$H_REASON"
h_expect_rc 2 "an unknown option is an argument error" "$agent" start --nosuch 1
h_expect_rc 6 "a 10 KB value is refused" "$agent" validate-all --state "/$(head -c 10240 /dev/zero | tr '\0' x)"
h_match "... with a message, not the value" 'is 10241 bytes long' "$H_REASON"
h_expect_rc 6 "shell metacharacters do not reach a shell" "$agent" validate-all --delay '1; touch /tmp/pwned'
h_check "... and nothing ran" test ! -e /tmp/pwned

# Logging into HA_LOGFILE with the ocf-shellfuncs tag.
HA_LOGFILE="$H_TMP/ha.log" "$agent" start --state "$H_TMP/log-state" 2>/dev/null
h_match "HA_LOGFILE gets the tagged INFO line" 'pmm-example\(example\)\[[0-9]+\]: +INFO: started' \
  "$(cat "$H_TMP/ha.log")"

# crm_resource runs the agent as the cluster does (installed under a
# test-only provider, removed at exit).
provider="$H_ID"
mkdir -p "/usr/lib/ocf/resource.d/$provider"
h_defer rm -rf "/usr/lib/ocf/resource.d/$provider"
ln -s "$agent" "/usr/lib/ocf/resource.d/$provider/pmm-example"
h_expect_rc 0 "crm_resource --validate accepts a good configuration" \
  crm_resource --validate --class ocf --provider "$provider" --agent pmm-example \
  --option state="$H_TMP/crm-state"
h_run crm_resource --validate --class ocf --provider "$provider" --agent pmm-example \
  --option state=relative
h_match "crm_resource --validate shows our exit reason" "must be an absolute path" "$H_OUT$H_ERR"
h_expect_rc 0 "crm_resource --show-metadata finds the agent" \
  crm_resource --show-metadata "ocf:$provider:pmm-example"
h_match "... with OCF 1.1 meta-data" '<version>1.1</version>' "$H_OUT"
h_done
