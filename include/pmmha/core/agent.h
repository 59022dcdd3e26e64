// SPDX-License-Identifier: GPL-2.0-or-later
// What an agent is made of, and the one dispatcher that runs it.
//
// An agent is an AgentSpec: its name and descriptions, its parameter table,
// its action table (meta-data hints and handlers) and an optional
// agent-specific validation. agents/<name>.cc builds one and hands it to
// RunAgent from main(). The dispatcher owns the OCF rules:
//   - meta-data and usage always succeed and need no parameters or root;
//   - every other action validates first (table, then the agent's check);
//     validate-all returns just that;
//   - an unknown action prints the usage and returns 3;
//   - the exit reason is written once, as the last line on stderr;
//   - no exception escapes: one catch-all maps it to 1 with a reason.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pmmha/core/deadline.h"
#include "pmmha/core/environment.h"
#include "pmmha/core/log.h"
#include "pmmha/core/param.h"
#include "pmmha/core/status.h"
#include "pmmha/core/version.h"

namespace pmmha {

// Everything an action handler may use.
class Context {
 public:
  Context(const Request& request, const Params& params, const Deadline& deadline, const Logger& log,
          const Environment& env, std::string_view agent_name)
      : request_(request),
        params_(params),
        deadline_(deadline),
        log_(log),
        env_(env),
        agent_name_(agent_name) {}

  const Request& request() const { return request_; }
  const Params& params() const { return params_; }
  const Deadline& deadline() const { return deadline_; }
  const Logger& log() const { return log_; }
  const Environment& env() const { return env_; }
  std::string_view agent_name() const { return agent_name_; }
  bool IsProbe() const { return request_.IsProbe(); }

  // A per-resource scratch file in HA_RSCTMP ("<dir>/<agent>-<instance>.<suffix>");
  // the directory lives until reboot, which is what runtime state wants.
  std::string StatePath(std::string_view suffix) const;

 private:
  const Request& request_;
  const Params& params_;
  const Deadline& deadline_;
  const Logger& log_;
  const Environment& env_;
  std::string_view agent_name_;
};

using ActionHandler = Status (*)(Context& ctx);

// One line of the action table. Several lines may share a name (for example
// monitor at two depths or for two roles); the meta-data lists every line and
// the dispatcher runs the handler of the first line with that name.
struct ActionSpec {
  std::string_view name;
  int timeout_s;
  ActionHandler handler = nullptr;  // nullptr: a meta-data hint only
  int interval_s = 0;               // 0: no interval hint
  int depth = -1;                   // -1: no depth hint
  std::string_view role = {};       // "Promoted" / "Unpromoted" or empty
};

struct AgentSpec {
  std::string_view name;                       // pmm-vip: also the log tag and the binary name
  std::string_view version = kProjectVersion;  // the agent's, not the OCF API's
  std::string_view shortdesc;
  std::string_view longdesc;
  ParamTable params;
  // Stock agents' parameters this one refuses rather than ignores.
  std::vector<ForeignParam> foreign = {};
  std::vector<ActionSpec> actions;  // without meta-data, usage, validate-all
  int validate_timeout_s = 20;
  // Checks beyond the table (binaries present, a NIC that exists, ...); runs
  // before every action but meta-data and usage. May look at ctx.IsProbe().
  ActionHandler validate = nullptr;
};

// The OCF 1.1 meta-data document of `agent`.
std::string RenderMetadata(const AgentSpec& agent);
// The usage text: actions and, for humans, the command-line form.
std::string RenderUsage(const AgentSpec& agent);

// Runs the action the environment and command line ask for, exactly once;
// returns the process exit code. `env` is the process environment.
int RunAgent(const AgentSpec& agent, int argc, const char* const* argv, Environment env);
// main(): RunAgent with the process environment.
int RunAgent(const AgentSpec& agent, int argc, char** argv);

}  // namespace pmmha
