// SPDX-License-Identifier: MIT
// The adaptive polling spell (lib/src/poll_spell.hpp): it follows a steady
// rhythm of requests up to its ceiling and falls back when they stop.
#include "poll_spell.hpp"

#include <gtest/gtest.h>

using pciem::next_poll_spell;
using pciem::PollSpellLimits;
using us = std::chrono::microseconds;

namespace {
const PollSpellLimits adaptive{us(200), us(2000)};
}

TEST(PollSpell, CoversAShortGapTwiceOver) {
    // The next request came 300 us after the loop went to sleep.
    EXPECT_EQ(next_poll_spell(adaptive, us(300)), us(600));
}

TEST(PollSpell, NeverBelowTheBaseNorAboveTheCeiling) {
    EXPECT_EQ(next_poll_spell(adaptive, us(10)), us(200));
    EXPECT_EQ(next_poll_spell(adaptive, us(1500)), us(2000));
}

TEST(PollSpell, FallsBackWhenRequestsStop) {
    // A gap as long as the ceiling or longer: the driver went idle.
    EXPECT_EQ(next_poll_spell(adaptive, us(2000)), us(200));
    EXPECT_EQ(next_poll_spell(adaptive, us(10'000'000)), us(200));
}

TEST(PollSpell, FixedWhenTheCeilingIsNotAboveTheBase) {
    const PollSpellLimits fixed{us(50), us(50)};
    EXPECT_EQ(next_poll_spell(fixed, us(20)), us(50));
    EXPECT_EQ(next_poll_spell(fixed, us(5000)), us(50));
    const PollSpellLimits inverted{us(300), us(100)};
    EXPECT_EQ(next_poll_spell(inverted, us(10)), us(300));
}
