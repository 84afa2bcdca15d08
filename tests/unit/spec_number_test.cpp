// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "pciem/spec_number.hpp"

namespace {

using pciem::parse_spec_number;

TEST(SpecNumber, Accepted) {
    EXPECT_EQ(parse_spec_number("4096").value(), 4096u);
    EXPECT_EQ(parse_spec_number("0x1af4").value(), 0x1af4u);
    EXPECT_EQ(parse_spec_number("0XFF").value(), 0xffu);
    EXPECT_EQ(parse_spec_number("16K").value(), 16384u);
    EXPECT_EQ(parse_spec_number("16k").value(), 16384u);
    EXPECT_EQ(parse_spec_number("4KiB").value(), 4096u);
    EXPECT_EQ(parse_spec_number("1M").value(), 1u << 20);
    EXPECT_EQ(parse_spec_number("2G").value(), uint64_t{2} << 30);
    EXPECT_EQ(parse_spec_number("1KB").value(), 1024u);
    EXPECT_EQ(parse_spec_number("0xffffffffffffffff").value(), UINT64_MAX);
}

TEST(SpecNumber, Refused) {
    EXPECT_EQ(parse_spec_number("").error(), "empty string");
    EXPECT_EQ(parse_spec_number("K").error(), "no digits");
    EXPECT_EQ(parse_spec_number("12Q").error(),
              "unknown suffix 'Q' (use K, M, G, T, optionally with iB)");
    EXPECT_EQ(parse_spec_number("0x10K").error(), "unexpected 'K' after hex digits");
    EXPECT_EQ(parse_spec_number("99999999999999999999").error(), "too large for 64 bits");
    EXPECT_EQ(parse_spec_number("17179869184G").error(), "too large for 64 bits");
    EXPECT_FALSE(parse_spec_number("-1"));
    EXPECT_FALSE(parse_spec_number("1 K"));
}

} // namespace
