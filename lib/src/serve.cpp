// SPDX-License-Identifier: MIT
#include "pciem/serve.hpp"

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include <pthread.h>

#include <fmt/format.h>

namespace pciem {

bool write_ready_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!(out << text) || !out.flush()) {
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    return !ec;
}

sigset_t block_stop_signals() {
    sigset_t stop{};
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    return stop;
}

Result<int> serve_until_signal(KernelHost& host, const sigset_t& stop,
                               const std::string& ready_file) {
    Result<void> loop_result;
    std::atomic<bool> loop_done{false};
    // The loop runs on its own thread so this one can wait for the
    // signal synchronously: no async handler, no global host pointer.
    std::thread loop([&] {
        loop_result = host.run();
        loop_done.store(true);
    });
    // The ready file promises a function on the bus, with its driver (if
    // any) probed: only once the start is through.
    if (auto started = host.wait_started(); !started) {
        host.stop();
        loop.join();
        return std::unexpected(started.error());
    }
    if (!ready_file.empty() && !write_ready_file(ready_file, host.device().address() + "\n")) {
        host.stop();
        loop.join();
        return fail(EIO, fmt::format("cannot write the ready file {}", ready_file));
    }
    // The loop can also end on its own (the device was removed), so wait
    // for the signal in short slices rather than forever.
    int sig = 0;
    const timespec slice{0, 100'000'000};
    while (!loop_done.load()) {
        const int got = sigtimedwait(&stop, nullptr, &slice);
        if (got > 0) {
            sig = got;
            break;
        }
    }
    host.stop();
    loop.join();
    if (!loop_result) {
        return std::unexpected(loop_result.error());
    }
    return sig;
}

} // namespace pciem
