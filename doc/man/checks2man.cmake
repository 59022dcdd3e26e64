# SPDX-License-Identifier: GPL-2.0-or-later
# cmake -DTEMPLATE=... -DCHECK_LIST=... -DOUTPUT=... -DDATE=... -DVERSION=... -P checks2man.cmake
# Writes pmm-ha-check(8): the template with its CHECKS section made from
# `pmm-ha-check --list` (id, severity, summary per line), so the page lists
# exactly the checks the program has.
cmake_minimum_required(VERSION 3.25)
file(STRINGS "${CHECK_LIST}" lines)
set(CHECKS "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([a-z0-9-]+) +([a-z]+) +(.*)$")
    string(REPLACE "\\" "\\\\" summary "${CMAKE_MATCH_3}")
    string(APPEND CHECKS ".TP\n.B ${CMAKE_MATCH_1}\n(${CMAKE_MATCH_2}) ${summary}.\n")
  endif()
endforeach()
string(STRIP "${CHECKS}" CHECKS)
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
