#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PMM Server, active/passive, on a shared LVM volume group (pcs), RHEL's
# supported pattern for shared block storage: the volume group is active on
# one node at a time (LVM's system ID names its owner), and the group is
#   pmm-lvm      activates the volume group pmm_vg on this node only
#   pmm-storage  mounts its logical volume at /srv/pmm
#   pmm-server   runs PMM Server in Podman on /srv/pmm, ready-checked
#   pmm-vip      the address PMM clients and users connect to
# pmm-podman.pcs.sh explains pmm-server's and pmm-vip's settings.
#
# Before use, on every node: system_id_source = "uname" in /etc/lvm/lvm.conf,
# and no automatic activation of the shared volume group. On one node:
#   vgcreate --setautoactivation n pmm_vg /dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6
#   lvcreate -n srv -l 100%FREE pmm_vg && mkfs.xfs /dev/pmm_vg/srv
# (RHEL 8: vgcreate without --setautoactivation, and the volume group left
# out of auto_activation_volume_list.) Change the VIP and the image tag.
# Fencing first (fencing.pcs.sh). Run this once, on any one node of a running
# cluster (pcs 0.10 or 0.11).
set -e

pcs resource defaults update resource-stickiness=100 migration-threshold=3 failure-timeout=10min

pcs resource create pmm-lvm ocf:heartbeat:LVM-activate \
    vgname=pmm_vg vg_access_mode=system_id \
    op start timeout=90s \
    op stop timeout=90s \
    op monitor interval=30s timeout=90s \
    --disabled

# The logical volume by its device path: it exists only where pmm-lvm has
# activated the volume group, so pmm-storage cannot mount it elsewhere.
pcs resource create pmm-storage ocf:percona:pmm-storage \
    device=/dev/pmm_vg/srv directory=/srv/pmm fstype=xfs owner=1000:1000 \
    op start timeout=120s \
    op stop timeout=120s \
    op monitor interval=20s timeout=40s \
    op monitor interval=61s timeout=60s OCF_CHECK_LEVEL=20 \
    --disabled

pcs resource create pmm-server ocf:percona:pmm-server \
    image=docker.io/percona/pmm-server:3 data_dir=/srv/pmm runtime=podman network=host \
    health_failures=3 \
    op start timeout=300s \
    op stop timeout=330s \
    op monitor interval=10s timeout=30s \
    op monitor interval=60s timeout=30s OCF_CHECK_LEVEL=10 \
    --disabled

pcs resource create pmm-vip ocf:percona:pmm-vip \
    ip=192.0.2.100 cidr_netmask=24 arp_count=5 \
    op monitor interval=10s timeout=20s \
    --disabled

# One group, started in this order: created disabled, grouped, then enabled
# (the form pcs 0.10 and 0.11 both take).
pcs resource group add pmm pmm-lvm pmm-storage pmm-server pmm-vip
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

pcs resource enable pmm-lvm pmm-storage pmm-server pmm-vip pmm-image
