// SPDX-License-Identifier: MIT
//
// Numbers as people write them in spec files: "4096", "0x1af4", "16K",
// "1M", "4KiB", "2G". Suffixes are binary (K = 1024): BAR sizes are powers
// of two, and "16K" meaning 16000 would never be what anyone wants.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace pciem {

// The parsed value, or a description of what is wrong with the text
// ("unknown suffix 'X'", "too large") for the caller to put in context.
std::expected<uint64_t, std::string> parse_spec_number(std::string_view text);

} // namespace pciem
