# SPDX-License-Identifier: GPL-2.0-or-later
# The bytes of IN as a C initializer list in OUT (for kernel_tasks.cc).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "${bytes}\n")
