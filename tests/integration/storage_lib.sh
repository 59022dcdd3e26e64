# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers shared by the pmm-storage integration tests (sourced after lib.sh).

# storage_setup: the OCF environment, resource instance "srv", and variables:
# agent (pmm-storage) and mnt (its mount point, created; the test registers
# its unmount at exit where the order of clean-ups needs it).
# shellcheck disable=SC2034 # agent is for the tests that source this file
storage_setup() {
  h_ocf_env
  agent=$(h_agent pmm-storage)
  export OCF_RESOURCE_INSTANCE=srv
  mnt=$H_TMP/srv
  mkdir -p "$mnt"
}

# mounted_at DIR: the source mounted at DIR (nothing when nothing is).
mounted_at() { findmnt -rn -o SOURCE --mountpoint "$1"; }

# timed RC DESCRIPTION CMD...: h_expect_rc, leaving the milliseconds in $took.
# shellcheck disable=SC2034 # took is for the tests that source this file
timed() {
  local begun
  begun=$(date +%s%N)
  h_expect_rc "$@"
  took=$((($(date +%s%N) - begun) / 1000000))
}
