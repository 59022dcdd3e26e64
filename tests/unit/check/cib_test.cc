// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/check/cib.h"

#include <catch2/catch.hpp>

using namespace pmmha;
using std::chrono::milliseconds;

TEST_CASE("durations as Pacemaker reads them") {
  static const struct {
    const char* text;
    long long ms;  // -1: refused
  } cases[] = {
      {"90", 90000},    {"90s", 90000},  {"90sec", 90000},  {"500ms", 500},   {"5min", 300000},
      {"5m", 300000},   {"1h", 3600000}, {"2hr", 7200000},  {"PT5M", 300000}, {"PT1H30S", 3630000},
      {" 30s ", 30000}, {"0", 0},        {"P1D", 86400000}, {"", -1},         {"s", -1},
      {"5 weeks", -1},  {"-5s", -1},     {"PT", -1},        {"PT5X", -1},     {"1.5s", -1},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto d = ParseCibDuration(c.text);
    if (c.ms < 0) {
      CHECK_FALSE(d);
    } else {
      REQUIRE(d);
      CHECK(d->count() == c.ms);
    }
  }
}

TEST_CASE("scores and roles") {
  CHECK(ParseCibScore("INFINITY") == 1000000);
  CHECK(ParseCibScore("+inf") == 1000000);
  CHECK(ParseCibScore("-INFINITY") == -1000000);
  CHECK(ParseCibScore("-inf") == -1000000);
  CHECK(ParseCibScore("100") == 100);
  CHECK(ParseCibScore("-20") == -20);
  CHECK(ParseCibScore("5000000") == 1000000);
  CHECK_FALSE(ParseCibScore("lots"));
  CHECK(CanonicalRole("Master") == "Promoted");
  CHECK(CanonicalRole("Slave") == "Unpromoted");
  CHECK(CanonicalRole("Promoted") == "Promoted");
  CHECK(CanonicalRole("") == "");
}

TEST_CASE("a CIB: resources, ops, constraints, nodes and their attributes") {
  const char* xml = R"(<cib><configuration>
  <crm_config><cluster_property_set id="o">
    <nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
  <nodes><node id="1" uname="node1"/><node id="2" uname="node2" type="member"/>
    <node id="3" uname="r1" type="remote"/></nodes>
  <resources>
    <template id="t" class="ocf" provider="percona" type="pmm-vip">
      <instance_attributes id="t-ia"><nvpair id="t1" name="cidr_netmask" value="24"/>
        <nvpair id="t2" name="ip" value="192.0.2.1"/></instance_attributes>
    </template>
    <primitive id="vip2" template="t"><instance_attributes id="v-ia">
      <nvpair id="v1" name="ip" value="192.0.2.2"/></instance_attributes></primitive>
    <group id="g">
      <primitive id="a" class="ocf" provider="percona" type="pmm-storage">
        <meta_attributes id="a-m"><nvpair id="a1" name="target-role" value="Stopped"/></meta_attributes>
      </primitive>
      <primitive id="b" class="ocf" provider="percona" type="pmm-server">
        <operations>
          <op id="b-stop" name="stop" interval="0s" timeout="330s"/>
          <op id="b-mon" name="monitor" interval="10s">
            <meta_attributes id="b-mon-m"><nvpair id="b2" name="timeout" value="30s"/></meta_attributes>
            <instance_attributes id="b-mon-i"><nvpair id="b3" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes>
          </op>
          <op id="b-mon2" name="monitor" interval="5s" role="Master"/>
        </operations>
      </primitive>
    </group>
    <master id="ms"><meta_attributes id="ms-m"><nvpair id="m1" name="master-max" value="1"/></meta_attributes>
      <primitive id="c" class="ocf" provider="percona" type="pmm-server"/></master>
    <clone id="cl"><meta_attributes id="cl-m"><nvpair id="m2" name="promotable" value="true"/></meta_attributes>
      <group id="cg"><primitive id="d" class="stonith" type="fence_x"/></group></clone>
  </resources>
  <constraints>
    <rsc_order id="o1" first="a" then="vip2" kind="Optional"/>
    <rsc_order id="o2" first="ms" first-action="promote" then="vip2" symmetrical="false"/>
    <rsc_order id="o3" score="0" first="a" then="b"/>
    <rsc_order id="o4"><resource_set id="s1"><resource_ref id="a"/><resource_ref id="b"/></resource_set>
      <resource_set id="s2" action="promote"><resource_ref id="c"/></resource_set></rsc_order>
    <rsc_colocation id="c1" rsc="vip2" with-rsc="ms" with-rsc-role="Master" score="INFINITY"/>
    <rsc_colocation id="c2" score="INFINITY"><resource_set id="s3"><resource_ref id="a"/>
      <resource_ref id="b"/></resource_set></rsc_colocation>
    <rsc_location id="l1" rsc="g" node="node1" score="-INFINITY"/>
    <rsc_location id="l2" rsc="g"><rule id="r" score="-INFINITY"><expression id="e"
      attribute="pmm-image" operation="eq" value="absent"/></rule></rsc_location>
  </constraints>
  <op_defaults><meta_attributes id="od"><nvpair id="od1" name="timeout" value="60s"/></meta_attributes></op_defaults>
  </configuration>
  <status><node_state id="2" uname="node2" crmd="online"><transient_attributes id="2">
    <instance_attributes id="st-2"><nvpair id="st1" name="pmm-image" value="present"/></instance_attributes>
  </transient_attributes></node_state></status></cib>)";
  auto r = ParseCib(xml);
  REQUIRE(r.ok());
  const Cib& cib = *r;
  CHECK(cib.Property("stonith-enabled") == "false");
  CHECK(cib.op_defaults.at("timeout") == "60s");
  REQUIRE(cib.nodes.size() == 2);  // the remote node is not a cluster node
  CHECK(cib.has_status);
  CHECK_FALSE(cib.nodes[0].online);
  CHECK(cib.nodes[1].online);
  CHECK(cib.nodes[1].attributes.at("pmm-image") == "present");

  const CibPrimitive* vip = cib.Primitive("vip2");
  REQUIRE(vip);
  CHECK(vip->Agent() == "ocf:percona:pmm-vip");
  CHECK(vip->Param("ip") == "192.0.2.2");  // its own value over the template's
  CHECK(vip->Param("cidr_netmask") == "24");
  CHECK(vip->Param("nic", "none") == "none");

  const CibPrimitive* b = cib.Primitive("b");
  REQUIRE(b);
  CHECK(b->group == "g");
  CHECK(cib.Top(*b) == "g");
  REQUIRE(b->ops.size() == 3);
  CHECK(b->ops[1].timeout == "30s");
  CHECK(b->ops[1].depth == "10");
  CHECK(b->ops[2].role == "Promoted");
  CHECK(cib.Primitive("a")->meta.at("target-role") == "Stopped");

  REQUIRE(cib.Clone("ms"));
  CHECK(cib.Clone("ms")->promotable);
  CHECK(cib.Primitive("c")->clone == "ms");
  CHECK(cib.Clone("cl")->promotable);
  CHECK(cib.Primitive("d")->clone == "cl");
  CHECK(cib.Primitive("d")->group == "cg");
  CHECK(cib.Top(*cib.Primitive("d")) == "cl");
  CHECK(cib.Primitive("d")->IsStonith());
  CHECK(cib.Contents("cl").size() == 1);
  CHECK(cib.Contents("g").size() == 2);

  // Orders: o1 optional, o3 a legacy zero score, o4's sets give a->b, a->c, b->c.
  REQUIRE(cib.orders.size() == 6);
  CHECK_FALSE(cib.orders[0].mandatory);
  CHECK(cib.orders[1].first_action == "promote");
  CHECK_FALSE(cib.orders[1].symmetrical);
  CHECK_FALSE(cib.orders[2].mandatory);
  CHECK(cib.orders[3].first == "a");
  CHECK(cib.orders[3].then == "b");
  CHECK(cib.orders[5].then == "c");
  CHECK(cib.orders[5].then_action == "promote");
  REQUIRE(cib.colocations.size() == 2);
  CHECK(cib.colocations[0].with_role == "Promoted");
  CHECK(cib.colocations[1].rsc == "b");  // in a set, each member goes with the one before
  CHECK(cib.colocations[1].with == "a");
  REQUIRE(cib.locations.size() == 2);
  CHECK(cib.locations[0].node == "node1");
  CHECK(cib.locations[1].has_rule);
  CHECK(cib.locations[1].rule_attributes == std::vector<std::string>{"pmm-image"});
}

TEST_CASE("what is not a CIB is refused") {
  CHECK_FALSE(ParseCib("").ok());
  CHECK_FALSE(ParseCib("<cib><configuration>").ok());
  CHECK_FALSE(ParseCib("<html/>").ok());
  CHECK_FALSE(ParseCib("<cib/>").ok());
  CHECK(ParseCib("<cib><configuration/></cib>").ok());
  CHECK(ParseCib("garbage").status().reason().find("not XML") != std::string::npos);
}
