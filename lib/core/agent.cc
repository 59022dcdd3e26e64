// SPDX-License-Identifier: GPL-2.0-or-later
// The dispatcher: from argv and the environment to one action and one exit code.
#include "pmmha/core/agent.h"

#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "pmmha/core/text.h"

#include "command_line.h"

namespace pmmha {

std::string Context::StatePath(std::string_view suffix) const {
  return fmt::format("{}/{}-{}.{}", request_.rsc_tmp, agent_name_, request_.instance, suffix);
}

namespace {

const ActionSpec* FindHandler(const AgentSpec& agent, std::string_view action) {
  for (const ActionSpec& a : agent.actions) {
    if (a.name == action && a.handler != nullptr) return &a;
  }
  return nullptr;
}

// The timeout Pacemaker gives the operation, or the meta-data hint when run
// by hand without one.
std::chrono::milliseconds OperationTimeout(const AgentSpec& agent, const Request& request,
                                           const ActionSpec* action) {
  if (request.meta.timeout) return *request.meta.timeout;
  int hint_s = action != nullptr ? action->timeout_s : agent.validate_timeout_s;
  return std::chrono::seconds(hint_s);
}

int Finish(const Logger& log, std::string_view action, const Status& status) {
  if (!status.ok()) {
    log.Debug("{} returned {} ({})", action, static_cast<int>(status.code()),
              ExitCodeName(status.code()));
    // Not an error: running but degraded, or (a monitor) not running.
    const ExitCode c = status.code();
    const bool error = c != ExitCode::kDegraded && c != ExitCode::kDegradedPromoted &&
                       c != ExitCode::kNotRunning && c != ExitCode::kRunningPromoted;
    if (!status.reason().empty()) log.ExitReason(status.reason(), error);
  }
  return static_cast<int>(status.code());
}

int RunAction(const AgentSpec& agent, const CommandLine& cl, const Environment& env) {
  auto request = ParseRequest(env, cl.action);
  if (!request) return Finish(Logger(), cl.action, request.status());
  Logger log(env, agent.name, request->instance);

  const ActionSpec* action = nullptr;
  if (cl.action != "validate-all") {
    action = FindHandler(agent, cl.action);
    if (action == nullptr) {
      std::fputs(RenderUsage(agent).c_str(), stderr);
      return Finish(log, cl.action,
                    Status::Unimplemented("action {} is not implemented", Quote(cl.action)));
    }
  }
  Deadline deadline = Deadline::ForOperation(OperationTimeout(agent, *request, action));

  // What only a start would refuse (a stock agent's parameter we lack, two
  // names for one parameter that disagree) must not fail a stop or a probe.
  const bool strict =
      cl.action == "start" || cl.action == "validate-all" || cl.action == "reload-agent";
  auto params = ValidateParams(agent.params, env, agent.foreign, strict);
  if (!params) return Finish(log, cl.action, params.status());
  Context ctx(*request, *params, deadline, log, env, agent.name);
  if (agent.validate != nullptr) {
    Status valid = agent.validate(ctx);
    if (!valid.ok() || action == nullptr) return Finish(log, cl.action, valid);
  } else if (action == nullptr) {
    return Finish(log, cl.action, Status::Ok());
  }
  log.Debug("{} begins, {} ms left", cl.action, deadline.Remaining().count());
  Status result = action->handler(ctx);
  return Finish(log, cl.action, result);
}

}  // namespace

int RunAgent(const AgentSpec& agent, int argc, const char* const* argv, Environment env) {
  try {
    auto cl = ParseCommandLine(agent, argc, argv, env);
    if (!cl) {
      std::fputs(RenderUsage(agent).c_str(), stderr);
      return Finish(Logger(), "command line", cl.status());
    }
    switch (cl->kind) {
      case CommandLine::Kind::kMissingAction:
        std::fputs(RenderUsage(agent).c_str(), stderr);
        return static_cast<int>(ExitCode::kErrArgs);
      case CommandLine::Kind::kHelp: std::fputs(RenderHelp(agent).c_str(), stdout); return 0;
      case CommandLine::Kind::kVersion: fmt::print("{} {}\n", agent.name, agent.version); return 0;
      case CommandLine::Kind::kAction: break;
    }
    if (cl->action == "meta-data") {
      std::fputs(RenderMetadata(agent).c_str(), stdout);
      return 0;
    }
    if (cl->action == "usage") {
      std::fputs(RenderUsage(agent).c_str(), stdout);
      return 0;
    }
    return RunAction(agent, *cl, env);
  } catch (const std::exception& e) {
    return Finish(Logger(), "agent", Status::Error("internal error: {}", e.what()));
  } catch (...) {
    return Finish(Logger(), "agent", Status::Error("internal error"));
  }
}

int RunAgent(const AgentSpec& agent, int argc, char** argv) {
  return RunAgent(agent, argc, argv, Environment::FromProcess());
}

}  // namespace pmmha
