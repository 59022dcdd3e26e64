#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PMM 3 HA: a PMM Server on every node, the VIP on the one PMM elects as its
# leader, with Podman (pcs).
#
# PMM 3 HA runs several PMM Servers against external PostgreSQL, ClickHouse
# and VictoriaMetrics; they elect a leader among themselves (Raft). Pacemaker
# cannot choose that leader, so it does not try:
#   pmm-server-clone  a promotable clone: every node runs its PMM Server; the
#                     agent asks PMM who leads (/v1/server/leaderHealthCheck)
#                     and sets the promotion score, so Pacemaker promotes the
#                     instance where PMM leads
#   pmm-vip           the address users and clients connect to, kept with the
#                     promoted instance
# When PMM elects another leader, the next monitor on that node sees it and
# the promoted role and the VIP move there. While PMM has no leader nothing
# moves; when the leader's node fails, the VIP is down until PMM has elected a
# new leader and that node's next monitor (twice a second here) has seen it.
#
# Before use, change: the node names and addresses in ha_peers (one
# NODE=IP per cluster node that runs PMM; NODE is the cluster node name, IP
# an address, not a host name: PMM advertises IP addresses only),
# the external databases in env, the key file, the VIP (192.0.2.100/24) and
# the image tag. Put the database passwords in an env_file (root-only,
# env_file=/etc/pmm-ha/pmm.env) rather than in the CIB. Every node needs the
# resource agents (pmm-ha-agents package), podman, the image, the same
# encryption key file (made once, copied to every node, 0640 root:1000: PMM
# runs as uid 1000), and the HA ports open between the nodes (TCP 9097
# Raft, TCP+UDP 9096 and 9094 gossip). Fencing must be configured first: see
# fencing.pcs.sh. Run this once, on any one node of a running cluster (pcs
# 0.10 or 0.11: RHEL 8.6+, RHEL 9, Debian 12, Ubuntu 22.04+).
set -e

pcs resource defaults update resource-stickiness=100 migration-threshold=3 failure-timeout=10min

# PMM Server on every node. /srv/pmm-ha is each node's own directory (PMM's
# databases are external; /srv keeps the node's HA state and certificates),
# so require_mount=false. Make it on every node, owned by PMM's user:
#   mkdir -p /srv/pmm-ha && chown 1000:1000 /srv/pmm-ha
# (PMM 3 runs as uid 1000 and exits on a /srv it cannot write; start refuses
# such a data_dir, naming the fix). The monitors of the two roles need different
# intervals; the unpromoted one is what notices a new leader. The new leader's
# score outranks the former leader's at once (whatever the stickiness), so the
# promoted role and the VIP move in the transition that monitor starts: every
# 500 ms here (the monitor costs a few milliseconds; Pacemaker takes intervals
# in ms). health_grace=18 keeps the grace PMM gets after an outage of its
# databases at 18 s however often the monitors run (see db-outage in
# lab/faults); health_failures alone counts monitors.
# On an SELinux-enforcing host (RHEL) add selinux_relabel=shared: podman
# labels the small per-node directory for containers (:z).
pcs resource create pmm-server ocf:percona:pmm-server \
    image=docker.io/percona/pmm-server:3 data_dir=/srv/pmm-ha require_mount=false \
    runtime=podman network=host health_failures=3 health_grace=18 \
    ha=true ha_peers=node1=192.0.2.11,node2=192.0.2.12,node3=192.0.2.13 \
    ha_key_file=/etc/pmm-ha/encryption.key \
    env="PMM_DISABLE_BUILTIN_POSTGRES=1 PMM_POSTGRES_ADDR=192.0.2.21:5432 PMM_DISABLE_BUILTIN_CLICKHOUSE=1 PMM_CLICKHOUSE_ADDR=192.0.2.22:9000 PMM_VM_URL=http://192.0.2.23:8428" \
    op start timeout=300s \
    op stop timeout=330s \
    op promote timeout=30s \
    op demote timeout=30s \
    op monitor interval=3s role=Promoted timeout=30s \
    op monitor interval=500ms role=Unpromoted timeout=30s \
    --disabled
# A promotable clone, one promoted instance: made in steps that pcs 0.10
# (RHEL 8) and 0.11 both take (pcs 0.11.7 and later warn about promotable
# options given to create without 'meta').
pcs resource promotable pmm-server
pcs resource meta pmm-server-clone promoted-max=1 promoted-node-max=1 clone-node-max=1

# The VIP, only where PMM leads, and only once that instance is promoted.
# The order is one-way (symmetrical=false): when the role moves, the former
# leader's demote need not wait for the VIP to go (its PMM leads no longer;
# demote changes nothing in it), so the new leader is promoted one step sooner.
pcs resource create pmm-vip ocf:percona:pmm-vip \
    ip=192.0.2.100 cidr_netmask=24 arp_count=5 \
    op monitor interval=10s timeout=20s
pcs constraint colocation add pmm-vip with Promoted pmm-server-clone INFINITY
# shellcheck disable=SC1010 # "then" is a word of pcs's order syntax, not the shell's
pcs constraint order promote pmm-server-clone then start pmm-vip symmetrical=false

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

# No PMM instance on a node known to lack the image (it could not start
# there). The rule bans only on "absent", which pmm-image writes when it has
# looked: an undefined attribute (the whole cluster starting, a node that
# just joined, attrd restarted) bans nothing, so it never stops a running
# PMM, and pmm-server pulls for itself there (pull=missing).
pcs constraint location pmm-server-clone rule score=-INFINITY pmm-image eq absent

# Everything is in place: PMM starts on every node.
pcs resource enable pmm-server pmm-image
