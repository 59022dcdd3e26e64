// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/engine_params.h"

#include <cctype>

#include <fmt/format.h>

#include "pmmha/server/server_params.h"

namespace pmmha {

namespace {

// podman's and docker's allow_pull: true pulls an image that is missing.
std::optional<std::string> PullFromAllowPull(std::string_view value) {
  return std::string(IsOcfTrue(value) ? "missing" : "never");
}

}  // namespace

const ParamSpec kEngineRuntime{
    .name = "runtime",
    .default_value = "auto",
    .shortdesc = "Container engine",
    .longdesc = "podman or docker; auto uses podman when it is installed, else docker.",
    .choices = {"auto", "podman", "docker"},
};
const ParamSpec kEngineBackend{
    .name = "backend",
    .default_value = "auto",
    .shortdesc = "How to talk to the engine",
    .longdesc =
        "api: the Docker-compatible Engine API on api_socket (dockerd's socket or "
        "the one 'podman system service' serves), one request per check and no "
        "process to start; cli: the podman/docker command. auto: api when the socket "
        "exists, else cli. Containers are always created with the CLI, because "
        "run_opts are CLI options.",
    .choices = {"auto", "api", "cli"},
};
const ParamSpec kEngineApiSocket{
    .name = "api_socket",
    .shortdesc = "Engine API socket",
    .longdesc =
        "The unix socket of the Engine API. Default: /run/podman/podman.sock for "
        "podman, /var/run/docker.sock (or DOCKER_HOST's unix:// path) for docker.",
    .check = CheckDataDir,
};
const ParamSpec kEnginePull{
    .name = "pull",
    .default_value = "missing",
    .shortdesc = "When to pull the image",
    .longdesc =
        "never: the image must be on the node; missing: pull it when absent; always: "
        "pull on every start.",
    .choices = {"never", "missing", "always"},
    .aliases = {{.name = "allow_pull",
                 .agent = "ocf:heartbeat:podman",
                 .type = ParamType::kBoolean,
                 .translate = PullFromAllowPull}},
};

std::optional<std::string> CheckImageName(std::string_view value) {
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
        std::string_view("._-/:@+").find(c) == std::string_view::npos) {
      return fmt::format("must be an image reference (letters, digits and ._-/:@), not {}",
                         c == ' ' ? std::string("a blank") : fmt::format("'{}'", c));
    }
  }
  if (value.front() == '/' || value.front() == '-' || value.front() == '.') {
    return std::string("must be an image reference such as docker.io/percona/pmm-server:3");
  }
  return std::nullopt;
}

}  // namespace pmmha
