// SPDX-License-Identifier: GPL-2.0-or-later
// The container engine's parameters, shared by the agents that talk to it
// (pmm-server and pmm-image): one name, default and description each.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pmmha/core/param.h"

namespace pmmha {

extern const ParamSpec kEngineRuntime;    // runtime: auto | podman | docker
extern const ParamSpec kEngineBackend;    // backend: auto | api | cli
extern const ParamSpec kEngineApiSocket;  // api_socket
extern const ParamSpec kEnginePull;       // pull: never | missing | always (alias allow_pull)

// An image reference as the engines take it: letters, digits and . _ - / :
// @ + (a digest), no blank and nothing a shell would read.
std::optional<std::string> CheckImageName(std::string_view value);

}  // namespace pmmha
