#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pmm-storage on real loop devices and real mounts: ocf-tester (ext4, xfs),
# UUID=/LABEL=, bind mounts, owner, fsck policies, MMP, refusals that protect
# data, read-only remounts, wrong devices, bad inputs, and data surviving a
# stop and start.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
# shellcheck source=SCRIPTDIR/storage_lib.sh
. "$(dirname "$0")/storage_lib.sh"
h_begin storage
storage_setup
h_umount_at_exit "$mnt"

# rs ACTION [NAME=VALUE...]: the agent with parameters as Pacemaker passes them.
# shellcheck disable=SC2317 # called through h_expect_rc, which shellcheck does not follow
rs() {
  local action=$1 kv env=()
  shift
  for kv in "$@"; do
    case $kv in
      OCF_CHECK_LEVEL=* | HA_*=*) env+=("$kv") ;;
      *) env+=("OCF_RESKEY_$kv") ;;
    esac
  done
  env "${env[@]}" "$agent" "$action"
}

ext4=$(h_loop 64 ext4 -L pmmsrv) || h_fail "ext4 loop device"
xfs=$(h_loop 320 xfs) || h_fail "xfs loop device"

# --- ocf-tester -------------------------------------------------------------
h_expect_rc 0 "ocf-tester passes on ext4" \
  ocf-tester -n srv -o device="$ext4" -o directory="$mnt" "$agent"
h_match "... all tests" 'passed all tests' "$H_OUT"
h_expect_rc 0 "ocf-tester passes on xfs" \
  ocf-tester -n srv -o device="$xfs" -o directory="$H_TMP/xsrv" -o fstype=xfs "$agent"
h_match "... all tests" 'passed all tests' "$H_OUT"
h_check "ocf-tester left nothing mounted" test -z "$(mounted_at "$mnt")$(mounted_at "$H_TMP/xsrv")"

# --- the life cycle, depths, data --------------------------------------------
dev=(device="$ext4" directory="$mnt")
h_expect_rc 7 "probe before start" rs monitor "${dev[@]}" CRM_meta_interval=0
h_expect_rc 0 "start" rs start "${dev[@]}"
h_check "mounted from the loop device" test "$(mounted_at "$mnt")" = "$ext4"
for depth in 0 10 20; do
  h_expect_rc 0 "monitor depth $depth" rs monitor "${dev[@]}" CRM_meta_interval=20000 OCF_CHECK_LEVEL=$depth
done
h_check "depth 20 left no status file" test -z "$(find "$mnt" -mindepth 1 -maxdepth 1 -name '*pmm-storage*')"
h_expect_rc 0 "start again is idempotent" rs start "${dev[@]}"
h_check "... and mounts nothing twice" test "$(findmnt -rn --mountpoint "$mnt" | wc -l)" = 1
head -c 1M /dev/urandom >"$mnt/data.bin"
sum=$(sha256sum <"$mnt/data.bin")
h_expect_rc 0 "stop" rs stop "${dev[@]}"
h_check "unmounted" test -z "$(mounted_at "$mnt")"
h_expect_rc 0 "stop again is idempotent" rs stop "${dev[@]}"
h_expect_rc 7 "monitor after stop" rs monitor "${dev[@]}" CRM_meta_interval=20000
h_expect_rc 0 "start after stop" rs start "${dev[@]}"
h_check "a file written before stop is intact after the next start" \
  test "$(sha256sum <"$mnt/data.bin")" = "$sum"
h_expect_rc 0 "stop" rs stop "${dev[@]}"

# --- UUID= and LABEL= ----------------------------------------------------------
uuid=$(blkid -s UUID -o value "$ext4")
for spec in "UUID=$uuid" "LABEL=pmmsrv"; do
  h_expect_rc 0 "start with $spec" rs start device="$spec" directory="$mnt"
  h_check "... mounts $ext4" test "$(mounted_at "$mnt")" = "$ext4"
  h_expect_rc 0 "monitor with $spec" rs monitor device="$spec" directory="$mnt" CRM_meta_interval=20000
  h_expect_rc 0 "stop with $spec" rs stop device="$spec" directory="$mnt"
done
h_expect_rc 7 "probe of an unknown UUID: not running" \
  rs monitor device=UUID=00000000-0000-0000-0000-00000000dead directory="$mnt" CRM_meta_interval=0
h_expect_rc 5 "start of an unknown LABEL: not installed here" \
  rs start device=LABEL=pmm-nowhere directory="$mnt"

# --- owner ---------------------------------------------------------------------
h_expect_rc 0 "start with owner=1000:1000" rs start "${dev[@]}" owner=1000:1000
h_check "the mount root belongs to 1000:1000" test "$(stat -c %u:%g "$mnt")" = 1000:1000
h_expect_rc 0 "reload-agent applies a new owner" rs reload-agent "${dev[@]}" owner=1001:1002
h_check "... 1001:1002" test "$(stat -c %u:%g "$mnt")" = 1001:1002
h_expect_rc 0 "stop" rs stop "${dev[@]}"
h_check "the mount point itself was not chowned" test "$(stat -c %u "$mnt")" = 0
h_expect_rc 5 "an owner name unknown here: not installed" rs start "${dev[@]}" owner=pmmnosuchuser
h_check "... nothing mounted" test -z "$(mounted_at "$mnt")"

# --- bind mount ----------------------------------------------------------------
src=$H_TMP/bindsrc
mkdir -p "$src" && echo keep >"$src/keep"
bind=(device="$src" directory="$mnt")
h_expect_rc 0 "bind mount of a directory" rs start "${bind[@]}"
h_check "... shows the source's files" test "$(cat "$mnt/keep")" = keep
for depth in 0 10 20; do
  h_expect_rc 0 "bind: monitor depth $depth" rs monitor "${bind[@]}" CRM_meta_interval=20000 OCF_CHECK_LEVEL=$depth
done
h_expect_rc 1 "a bind of another directory at the mount point is not ours" \
  rs monitor device="$HA_RSCTMP" directory="$mnt" CRM_meta_interval=20000
h_expect_rc 0 "bind: stop" rs stop "${bind[@]}"
h_check "bind: unmounted, source intact" test -z "$(mounted_at "$mnt")" -a -e "$src/keep"

# --- fsck ----------------------------------------------------------------------
ext2=$(h_loop 32 ext2)
h_expect_rc 0 "run_fsck=auto checks ext2 (no journal)" rs start device="$ext2" directory="$mnt"
h_match "... with fsck.ext2 -p" "checking '$ext2' with fsck.ext2 -p" "$H_ERR"
h_expect_rc 0 "stop" rs stop device="$ext2" directory="$mnt"
h_expect_rc 0 "run_fsck=no does not" rs start device="$ext2" directory="$mnt" run_fsck=no
h_nomatch "... no fsck" 'checking' "$H_ERR"
h_expect_rc 0 "stop" rs stop device="$ext2" directory="$mnt"
h_expect_rc 0 "run_fsck=auto skips ext4 (journal)" rs start "${dev[@]}"
h_nomatch "... no fsck" 'checking' "$H_ERR"
h_expect_rc 0 "stop" rs stop "${dev[@]}"
h_expect_rc 0 "run_fsck=force checks ext4" rs start "${dev[@]}" run_fsck=force
h_match "... with fsck.ext4 -p" "checking '$ext4' with fsck.ext4 -p" "$H_ERR"
h_expect_rc 0 "stop" rs stop "${dev[@]}"
broken=$(h_loop 32 ext4)
# No root directory, and marked as having errors so that preen looks.
debugfs -w -R "clri <2>" "$broken" >/dev/null 2>&1
debugfs -w -R "ssv state 2" "$broken" >/dev/null 2>&1
h_expect_rc 1 "fsck that cannot repair unattended fails the start" \
  rs start device="$broken" directory="$mnt" run_fsck=force
h_match "... saying so" "fsck.ext4 '$broken' found errors it cannot repair unattended \(exit 4\); not mounting: .*Root inode is not a directory" "$H_REASON"
h_check "... and nothing is mounted" test -z "$(mounted_at "$mnt")"

# --- MMP -----------------------------------------------------------------------
mmp=$(h_loop 64 ext4)
tune2fs -O mmp -E mmp_update_interval=5 "$mmp" >/dev/null
h_expect_rc 6 "require_mmp refuses ext4 without MMP" rs start "${dev[@]}" require_mmp=true
h_match "... naming the fix" "no multi-mount protection.*tune2fs -O mmp" "$H_REASON"
h_check "... nothing mounted" test -z "$(mounted_at "$mnt")"
h_expect_rc 0 "require_mmp accepts ext4 with MMP" rs start device="$mmp" directory="$mnt" require_mmp=true
h_expect_rc 0 "stop" rs stop device="$mmp" directory="$mnt"

# --- refusals that protect data ----------------------------------------------------
mount -t tmpfs pmmt-other "$mnt"
h_expect_rc 7 "another filesystem at the mount point: probe says not running" \
  rs monitor "${dev[@]}" CRM_meta_interval=0
h_expect_rc 1 "... monitor says error" rs monitor "${dev[@]}" CRM_meta_interval=20000
h_match "... naming both" "has 'pmmt-other' \(tmpfs\) mounted, not '$ext4'" "$H_REASON"
h_expect_rc 1 "... start refuses to mount over it" rs start "${dev[@]}"
h_expect_rc 0 "... stop leaves it alone" rs stop "${dev[@]}"
h_check "... still mounted" test "$(mounted_at "$mnt")" = pmmt-other
umount "$mnt"
mkdir -p "$mnt/sub"
mount -t tmpfs pmmt-sub "$mnt/sub"
h_expect_rc 1 "something mounted below the directory: start refuses" rs start "${dev[@]}"
h_match "... saying what" "'$mnt/sub' is mounted below '$mnt'" "$H_REASON"
umount "$mnt/sub"
rmdir "$mnt/sub"
mkdir -p "$H_TMP/elsewhere"
h_umount_at_exit "$H_TMP/elsewhere"
mount "$ext4" "$H_TMP/elsewhere"
h_expect_rc 1 "the device mounted elsewhere on this node: start refuses" rs start "${dev[@]}"
h_match "... saying where" "already mounted at '$H_TMP/elsewhere'" "$H_REASON"
umount "$H_TMP/elsewhere"

# --- depth 0 from the kernel's word on the recorded mount (statmount) -----------
h_expect_rc 0 "start" rs start "${dev[@]}"
if grep -q '^unique_id=' "$HA_RSCTMP"/pmm-storage-*.mount 2>/dev/null; then
  h_pass "start recorded the mount's unique ID (Linux 6.8+)"
  h_expect_rc 0 "monitor depth 0" rs monitor "${dev[@]}" CRM_meta_interval=20000 HA_debug=1
  h_match "... asked the kernel about the recorded mount, not the mount table" \
    "mounted as start recorded it \(statmount\)" "$H_ERR"
  mount -t tmpfs pmmt-over "$mnt"
  h_expect_rc 1 "something mounted over it: monitor depth 0 fails" rs monitor "${dev[@]}" \
    CRM_meta_interval=20000
  h_match "... naming both" "has 'pmmt-over' \(tmpfs\) mounted over ours" "$H_REASON"
  umount "$mnt"
  mkdir -p "$mnt/sub"
  mount -t tmpfs pmmt-below "$mnt/sub"
  h_expect_rc 0 "a mount below it: monitor depth 0 still passes" rs monitor "${dev[@]}" \
    CRM_meta_interval=20000
  umount "$mnt/sub"
  rmdir "$mnt/sub"
  mount -o remount,ro "$mnt"
  h_expect_rc 1 "read-only remount: monitor depth 0 fails" rs monitor "${dev[@]}" \
    CRM_meta_interval=20000
  mount -o remount,rw "$mnt"
  umount "$mnt"
  h_expect_rc 7 "unmounted behind the agent's back: monitor depth 0 says not running" \
    rs monitor "${dev[@]}" CRM_meta_interval=20000
  h_expect_rc 0 "stop" rs stop "${dev[@]}"
else
  h_log "this kernel ($(uname -r)) has no unique mount IDs: monitors read the mount table"
  h_expect_rc 0 "stop" rs stop "${dev[@]}"
fi

# --- read-only remount ---------------------------------------------------------
h_expect_rc 0 "start" rs start "${dev[@]}"
mount -o remount,ro "$mnt"
h_expect_rc 1 "read-only remount: depth 20 fails" rs monitor "${dev[@]}" CRM_meta_interval=20000 OCF_CHECK_LEVEL=20
h_match "... with a clear reason" "mounted read-only" "$H_REASON"
h_expect_rc 0 "stop" rs stop "${dev[@]}"
h_expect_rc 0 "options=ro: depth 20 does not write" rs start "${dev[@]}" options=ro,noatime
h_expect_rc 0 "... and passes" rs monitor "${dev[@]}" options=ro,noatime CRM_meta_interval=20000 OCF_CHECK_LEVEL=20
h_expect_rc 0 "stop" rs stop "${dev[@]}" options=ro,noatime

# --- bad inputs: right code, clear message, nothing mounted, nothing deleted ----
echo precious >"$mnt/precious"
bad() {
  local rc=$1 what=$2 pattern=$3
  shift 3
  h_expect_rc "$rc" "$what" "$@"
  h_match "... reason" "$pattern" "$H_REASON"
}
bad 6 "relative directory" "parameter 'directory' = 'srv': must be an absolute path" \
  rs start device="$ext4" directory=srv
bad 6 "root directory" "must not be the root directory" rs start device="$ext4" directory=/
bad 6 "'..' in the directory" "'\.\.'" rs start device="$ext4" directory="$mnt/../etc"
bad 6 "no device" "required parameter 'device' is not set" rs start directory="$mnt"
bad 5 "missing device" "does not exist on this node" rs start device=/dev/pmmt-none directory="$mnt"
h_expect_rc 7 "missing device, probe" rs monitor device=/dev/pmmt-none directory="$mnt" CRM_meta_interval=0
bad 5 "unknown fstype" "'nosuchfs' is not supported by this kernel" \
  rs validate-all "${dev[@]}" fstype=nosuchfs
bad 6 "fstype with metacharacters" "must be a filesystem type" rs start "${dev[@]}" fstype='ext4;id'
bad 6 "fstype of another device" "holds 'ext4', not 'xfs'" rs start "${dev[@]}" fstype=xfs
bad 6 "shell metacharacters in options" "which no mount option needs" \
  rs start "${dev[@]}" options='noatime;touch /tmp/pmmt-pwned'
h_check "... and nothing ran" test ! -e /tmp/pmmt-pwned
bad 6 "remount in options" "must not contain 'remount'" rs start "${dev[@]}" options=remount,rw
bad 6 "a 10 KB value" "is 10241 bytes long" rs start "${dev[@]}" options="$(head -c 10241 /dev/zero | tr '\0' a)"
bad 6 "an NFS device" "is a network share .NFS or CIFS., which pmm-storage does not mount" \
  rs start device=nfs:/export directory="$mnt"
bad 6 "a relative device" "must be an absolute path, UUID= or LABEL=" rs start device=sdb1 directory="$mnt"
bad 6 "a file is not a device" "is neither below /dev nor a directory" \
  rs start device="$mnt/precious" directory="$H_TMP/x"
bad 6 "an owner with junk" "parameter 'owner'" rs start "${dev[@]}" owner='1000:1000;id'
bad 6 "term_grace out of range" "out of range" rs start "${dev[@]}" term_grace=101
bad 6 "force_unmount not a choice" "must be one of" rs start "${dev[@]}" force_unmount=maybe
bad 5 "create_directory=false and no directory" "does not exist and create_directory is false" \
  rs start device="$ext4" directory="$H_TMP/nodir" create_directory=false
h_check "... and it was not created" test ! -e "$H_TMP/nodir"
ln -s "$mnt" "$H_TMP/link"
bad 6 "a directory through a symlink" "resolves to '$mnt'" rs start device="$ext4" directory="$H_TMP/link"
h_check "nothing mounted after all that" test -z "$(mounted_at "$mnt")$(mounted_at "$H_TMP/link")"
h_check "nothing deleted either" test "$(cat "$mnt/precious")" = precious
h_done
