#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PMM Server, active/passive, on shared block storage, with Podman (pcs).
#
# One group, started in this order and stopped in the reverse one:
#   pmm-storage  mounts the shared LUN at /srv/pmm on the active node only
#   pmm-server   runs PMM Server in Podman on /srv/pmm, ready-checked
#   pmm-vip      the address PMM clients and users connect to
# The VIP comes last: clients reach a node only once PMM answers there, and on
# a move they lose the address first, so nothing writes to a PMM that is
# flushing its databases to disk.
#
# Before use, change: the LUN (/dev/disk/by-id/...), the mount point
# (/srv/pmm), the VIP (192.0.2.100/24) and the image tag. Every node needs
# the resource agents (pmm-ha-agents package), podman, and the image
# (or pull=missing and registry access; pmm-image keeps it there). Fencing
# must be configured first: see fencing.pcs.sh. Run this once, on any one
# node of a running cluster (pcs 0.10 or 0.11: RHEL 8.6+, RHEL 9, Debian 12,
# Ubuntu 22.04+).
set -e

# Stay where PMM runs after a failed node comes back: moving PMM back costs
# minutes of start-up for nothing. After 3 failures on a node, go elsewhere;
# forget failures after 10 minutes.
pcs resource defaults update resource-stickiness=100 migration-threshold=3 failure-timeout=10min

# The filesystem. Fencing (fencing.*) is what prevents a double mount;
# require_mmp=true would add ext4's multi-mount protection as a second guard,
# at a price: after a crash, ext4 waits twice the MMP interval (11 s or more)
# before it mounts the LUN again. owner=1000:1000: PMM 3 runs as uid 1000
# and needs /srv writable.
# On an SELinux-enforcing host (RHEL) PMM cannot write an unlabelled /srv:
# add options=context="system_u:object_r:container_file_t:s0", which labels
# the whole filesystem at mount time (pmm-server's selinux_relabel would
# relabel every file at each start instead).
# Depth 20 (write, fsync, read back) every minute catches a LUN gone
# read-only; a hung device fails the monitor within its timeout.
pcs resource create pmm-storage ocf:percona:pmm-storage \
    device=/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6 \
    directory=/srv/pmm fstype=ext4 owner=1000:1000 \
    op start timeout=120s \
    op stop timeout=120s \
    op monitor interval=20s timeout=40s \
    op monitor interval=61s timeout=60s OCF_CHECK_LEVEL=20 \
    --disabled

# PMM Server. Start waits until /v1/server/readyz answers (PMM needs 1-3 min,
# more on a first start or an upgrade): 300 s. Stop gives PMM most of its
# 330 s so VictoriaMetrics can flush (it may take up to 300 s); podman's own
# default of 10 s kills it mid-flush. require_mount (default) refuses a
# /srv/pmm that is not a mounted filesystem. health_failures=3: a PMM that
# stops answering is shown degraded for two monitors, then recovered.
pcs resource create pmm-server ocf:percona:pmm-server \
    image=docker.io/percona/pmm-server:3 data_dir=/srv/pmm runtime=podman network=host \
    health_failures=3 \
    op start timeout=300s \
    op stop timeout=330s \
    op monitor interval=10s timeout=30s \
    op monitor interval=60s timeout=30s OCF_CHECK_LEVEL=10 \
    --disabled

# The VIP. The NIC and prefix are found from the route to the address, like
# IPaddr2 does; 5 gratuitous ARPs tell the switches the address moved.
pcs resource create pmm-vip ocf:percona:pmm-vip \
    ip=192.0.2.100 cidr_netmask=24 arp_count=5 \
    op monitor interval=10s timeout=20s \
    --disabled

# One group, started in this order: the three were created disabled and are
# grouped now, so nothing starts before the group holds them all. (pcs 0.10,
# RHEL 8, and 0.11 both take this form; pcs 0.11.7 and later warn that
# create's --group is deprecated.)
pcs resource group add pmm pmm-storage pmm-server pmm-vip

# PMM's image on every node (pmm-image, a clone), checked every 5 minutes: a
# standby that lost the image, or never got it (a registry outage), shows as
# a failed action in crm_mon now, not when a failover needs the image, and
# its recovery (a restart) pulls it again. The same image and runtime as
# pmm-server. Each node publishes pmm-image=present|absent (crm_mon -A1).
pcs resource create pmm-image ocf:percona:pmm-image \
    image=docker.io/percona/pmm-server:3 runtime=podman pull=missing \
    op start timeout=600s \
    op monitor interval=300s timeout=30s \
    --disabled
pcs resource clone pmm-image interleave=true

# Keep PMM off a node known to lack its image. The rule bans only on
# "absent", which pmm-image writes when it has looked: an undefined
# attribute (the whole cluster starting, a node that just joined, attrd
# restarted and lost its values) bans nothing, so it can never stop a
# running PMM, and pmm-server pulls for itself there (pull=missing). A ban on
# "not_defined" would. No order between the two: PMM would wait for the
# slowest node's pull.
pcs constraint location pmm rule score=-INFINITY pmm-image eq absent
pcs resource enable pmm-storage pmm-server pmm-vip pmm-image
