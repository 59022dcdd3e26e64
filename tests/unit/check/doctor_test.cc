// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/check/doctor.h"

#include <set>

#include <catch2/catch.hpp>

using namespace pmmha;

namespace {

// crm-examples/fencing + pmm-podman, with the pmm-image clone, as pcs
// writes them (ids shortened).
const char* kGroup = R"(<cib><configuration>
<crm_config><cluster_property_set id="o">
  <nvpair id="o1" name="stonith-enabled" value="true"/>
</cluster_property_set></crm_config>
<nodes><node id="1" uname="node1"/><node id="2" uname="node2"/><node id="3" uname="node3"/></nodes>
<resources>
  <primitive id="fence-node1" class="stonith" type="fence_ipmilan"><instance_attributes id="f1">
    <nvpair id="f1h" name="pcmk_host_list" value="node1"/></instance_attributes></primitive>
  <primitive id="fence-node2" class="stonith" type="fence_ipmilan"><instance_attributes id="f2">
    <nvpair id="f2h" name="pcmk_host_list" value="node2"/></instance_attributes></primitive>
  <primitive id="fence-node3" class="stonith" type="fence_ipmilan"><instance_attributes id="f3">
    <nvpair id="f3h" name="pcmk_host_list" value="node3"/></instance_attributes></primitive>
  <group id="pmm">
    <primitive id="pmm-storage" class="ocf" provider="percona" type="pmm-storage">
      <instance_attributes id="s">
        <nvpair id="s1" name="device" value="/dev/disk/by-id/wwn-0x6001"/>
        <nvpair id="s2" name="directory" value="/srv/pmm"/>
      </instance_attributes>
      <operations><op id="s-stop" name="stop" interval="0s" timeout="120s"/></operations>
    </primitive>
    <primitive id="pmm-server" class="ocf" provider="percona" type="pmm-server">
      <instance_attributes id="p">
        <nvpair id="p1" name="image" value="docker.io/percona/pmm-server:3"/>
        <nvpair id="p2" name="data_dir" value="/srv/pmm"/>
      </instance_attributes>
      <operations>
        <op id="p-start" name="start" interval="0s" timeout="300s"/>
        <op id="p-stop" name="stop" interval="0s" timeout="330s"/>
        <op id="p-mon" name="monitor" interval="10s" timeout="30s"/>
      </operations>
    </primitive>
    <primitive id="pmm-vip" class="ocf" provider="percona" type="pmm-vip">
      <instance_attributes id="v"><nvpair id="v1" name="ip" value="192.0.2.100"/></instance_attributes>
    </primitive>
  </group>
  <clone id="pmm-image-clone"><primitive id="pmm-image" class="ocf" provider="percona" type="pmm-image"/></clone>
</resources>
<constraints>
  <rsc_location id="l1" rsc="fence-node1" node="node1" score="-INFINITY"/>
</constraints>
</configuration>
<status>
  <node_state id="1" uname="node1" crmd="online"/>
  <node_state id="2" uname="node2" crmd="online"/>
  <node_state id="3" uname="node3" crmd="online"/>
</status></cib>)";

// crm-examples/pmm-ha-podman: a promotable clone and the VIP with its leader.
const char* kHa = R"(<cib><configuration>
<crm_config><cluster_property_set id="o">
  <nvpair id="o1" name="stonith-enabled" value="true"/>
</cluster_property_set></crm_config>
<nodes><node id="1" uname="node1"/><node id="2" uname="node2"/><node id="3" uname="node3"/></nodes>
<resources>
  <primitive id="fence-all" class="stonith" type="fence_ipmilan"/>
  <clone id="pmm-server-clone"><meta_attributes id="c">
      <nvpair id="c1" name="promotable" value="true"/>
      <nvpair id="c2" name="promoted-max" value="1"/>
    </meta_attributes>
    <primitive id="pmm-server" class="ocf" provider="percona" type="pmm-server">
      <instance_attributes id="p">
        <nvpair id="p1" name="image" value="docker.io/percona/pmm-server:3"/>
        <nvpair id="p2" name="data_dir" value="/srv/pmm-ha"/>
        <nvpair id="p3" name="require_mount" value="false"/>
        <nvpair id="p4" name="ha" value="true"/>
        <nvpair id="p5" name="ha_key_file" value="/etc/pmm-ha/encryption.key"/>
      </instance_attributes>
      <operations>
        <op id="p-start" name="start" interval="0s" timeout="300s"/>
        <op id="p-stop" name="stop" interval="0s" timeout="330s"/>
        <op id="p-m1" name="monitor" interval="3s" role="Promoted" timeout="30s"/>
        <op id="p-m2" name="monitor" interval="1s" role="Unpromoted" timeout="30s"/>
      </operations>
    </primitive>
  </clone>
  <primitive id="pmm-vip" class="ocf" provider="percona" type="pmm-vip">
    <instance_attributes id="v"><nvpair id="v1" name="ip" value="192.0.2.100"/></instance_attributes>
  </primitive>
  <clone id="pmm-image-clone"><primitive id="pmm-image" class="ocf" provider="percona" type="pmm-image"/></clone>
</resources>
<constraints>
  <rsc_colocation id="c1" rsc="pmm-vip" with-rsc="pmm-server-clone" with-rsc-role="Promoted" score="INFINITY"/>
  <rsc_order id="o1" first="pmm-server-clone" first-action="promote" then="pmm-vip" then-action="start" kind="Mandatory" symmetrical="false"/>
</constraints>
</configuration>
<status>
  <node_state id="1" uname="node1" crmd="online"><transient_attributes id="t1"><instance_attributes id="t1a">
    <nvpair id="t1-1" name="pmm-ha-key" value="0123456789abcdef"/></instance_attributes></transient_attributes></node_state>
  <node_state id="2" uname="node2" crmd="online"><transient_attributes id="t2"><instance_attributes id="t2a">
    <nvpair id="t2-1" name="pmm-ha-key" value="0123456789abcdef"/></instance_attributes></transient_attributes></node_state>
  <node_state id="3" uname="node3" crmd="online"><transient_attributes id="t3"><instance_attributes id="t3a">
    <nvpair id="t3-1" name="pmm-ha-key" value="0123456789abcdef"/></instance_attributes></transient_attributes></node_state>
</status></cib>)";

// `base` with `from` (which must occur exactly once) replaced by `to`.
std::string Edit(std::string base, const std::string& from, const std::string& to) {
  auto at = base.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(base.find(from, at + 1) == std::string::npos);
  return base.replace(at, from.size(), to);
}

std::vector<Finding> DiagnoseXml(const std::string& xml) {
  auto cib = ParseCib(xml);
  REQUIRE(cib.ok());
  return Diagnose(*cib);
}

std::multiset<std::string> Ids(const std::vector<Finding>& findings) {
  std::multiset<std::string> ids;
  for (const auto& f : findings) ids.insert(f.id + "@" + f.subject);
  return ids;
}

}  // namespace

TEST_CASE("the examples have no findings") {
  CHECK(Ids(DiagnoseXml(kGroup)).empty());
  CHECK(Ids(DiagnoseXml(kHa)).empty());
}

TEST_CASE("each mistake in the group example is found once, with its fix") {
  const std::string base = kGroup;
  static const struct {
    const char* what;
    const char* from;
    const char* to;
    std::multiset<std::string> want;
  } cases[] = {
      {"fencing off",
       R"(name="stonith-enabled" value="true")",
       R"(name="stonith-enabled" value="false")",
       {"fencing-disabled@cluster"}},
      {"node3 has no fence device",
       R"(name="pcmk_host_list" value="node3")",
       R"(name="pcmk_host_list" value="node9")",
       {"fencing-no-device@node3"}},
      {"... unless the storage may not run there",
       R"(<rsc_location id="l1")",
       R"(<rsc_location id="l9" rsc="pmm" node="node3" score="-INFINITY"/><rsc_location id="l1")",
       {}},
      {"two nodes, no delay",
       R"(<node id="3" uname="node3"/>)",
       "",
       {"fencing-two-node-delay@cluster"}},
      {"no pmm-image clone",
       R"(<clone id="pmm-image-clone"><primitive id="pmm-image" class="ocf" provider="percona" type="pmm-image"/></clone>)",
       "",
       {"image-not-watched@cluster"}},
      {"require_mount=false",
       R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/>)",
       R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/><nvpair id="p9" name="require_mount" value="no"/>)",
       {"require-mount-false@pmm-server"}},
      {"run_opts --restart",
       R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/>)",
       R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/><nvpair id="p9" name="run_opts" value="--memory 8g --restart=always"/>)",
       {"run-opts-restart@pmm-server"}},
      {"a kernel device name",
       "/dev/disk/by-id/wwn-0x6001",
       "/dev/sdb1",
       {"device-unstable@pmm-storage"}},
      {"force_unmount=false with fencing",
       R"(<nvpair id="s2" name="directory" value="/srv/pmm"/>)",
       R"(<nvpair id="s2" name="directory" value="/srv/pmm"/><nvpair id="s9" name="force_unmount" value="false"/>)",
       {}},
      {"a short stop",
       R"(name="stop" interval="0s" timeout="330s")",
       R"(name="stop" interval="0s" timeout="120s")",
       {"timeout-stop@pmm-server"}},
      {"no stop op at all (Pacemaker's 20 s)",
       R"(<op id="p-stop" name="stop" interval="0s" timeout="330s"/>)",
       "",
       {"timeout-stop@pmm-server"}},
      {"stop_grace beyond the stop timeout",
       R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/>)",
       R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/><nvpair id="p9" name="stop_grace" value="320"/>)",
       {"timeout-stop-grace@pmm-server"}},
      {"a short start", R"(timeout="300s")", R"(timeout="120s")", {"timeout-start@pmm-server"}},
      {"a monitor timeout at health_timeout",
       R"(interval="10s" timeout="30s")",
       R"(interval="10s" timeout="5s")",
       {"timeout-monitor@pmm-server"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto findings = DiagnoseXml(Edit(base, c.from, c.to));
    CHECK(Ids(findings) == c.want);
    for (const auto& f : findings) {
      CHECK_FALSE(f.message.empty());
      CHECK_FALSE(f.fix_pcs.empty());
      CHECK_FALSE(f.fix_crm.empty());
    }
  }
}

TEST_CASE("op_defaults give the timeout an op does not") {
  std::string no_stop =
      Edit(kGroup, R"(<op id="p-stop" name="stop" interval="0s" timeout="330s"/>)", "");
  CHECK(Ids(DiagnoseXml(no_stop)) == std::multiset<std::string>{"timeout-stop@pmm-server"});
  std::string defaults = Edit(no_stop, "</configuration>",
                              R"(<op_defaults><meta_attributes id="od"><nvpair id="od1" )"
                              R"(name="timeout" value="6min"/></meta_attributes></op_defaults>)"
                              "</configuration>");
  CHECK(Ids(DiagnoseXml(defaults)).empty());
}

TEST_CASE("a group in the wrong order") {
  // pmm-server first, then pmm-storage: still together, but not after it.
  std::string storage_block = kGroup;
  auto b = storage_block.find(R"(<primitive id="pmm-storage")");
  auto e = storage_block.find(R"(<primitive id="pmm-server")");
  std::string storage = storage_block.substr(b, e - b);
  std::string swapped = Edit(Edit(kGroup, storage, ""), R"(<primitive id="pmm-vip")",
                             storage + R"(<primitive id="pmm-vip")");
  auto findings = DiagnoseXml(swapped);
  CHECK(Ids(findings) == std::multiset<std::string>{"order-server-after-storage@pmm-server"});
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].fix_pcs[0] == "pcs resource group add pmm pmm-server --after pmm-storage");
  CHECK(findings[0].fix_crm[1] == "crm configure modgroup pmm add pmm-server after pmm-storage");
}

TEST_CASE("ordering and colocation outside one group") {
  // The three resources as primitives of their own, tied by constraints.
  std::string loose = Edit(Edit(kGroup, R"(<group id="pmm">)", ""), R"(</group>
  <clone id="pmm-image-clone">)",
                           R"(<clone id="pmm-image-clone">)");
  auto ids = Ids(DiagnoseXml(loose));
  CHECK(ids == std::multiset<std::string>{"order-server-after-storage@pmm-server",
                                          "colocation-server-with-storage@pmm-server",
                                          "colocation-vip-with-server@pmm-vip",
                                          "order-vip-after-server@pmm-vip"});
  auto findings = DiagnoseXml(loose);
  CHECK(findings[0].fix_pcs[0] == "pcs constraint order start pmm-storage then start pmm-server");
  CHECK(findings[0].fix_crm[0] ==
        "crm configure order pmm-server-after-pmm-storage Mandatory: pmm-storage pmm-server");

  // A chain of constraints counts: storage -> server by way of a set, the
  // VIP with the server, the server with the storage.
  std::string tied =
      Edit(loose, "</constraints>",
           R"(<rsc_order id="x1"><resource_set id="x1s"><resource_ref id="pmm-storage"/>
      <resource_ref id="pmm-server"/><resource_ref id="pmm-vip"/></resource_set></rsc_order>
    <rsc_colocation id="x2" rsc="pmm-server" with-rsc="pmm-storage" score="INFINITY"/>
    <rsc_colocation id="x3" rsc="pmm-vip" with-rsc="pmm-server" score="INFINITY"/></constraints>)");
  CHECK(Ids(DiagnoseXml(tied)).empty());
  // An advisory colocation or an optional order does not count.
  std::string weak = Edit(Edit(tied, R"(with-rsc="pmm-storage" score="INFINITY")",
                               R"(with-rsc="pmm-storage" score="1000")"),
                          R"(<rsc_order id="x1">)", R"(<rsc_order id="x1" kind="Optional">)");
  CHECK(Ids(DiagnoseXml(weak)) ==
        std::multiset<std::string>{"order-server-after-storage@pmm-server",
                                   "colocation-server-with-storage@pmm-server",
                                   "order-vip-after-server@pmm-vip"});
}

TEST_CASE("each mistake in the PMM 3 HA example is found once") {
  const std::string base = kHa;
  static const struct {
    const char* what;
    const char* from;
    const char* to;
    std::multiset<std::string> want;
  } cases[] = {
      {"ha=false",
       R"(name="ha" value="true")",
       R"(name="ha" value="false")",
       {"promotable-ha-false@pmm-server"}},
      {"promoted-max 2",
       R"(name="promoted-max" value="1")",
       R"(name="promoted-max" value="2")",
       {"promotable-max@pmm-server-clone"}},
      {"a plain clone",
       R"(name="promotable" value="true")",
       R"(name="promotable" value="false")",
       {"clone-not-promotable@pmm-server-clone"}},
      {"no role monitors",
       R"(<op id="p-m1" name="monitor" interval="3s" role="Promoted" timeout="30s"/>
        <op id="p-m2" name="monitor" interval="1s" role="Unpromoted" timeout="30s"/>)",
       R"(<op id="p-m" name="monitor" interval="10s" timeout="30s"/>)",
       {"role-monitors-missing@pmm-server", "role-monitors-missing@pmm-server"}},
      {"the VIP with the clone, not its Promoted role",
       R"(with-rsc-role="Promoted" )",
       "",
       {"colocation-vip-with-server@pmm-vip"}},
      {"the legacy Master role counts",
       R"(with-rsc-role="Promoted" )",
       R"(with-rsc-role="Master" )",
       {}},
      {"the VIP after start, not promote",
       R"(first-action="promote")",
       R"(first-action="start")",
       {"order-vip-after-server@pmm-vip"}},
      {"require_mount=false is right in HA",
       R"(name="require_mount" value="false")",
       R"(name="require_mount" value="false")",
       {}},
      {"node2 has another key",
       R"(id="t2-1" name="pmm-ha-key" value="0123456789abcdef")",
       R"(id="t2-1" name="pmm-ha-key" value="fedcba9876543210")",
       {"node-ha-key-differs@node2"}},
      {"node3 lacks the image",
       R"(<nvpair id="t3-1" name="pmm-ha-key" value="0123456789abcdef"/>)",
       R"(<nvpair id="t3-1" name="pmm-ha-key" value="0123456789abcdef"/><nvpair id="t3-2" name="pmm-image" value="absent"/>)",
       {"node-image-absent@node3"}},
      {"... a node banned from PMM may lack it",
       R"(</constraints>)",
       R"(<rsc_location id="b3" rsc="pmm-server-clone" node="node3" score="-INFINITY"/></constraints>)",
       {}},
      {"node1's data_dir not writable",
       R"(<nvpair id="t1-1" name="pmm-ha-key" value="0123456789abcdef"/>)",
       R"(<nvpair id="t1-1" name="pmm-ha-key" value="0123456789abcdef"/><nvpair id="t1-2" name="pmm-data" value="not-writable"/>)",
       {"node-data-not-writable@node1"}},
      {"node1's /srv low",
       R"(<nvpair id="t1-1" name="pmm-ha-key" value="0123456789abcdef"/>)",
       R"(<nvpair id="t1-1" name="pmm-ha-key" value="0123456789abcdef"/><nvpair id="t1-2" name="pmm-srv-space" value="low"/><nvpair id="t1-3" name="pmm-srv-free" value="7"/>)",
       {"node-srv-space@node1"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(Ids(DiagnoseXml(Edit(base, c.from, c.to))) == c.want);
  }
}

TEST_CASE("a fix removes only what is wrong") {
  auto findings = DiagnoseXml(Edit(
      kGroup, R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/>)",
      R"(<nvpair id="p2" name="data_dir" value="/srv/pmm"/><nvpair id="p9" name="run_opts" value="--memory 8g --restart always --cpus 2"/>)"));
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].fix_pcs[0] == "pcs resource update pmm-server run_opts='--memory 8g --cpus 2'");
  CHECK(findings[0].fix_crm[0] ==
        "crm resource param pmm-server set run_opts '--memory 8g --cpus 2'");

  findings = DiagnoseXml(Edit(kGroup, R"(name="stop" interval="0s" timeout="330s")",
                              R"(name="stop" interval="0s" timeout="120s")"));
  REQUIRE(findings.size() == 1);
  // 315 s of grace once the agent keeps its 15 s reserve.
  CHECK(findings[0].fix_pcs[0] == "pcs resource update pmm-server op stop timeout=315s");
  CHECK(findings[0].fix_crm[0] == "crm configure set pmm-server.stop.timeout 315s");
}

TEST_CASE("the catalogue: unique ids, every finding's id in it") {
  std::set<std::string_view> ids;
  for (const CheckInfo& c : Checks()) {
    CHECK(ids.insert(c.id).second);
    CHECK(FindCheck(c.id) == &c);
  }
  CHECK_FALSE(FindCheck("no-such-check"));
}

TEST_CASE("the report, as text and as JSON") {
  auto findings = DiagnoseXml(Edit(kGroup, "/dev/disk/by-id/wwn-0x6001", "/dev/sdb"));
  ReportHeader header{.source = "cib.xml", .nodes = 3, .pmm_resources = 4};
  std::string text = RenderText(header, findings);
  CHECK(text.find("pmm-ha-check: cib.xml (3 nodes, 4 PMM resources): 0 errors, 1 warning") == 0);
  CHECK(text.find("warning device-unstable (pmm-storage)") != std::string::npos);
  CHECK(text.find("  crm:  crm resource param pmm-storage set device") != std::string::npos);
  std::string json = RenderJson(header, findings);
  CHECK(json.find(R"("id": "device-unstable")") != std::string::npos);
  CHECK(json.find(R"("severity": "warning")") != std::string::npos);
  CHECK(RenderText(header, {}).find("no findings") != std::string::npos);
}
