// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/server/image_agent.h"

#include <unistd.h>

#include <fmt/format.h>

#include "pmmha/core/state_file.h"
#include "pmmha/core/text.h"
#include "pmmha/server/server_params.h"

namespace pmmha {

namespace {

constexpr auto kAskAtStop = std::chrono::milliseconds(10000);

}  // namespace

bool ImageKeeper::Started() const { return access(config_.started_path.c_str(), F_OK) == 0; }

void ImageKeeper::Publish(bool present, const Deadline& deadline) {
  if (attributes_ == nullptr) return;
  WarnIfFailed(log_, attributes_->Set(kAttrImage, present ? "present" : "absent", deadline));
}

Status ImageKeeper::Start(const Deadline& deadline) {
  const std::string& image = config_.image;
  Status pulled;
  if (config_.pull == PullPolicy::kAlways) {
    log_.Info("pulling {}", image);
    pulled = engine_.Pull(image, deadline);
  }
  auto present = engine_.HasImage(image, deadline);
  if (!present) return present.status();
  if (!*present && config_.pull == PullPolicy::kMissing) {
    log_.Info("image {} is missing, pulling it", image);
    pulled = engine_.Pull(image, deadline);
    present = engine_.HasImage(image, deadline);
    if (!present) return present.status();
  }
  Publish(*present, deadline);
  if (!*present) {
    if (config_.pull == PullPolicy::kNever) {
      return Status::NotInstalled("image {} is not on this node and pull=never: load it here",
                                  Quote(image));
    }
    return Status::Error("image {} is not on this node: {}", Quote(image),
                         pulled.ok() ? std::string("the pull left none") : pulled.reason());
  }
  if (!pulled.ok()) {
    // pull=always and the registry did not answer: the image here serves.
    log_.Warn("{}; keeping the image this node has", pulled.reason());
  }
  if (Status s = ReplaceFile(config_.started_path, "1\n"); !s.ok()) return s;
  return Status::Ok();
}

Status ImageKeeper::Stop(const Deadline& deadline) {
  unlink(config_.started_path.c_str());
  auto present = engine_.HasImage(config_.image,
                                  deadline.Within(std::min(deadline.Remaining() / 2, kAskAtStop)));
  if (!present) {
    log_.Warn("pmm-image left as it was: {}", present.status().reason());
    return Status::Ok();
  }
  Publish(*present, deadline);
  return Status::Ok();
}

Status ImageKeeper::Monitor(const Deadline& deadline, bool probe) {
  if (!Started()) {
    if (probe) return Status::NotRunning();
    return Status::NotRunning("pmm-image was not started on this node");
  }
  auto present = engine_.HasImage(config_.image, deadline);
  if (!present) return present.status();
  Publish(*present, deadline);
  if (*present) return Status::Ok();
  return Status::Error("image {} is gone from this node; {}", Quote(config_.image),
                       config_.pull == PullPolicy::kNever
                           ? "pull=never: load it here, then clean up the resource"
                           : "recovery pulls it again");
}

namespace {

Status Resolve(ImageAction action, const ImageParams& p, Context& ctx, ServerRuntime& runtime,
               ServerSetup& setup, ImageConfig& config) {
  const bool strict = action == ImageAction::kStart || action == ImageAction::kValidate;
  ServerParams engine_params;
  engine_params.runtime = p.runtime;
  engine_params.backend = p.backend;
  engine_params.api_socket = p.api_socket;
  if (Status s = ResolveEngine(engine_params, ctx.env(), runtime.node(),
                               strict ? Resolution::kStrict : Resolution::kTolerant, setup);
      !s.ok()) {
    return s;
  }
  config.image = p.image;
  config.pull = p.pull == "never"    ? PullPolicy::kNever
                : p.pull == "always" ? PullPolicy::kAlways
                                     : PullPolicy::kMissing;
  config.started_path = fmt::format("{}/pmm-image-{}.started", ctx.request().rsc_tmp,
                                    ResourceNameOf(ctx.request().instance));
  if (strict && config.pull != PullPolicy::kNever && setup.kind == EngineKind::kPodman &&
      !setup.binary.empty()) {
    if (auto qualified = QualifiedImage(p.image)) {
      return Status::NotConfigured(
          "image {} is a short name: podman cannot pull it unattended where short-name-mode is "
          "enforcing (RHEL, Fedora); use {} (or pull=never with the image on every node)",
          Quote(p.image), Quote(*qualified));
    }
  }
  return Status::Ok();
}

Status RunOnRealNode(ImageAction action, const ImageParams& params, Context& ctx) {
  auto runtime = MakeServerRuntime();
  return RunImageAction(action, params, ctx, *runtime);
}

}  // namespace

Status RunImageAction(ImageAction action, const ImageParams& params, Context& ctx,
                      ServerRuntime& runtime) {
  ServerSetup setup;
  ImageConfig config;
  if (Status s = Resolve(action, params, ctx, runtime, setup, config); !s.ok()) return s;
  if (action == ImageAction::kValidate) return Status::Ok();
  for (const auto& note : setup.notes) ctx.log().Info("{}", note);
  std::unique_ptr<ContainerEngine> engine =
      setup.binary.empty() ? MakeUnavailableEngine(setup.no_engine) : runtime.Engine(setup);
  std::unique_ptr<NodeAttributes> attributes = runtime.Attributes(ctx.request(), ctx.env());
  ImageKeeper keeper(config, *engine, attributes.get(), ctx.log());
  switch (action) {
    case ImageAction::kStart: return keeper.Start(ctx.deadline());
    case ImageAction::kStop: return keeper.Stop(ctx.deadline());
    case ImageAction::kMonitor: return keeper.Monitor(ctx.deadline(), ctx.IsProbe());
    case ImageAction::kValidate: break;
  }
  return Status::Ok();
}

Status ImageStart(const ImageParams& params, Context& ctx) {
  return RunOnRealNode(ImageAction::kStart, params, ctx);
}
Status ImageStop(const ImageParams& params, Context& ctx) {
  return RunOnRealNode(ImageAction::kStop, params, ctx);
}
Status ImageMonitor(const ImageParams& params, Context& ctx) {
  return RunOnRealNode(ImageAction::kMonitor, params, ctx);
}
Status ImageValidate(const ImageParams& params, Context& ctx) {
  if (ctx.request().action != "validate-all") return Status::Ok();
  return RunOnRealNode(ImageAction::kValidate, params, ctx);
}

}  // namespace pmmha
