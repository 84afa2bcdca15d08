// SPDX-License-Identifier: MIT
//
// The command line every model program shares (devices/common/host_cli):
// the event loop modes and their defaults, the DMA window defaults a
// program sets, and what counts as a usage error (exit status 2).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host_cli.hpp"

namespace {

using ::testing::HasSubstr;

// Parses args as a model program would; returns the exit status parsing
// asked for, or -1 when the program would run.
struct Parsed {
    pciem::devices::HostCli cli;
    int status = -1;

    explicit Parsed(std::vector<std::string> args,
                    const std::function<void(pciem::devices::HostCli&)>& defaults = {}) {
        CLI::App app{"test"};
        if (defaults) {
            defaults(cli);
        }
        cli.add_options(app);
        args.insert(args.begin(), "prog");
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        auto done = pciem::devices::parse_command_line(app, static_cast<int>(argv.size()),
                                                       argv.data());
        status = done ? *done : -1;
    }
};

TEST(HostCli, AdaptivePollingIsTheDefault) {
    Parsed p({});
    ASSERT_EQ(p.status, -1);
    ASSERT_TRUE(p.cli.resolve());
    EXPECT_EQ(p.cli.options.effective_idle_poll_us(),
              pciem::KernelHostOptions::default_idle_poll_us);
}

TEST(HostCli, EachLoopModeParses) {
    struct {
        std::vector<std::string> args;
        uint32_t idle_us;
        bool busy;
    } cases[] = {
        {{"--idle-poll-us", "50"}, 50, false},
        {{"--idle-poll-us", "0"}, 0, false},
        {{"--low-cpu"}, 0, false},
        {{"--busy-poll"}, 0, true},
        {{"--poll-interval-us", "20"}, 0, false},
    };
    for (auto& c : cases) {
        Parsed p(c.args);
        ASSERT_EQ(p.status, -1) << c.args[0];
        ASSERT_TRUE(p.cli.resolve()) << c.args[0];
        EXPECT_EQ(p.cli.options.effective_idle_poll_us(), c.idle_us) << c.args[0];
        EXPECT_EQ(p.cli.options.busy_poll, c.busy) << c.args[0];
    }
}

TEST(HostCli, ContradictionsAreRefusedWithASentence) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"--low-cpu", "--busy-poll"},
          {"--low-cpu", "--idle-poll-us", "10"},
          {"--busy-poll", "--idle-poll-us", "10"},
          {"--busy-poll", "--poll-interval-us", "5"},
          {"--dma-window-no-bounce"}}) {
        Parsed p(args);
        ASSERT_EQ(p.status, -1);
        auto r = p.cli.resolve();
        ASSERT_FALSE(r) << args[0] << " " << args[1 % args.size()];
        EXPECT_EQ(r.error().errnum, EINVAL);
        EXPECT_THAT(r.error().message, HasSubstr("--"));
    }
}

TEST(HostCli, UsageMistakesExitTwo) {
    EXPECT_EQ(Parsed({"--no-such-option"}).status, 2);
    EXPECT_EQ(Parsed({"--cpu", "-1"}).status, 2);
    EXPECT_EQ(Parsed({"--idle-poll-us", "lots"}).status, 2);
    EXPECT_EQ(Parsed({"--dma-window-mb", "2048"}).status, 2);
    EXPECT_EQ(Parsed({"--help"}).status, 0);
}

TEST(HostCli, AProgramsWindowDefaultsGiveWay) {
    auto nvme_like = [](pciem::devices::HostCli& c) {
        c.dma_window_mb = 32;
        c.options.dma_window_no_bounce = true;
    };
    Parsed def({}, nvme_like);
    ASSERT_TRUE(def.cli.resolve());
    EXPECT_EQ(def.cli.options.dma_window_bytes, 32u << 20);
    EXPECT_TRUE(def.cli.options.dma_window_no_bounce);
    Parsed off({"--dma-window-mb", "0"}, nvme_like);
    ASSERT_TRUE(off.cli.resolve()) << "no window: the default bounce setting goes with it";
    EXPECT_FALSE(off.cli.options.dma_window_no_bounce);
    Parsed bounce({"--dma-window-bounce"}, nvme_like);
    ASSERT_TRUE(bounce.cli.resolve());
    EXPECT_FALSE(bounce.cli.options.dma_window_no_bounce);
    Parsed explicit_off({"--dma-window-mb", "0", "--dma-window-no-bounce"}, nvme_like);
    EXPECT_FALSE(explicit_off.cli.resolve()) << "asked for explicitly, it needs a window";
}

} // namespace
