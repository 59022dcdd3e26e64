# SPDX-License-Identifier: GPL-2.0-or-later
# %cmake, %cmake_build and %cmake_install for an rpm that has none (Debian's
# rpm, with which rpm/build.sh builds the .rpm in CI): the commands of
# Fedora's cmake-rpm-macros, so that the spec reads as on Fedora, RHEL and
# SUSE, which bring their own. rpm/build.sh loads this file only where
# %cmake is not defined.
%__cmake_builddir build

%cmake \
  %{set_build_flags} \
  cmake -S . -B "%{__cmake_builddir}" \\\
        -DCMAKE_C_FLAGS_RELEASE:STRING="-DNDEBUG" \\\
        -DCMAKE_CXX_FLAGS_RELEASE:STRING="-DNDEBUG" \\\
        -DCMAKE_VERBOSE_MAKEFILE:BOOL=ON \\\
        -DCMAKE_INSTALL_DO_STRIP:BOOL=OFF \\\
        -DCMAKE_INSTALL_PREFIX:PATH=%{_prefix} \\\
        -DBUILD_SHARED_LIBS:BOOL=ON

%cmake_build \
  cmake --build "%{__cmake_builddir}" %{?_smp_mflags} --verbose

%cmake_install \
  DESTDIR="%{buildroot}" cmake --install "%{__cmake_builddir}"
