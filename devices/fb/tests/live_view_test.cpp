// SPDX-License-Identifier: MIT
//
// The live view as a person sees it: the accelerator on a SimHost shows a
// picture, its live view (devices/picture) serves it on 127.0.0.1, and
// headless Chromium (Debian's chromium package) opens the page. The
// screenshot must show exactly the model's PNG. Then the page's protocol:
// while the picture changes, /wait hands out new frames at 10 per second
// or more; while it stands still, /wait waits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fb_sim.hpp"
#include "live_view.hpp"

namespace fbtest {
namespace {

using namespace std::chrono_literals;
using pciem::picture::LiveView;
using pciem::picture::Picture;

constexpr uint32_t width = 320, height = 200;

// A plain HTTP/1.0 GET on 127.0.0.1; the body, or "" on failure.
std::string http_get(uint16_t port, const std::string& path) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        close(fd);
        return "";
    }
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    std::string resp;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        resp.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    const size_t body = resp.find("\r\n\r\n");
    return body == std::string::npos ? "" : resp.substr(body + 4);
}

class LiveViewTest : public ::testing::Test {
protected:
    LiveViewTest() : sim_({.vram_bytes = 4u << 20}) {
        sim_.show(width, height, width * 4, PFB_FMT_XRGB8888);
        draw(0);
        auto view = LiveView::start({.address = "127.0.0.1", .port = 0, .title = "test"},
                                    [this] { return sim_.model().picture(); });
        EXPECT_TRUE(view) << view.error().message;
        view_ = std::move(*view);
    }

    // A picture with colour in every channel, gradients and sharp edges,
    // moved by `shift`.
    void draw(uint32_t shift) {
        auto v = sim_.vram();
        for (uint32_t y = 0; y < height; ++y) {
            for (uint32_t x = 0; x < width; ++x) {
                uint32_t px = ((x + shift) * 255 / width) << 16 | (y * 255 / height) << 8 |
                              ((x / 16 + y / 16) % 2 ? 0xc0 : 0x20);
                if (x > 100 && x < 140 && y > 50 && y < 90) {
                    px = 0xffffff;
                }
                std::memcpy(v.data() + (size_t{y} * width + x) * 4, &px, 4);
            }
        }
    }

    FbSim sim_;
    std::unique_ptr<LiveView> view_;
};

TEST_F(LiveViewTest, ChromiumShowsExactlyTheModelsPicture) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("pciem-live-view-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string shot = (dir / "screenshot.png").string();
    const std::string model_png = (dir / "model.png").string();
    ASSERT_TRUE(pciem::picture::write_png(sim_.model().picture(), model_png));

    // As root in a container: no sandbox; nothing but the page.
    const std::string cmd =
        "chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run --hide-scrollbars "
        "--force-device-scale-factor=1 --force-color-profile=srgb --user-data-dir=" +
        (dir / "profile").string() + " --window-size=" + std::to_string(width) + "," +
        std::to_string(height) + " --screenshot=" + shot +
        " http://127.0.0.1:" + std::to_string(view_->port()) + "/ >" +
        (dir / "chromium.log").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    ASSERT_EQ(rc, 0) << "chromium failed (scripts/install-deps installs it); see "
                     << (dir / "chromium.log").string();

    auto seen = pciem::picture::read_png(shot);
    auto want = pciem::picture::read_png(model_png);
    ASSERT_TRUE(seen) << seen.error().message;
    ASSERT_TRUE(want) << want.error().message;
    ASSERT_GE(seen->width, width);
    ASSERT_GE(seen->height, height);
    uint64_t wrong = 0;
    for (uint32_t y = 0; y < height; ++y) {
        for (uint32_t x = 0; x < width; ++x) {
            if (seen->pixel(x, y) != want->pixel(x, y) && wrong++ == 0) {
                ADD_FAILURE() << "first difference at (" << x << ", " << y << "): screenshot "
                              << std::hex << seen->pixel(x, y) << ", model " << want->pixel(x, y);
            }
        }
    }
    EXPECT_EQ(wrong, 0u) << "pixels of the screenshot that differ from the model's PNG";
    std::filesystem::remove_all(dir);
}

TEST_F(LiveViewTest, FollowsChangesAtTenFramesPerSecondAndIdlesOtherwise) {
    const std::string page = http_get(view_->port(), "/");
    ASSERT_NE(page.find("/frame.png"), std::string::npos);
    const auto png = http_get(view_->port(), "/frame.png");
    auto decoded = pciem::picture::decode_png(
        std::span(reinterpret_cast<const uint8_t*>(png.data()), png.size()));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, sim_.model().picture());

    // The picture changes every 20 ms for 2 s; a viewer following /wait
    // as the page does sees at least 10 new frames a second.
    std::atomic<bool> moving{true};
    std::thread painter([&] {
        for (uint32_t s = 1; moving.load(); ++s) {
            draw(s * 3);
            std::this_thread::sleep_for(20ms);
        }
    });
    uint64_t gen = std::stoull(http_get(view_->port(), "/wait?after=0"));
    const uint64_t first = gen;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < 2s) {
        gen = std::stoull(http_get(view_->port(), "/wait?after=" + std::to_string(gen)));
    }
    moving.store(false);
    painter.join();
    const uint64_t frames = gen - first;
    EXPECT_GE(frames, 20u) << "new frames seen in 2 s of change";

    // Still: a /wait for the next frame is still waiting a second later.
    std::this_thread::sleep_for(200ms);
    const uint64_t now = std::stoull(http_get(view_->port(), "/wait?after=0"));
    std::atomic<bool> answered{false};
    std::thread waiter([&] {
        (void)http_get(view_->port(), "/wait?after=" + std::to_string(now));
        answered.store(true);
    });
    std::this_thread::sleep_for(1s);
    EXPECT_FALSE(answered.load()) << "a new frame although nothing changed";
    draw(0); // and a change ends the wait
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!answered.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(answered.load()) << "the change did not reach a waiting viewer";
    waiter.join();
}

} // namespace
} // namespace fbtest
