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
                                    "<!DOCTYPE resource-agent [\n"));
  CHECK_THAT(xml, Catch::Contains("]>\n<resource-agent name=\"pmm-x\" version=\"1.2.3\">\n"
                                  "<version>1.1</version>\n"));
  CHECK_THAT(xml, Catch::Contains(
                      "<parameter name=\"ip\" required=\"1\" unique=\"1\" unique-group=\"ip\">"));
  CHECK_THAT(xml, Catch::Contains("Address &lt;v4&gt; &amp; &quot;v6&quot;."));
  CHECK_THAT(xml, Catch::Contains("<content type=\"integer\" default=\"5\" />"));
  CHECK_THAT(xml, Catch::Contains("Count. Range: 0 to 50."));
  CHECK_THAT(xml, Catch::Contains("<content type=\"boolean\" default=\"true\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"start\" timeout=\"300s\" />"));
  CHECK_THAT(xml, Catch::Contains(
                      "<action name=\"monitor\" timeout=\"20s\" interval=\"10s\" depth=\"0\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"monitor\" timeout=\"30s\" interval=\"11s\" "
                                  "depth=\"0\" role=\"Promoted\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"meta-data\" timeout=\"5s\" />"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"validate-all\" timeout=\"20s\" />"));
  CHECK_THAT(xml, !Catch::Contains("reloadable=\"1\""));
}

TEST_CASE("the document declares OCF 1.1's additions to ra-api-1.dtd itself") {
  std::string xml = RenderMetadata(Agent(true));
  // A DTD cannot redefine ra-api-1.dtd's parameter and content elements, so
  // the document carries the whole grammar rather than a reference to it.
  CHECK_THAT(xml, !Catch::Contains("SYSTEM \"ra-api-1.dtd\""));
  CHECK_THAT(xml,
             Catch::Contains("<!ELEMENT parameter (longdesc+,shortdesc+,deprecated?,content)>"));
  CHECK_THAT(xml, Catch::Contains("unique-group CDATA #IMPLIED reloadable (1|0) \"0\">"));
  CHECK_THAT(xml, Catch::Contains("<!ELEMENT content (option*)>"));
  CHECK_THAT(xml, Catch::Contains("<!ATTLIST action name CDATA #REQUIRED"));
}

TEST_CASE("an enumeration is a select with its options, a reloadable parameter says so") {
  std::string xml = RenderMetadata(Agent(true));
  CHECK_THAT(xml, Catch::Contains("<parameter name=\"arp_mode\" unique=\"0\" reloadable=\"1\">"));
  CHECK_THAT(xml, Catch::Contains("Mode. Allowed values: request, reply."));
  CHECK_THAT(xml, Catch::Contains("<content type=\"select\" default=\"request\">\n"
                                  "<option value=\"request\" />\n"
                                  "<option value=\"reply\" />\n"
                                  "</content>\n"));
  CHECK_THAT(xml, Catch::Contains("<action name=\"reload-agent\" timeout=\"20s\" />"));
}

TEST_CASE("another agent's name for a parameter is declared deprecated, replaced with ours") {
  const ParamSpec label{.name = "label",
                        .shortdesc = "Label",
                        .aliases = {{.name = "iflabel", .agent = "ocf:heartbeat:IPaddr2"}}};
  const ParamSpec pull{
      .name = "pull",
      .default_value = "missing",
      .shortdesc = "Pull",
      .choices = {"never", "missing"},
      .aliases = {
          {.name = "allow_pull", .agent = "ocf:heartbeat:podman", .type = ParamType::kBoolean}}};
  AgentSpec a = Agent(false);
  a.params = {&label, &pull};
  std::string xml = RenderMetadata(a);
  CHECK_THAT(xml, Catch::Contains("<parameter name=\"iflabel\">\n<longdesc lang=\"en\">\n"
                                  "ocf:heartbeat:IPaddr2's name for label, accepted so that its "
                                  "configuration works unchanged; use label.\n</longdesc>\n"));
  CHECK_THAT(xml, Catch::Contains("<deprecated><replaced-with name=\"label\" /></deprecated>\n"
                                  "<content type=\"string\" />\n</parameter>"));
  // The alias's own type; no default (ours applies when neither is set).
  CHECK_THAT(xml, Catch::Contains("<deprecated><replaced-with name=\"pull\" /></deprecated>\n"
                                  "<content type=\"boolean\" />\n</parameter>"));
  // Right after the parameter it stands for.
  CHECK(xml.find("name=\"iflabel\"") > xml.find("name=\"label\""));
  CHECK(xml.find("name=\"iflabel\"") < xml.find("name=\"pull\""));
}

TEST_CASE("usage lists the implemented actions once") {
  std::string usage = RenderUsage(Agent(true));
  CHECK_THAT(usage, Catch::Contains("{start|monitor|reload-agent|validate-all|meta-data|usage}"));
}
