// SPDX-License-Identifier: MIT
//
// PNG snapshots on a signal: `kill -USR1 <model>` writes what the display
// shows to a file (atomically: a reader never sees half a PNG).
//
//     const sigset_t usr1 = pciem::picture::SnapshotOnSignal::block(); // before any thread
//     auto snap = SnapshotOnSignal::start(usr1, "/tmp/screen.png", [&] { return model.picture();
//     });
#pragma once

#include <atomic>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "picture.hpp"

namespace pciem::picture {

class SnapshotOnSignal {
public:
    using Source = std::function<Picture()>;

    // Blocks SIGUSR1 in the calling thread, so every thread created after
    // inherits the block and only the snapshot thread takes it. Call it
    // before any thread exists.
    static sigset_t block();
    static std::unique_ptr<SnapshotOnSignal> start(const sigset_t& signals, std::string path,
                                                   Source source);
    SnapshotOnSignal(const SnapshotOnSignal&) = delete;
    SnapshotOnSignal& operator=(const SnapshotOnSignal&) = delete;
    SnapshotOnSignal(SnapshotOnSignal&&) = delete;
    SnapshotOnSignal& operator=(SnapshotOnSignal&&) = delete;
    ~SnapshotOnSignal();

private:
    SnapshotOnSignal(const sigset_t& signals, std::string path, Source source);
    void run();

    sigset_t signals_;
    std::string path_;
    Source source_;
    std::atomic<bool> quit_{false};
    std::thread thread_;
};

} // namespace pciem::picture
