// Checks and derivations for pmm-server's parameters: the pieces of
// configuration logic that are worth testing on their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmmha/status.h"

namespace pmmha {

// Value checks for the parameter table (an error message, or nothing).
std::optional<std::string> CheckContainerName(std::string_view value);
std::optional<std::string> CheckPublish(std::string_view value);
std::optional<std::string> CheckEnvList(std::string_view value);
std::optional<std::string> CheckRunOpts(std::string_view value);
std::optional<std::string> CheckHealthUrl(std::string_view value);
std::optional<std::string> CheckDataDir(std::string_view value);

// "443:8443, 127.0.0.1:8080:8080/tcp" -> {"443:8443", "127.0.0.1:8080:8080/tcp"}.
std::vector<std::string> SplitPublish(std::string_view value);
// "A=1 B='x y'" -> {"A=1", "B=x y"} (shell quoting, no shell).
Result<std::vector<std::string>> ParseEnvList(std::string_view value);

// The container name for a resource instance: "pmm" stays, the ":N" of an
// anonymous clone instance becomes "-N".
std::string ContainerNameFor(std::string_view instance);

// The PMM major version an image tag implies: 2 for "...:2", "...:2.41.0";
// 3 otherwise (the current major, also for "latest" or a digest).
int PmmMajorFromImage(std::string_view image);

// The readiness URL: PMM's plain-HTTP port on loopback (host network) or the
// host port published for it (bridge), and the major version's readyz path.
// Fails with kErrConfigured when a bridge container publishes no PMM port.
Result<std::string> DeriveHealthUrl(int pmm_major, bool host_network,
                                    const std::vector<std::string>& publish);

}  // namespace pmmha
