// SPDX-License-Identifier: GPL-2.0-or-later
// Checks and derivations for pmm-server's parameters: the pieces of
// configuration logic that are worth testing on their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/environment.h"
#include "pmmha/core/status.h"

namespace pmmha {

// Value checks for the parameter table (an error message, or nothing).
std::optional<std::string> CheckContainerName(std::string_view value);
std::optional<std::string> CheckPublish(std::string_view value);
std::optional<std::string> CheckEnvList(std::string_view value);
std::optional<std::string> CheckRunOpts(std::string_view value);
std::optional<std::string> CheckHealthUrl(std::string_view value);
std::optional<std::string> CheckDataDir(std::string_view value);

// What run_opts may not say when the agent creates a container (start and
// validate-all; stop and monitor leave a container created so alone): a
// restart policy other than "no" in any spelling (--restart=X, --restart X),
// because the engine would then restart PMM behind the cluster's back, after
// a crash or a fence, without the require_mount check; and --stop-timeout,
// which the agent sets from stop_grace. kErrConfigured naming the option.
Status CheckRunOptsForCreate(const std::vector<std::string>& run_opts);

// Whether run_opts chooses the container's user or its user namespace
// (--user, -u, --userns, --uidmap, in any spelling): then the image's user
// (PMM 3's uid 1000) is not who writes /srv.
bool RunOptsSetUser(const std::vector<std::string>& run_opts);

// Whether the resource may run as configured with these meta attributes: a
// clone that is not promotable runs PMM on every node at once, which only
// PMM 3 HA (ha=true, and then as a promotable clone) is made for; with
// ha=false they would share one data set. kErrConfigured when refused.
Status CheckCloneMode(const MetaAttributes& meta, bool ha);

// A filesystem UUID as blkid prints it: 32 hex digits, dashes anywhere
// (8-4-4-4-12 as usual).
std::optional<std::string> CheckFsUuid(std::string_view value);

// "443:8443, 127.0.0.1:8080:8080/tcp" -> {"443:8443", "127.0.0.1:8080:8080/tcp"}.
std::vector<std::string> SplitPublish(std::string_view value);
// "A=1 B='x y'" -> {"A=1", "B=x y"} (shell quoting, no shell).
Result<std::vector<std::string>> ParseEnvList(std::string_view value);

// The resource name of an instance: the ":N" of an anonymous clone instance
// is dropped. One instance runs per node and Pacemaker may give it another
// number after a restart; the container and the state files must still be
// found, so they are named after this.
std::string ResourceNameOf(std::string_view instance);
// One entry of ha_peers: "NODE=ADDRESS" or "ADDRESS".
struct HaPeer {
  std::string node;     // the cluster node name; empty when not given
  std::string address;  // an IP address or a host name, no port
};
// "node1=10.0.0.11, node2=10.0.0.12" or "10.0.0.11,10.0.0.12". Fails with
// kErrConfigured on an empty list, an empty or malformed entry, a port, or a
// node or address given twice.
Result<std::vector<HaPeer>> ParseHaPeers(std::string_view value);
std::optional<std::string> CheckHaPeers(std::string_view value);
// One address (IP or host name) as ha_peers takes them, without a node name.
std::optional<std::string> CheckHaAddress(std::string_view value);

// PMM's leader check next to its readiness URL: the same scheme, host and
// port, path /v1/server/leaderHealthCheck.
std::string LeaderCheckUrl(std::string_view health_url);

// health_url with its host replaced by `peer` (an HA peer's address, IPv6
// put in brackets): the same port and path on another PMM Server.
std::string PeerHealthUrl(std::string_view health_url, std::string_view peer);

// The PMM major version an image tag implies: 2 for "...:2", "...:2.41.0";
// 3 otherwise (the current major, also for "latest" or a digest).
int PmmMajorFromImage(std::string_view image);

// The value of `name` in a list of NAME=VALUE entries (the first entry of
// that name); nothing when no entry sets it.
std::optional<std::string_view> EnvValue(const std::vector<std::string>& env,
                                         std::string_view name);

// The host ports of valid publish entries ("[ip:]host:container[/proto]").
std::vector<int> PublishedHostPorts(const std::vector<std::string>& publish);

// The fully qualified form of a short image name, as Docker Hub resolves it
// ("percona/pmm-server:3" -> "docker.io/percona/pmm-server:3",
// "pmm-server:3" -> "docker.io/library/pmm-server:3"); nothing when `image`
// names its registry already (a first component with '.' or ':', or
// "localhost"), as containers/image tells them apart. Podman with
// short-name-mode=enforcing (RHEL, Fedora) cannot pull a short name without
// a terminal to ask which registry.
std::optional<std::string> QualifiedImage(std::string_view image);

// The readiness URL: PMM's plain-HTTP port on loopback (host network) or the
// host port published for it (bridge), and the major version's readyz path.
// Fails with kErrConfigured when a bridge container publishes no PMM port.
Result<std::string> DeriveHealthUrl(int pmm_major, bool host_network,
                                    const std::vector<std::string>& publish);

}  // namespace pmmha
