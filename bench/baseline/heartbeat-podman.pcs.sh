#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The baseline of the fault campaign (bench/campaign.sh): PMM Server glued
# together from the stock agents, as users do today: Filesystem + podman +
# IPaddr2 in one group, with the same names, order, operations and timeouts as
# crm-examples/pmm-podman.pcs.sh (and the same placeholders, which the lab's
# "pmmlab apply" replaces). Not an example to follow: the heartbeat podman
# agent only checks that the container runs, so it cannot tell a hung PMM.
set -e
pcs resource defaults update resource-stickiness=100 migration-threshold=3 failure-timeout=10min

pcs resource create pmm-storage ocf:heartbeat:Filesystem \
    device=/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6 \
    directory=/srv/pmm fstype=ext4 \
    op start timeout=120s \
    op stop timeout=120s \
    op monitor interval=20s timeout=40s \
    op monitor interval=61s timeout=60s OCF_CHECK_LEVEL=20 \
    --group pmm

# PMM's data on the mount, host networking, as pmm-server runs it; the stop
# timeout is the same (the agent gives podman stop all of it but 10 s).
pcs resource create pmm-server ocf:heartbeat:podman \
    image=docker.io/percona/pmm-server:3 allow_pull=false \
    run_opts="--network host -v /srv/pmm:/srv" \
    op start timeout=300s \
    op stop timeout=330s \
    op monitor interval=10s timeout=30s \
    --group pmm

pcs resource create pmm-vip ocf:heartbeat:IPaddr2 \
    ip=192.0.2.100 cidr_netmask=24 \
    op monitor interval=10s timeout=20s \
    --group pmm
