// SPDX-License-Identifier: MIT
#include "pciem/spec_number.hpp"

#include <charconv>
#include <limits>

namespace pciem {

namespace {

// Multiplier for a size suffix; 0 when the suffix is unknown.
uint64_t suffix_multiplier(std::string_view s) {
    if (s.empty()) {
        return 1;
    }
    // Accept "K", "KiB" and "KB" alike (all binary), any case.
    char unit = s.front();
    if (unit >= 'a' && unit <= 'z') {
        unit = static_cast<char>(unit - 'a' + 'A');
    }
    const std::string_view rest = s.substr(1);
    if (!rest.empty() && rest != "iB" && rest != "B" && rest != "ib" && rest != "b") {
        return 0;
    }
    switch (unit) {
    case 'K':
        return uint64_t{1} << 10;
    case 'M':
        return uint64_t{1} << 20;
    case 'G':
        return uint64_t{1} << 30;
    case 'T':
        return uint64_t{1} << 40;
    default:
        return 0;
    }
}

} // namespace

std::expected<uint64_t, std::string> parse_spec_number(std::string_view text) {
    if (text.empty()) {
        return std::unexpected(std::string("empty string"));
    }
    int base = 10;
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        base = 16;
        digits.remove_prefix(2);
    }
    uint64_t value = 0;
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (end == digits.data()) {
        return std::unexpected(std::string("no digits"));
    }
    if (ec == std::errc::result_out_of_range) {
        return std::unexpected(std::string("too large for 64 bits"));
    }
    const std::string_view suffix(end, static_cast<size_t>(digits.data() + digits.size() - end));
    // Hex with a suffix ("0x10K") is ambiguous next to hex digits; refuse.
    if (base == 16 && !suffix.empty()) {
        return std::unexpected("unexpected '" + std::string(suffix) + "' after hex digits");
    }
    const uint64_t mult = suffix_multiplier(suffix);
    if (mult == 0) {
        return std::unexpected("unknown suffix '" + std::string(suffix) +
                               "' (use K, M, G, T, optionally with iB)");
    }
    if (value > std::numeric_limits<uint64_t>::max() / mult) {
        return std::unexpected(std::string("too large for 64 bits"));
    }
    return value * mult;
}

} // namespace pciem
