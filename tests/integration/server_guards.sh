#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guards that keep a second PMM off one data set, against a real engine:
# server_guards.sh podman|docker
# - run_opts with a restart policy or --stop-timeout, and a plain clone with
#   ha=false, are refused by validate-all and start (stop still works);
# - the container is created with restart policy no and stop_grace as its
#   stop timeout (as the engine's inspect shows them);
# - start writes the shutdown ordering drop-in (under a temporary root with a
#   /run/systemd/system of its own and a systemctl that records its calls);
# - require_mount refuses a real tmpfs and a real btrfs subvolume of the
#   filesystem at / (in a mount namespace whose / is a btrfs loop device).
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
engine=${1:?podman or docker}
h_begin "server-guards-$engine"
h_require mkfs.btrfs
h_ocf_env
h_podman_conf
agent=$(h_agent pmm-server)
NS=$(h_netns grd)

case $engine in
  podman) image=$(h_standin_image podman) || exit 1 ;;
  docker)
    sock=$(h_dockerd "$NS") || exit 1
    export DOCKER_HOST="unix://$sock"
    image=$(h_standin_image docker) || exit 1
    ;;
esac
data=$(h_mounted_dir 64) || exit 1

name="$H_ID-pmm"
h_defer "$engine" rm -f "$name"
export OCF_RESOURCE_INSTANCE="$name"
params=(OCF_RESKEY_image="$image" OCF_RESKEY_data_dir="$data" OCF_RESKEY_runtime="$engine"
        OCF_RESKEY_pull=never OCF_RESKEY_env='STANDIN_WARMUP_MS=200')

# A root with systemd "running" (run/systemd/system) and a systemctl on PATH
# that records its arguments: what start does there is what it does in /.
root="$H_TMP/root"
mkdir -p "$root/run/systemd/system" "$H_TMP/fakebin"
cat >"$H_TMP/fakebin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$H_TMP/systemctl.log"
EOF
chmod 755 "$H_TMP/fakebin/systemctl"
dropin="$root/run/systemd/system/resource-agents-deps.target.d/99-pmm-server-$name.conf"

# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
ra() {
  local action=$1
  shift
  in-netns "$NS" env "${params[@]}" PATH="$H_TMP/fakebin:$PATH" PMMHA_SYSTEMD_ROOT="$root" \
    "$@" "$agent" "$action"
}
# shellcheck disable=SC2317 # called through h_check
absent() { ! "$engine" container inspect "$name" >/dev/null 2>&1; }
inspect() { "$engine" container inspect --format "$1" "$name"; }

# --- run_opts and clones -------------------------------------------------
h_expect_rc 6 "validate-all refuses run_opts --restart=always" ra validate-all \
  OCF_RESKEY_run_opts='--restart=always'
h_match "... naming the policy and why" "restart policy 'always'.*outside the cluster" "$H_REASON"
h_expect_rc 6 "... and --restart unless-stopped" ra validate-all \
  OCF_RESKEY_run_opts='--cpus 1 --restart unless-stopped'
h_expect_rc 6 "start refuses it too" ra start OCF_RESKEY_run_opts='--restart=always'
h_check "... and creates nothing" absent
h_expect_rc 0 "--restart=no is accepted" ra validate-all OCF_RESKEY_run_opts='--restart=no'
h_expect_rc 6 "run_opts --stop-timeout is refused (stop_grace sets it)" ra validate-all \
  OCF_RESKEY_run_opts='--stop-timeout 5'
h_match "... saying so" "set stop_grace instead" "$H_REASON"
h_expect_rc 0 "stop with such run_opts still succeeds" ra stop OCF_RESKEY_run_opts='--restart=always'
h_expect_rc 7 "... and so does a probe (not running)" ra monitor OCF_RESKEY_CRM_meta_interval=0 \
  OCF_RESKEY_run_opts='--restart=always'
clone=(OCF_RESKEY_CRM_meta_clone=0 OCF_RESKEY_CRM_meta_clone_max=2 OCF_RESOURCE_INSTANCE="$name:0")
h_expect_rc 6 "validate-all refuses a clone with ha=false" ra validate-all "${clone[@]}"
h_match "... explained" "clone with ha=false: every instance would run its own PMM" "$H_REASON"
h_expect_rc 6 "start refuses it too" ra start "${clone[@]}"
h_check "... and creates nothing" absent

# --- the container's own policy and the shutdown ordering ----------------
h_expect_rc 0 "start with stop_grace=42 and drop_in_dependency=true" ra start \
  OCF_RESKEY_stop_grace=42 OCF_RESKEY_drop_in_dependency=true
h_match "the engine will not restart it: restart policy no" '^no$' \
  "$(inspect '{{.HostConfig.RestartPolicy.Name}}')"
h_match "an outside stop gives PMM stop_grace: StopTimeout 42" '^42$' \
  "$(inspect '{{.Config.StopTimeout}}')"
id=$(inspect '{{.Id}}')
case $engine in
  podman) after="podman.socket podman.service libpod-$id.scope libpod-conmon-$id.scope" ;;
  docker) after="docker.service containerd.service docker-$id.scope" ;;
esac
want="# Written by ocf:percona:pmm-server (drop_in_dependency=true) for container $name:
# at shutdown Pacemaker stops PMM before the engine or systemd do.
[Unit]
After=$after"
h_check "start wrote the drop-in for resource-agents-deps.target" test -f "$dropin"
h_match "... naming the engine and this container's scopes" "^After=$after\$" "$(cat "$dropin")"
h_check "... exactly" test "$(cat "$dropin")" = "$want"
h_check "... readable by all (0644)" test "$(stat -c %a "$dropin")" = 644
h_match "... and reloaded systemd" '^daemon-reload$' "$(cat "$H_TMP/systemctl.log")"
h_expect_rc 0 "start again" ra start OCF_RESKEY_stop_grace=42 OCF_RESKEY_drop_in_dependency=true
h_match "... leaves a current drop-in alone (one reload)" '^1$' "$(wc -l <"$H_TMP/systemctl.log")"
h_expect_rc 0 "stop" ra stop
h_check "... removes the container" absent

rm -r "$root/run/systemd/system"  # the drop-in's directory is below it
h_expect_rc 0 "start where systemd does not run" ra start OCF_RESKEY_drop_in_dependency=true \
  HA_debug=1
h_match "... says so in a debug line" "systemd does not run here" "$H_ERR"
h_check "... and writes no drop-in" test ! -e "$dropin"
h_expect_rc 0 "stop" ra stop
rm -f "$H_TMP/systemctl.log"
mkdir -p "$root/run/systemd/system"
h_expect_rc 0 "drop_in_dependency is on by default" ra start
h_check "... the drop-in is written" test -e "$dropin"
h_expect_rc 0 "stop" ra stop
rm -f "$dropin"
h_expect_rc 0 "start with drop_in_dependency=false" ra start OCF_RESKEY_drop_in_dependency=false
h_check "... nothing written" test ! -e "$dropin"
h_expect_rc 0 "stop" ra stop

# --- require_mount on real filesystems -----------------------------------
tmpfs_dir="$H_TMP/tmpfs-srv"
mkdir -p "$tmpfs_dir"
mount -t tmpfs -o size=16m pmmt-tmpfs "$tmpfs_dir" || exit 1
h_umount_at_exit "$tmpfs_dir"
h_expect_rc 1 "start refuses a tmpfs at data_dir" ra start OCF_RESKEY_data_dir="$tmpfs_dir"
h_match "... naming it" "is on a tmpfs: refusing to start PMM" "$H_REASON"
h_check "... and creates nothing" absent

# require_fs_uuid: the UUID read from the device mounted at data_dir.
uuid=$(blkid -o value -s UUID "$(findmnt -n -o SOURCE --mountpoint "$data")")
h_expect_rc 0 "start with require_fs_uuid of data_dir's filesystem" ra start \
  OCF_RESKEY_require_fs_uuid="${uuid^^}"
h_expect_rc 0 "stop" ra stop
h_expect_rc 1 "start refuses data_dir on a filesystem with another UUID" ra start \
  OCF_RESKEY_require_fs_uuid=0123abcd-0000-4000-8000-00000000feed
h_match "... naming both" "not on the filesystem with UUID 0123abcd-0000-4000-8000-00000000feed \(require_fs_uuid\): ext4 '/dev/loop" "$H_REASON"
h_check "... and creates nothing" absent

# SLES' layout: / and data_dir are subvolumes of one btrfs. In a private
# mount namespace a btrfs loop device is mounted over / (the agent's root
# stays the host's, so podman and its paths work; the mount table shows the
# btrfs at /) and another subvolume of it at data_dir.
dev=$(h_loop 200 btrfs -q) || exit 1
sub="$H_TMP/btrfs-top"
mkdir -p "$sub" "$H_TMP/btrfs-srv"
mount "$dev" "$sub" && btrfs -q subvolume create "$sub/@" && btrfs -q subvolume create "$sub/@srv" &&
  umount "$sub" || exit 1
# shellcheck disable=SC2016 # expanded by the inner shell
in_btrfs_root='mount -o subvol=@ "$1" / && mount -o subvol=@srv "$1" "$2" && shift 2 && exec "$@"'
# shellcheck disable=SC2016 # expanded by the inner shell
with_bind='mount --bind "$1" "$2" && shift 2 && exec "$@"'
h_expect_rc 1 "start refuses a btrfs subvolume of the root filesystem" \
  unshare -m --propagation private sh -c "$in_btrfs_root" sh "$dev" "$H_TMP/btrfs-srv" \
  in-netns "$NS" env "${params[@]}" OCF_RESKEY_data_dir="$H_TMP/btrfs-srv" "$agent" start
h_match "... naming the filesystem" \
  "is the root filesystem mounted again \(btrfs '$dev', directory '/@srv' of it; / is btrfs" \
  "$H_REASON"
h_check "... and creates nothing" absent
h_expect_rc 1 "start refuses a bind mount of a directory of /" \
  unshare -m --propagation private sh -c "$with_bind" \
  sh "$H_TMP/fakebin" "$H_TMP/btrfs-srv" \
  in-netns "$NS" env "${params[@]}" OCF_RESKEY_data_dir="$H_TMP/btrfs-srv" "$agent" start
h_match "... as the root filesystem" "is the root filesystem mounted again" "$H_REASON"
h_done
