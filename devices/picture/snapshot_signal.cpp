// SPDX-License-Identifier: MIT
#include "snapshot_signal.hpp"

#include <pthread.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace pciem::picture {

sigset_t SnapshotOnSignal::block() {
    sigset_t set{};
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

SnapshotOnSignal::SnapshotOnSignal(const sigset_t& signals, std::string path, Source source)
    : signals_(signals), path_(std::move(path)), source_(std::move(source)) {}

std::unique_ptr<SnapshotOnSignal> SnapshotOnSignal::start(const sigset_t& signals, std::string path,
                                                          Source source) {
    std::unique_ptr<SnapshotOnSignal> s(
        new SnapshotOnSignal(signals, std::move(path), std::move(source)));
    s->thread_ = std::thread([p = s.get()] { p->run(); });
    return s;
}

SnapshotOnSignal::~SnapshotOnSignal() {
    quit_.store(true);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void SnapshotOnSignal::run() {
    // Short slices, so the destructor never waits long for a signal.
    const timespec slice{0, 100'000'000};
    while (!quit_.load()) {
        if (sigtimedwait(&signals_, nullptr, &slice) <= 0) {
            continue;
        }
        if (auto ok = write_png(source_(), path_); !ok) {
            fmt::print(stderr, "snapshot: {}\n", ok.error().message);
        }
    }
}

} // namespace pciem::picture
