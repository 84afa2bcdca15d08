// SPDX-License-Identifier: MIT
#include "host_cli.hpp"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "pciem/serve.hpp"
#include "pciem/vfio_user_host.hpp"

namespace pciem::devices {

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version are "errors" with status 0.
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    return std::nullopt;
}

void add_event_loop_options(CLI::App& app, KernelHostOptions& options, EventLoopKind kind) {
    // Each mode's cost is in its help.
    const bool model = kind == EventLoopKind::model;
    app.add_flag("--busy-poll", options.busy_poll,
                 "Spin on the request ring all the time: the lowest latency, one CPU always "
                 "busy, also when the driver is idle");
    if (model) {
        app.add_option("--poll-interval-us", options.poll_interval_us,
                       "Sleep, but wake every N us to let the model poll host memory (e.g. the "
                       "NVMe model's shadow doorbells): no trapped doorbells, a wake-up every N "
                       "us")
            ->check(CLI::Range(1u, 1000000u));
    }
    app.add_option("--idle-poll-us", options.idle_poll_us,
                   fmt::format("Adaptive polling, the default: after work, keep polling until a "
                               "spell passes with nothing to do, then sleep. Unset, the spell "
                               "starts at {} us and follows the driver's rhythm up to {} us "
                               "(requests every few hundred us never wait for a wake-up); N "
                               "fixes it at N us, 0 sleeps at once. Busy polling's latency "
                               "while the driver is busy, no CPU while it is idle",
                               KernelHostOptions::default_idle_poll_us,
                               KernelHostOptions::default_idle_poll_ceiling_us))
        ->check(CLI::Range(0u, 10000000u));
    app.add_flag("--low-cpu", options.low_cpu,
                 model ? "Never spin: sleep between requests and be woken by each (the least "
                         "CPU, a wake-up per access: trapped reads cost several times more)"
                       : "Never spin: sleep between accesses and be woken by each (the least "
                         "CPU; where server and proxy share a CPU, the server gets it all: "
                         "more I/O per second from a busy nvme, slower register reads, and "
                         "for drivers that read with interrupts or preemption off, a risk "
                         "that the woken proxy waits behind them: see docs/forwarding.md)");
}

void HostCli::add_options(CLI::App& app) {
    app.add_option("--ready-file", ready_file,
                   "Once the device exists, write its address to this file, atomically");
    app.add_option("--vfio-user", vfio_user_socket,
                   "Serve the device as a vfio-user server on this UNIX socket instead of on "
                   "/dev/pciem (no pciem.ko, no root): pciem-proxy, QEMU's vfio-user-pci or any "
                   "vfio-user client drives it; one client at a time, the next accepted when it "
                   "leaves. The ready file then names the socket. The kernel-host options below "
                   "do not apply");
    app.add_option("--read-timeout-us", read_timeout_us,
                   "Complete reads the model has not answered after this long as all-ones "
                   "(kernel default: 1 s)")
        ->check(CLI::Range(1u, 10'000'000u));
    add_event_loop_options(app, options, EventLoopKind::model);
    app.add_option("--control", options.control_path, "PCIem control node")->capture_default_str();
    app.add_option("--cpu", cpu,
                   "Run the model on this CPU only. Reads from atomic context (interrupt "
                   "handlers) spin until answered, so the model must be able to run on "
                   "another CPU than the one they come from")
        ->check(CLI::Range(0, CPU_SETSIZE - 1));
    app.add_option("--dma-window-mb", dma_window_mb,
                   "Zero-copy DMA: the device's DMA lands in a window of this many MiB (even, "
                   "at most 1024) that the model reaches without system calls, each access "
                   "still checked against the driver's mappings; 0 = every DMA access "
                   "through the checked path (one system call each)")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str();
    app.add_flag("--dma-window-no-bounce,!--dma-window-bounce", options.dma_window_no_bounce,
                 "With a window: only coherent memory (queues, rings) is in it; streaming "
                 "buffers are not bounced through it but reached, checked, with one copy "
                 "each (--dma-window-bounce: every mapping in the window)")
        ->each([this](const std::string&) { no_bounce_given_ = true; });
    app.add_flag("--aer", options.aer,
                 "Present the function as a Root Complex Integrated Endpoint with AER and FLR, "
                 "so that injected AER errors (pciemctl inject ADDR aer-*) reach its driver");
}

Result<void> HostCli::resolve() {
    if (read_timeout_us != 0) {
        options.read_timeout_us = read_timeout_us;
    }
    options.dma_window_bytes = uint64_t{dma_window_mb} << 20;
    // A program's own default of bouncing nothing goes with its default
    // window; only the user's explicit flag asks for a window.
    if (dma_window_mb == 0 && !no_bounce_given_) {
        options.dma_window_no_bounce = false;
    }
    return options.validate();
}

int HostCli::serve(const std::string& prog, DeviceModel& model,
                   const std::function<void()>& stopped) {
    // A contradiction on the command line is a usage error, before anything.
    if (auto ok = resolve(); !ok) {
        fmt::print(stderr, "{}: {}\n", prog, ok.error().message);
        return 2;
    }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        // Before any thread exists, so every thread inherits it.
        if (sched_setaffinity(0, sizeof(set), &set) != 0) {
            fmt::print(stderr, "{}: cannot pin to CPU {}: {}\n", prog, cpu, std::strerror(errno));
            return 1;
        }
    }
    const sigset_t stop = block_stop_signals();
    if (!vfio_user_socket.empty()) {
        return serve_vfio_user(prog, model, stop);
    }
    auto host = KernelHost::create(model, options);
    if (!host) {
        fmt::print(stderr, "{}: {}\n", prog, host.error().message);
        return 1;
    }
    fmt::print("{}: created {}\n", prog, (*host)->device().address());
    std::fflush(stdout);
    auto sig = serve_until_signal(**host, stop, ready_file);
    if (!sig) {
        fmt::print(stderr, "{}: {}\n", prog, sig.error().message);
        return 1;
    }
    const auto st = (*host)->stats();
    fmt::print("{}: stopped by {}; {} reads, {} writes, {} shadow reads, {} timeouts, "
               "{} posts refused while stalled\n",
               prog, *sig == SIGINT ? "SIGINT" : "SIGTERM", st.reads, st.writes, st.shadow_reads,
               st.read_timeouts, st.stalled_posts);
    if (stopped) {
        stopped();
    }
    return 0;
}

int HostCli::serve_vfio_user(const std::string& prog, DeviceModel& model, const sigset_t& stop) {
    auto host = VfioUserHost::create(model);
    if (!host) {
        fmt::print(stderr, "{}: {}\n", prog, host.error().message);
        return 1;
    }
    auto listener = VfioUserHost::listen(vfio_user_socket);
    if (!listener) {
        fmt::print(stderr, "{}: {}\n", prog, listener.error().message);
        return 1;
    }
    fmt::print("{}: serving vfio-user on {}\n", prog, vfio_user_socket);
    std::fflush(stdout);
    if (!ready_file.empty() && !write_ready_file(ready_file, vfio_user_socket + "\n")) {
        fmt::print(stderr, "{}: cannot write the ready file {}\n", prog, ready_file);
        return 1;
    }
    Result<void> loop_result;
    std::atomic<bool> loop_done{false};
    // The loop on its own thread, the signal waited for on this one (as
    // serve_until_signal() does for the kernel host).
    std::thread loop([&] {
        loop_result = (*host)->run(listener->get(), [&prog](const std::string& what) {
            fmt::print("{}: {}\n", prog, what);
            std::fflush(stdout);
        });
        loop_done.store(true);
    });
    int sig = 0;
    const timespec slice{0, 100'000'000};
    while (!loop_done.load()) {
        if (const int got = sigtimedwait(&stop, nullptr, &slice); got > 0) {
            sig = got;
            break;
        }
    }
    (*host)->stop();
    loop.join();
    ::unlink(vfio_user_socket.c_str());
    if (!loop_result) {
        fmt::print(stderr, "{}: {}\n", prog, loop_result.error().message);
        return 1;
    }
    const auto st = (*host)->stats();
    fmt::print("{}: stopped by {}; {} clients, {} messages, {} region reads, {} region writes, "
               "{} DMA messages, {} error replies\n",
               prog, sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "its loop", st.clients, st.messages,
               st.region_reads, st.region_writes, st.dma_messages, st.error_replies);
    return 0;
}

} // namespace pciem::devices
