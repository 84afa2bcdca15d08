// SPDX-License-Identifier: MIT
//
// pciem-proxy: puts the device of a vfio-user server on the PCIem bus, so
// the host's own driver drives it (docs/forwarding.md). Runs until
// SIGINT/SIGTERM or until the server goes away; either way the function
// is removed (a surprise removal for its driver).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bar_backing.hpp"
#include "client.hpp"
#include "forwarded_device.hpp"
#include "host_cli.hpp"
#include "mirror.hpp"
#include "pciem/control.hpp"
#include "pciem/device.hpp"
#include "pciem/kernel_host.hpp"
#include "pciem/serve.hpp"
#include "probe.hpp"

namespace {

using namespace std::chrono_literals;

struct Options {
    std::string socket;
    std::string ready_file;
    unsigned connect_timeout_s = 10;
    unsigned reply_timeout_ms = 5000;
    unsigned dma_window_mb = 64;
    std::string control_path = PCIEM_CONTROL_NODE;
    bool probe_only = false;
    bool trap_all = false;
    // The event loop (--busy-poll, --idle-poll-us, --low-cpu); run() adds
    // the rest of the host's options.
    pciem::KernelHostOptions host;
};

// pciem.ko's longest read timeout, and how much longer than the reply
// timeout a read may wait.
constexpr uint32_t max_read_timeout_ms = 10'000;
constexpr uint32_t read_timeout_margin_ms = 500;

constexpr int exit_fault = 1;
constexpr int exit_usage = 2;

int complain(const std::string& what) {
    fmt::print(stderr, "pciem-proxy: {}\n", what);
    return exit_fault;
}

// Watches the socket for the server's hang-up while no request is in
// flight (a request in flight finds it itself); POLLRDHUP alone never
// consumes a byte of a reply.
void watch_hangup(int fd, const std::atomic<bool>& done, pciem::proxy::ForwardedDevice& dev) {
    while (!done.load()) {
        pollfd p{fd, POLLRDHUP, 0};
        if (::poll(&p, 1, 200) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
            dev.report_fault("the server closed the connection");
            return;
        }
    }
}

// The server's mmap()able BAR pieces become memory shared with the
// driver (before the function starts: the kernel takes them only then).
// A piece the kernel refuses stays trapped, as it always was.
void back_bars(const pciem::proxy::ServerDevice& server, const pciem::proxy::BackingPlan& plan,
               int device_fd) {
    std::vector<std::string> notes = plan.notes;
    const uint64_t backed = pciem::proxy::apply_bar_backing(
        server, plan,
        [device_fd](const pciem::proxy::BackingPiece& p, void* addr) {
            return pciem::back_bar(device_fd, p.bar, p.bar_offset, addr, p.len);
        },
        notes);
    for (const auto& n : notes) {
        fmt::print(stderr, "pciem-proxy: note: {}\n", n);
    }
    if (backed != 0) {
        fmt::print("pciem-proxy: {} bytes of BAR memory shared with the server, not trapped\n",
                   backed);
    }
}

// On the way out: the BAR accesses that were trapped and forwarded, so a
// test can tell shared BAR memory (none counted) from forwarded BARs.
void print_forwarded(const pciem::proxy::ForwardedDevice& device,
                     const std::array<bool, 6>& bar_present, bool rom) {
    std::string line;
    for (unsigned bar = 0; bar < bar_present.size(); ++bar) {
        if (bar_present[bar]) {
            const auto f = device.forwarded(bar);
            line += fmt::format("{}BAR{} {} reads {} writes", line.empty() ? "" : ", ", bar,
                                f.reads, f.writes);
        }
    }
    if (rom) {
        line += fmt::format("{}ROM {} reads", line.empty() ? "" : ", ",
                            device.forwarded(PCIEM_ROM_BAR).reads);
    }
    if (!line.empty()) {
        fmt::print("pciem-proxy: forwarded: {}\n", line);
        std::fflush(stdout);
    }
}

// --probe-only: what the server offers and the function that would stand
// for it, with no PCIem needed (checks a server from any machine).
int print_probe(const pciem::proxy::Client& client, const pciem::proxy::ServerDevice& server) {
    auto mirror = pciem::proxy::mirror_device(server);
    if (!mirror) {
        return complain(mirror.error().message);
    }
    const auto req = mirror->spec.build();
    if (!req) {
        return complain(req.error().message);
    }
    const pciem_create& c = req->create();
    fmt::print("vfio-user {}.{}, max_msg_fds {}, max_data_xfer_size {}\n",
               client.server_version().major, client.server_version().minor,
               client.server_version().caps.max_msg_fds,
               client.server_version().caps.max_data_xfer_size);
    fmt::print("device {:04x}:{:04x} subsystem {:04x}:{:04x} class {:06x} rev {:02x} pin {}\n",
               c.vendor_id, c.device_id, c.subsys_vendor_id, c.subsys_id, c.class_code, c.revision,
               c.interrupt_pin);
    for (unsigned i = 0; i < PCIEM_MAX_BARS; ++i) {
        if (c.bars[i].size != 0) {
            fmt::print("BAR {}: {} bytes{}{}\n", i, c.bars[i].size,
                       (c.bars[i].flags & PCIEM_BAR_MEM64) != 0 ? ", 64-bit" : ", 32-bit",
                       (c.bars[i].flags & PCIEM_BAR_PREFETCH) != 0 ? ", prefetchable" : "");
        }
    }
    if (c.rom.size != 0) {
        fmt::print("ROM: {} bytes\n", c.rom.size);
    }
    for (const auto& r : req->records()) {
        fmt::print("capability {} at {:#x}\n", pciem::capability_name(r.type), r.offset);
    }
    fmt::print("interrupts: INTx {}, MSI {}, MSI-X {}\n", server.irq_counts[0],
               server.irq_counts[1], server.irq_counts[2]);
    for (const auto& n : mirror->notes) {
        fmt::print("note: {}\n", n);
    }
    return 0;
}

int run(const Options& o) {
    const sigset_t stop = pciem::block_stop_signals();
    auto channel =
        pciem::vfio_user::Channel::connect(o.socket, std::chrono::seconds(o.connect_timeout_s));
    if (!channel) {
        return complain(channel.error().message);
    }
    auto client = pciem::proxy::Client::negotiate(std::move(*channel),
                                                  std::chrono::milliseconds(o.reply_timeout_ms));
    if (!client) {
        return complain(client.error().message);
    }
    auto server = pciem::proxy::probe_server(*client);
    if (!server) {
        return complain(server.error().message);
    }
    if (o.probe_only) {
        return print_probe(*client, *server);
    }
    auto control = pciem::Control::open(o.control_path);
    if (!control) {
        return complain(control.error().message);
    }
    auto pinfo = control->info();
    if (!pinfo) {
        return complain(pinfo.error().message);
    }
    auto mirror = pciem::proxy::mirror_device(*server, pinfo->window32_size != 0);
    if (!mirror) {
        return complain(mirror.error().message);
    }
    for (const auto& n : mirror->notes) {
        fmt::print(stderr, "pciem-proxy: note: {}\n", n);
    }
    std::string label = "vfio-user:" + o.socket;
    if (label.size() >= PCIEM_LABEL_LEN) {
        label = "vfio-user:..." + o.socket.substr(o.socket.size() - (PCIEM_LABEL_LEN - 14));
    }
    mirror->spec.label(label).origin(o.socket);
    const auto backing = pciem::proxy::plan_bar_backing(
        *server, *mirror, static_cast<size_t>(::sysconf(_SC_PAGESIZE)));

    const auto bar_present = mirror->bar_present;
    const bool rom = mirror->spec.rom_size() != 0;
    pciem::proxy::ForwardedDevice device(*client, std::move(*mirror));
    if (auto ok = device.program_server_header(); !ok) {
        return complain(ok.error().message);
    }
    pciem::KernelHostOptions hopts = o.host;
    hopts.control_path = o.control_path;
    hopts.dma_window_bytes = uint64_t{o.dma_window_mb} << 20;
    // The function's read timeout outlasts the wait for the server's reply:
    // a slow server is either waited for or declared gone (the function
    // removed), never half-answered with all-ones while the proxy still
    // waits. QEMU's server was seen taking a whole second now and then.
    hopts.read_timeout_us =
        std::min<uint32_t>(o.reply_timeout_ms + read_timeout_margin_ms, max_read_timeout_ms) *
        1000u;
    auto host = pciem::KernelHost::create(device, hopts);
    if (!host) {
        return complain(host.error().message);
    }
    if (!o.trap_all) {
        back_bars(*server, backing, (*host)->device().fd());
    }
    if (o.dma_window_mb != 0) {
        auto win = pciem::dma_window_file((*host)->device().fd());
        if (!win) {
            return complain(win.error().message);
        }
        if (auto ok = client->dma_map(win->fd.get(), win->bus_base, win->size); !ok) {
            return complain(ok.error().message);
        }
    }
    if (auto ok = device.wire_intx(); !ok) {
        return complain(fmt::format("wiring the server's INTx: {}", ok.error().message));
    }
    device.set_on_fault([h = host->get()] { h->stop(); });
    std::atomic<bool> done{false};
    std::thread watcher(watch_hangup, client->socket_fd(), std::cref(done), std::ref(device));
    fmt::print("pciem-proxy: {} (vfio-user {}.{}) as {}\n", o.socket,
               client->server_version().major, client->server_version().minor,
               (*host)->device().address());
    std::fflush(stdout);
    auto sig = pciem::serve_until_signal(**host, stop, o.ready_file);
    done.store(true);
    watcher.join();
    print_forwarded(device, bar_present, rom);
    const auto fault = device.fault();
    device.unwire_intx(); // its thread raises the host's line
    host->reset();        // the function goes before the proxy says why
    if (!sig) {
        return complain(sig.error().message);
    }
    if (fault) {
        return complain(fmt::format("{}: the function was removed", *fault));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Put the device of a vfio-user server (QEMU's x-vfio-user-server, libvfio-user, "
                 "SPDK) on the PCIem bus, so the host's own driver binds to it. Runs until SIGINT "
                 "or SIGTERM, or until the server goes away; the function is removed either way. "
                 "Needs pciem.ko and root.\n\n"
                 "Example:\n"
                 "  qemu-system-x86_64 -machine x-remote,vfio-user=on -accel qtest -display none -device "
                 "nvme,id=n0,serial=1,drive=d0 -drive id=d0,if=none,file=disk.img,format=raw "
                 "-object x-vfio-user-server,id=v0,type=unix,path=/run/nvme.sock,device=n0 &\n"
                 "  pciem-proxy --socket /run/nvme.sock --ready-file /run/nvme.ready\n"};
    Options o;
    app.add_option("--socket", o.socket, "The server's UNIX socket")->required();
    app.add_option("--ready-file", o.ready_file,
                   "Write the function's address here once it is on the bus");
    app.add_option("--connect-timeout-s", o.connect_timeout_s,
                   "Wait this long for the socket to appear and accept")
        ->capture_default_str();
    app.add_option("--reply-timeout-ms", o.reply_timeout_ms,
                   "A server that does not answer a request within this long is treated as "
                   "gone; the driver's reads wait this long plus 500 ms (10 s at most) before "
                   "they complete as all-ones")
        ->check(CLI::Range(1u, 600'000u))
        ->capture_default_str();
    app.add_option("--dma-window-mb", o.dma_window_mb,
                   "DMA window handed to the server (DMA_MAP), in MiB, even; 0 = no DMA")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str();
    app.add_flag("--probe-only", o.probe_only,
                 "Print what the server offers and the PCIem function that would stand for it, "
                 "then exit (needs no PCIem)");
    app.add_flag("--trap-all", o.trap_all,
                 "Forward every BAR access, even to what the server offers as mmap()able (no "
                 "shared BAR memory: the reference for benchmarks, or to see each access)");
    app.add_option("--control", o.control_path, "PCIem control node")->capture_default_str();
    // How the proxy waits for the driver's accesses.
    pciem::devices::add_event_loop_options(app, o.host, pciem::devices::EventLoopKind::proxy);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }
    if (auto ok = o.host.validate(); !ok) {
        fmt::print(stderr, "pciem-proxy: {}\n", ok.error().message);
        return exit_usage;
    }
    if (o.dma_window_mb % 2 != 0) {
        fmt::print(stderr, "pciem-proxy: --dma-window-mb must be even (the window is made of "
                           "2 MiB pieces)\n");
        return exit_usage;
    }
    return run(o);
}
