// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "pmmha/core/agent.h"

using namespace pmmha;

namespace {

Status Nothing(Context&) { return Status::Ok(); }

const ParamSpec kIp{.name = "ip",
                    .flags = kRequired | kUnique,
                    .shortdesc = "The address",
                    .longdesc = "Address <v4> & \"v6\"."};
const ParamSpec kMode{.name = "arp_mode",
                      .default_value = "request",
                      .flags = kReloadable,
                      .shortdesc = "Mode",
                      .choices = {"request", "reply"}};
const ParamSpec kCount{.name = "arp_count",
                       .type = ParamType::kInteger,
                       .default_value = "5",
                       .shortdesc = "Count",
                       .min = 0,
                       .max = 50};
const ParamSpec kLink{.name = "check_link",
                      .type = ParamType::kBoolean,
                      .default_value = "true",
                      .shortdesc = "Link"};

AgentSpec Agent(bool with_reload) {
  AgentSpec a{
      .name = "pmm-x",
      .version = "1.2.3",
      .shortdesc = "Short",
      .longdesc = "Long",
      .params = {&kIp, &kCount, &kLink},
      .actions = {
          {.name = "start", .timeout_s = 300, .handler = Nothing},
          {.name = "monitor", .timeout_s = 20, .handler = Nothing, .interval_s = 10, .depth = 0},
          {.name = "monitor",
           .timeout_s = 30,
           .handler = Nothing,
           .interval_s = 11,
           .depth = 0,
           .role = "Promoted"}}};
  if (with_reload) {
    a.params.push_back(&kMode);
    a.actions.push_back({.name = "reload-agent", .timeout_s = 20, .handler = Nothing});
  }
  return a;
}

}  // namespace

TEST_CASE("meta-data carries every table entry once, escaped") {
  std::string xml = RenderMetadata(Agent(false));
  CHECK_THAT(xml, Catch::StartsWith("<?xml version=\"1.0\"?>\n"
                                    "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
                                    "<resource-agent name=\"pmm-x\" version=\"1.2.3\">\n"
                                    "<version>1.1</version>\n"));
  CHECK_THAT(xml, Catch::Contains("<parameter name=\"ip\" required=\"1\" unique=\"1\">"));
  CHECK_THAT(xml, Catch::Contains("Address &lt;v4&gt; &amp; &quot;v6&quot;."));
  CHECK_THAT(xml, Catch::Contains("<content type=\"integer\" default=\"5\" />"));
  CHECK_THAT(xml, Catch::Contains("Range: 0 to 50."));
  CHECK_THAT(xml, Catch::Contains("<content type=\"boolean\" default=\"true\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"start\" timeout=\"300s\" />"));
  CHECK_THAT(xml, Catch::Contains(
                      "<action name=\"monitor\" timeout=\"20s\" interval=\"10s\" depth=\"0\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"monitor\" timeout=\"30s\" interval=\"11s\" "
                                  "depth=\"0\" role=\"Promoted\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"meta-data\" timeout=\"5s\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"validate-all\" timeout=\"20s\" />"));
  CHECK_THAT(xml, !Catch::Contains("reloadable"));
}

TEST_CASE("reloadable parameters and reload-agent extend the old DTD in the document") {
  std::string xml = RenderMetadata(Agent(true));
  CHECK_THAT(xml, Catch::Contains("<!ATTLIST parameter reloadable (1|0) \"0\">"));
  CHECK_THAT(xml, Catch::Contains("<!ATTLIST action name CDATA #REQUIRED>"));
  CHECK_THAT(xml, Catch::Contains("<parameter name=\"arp_mode\" unique=\"0\" reloadable=\"1\">"));
  CHECK_THAT(xml, Catch::Contains("Allowed values: request, reply."));
  CHECK_THAT(xml, Catch::Contains("<action name=\"reload-agent\" timeout=\"20s\" />"));
}

TEST_CASE("usage lists the implemented actions once") {
  std::string usage = RenderUsage(Agent(true));
  CHECK_THAT(usage, Catch::Contains("{start|monitor|reload-agent|validate-all|meta-data|usage}"));
}
