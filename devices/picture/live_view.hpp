// SPDX-License-Identifier: MIT
//
// The live view of a display model: a small web server (libmicrohttpd)
// with one page that shows the scanout as it changes.
//
//   GET /             the page: the picture, kept current by a script
//   GET /frame.png    the picture now (PNG)
//   GET /wait?after=N blocks until the picture's generation is past N
//                     (or 20 s pass), answers the generation
//
// While anyone watches (a client waiting in /wait, or a request in the
// last 5 s) a sampler thread takes
// the picture 20 times a second and starts a new generation when it
// differs, so the page follows changes at up to 20 frames per second and
// does nothing while the picture stands still; with no one watching the
// sampler sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pciem/error.hpp"
#include "picture.hpp"

struct MHD_Daemon;
struct MHD_Connection;

namespace pciem::picture {

class LiveView {
public:
    using Source = std::function<Picture()>;
    struct Options {
        std::string address = "0.0.0.0"; // IPv4 address to listen on
        uint16_t port = 8080;            // 0: any free port (see port())
        std::string title = "PCIem display";
        std::chrono::milliseconds sample_period{50};
    };

    static Result<std::unique_ptr<LiveView>> start(Options options, Source source);
    LiveView(const LiveView&) = delete;
    LiveView& operator=(const LiveView&) = delete;
    LiveView(LiveView&&) = delete;
    LiveView& operator=(LiveView&&) = delete;
    ~LiveView();

    [[nodiscard]] uint16_t port() const { return port_; }
    // Generations so far (1 after the first picture).
    [[nodiscard]] uint64_t generation() const;
    // For the server's callback: answers one GET.
    int handle_request(MHD_Connection* connection, const std::string& url);

private:
    LiveView(Options options, Source source);
    void sample_loop();
    // Takes a picture now; a new generation if it changed. Callers hold
    // nothing.
    void sample();
    void touch(); // a client asked: keep sampling
    [[nodiscard]] bool watched_locked() const;

    Options options_;
    Source source_;
    uint16_t port_ = 0;
    MHD_Daemon* daemon_ = nullptr;

    mutable std::mutex mutex_;
    std::condition_variable changed_; // a new generation, or quitting
    std::condition_variable watched_; // a client appeared, or quitting
    Picture last_;
    std::vector<uint8_t> png_;
    uint64_t generation_ = 0;
    std::chrono::steady_clock::time_point last_request_{};
    unsigned waiting_ = 0; // clients blocked in /wait
    bool quit_ = false;
    std::thread sampler_;
};

} // namespace pciem::picture
