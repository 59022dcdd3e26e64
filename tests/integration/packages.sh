#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The packages: build the .deb and the .rpm, check what they hold and lint
# them (lintian, rpmlint), install the .deb, use the installed agents as the
# cluster tools would, remove it and check nothing is left.
# shellcheck source=SCRIPTDIR/../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"
h_begin packages
h_ocf_env
out="$H_TMP/pkgs"
if dpkg -s pmm-ha-agents >/dev/null 2>&1; then
  h_abort "pmm-ha-agents is already installed on this machine; remove it first"
fi

# --- build --------------------------------------------------------------------
# Without optimisation (--noopt): what is checked here is what the packages
# hold and do, not how their code was compiled, and it halves the compile.
h_expect_rc 0 "deb/build.sh builds the .deb" "$H_SOURCE/deb/build.sh" --noopt "$out"
deb=$(find "$out" -maxdepth 1 -name 'pmm-ha-agents_*_*.deb' | head -1)
[ -n "$deb" ] || h_abort "no .deb was built"
h_expect_rc 0 "rpm/build.sh builds the .rpm and the .src.rpm" "$H_SOURCE/rpm/build.sh" --noopt "$out"
rpm=$(find "$out" -maxdepth 1 -name 'pmm-ha-agents-*.rpm' ! -name '*.src.rpm' | head -1)
[ -n "$rpm" ] || h_abort "no .rpm was built"
srpm=$(find "$out" -maxdepth 1 -name 'pmm-ha-agents-*.src.rpm' | head -1)
[ -n "$srpm" ] || h_abort "no .src.rpm was built"
# The version is written once, in CMake's project(VERSION).
version=$(sed -n 's/^project(pmm-ha-agents VERSION \([^ )]*\).*/\1/p' "$PMMHA_SOURCE_DIR/CMakeLists.txt")

want=(/usr/lib/ocf/resource.d/percona/pmm-server /usr/lib/ocf/resource.d/percona/pmm-storage
      /usr/lib/ocf/resource.d/percona/pmm-vip /usr/lib/ocf/resource.d/percona/pmm-image)
deb_files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||')
rpm_files=$(rpm -qlp "$rpm" 2>/dev/null)
for f in "${want[@]}"; do
  h_match ".deb holds $f" "^$f$" "$deb_files"
  h_match ".rpm holds $f" "^$f$" "$rpm_files"
done
for a in pmm-server pmm-storage pmm-vip pmm-image; do
  h_match ".deb holds the man page of $a" "^/usr/share/man/man7/ocf_percona_$a\.7\.gz$" "$deb_files"
  h_match ".rpm holds the man page of $a" "^/usr/share/man/man7/ocf_percona_$a\.7" "$rpm_files"
done
h_match ".deb holds pmm-ha-check in /usr/sbin" "^/usr/sbin/pmm-ha-check$" "$deb_files"
h_match "... and its man page" "^/usr/share/man/man8/pmm-ha-check\.8\.gz$" "$deb_files"
h_match ".rpm holds pmm-ha-check in /usr/sbin" "^/usr/sbin/pmm-ha-check$" "$rpm_files"
h_match "... and its man page" "^/usr/share/man/man8/pmm-ha-check\.8" "$rpm_files"
h_match ".deb holds the README" "^/usr/share/doc/pmm-ha-agents/README.md" "$deb_files"
h_match ".deb holds the crm-examples" "^/usr/share/doc/pmm-ha-agents/examples/pmm-podman.pcs.sh" "$deb_files"
h_match ".rpm holds the crm-examples where the man pages say" "^/usr/share/doc/pmm-ha-agents/examples/pmm-podman.crm$" "$rpm_files"
h_match ".rpm holds the README beside them" "^/usr/share/doc/pmm-ha-agents/README.md$" "$rpm_files"
h_match ".rpm holds the licence" "^/usr/share/licenses/pmm-ha-agents/COPYING$" "$rpm_files"
h_match ".rpm co-owns the OCF root with resource-agents" "^/usr/lib/ocf$" "$rpm_files"
h_match "... and its resource.d" "^/usr/lib/ocf/resource.d$" "$rpm_files"
h_match ".rpm requires libcurl, which pmm-server loads for https" "^libcurl" \
  "$(rpm -qp --requires "$rpm" 2>/dev/null)"
h_match ".rpm's man pages point at its examples" "/usr/share/doc/pmm-ha-agents/examples" \
  "$(rpm2cpio "$rpm" | cpio -i --quiet --to-stdout './usr/share/man/man7/ocf_percona_pmm-vip.7*' | zcat -f)"
h_nomatch ".deb holds nothing under /usr/local" "^/usr/local" "$deb_files"
h_match ".deb depends on the libraries it links" "libmount1" "$(dpkg-deb -f "$deb" Depends)"
h_match ".deb depends on libcurl4, which pmm-server loads for https" "libcurl4" "$(dpkg-deb -f "$deb" Depends)"
h_match ".deb recommends pacemaker and an engine" "pacemaker, podman \| docker.io" "$(dpkg-deb -f "$deb" Recommends)"
h_expect_rc 0 "lintian finds no errors or warnings" lintian --fail-on error,warning "$deb"
[ "$H_RC" = 0 ] || printf '%s\n' "$H_OUT" | sed 's/^/#   /'

# rpmlint (Debian's 2.4), with the values of Fedora's rpmlint configuration
# where Debian's generic defaults judge by rules no Fedora, RHEL or SUSE
# package follows (rpm/rpmlint.toml says which), fails on any error. Of the
# warnings, three are Debian's and stay, and are the only ones allowed:
#   invalid-url Source0 (spec, .src.rpm): rpm/build.sh makes the tarball from
#     the source tree; there is no release tarball to download yet;
#   unstripped-binary-or-object (.rpm): Debian's rpm makes no -debuginfo
#     package (on Fedora and RHEL redhat-rpm-config adds it, and
#     find-debuginfo strips the agents into it), and brp-strip removes the
#     debugging sections only;
#   no-manual-page-for-binary pmm-ha-check (.rpm): Debian's rpmlint 2.4
#     records each man page by its section ("8"), not its name
#     (FilesCheck.py: man_basenames.add(res.group('category'))), so it
#     reports every program in a bin directory; the page is there (checked
#     above).
rpmlint_known='invalid-url Source0: |unstripped-binary-or-object |no-manual-page-for-binary pmm-ha-check$'
spec="$H_TMP/pmm-ha-agents.spec"
sed "s/@VERSION@/$version/g" "$H_SOURCE/rpm/pmm-ha-agents.spec.in" >"$spec"
for f in "$spec" "$srpm" "$rpm"; do
  h_expect_rc 0 "rpmlint finds no errors in $(basename "$f")" rpmlint -c "$H_SOURCE/rpm/rpmlint.toml" "$f"
  h_nomatch "... and no warnings but the known ones" ": W: " \
    "$(printf '%s\n' "$H_OUT" | grep -Ev ": W: ($rpmlint_known)")"
  printf '%s\n' "$H_OUT" | grep -E ': [EW]: ' | sed 's/^/#   /'
done

# --- install and use ------------------------------------------------------------
h_defer dpkg --purge pmm-ha-agents
h_expect_rc 0 "dpkg -i installs it" dpkg -i "$deb"
for a in pmm-server pmm-storage pmm-vip pmm-image; do
  h_expect_rc 0 "crm_resource --show-metadata ocf:percona:$a" crm_resource --show-metadata "ocf:percona:$a"
  h_expect_rc 0 "pcs resource describe ocf:percona:$a" pcs resource describe "ocf:percona:$a"
  h_match "... shows its parameters" "Resource options:" "$H_OUT"
  h_expect_rc 0 "man -l renders ocf_percona_$a(7)" man -l "/usr/share/man/man7/ocf_percona_$a.7.gz"
  h_match "... with its name and parameters" "ocf_percona_$a.*SUPPORTED PARAMETERS" "$(printf '%s' "$H_OUT" | tr '\n' ' ')"
  h_match "... pointing at the installed examples" "/usr/share/doc/pmm-ha-agents/examples" "$H_OUT"
done
h_expect_rc 0 "the installed pmm-ha-check lists its checks" pmm-ha-check --list
h_match "... fencing first" "^fencing-disabled +error" "$H_OUT"
h_expect_rc 0 "man renders pmm-ha-check(8) by name" man pmm-ha-check
h_match "... with every check" "fencing-disabled.*node-srv-space" "$(printf '%s' "$H_OUT" | tr '\n' ' ')"
h_expect_rc 2 "pmm-ha-check says when it cannot read the CIB" pmm-ha-check --cib "$H_TMP/none.xml"
h_check "the examples are where the man pages point" test -f /usr/share/doc/pmm-ha-agents/examples/pmm-podman.pcs.sh
h_match "the meta-data carries the project's version" "version=\"$version\"" \
  "$(/usr/lib/ocf/resource.d/percona/pmm-vip meta-data)"
h_match "... and so does the .deb" "^$version$" "$(dpkg-query -W -f '${Version}' pmm-ha-agents)"
h_match "... and the .rpm" "^$version-" "$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$rpm" 2>/dev/null)"

# ocf-tester against the installed pmm-vip (in a namespace of our own) and
# pmm-storage (on a loop device).
ns=$(h_netns pkg)
nsb=$(h_netns pkgb)
h_veth "$ns" eth0 "$nsb" eth0
ip -n "$ns" addr add 192.0.2.1/24 dev eth0
h_expect_rc 0 "ocf-tester passes on the installed pmm-vip" \
  ocf-tester -n pkgvip -o ip=192.0.2.50 -o network_namespace="$ns" /usr/lib/ocf/resource.d/percona/pmm-vip
dev=$(h_loop 64 ext4)
mkdir -p "$H_TMP/mnt"
h_expect_rc 0 "ocf-tester passes on the installed pmm-storage" \
  ocf-tester -n pkgfs -o device="$dev" -o directory="$H_TMP/mnt" -o fstype=ext4 \
  /usr/lib/ocf/resource.d/percona/pmm-storage
h_expect_rc 6 "the installed pmm-server validates its parameters" \
  env OCF_RESKEY_image=x OCF_RESKEY_data_dir=relative /usr/lib/ocf/resource.d/percona/pmm-server validate-all

# --- remove ---------------------------------------------------------------------
h_expect_rc 0 "dpkg --purge removes it" dpkg --purge pmm-ha-agents
h_check "the agents are gone" test ! -e /usr/lib/ocf/resource.d/percona
h_check "pmm-ha-check is gone" test ! -e /usr/sbin/pmm-ha-check
h_check "the man pages are gone" sh -c '! ls /usr/share/man/man7/ocf_percona_* 2>/dev/null'
h_check "the documentation is gone" test ! -e /usr/share/doc/pmm-ha-agents
h_check "crm_resource no longer finds the agent" sh -c "! crm_resource --show-metadata ocf:percona:pmm-server"
h_done
