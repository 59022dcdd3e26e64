#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every action answers before Pacemaker's operation timeout, with its own
# exit reason, even when a program it runs hangs and ignores SIGTERM (an
# engine CLI stuck on a lock, a daemon that does not answer): the process
# runner ends such a program before the deadline, not after it.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin deadline
h_ocf_env
agent=$(h_agent pmm-server)
export OCF_RESOURCE_INSTANCE=deadline

# A podman that hangs and ignores SIGTERM, first in PATH.
mkdir -p "$H_TMP/hang-bin"
cat >"$H_TMP/hang-bin/podman" <<'SCRIPT'
#!/bin/sh
trap '' TERM
while :; do sleep 0.1; done
SCRIPT
chmod 755 "$H_TMP/hang-bin/podman"
mkdir -p "$H_TMP/srv"
chown 1000:1000 "$H_TMP/srv"

# run_timed TIMEOUT_MS ACTION [ENV...]: runs the agent as Pacemaker would,
# leaving the elapsed milliseconds in ELAPSED_MS.
run_timed() {
  local timeout=$1 action=$2 start end
  shift 2
  start=$(date +%s%N)
  h_run env PATH="$H_TMP/hang-bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    OCF_RESKEY_image=localhost/pmmha-none:1 OCF_RESKEY_runtime=podman OCF_RESKEY_backend=cli \
    OCF_RESKEY_pull=never OCF_RESKEY_require_mount=false OCF_RESKEY_data_dir="$H_TMP/srv" \
    OCF_RESKEY_CRM_meta_timeout="$timeout" "$@" "$agent" "$action"
  end=$(date +%s%N)
  ELAPSED_MS=$(((end - start) / 1000000))
}

for case in "4000 start" "4000 monitor OCF_RESKEY_CRM_meta_interval=10000" \
  "3000 monitor OCF_RESKEY_CRM_meta_interval=0" "6000 stop"; do
  read -r timeout action extra <<<"$case"
  # shellcheck disable=SC2086 # extra is one word or none
  run_timed "$timeout" "$action" $extra
  what="$action${extra:+ ($extra)} with a hung podman, timeout $timeout ms"
  if [ "$ELAPSED_MS" -lt "$timeout" ]; then
    h_pass "$what: answered in $ELAPSED_MS ms (rc $H_RC)"
  else
    h_fail "$what: took $ELAPSED_MS ms (rc $H_RC): Pacemaker would have killed it"
  fi
  if [ "$H_RC" != 0 ] && [ "$H_RC" != 7 ]; then
    h_match "... with its own exit reason" '.+' "$H_REASON"
    h_log "reason: $H_REASON"
  fi
done
# (the bracket keeps pgrep from matching its own command line)
h_check "no hung podman is left behind" sh -c "! pgrep -f '[h]ang-bin/podman'"
h_done
