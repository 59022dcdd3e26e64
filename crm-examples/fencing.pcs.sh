#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fencing (STONITH) for a PMM cluster (pcs). Configure it before the PMM group.
#
# Why: the PMM group mounts a shared ext4/xfs LUN. When a node stops
# answering, the cluster must be sure it is dead before another node mounts
# the same LUN; otherwise two kernels write one filesystem and PMM's data is
# lost. Fencing powers the silent node off (or makes it reset itself) first.
# A failed stop of pmm-storage or pmm-server also gets its node fenced: that
# is how a mount held by a hung process is cleared safely.
#
# The cluster lab that tests these examples applies them to a live cluster
# with its own BMC in place of IPMI (lab/fence_pmmlab powers a namespace node
# off for real). Never run a shared-LUN cluster with stonith-enabled=false.
#
# Before use, change: BMC addresses, user and password (or password_script),
# node names. Pick ONE of the two methods.
set -e

# Method 1: the nodes' BMCs over IPMI (fence_ipmilan)
# One device per node; a node is never fenced by its own device.
pcs stonith create fence-node1 fence_ipmilan ip=192.0.2.201 username=fenceuser \
    password=change-me lanplus=1 pcmk_host_list=node1 op monitor interval=60s
pcs stonith create fence-node2 fence_ipmilan ip=192.0.2.202 username=fenceuser \
    password=change-me lanplus=1 pcmk_host_list=node2 op monitor interval=60s
pcs stonith create fence-node3 fence_ipmilan ip=192.0.2.203 username=fenceuser \
    password=change-me lanplus=1 pcmk_host_list=node3 op monitor interval=60s
pcs constraint location fence-node1 avoids node1
pcs constraint location fence-node2 avoids node2
pcs constraint location fence-node3 avoids node3

# Method 2: SBD on a small shared disk (poison pill)
# Needs the sbd daemon with a hardware watchdog on every node, set up with
#   pcs stonith sbd enable --device=/dev/disk/by-id/wwn-0x6001405fedcba9876543210fedcba987
# (which needs the cluster stopped), then:
#   pcs stonith create fence-sbd fence_sbd devices=/dev/disk/by-id/wwn-0x6001405fedcba9876543210fedcba987

# Fence rather than guess; a two-node cluster also wants a fencing delay so
# that both nodes do not shoot each other at once.
pcs property set stonith-enabled=true
pcs property set stonith-timeout=120s
