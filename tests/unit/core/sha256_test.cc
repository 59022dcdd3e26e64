// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/sha256.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

using namespace pmmha;

TEST_CASE("Sha256Hex gives FIPS 180-4's digests, across the block boundaries") {
  static const struct {
    std::string data;
    const char* digest;
  } cases[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",  // 56 bytes: two tail blocks
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(64, 'a'), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const auto& c : cases) {
    INFO(c.data.size() << " bytes");
    CHECK(Sha256Hex(c.data) == c.digest);
  }
}

TEST_CASE("Sha256HexOfFile digests a file and names one it cannot read") {
  char tmpl[] = "/tmp/pmmha-sha-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(tmpl) << "abc";
  auto digest = Sha256HexOfFile(tmpl);
  REQUIRE(digest.ok());
  CHECK(*digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  unlink(tmpl);
  auto missing = Sha256HexOfFile(tmpl);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().reason(), Catch::StartsWith("cannot read '"));
}
