#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fencing for a two-node PMM cluster (pcs, RHEL 8.6+ / 9). Use it in place of
# fencing.pcs.sh, then pmm-podman.pcs.sh (or pmm-docker.pcs.sh).
#
# Two nodes have no majority to decide who survives when they lose sight of
# each other: each would fence the other at once, and both may go down.
# (pcs cluster setup with two nodes sets corosync's two_node, so the
# survivor keeps quorum.) priority-fencing-delay makes the node that runs
# more resources wait before it shoots: every resource counts 1 here, the
# node with the PMM group (three) outweighs the one with a fence device, so
# the node running PMM survives a split and PMM does not move.
#
# Before use, change: BMC addresses, user and password (or password_script),
# node names. Run this once, on either node of a running cluster.
set -e

pcs stonith create fence-node1 fence_ipmilan ip=192.0.2.201 username=fenceuser \
    password=change-me lanplus=1 pcmk_host_list=node1 op monitor interval=60s
pcs stonith create fence-node2 fence_ipmilan ip=192.0.2.202 username=fenceuser \
    password=change-me lanplus=1 pcmk_host_list=node2 op monitor interval=60s
pcs constraint location fence-node1 avoids node1
pcs constraint location fence-node2 avoids node2

# Every resource's priority 1, in a set of its own beside the examples'
# rsc-options (stickiness and failure handling).
pcs resource defaults set create id=two-node-priority meta priority=1
pcs property set stonith-enabled=true stonith-timeout=120s priority-fencing-delay=15s
