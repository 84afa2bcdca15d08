// SPDX-License-Identifier: MIT
//
// pciemctl trace: record PCIem's tracepoints (kernel/pciem_trace.h), and
// optionally the bound driver's functions, through tracefs, and write them
// as text or Chrome/Perfetto JSON (docs/tracing.md).
//
// tracefs directly, not trace-cmd: a private instance
// (/sys/kernel/tracing/instances/pciemctl-PID) has its own buffer, event
// enables, filter, clock and function tracer, so a trace neither disturbs
// nor is disturbed by other users of tracefs, and nothing beyond the kernel
// is needed in a guest. Events are read as text from the instance's
// trace_pipe while the command runs and turned into events by
// trace_events.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "pciem/address.hpp"
#include "pciem/unique_fd.hpp"
#include "trace_events.hpp"
#include "watch.hpp"

namespace pciemctl {

namespace {

struct TraceOptions {
    std::string function;
    double duration = 0;
    std::string format = "text";
    std::string driver;
    std::string output;
    uint32_t buffer_kb = 4096;
    std::string tracefs = "/sys/kernel/tracing";
    std::vector<std::string> command;
};

// A tracefs instance of our own, torn down when this goes.
class Instance {
public:
    Instance(std::string tracefs, std::string dir)
        : tracefs_(std::move(tracefs)), dir_(std::move(dir)) {}
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;
    ~Instance() {
        // Quiet it first, then give back what it holds: rmdir fails while
        // tracers or events are on.
        (void)write("tracing_on", "0");
        (void)write("events/enable", "0");
        (void)write("current_tracer", "nop");
        (void)write("set_ftrace_filter", "");
        if (::rmdir(dir_.c_str()) != 0) {
            fmt::print(stderr, "pciemctl: warning: cannot remove the tracefs instance {}: {}\n",
                       dir_, std::strerror(errno));
        }
    }

    [[nodiscard]] std::string path(const std::string& rel) const { return dir_ + "/" + rel; }

    // An error sentence, or empty.
    std::string write(const std::string& rel, const std::string& value) const {
        const std::string p = path(rel);
        pciem::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
        if (!fd.valid()) {
            return fmt::format("cannot open {}: {}", p, std::strerror(errno));
        }
        if (!value.empty() &&
            ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
            return fmt::format("writing '{}' to {} failed: {}", value, p, std::strerror(errno));
        }
        return {};
    }

    [[nodiscard]] std::string read(const std::string& rel) const {
        std::ifstream in(path(rel));
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    std::string tracefs_;
    std::string dir_;
};

bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

// Is module `name` built into the running kernel? Then ":mod:" matches
// none of its functions. A built-in module with parameters has a
// /sys/module directory without the `initstate` a loadable one has;
// modules.builtin lists the others.
bool builtin_module(const std::string& name) {
    const std::string dir = "/sys/module/" + name;
    if (exists(dir) && !exists(dir + "/initstate")) {
        return true;
    }
    utsname u{};
    if (::uname(&u) != 0) {
        return false;
    }
    std::ifstream list(fmt::format("/lib/modules/{}/modules.builtin", u.release));
    std::string line;
    while (std::getline(list, line)) {
        std::string base = line.substr(line.rfind('/') + 1);
        base = base.substr(0, base.find(".ko"));
        std::replace(base.begin(), base.end(), '-', '_');
        if (base == name) {
            return true;
        }
    }
    return false;
}

int run_trace(const TraceOptions& o) {
    if (o.duration > 0 && !o.command.empty()) {
        fmt::print(stderr, "pciemctl: give --duration or a COMMAND, not both\n");
        return exit_usage_error;
    }
    std::optional<pciem::PciAddress> fn;
    if (!o.function.empty()) {
        auto at = pciem::parse_pci_address(o.function);
        if (!at) {
            fmt::print(stderr, "pciemctl: --function: {}\n", at.error().message);
            return exit_usage_error;
        }
        fn = *at;
    }
    if (geteuid() != 0) {
        fmt::print(stderr,
                   "pciemctl: trace needs root: tracefs ({}) is root's alone; run it "
                   "with sudo\n",
                   o.tracefs);
        return exit_runtime_error;
    }
    if (!exists(o.tracefs + "/instances")) {
        fmt::print(stderr,
                   "pciemctl: tracefs is not mounted at {}: mount it with 'mount -t tracefs "
                   "nodev {}' (or give --tracefs DIR)\n",
                   o.tracefs, o.tracefs);
        return exit_runtime_error;
    }
    if (!exists(o.tracefs + "/events/pciem")) {
        fmt::print(stderr,
                   "pciemctl: PCIem's tracepoints are not in tracefs ({}/events/pciem): is "
                   "pciem.ko loaded?\n",
                   o.tracefs);
        return exit_runtime_error;
    }
    const std::string dir = fmt::format("{}/instances/pciemctl-{}", o.tracefs, getpid());
    if (::mkdir(dir.c_str(), 0700) != 0) {
        fmt::print(stderr, "pciemctl: cannot create the tracefs instance {}: {}\n", dir,
                   std::strerror(errno));
        return exit_runtime_error;
    }
    Instance inst(o.tracefs, dir);
    std::string err;
    auto set = [&](const std::string& rel, const std::string& value) {
        if (err.empty()) {
            err = inst.write(rel, value);
        }
    };
    set("tracing_on", "0");
    // CLOCK_MONOTONIC, the clock of PCIem's recordings, where there is one.
    const bool mono = inst.read("trace_clock").find("mono") != std::string::npos;
    if (mono) {
        set("trace_clock", "mono");
    }
    set("buffer_size_kb", std::to_string(o.buffer_kb));
    if (fn) {
        // In the kernel, before a byte is copied: every pciem event has them.
        set("events/pciem/filter",
            fmt::format("domain == {} && devfn == {}", fn->domain, unsigned{fn->devfn}));
    }
    if (!o.driver.empty() && err.empty()) {
        if (inst.read("available_tracers").find("function") == std::string::npos ||
            !exists(inst.path("set_ftrace_filter"))) {
            fmt::print(stderr, "pciemctl: --driver needs the function tracer "
                               "(CONFIG_FUNCTION_TRACER) in tracefs instances\n");
            return exit_runtime_error;
        }
        // ":mod:" also matches a module loaded later. A driver built into
        // the kernel (the debug kernel's nvme) has no module: its
        // functions are taken by name, those starting with "DRIVER_".
        if (builtin_module(o.driver)) {
            fmt::print(stderr, "pciemctl: {} is built into the kernel: tracing the functions "
                               "named {}_*\n",
                       o.driver, o.driver);
            set("set_ftrace_filter", o.driver + "_*");
        } else {
            set("set_ftrace_filter", ":mod:" + o.driver);
        }
        if (!err.empty()) {
            err += fmt::format(" (is '{}' the name of a module, as lsmod shows it?)", o.driver);
        }
        set("current_tracer", "function");
    }
    set("events/pciem/enable", "1");
    if (!err.empty()) {
        fmt::print(stderr, "pciemctl: {}\n", err);
        return exit_runtime_error;
    }
    pciem::UniqueFd pipe(
        ::open(inst.path("trace_pipe").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!pipe.valid()) {
        fmt::print(stderr, "pciemctl: cannot open {}: {}\n", inst.path("trace_pipe"),
                   std::strerror(errno));
        return exit_runtime_error;
    }
    std::string text;
    std::vector<char> buf(1 << 16);
    auto drain = [&]() {
        for (;;) {
            const ssize_t n = ::read(pipe.get(), buf.data(), buf.size());
            if (n > 0) {
                text.append(buf.data(), static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return true; // EAGAIN: nothing more for now
        }
    };
    set("tracing_on", "1");
    const auto t0 = std::chrono::steady_clock::now();
    auto end = watch(pipe.get(), o.command, o.duration, 100, drain);
    (void)inst.write("tracing_on", "0");
    drain();
    if (!end) {
        fmt::print(stderr, "pciemctl: {}\n", end.error().message);
        return exit_runtime_error;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::vector<trace::Event> events;
    uint64_t lost = 0, calls = 0;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        lost += trace::lost_events(line);
        auto tl = trace::parse_trace_line(line);
        if (!tl) {
            continue;
        }
        auto e = trace::parse_event(*tl);
        if (!e) {
            continue;
        }
        calls += e->kind == trace::Event::Kind::call;
        events.push_back(std::move(*e));
    }
    std::string out;
    if (o.format == "json") {
        trace::JsonInfo info;
        info.command = o.command.empty() ? fmt::format("{:.1f} s", secs) : command_text(o.command);
        info.driver_module = o.driver;
        out = trace::to_chrome_json(events, info).dump(1) + "\n";
    } else {
        out = fmt::format("# pciemctl trace{}{}: {} events, clock {}, seconds\n",
                          fn ? " --function " + pciem::format_pci_address(*fn) : "",
                          o.driver.empty() ? "" : " --driver " + o.driver, events.size(),
                          mono ? "mono (CLOCK_MONOTONIC)" : "local") +
              trace::to_text(events);
    }
    std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
    f << out;
    f.close();
    if (!f) {
        fmt::print(stderr, "pciemctl: cannot write {}\n", o.output);
        return exit_runtime_error;
    }
    fmt::print("pciemctl: {} PCIem events{} in {:.1f} s written to {} ({})\n",
               events.size() - calls,
               o.driver.empty() ? "" : fmt::format(" and {} calls of {}", calls, o.driver), secs,
               o.output, o.format);
    if (lost != 0) {
        fmt::print(stderr,
                   "pciemctl: warning: {} events were lost (the trace buffer was full): trace "
                   "with a larger --buffer-kb\n",
                   lost);
    }
    return command_outcome(o.command, *end);
}

} // namespace

void add_trace_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<TraceOptions>();
    auto* cmd = app.add_subcommand(
        "trace",
        "Trace PCIem's tracepoints (config cycles, MMIO with its time to answer, interrupts "
        "raised, masked and delivered, DMA mappings and accesses, ring backpressure, state "
        "changes, injected faults), and with --driver the driver's functions, for the "
        "duration, while COMMAND runs, or until Ctrl-C; write them as text or as Chrome/"
        "Perfetto JSON with a track per function and per interrupt vector (docs/tracing.md). "
        "Needs root and tracefs.");
    cmd->add_option("--function", o->function,
                    "Only this PCIem function (10000:00:03.0); default: all");
    cmd->add_option("--duration", o->duration, "Stop after this many seconds")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--format", o->format, "text or json (Trace Event Format)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd->add_option("--driver", o->driver,
                    "Also trace the functions of this kernel module (the function tracer, "
                    "filtered to it), e.g. nvme");
    cmd->add_option("-o,--output", o->output, "Where to write the trace")->required();
    cmd->add_option("--buffer-kb", o->buffer_kb, "Trace buffer per CPU, KiB")
        ->check(CLI::Range(64u, 1048576u))
        ->capture_default_str();
    cmd->add_option("--tracefs", o->tracefs, "Where tracefs is mounted")->capture_default_str();
    cmd->add_option("command", o->command, "-- COMMAND [ARGS...]: trace while it runs");
    cmd->callback([o, &action] {
        action = [o] {
            return run_trace(*o);
        };
    });
}

} // namespace pciemctl
