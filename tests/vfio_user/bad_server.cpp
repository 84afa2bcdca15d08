// SPDX-License-Identifier: MIT
//
// pciem-vfu-bad-server: a small vfio-user server that serves a plain PCI
// device (1b36:0005, one 4 KiB memory BAR of scratch registers, MSI, PM) well
// until told to misbehave: the (N+1)-th message of one command gets a
// faulty reply. pciem-proxy must then exit with a message naming the
// fault, and remove its function (tests/vfio_user/proxy_faults.sh on the
// host with --probe-only, the guest case 99-forward-faults after the
// function exists).
//
//     pciem-vfu-bad-server --socket S --fault wrong-id --on region-read --after 3
//
// With --dma-probe it is also a device that reaches into the DMA region
// DMA_MAP gives it when the driver asks, wherever the driver points it,
// as a hostile or buggy device would: BAR registers 0x00/0x04 hold a bus
// address (low, high), writing 0x08 runs a command (1: read the 32-bit
// word there into 0x0c, 2: write 0x0c's value there), with no check of
// its own: PCIem's confinement must stop what the driver has not mapped
// (guest case 99-forward-dma-confine).
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <linux/pci_regs.h>

#include "pciem/vfio_user/channel.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace vu = pciem::vfio_user;
using namespace std::chrono_literals;

namespace {

// What a faulty reply looks like.
const std::map<std::string, std::string> faults = {
    {"none", "behave"},
    {"short-header", "8 bytes of a header, then close"},
    {"oversized", "a header claiming a 2 GiB message"},
    {"short-payload", "a reply whose payload is cut to 4 bytes"},
    {"wrong-id", "a reply with another message id"},
    {"wrong-command", "a reply for another command"},
    {"bad-index", "a region or IRQ index other than the one asked for, or region data "
                  "for another offset"},
    {"extra-fd", "a reply carrying a file descriptor"},
    {"error", "an error reply (EINVAL)"},
    {"silence", "no reply at all (the connection stays open)"},
    {"disconnect", "half a reply, then close"},
    {"garbage", "64 bytes of noise"},
    {"bad-version", "VERSION 1.0"},
};

const std::map<std::string, vu::Command> commands = {
    {"version", vu::Command::version},
    {"device-info", vu::Command::device_get_info},
    {"region-info", vu::Command::get_region_info},
    {"irq-info", vu::Command::get_irq_info},
    {"set-irqs", vu::Command::set_irqs},
    {"region-read", vu::Command::region_read},
    {"region-write", vu::Command::region_write},
    {"dma-map", vu::Command::dma_map},
};

template <class T>
vu::Bytes bytes_of(const T& v) {
    vu::Bytes b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof(T));
    return b;
}

class Device {
public:
    Device() {
        auto put16 = [&](size_t at, uint16_t v) {
            std::memcpy(&config_[at], &v, 2);
        };
        auto put32 = [&](size_t at, uint32_t v) {
            std::memcpy(&config_[at], &v, 4);
        };
        put16(PCI_VENDOR_ID, 0x1b36);
        put16(PCI_DEVICE_ID, 0x0005);
        put16(PCI_STATUS, PCI_STATUS_CAP_LIST);
        put32(PCI_CLASS_REVISION, 0x00ff0001);
        config_[PCI_CAPABILITY_LIST] = 0x40;
        config_[0x40] = PCI_CAP_ID_MSI;
        config_[0x41] = 0x50;
        put16(0x42, PCI_MSI_FLAGS_64BIT);
        // PM, No_Soft_Reset clear: D3hot -> D0 resets the device
        // (guest case 99-forward-pm-reset).
        config_[0x50] = PCI_CAP_ID_PM;
        put16(0x52, 3); // version 3
        put16(0x54, 0); // PMCSR: D0
    }

    // DMA_MAP (--dma-probe): the region's memory, mapped as a server would.
    void map_dma(const vu::Message& m) {
        auto d = vu::decode_dma_map(m.payload, m.fds.size());
        if (!d || m.fds.empty()) {
            return;
        }
        void* p = ::mmap(nullptr, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fds[0].get(),
                         static_cast<off_t>(d->offset));
        if (p == MAP_FAILED) {
            fmt::print(stderr, "pciem-vfu-bad-server: mmap of the DMA region: {}\n",
                       std::strerror(errno));
            return;
        }
        win_ = static_cast<std::byte*>(p);
        win_bus_ = d->addr;
        win_size_ = d->size;
        fmt::print(stderr, "pciem-vfu-bad-server: DMA region {:#x}+{:#x}\n", win_bus_, win_size_);
    }

    // The correct reply payload to `m`.
    vu::Bytes answer(const vu::Message& m) {
        switch (static_cast<vu::Command>(m.header.command)) {
        case vu::Command::version: {
            uint16_t v[2] = {0, 1};
            vu::Bytes p = bytes_of(v);
            const std::string json = R"({"capabilities":{"max_msg_fds":8}})";
            for (char c : json) {
                p.push_back(static_cast<std::byte>(c));
            }
            p.push_back(std::byte{0});
            return p;
        }
        case vu::Command::device_get_info:
            return bytes_of(vu::DeviceInfo{16, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET,
                                           VFIO_PCI_NUM_REGIONS, VFIO_PCI_NUM_IRQS});
        case vu::Command::get_region_info: {
            auto idx = vu::decode_info_request(m.payload, vu::Command::get_region_info);
            vfio_region_info r{};
            r.argsz = sizeof(r);
            r.index = idx ? *idx : 0;
            r.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
            r.size = r.index == 0 ? bar_.size() : r.index == VFIO_PCI_CONFIG_REGION_INDEX ? 256 : 0;
            return bytes_of(r);
        }
        case vu::Command::get_irq_info: {
            auto idx = vu::decode_info_request(m.payload, vu::Command::get_irq_info);
            vfio_irq_info q{};
            q.argsz = sizeof(q);
            q.index = idx ? *idx : 0;
            q.flags = VFIO_IRQ_INFO_EVENTFD;
            q.count = q.index == VFIO_PCI_MSI_IRQ_INDEX ? 1 : 0;
            return bytes_of(q);
        }
        case vu::Command::region_read:
        case vu::Command::region_write:
            return access(m);
        default:
            return {}; // SET_IRQS, DMA_MAP, DMA_UNMAP, DEVICE_RESET: accepted
        }
    }

private:
    vu::Bytes access(const vu::Message& m) {
        const auto cmd = static_cast<vu::Command>(m.header.command);
        auto req = vu::decode_region_access_request(m.payload, cmd);
        if (!req) {
            return {};
        }
        std::span<std::byte> mem;
        if (req->access.region == 0) {
            mem = bar_;
        } else if (req->access.region == VFIO_PCI_CONFIG_REGION_INDEX) {
            mem = std::as_writable_bytes(std::span(config_));
        }
        vu::Bytes p = bytes_of(req->access);
        const auto& a = req->access;
        const bool inside = a.offset <= mem.size() && a.count <= mem.size() - a.offset;
        if (cmd == vu::Command::region_write) {
            // Config writes are accepted and ignored: the header is the proxy's.
            if (inside && req->access.region == 0) {
                std::memcpy(mem.data() + a.offset, req->data.data(), a.count);
                if (a.offset == probe_cmd && a.count == 4) {
                    probe();
                }
            }
            return p;
        }
        const size_t at = p.size();
        p.resize(at + a.count, std::byte{0xff});
        if (inside) {
            std::memcpy(p.data() + at, mem.data() + a.offset, a.count);
        }
        return p;
    }

    static constexpr uint64_t probe_addr = 0x00, probe_cmd = 0x08, probe_data = 0x0c;

    uint32_t reg(uint64_t off) const {
        uint32_t v;
        std::memcpy(&v, bar_.data() + off, 4);
        return v;
    }

    // The probe's command: touch the DMA region, unchecked.
    void probe() {
        uint64_t addr = reg(probe_addr) | (uint64_t{reg(probe_addr + 4)} << 32);
        uint32_t v = 0xffffffff;
        if (win_ == nullptr || addr < win_bus_ || addr - win_bus_ > win_size_ - 4) {
            std::memcpy(bar_.data() + probe_data, &v, 4);
            return;
        }
        auto* word = reinterpret_cast<volatile uint32_t*>(win_ + (addr - win_bus_));
        fmt::print(stderr, "pciem-vfu-bad-server: DMA {} at {:#x}\n",
                   reg(probe_cmd) == 1 ? "read" : "write", addr);
        if (reg(probe_cmd) == 1) {
            v = *word;
            std::memcpy(bar_.data() + probe_data, &v, 4);
        } else if (reg(probe_cmd) == 2) {
            *word = reg(probe_data);
        }
    }

    std::array<uint8_t, 256> config_{};
    std::array<std::byte, 4096> bar_{};
    std::byte* win_ = nullptr;
    uint64_t win_bus_ = 0, win_size_ = 0;
};

// Sends the faulty form of the reply `good` to `m`. False: stop serving.
bool misbehave(vu::Channel& ch, const std::string& fault, const vu::Message& m,
               const vu::Bytes& good) {
    vu::Bytes r = vu::encode_reply(m.header, good);
    vu::Header h = vu::decode_header(std::span<const std::byte, 16>(r.data(), 16));
    auto rewrite = [&] {
        vu::encode_header(h, std::span<std::byte, 16>(r.data(), 16));
    };
    if (fault == "short-header") {
        (void)::write(ch.fd(), r.data(), 8);
        return false;
    }
    if (fault == "oversized") {
        h.size = 0x7fff'ffff;
        rewrite();
    } else if (fault == "short-payload") {
        r.resize(std::min<size_t>(r.size(), 20));
        h.size = static_cast<uint32_t>(r.size());
        rewrite();
    } else if (fault == "wrong-id") {
        h.id = static_cast<uint16_t>(h.id + 1);
        rewrite();
    } else if (fault == "wrong-command") {
        h.command = h.command == 4 ? 5 : 4;
        rewrite();
    } else if (fault == "bad-index") {
        // Index fields sit at payload offset 8 in region/IRQ info, the
        // region at 8 in an access reply: off by one in every case.
        if (r.size() >= 16 + 12) {
            uint32_t v;
            std::memcpy(&v, r.data() + 16 + 8, 4);
            ++v;
            std::memcpy(r.data() + 16 + 8, &v, 4);
        }
    } else if (fault == "extra-fd") {
        pciem::UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
        const int fds[] = {efd.get()};
        return static_cast<bool>(ch.send(r, fds));
    } else if (fault == "error") {
        r = vu::encode_error_reply(m.header, EINVAL);
    } else if (fault == "silence") {
        return true;
    } else if (fault == "disconnect") {
        (void)::write(ch.fd(), r.data(), r.size() / 2);
        return false;
    } else if (fault == "garbage") {
        r.assign(64, std::byte{0xa5});
    } else if (fault == "bad-version") {
        uint16_t v[2] = {1, 0};
        r = vu::encode_reply(m.header, bytes_of(v));
    }
    return static_cast<bool>(ch.send(r));
}

// Is `m` an access to a BAR (not config space, not the ROM)?
bool bar_access(const vu::Message& m) {
    const auto cmd = static_cast<vu::Command>(m.header.command);
    if (cmd != vu::Command::region_read && cmd != vu::Command::region_write) {
        return false;
    }
    auto req = vu::decode_region_access_request(m.payload, cmd);
    return req && req->access.region <= VFIO_PCI_BAR5_REGION_INDEX;
}

int serve(const std::string& path, const std::string& fault, vu::Command on, unsigned after,
          bool bar_only, bool dma_probe) {
    pciem::UniqueFd lfd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) {
        fmt::print(stderr, "pciem-vfu-bad-server: socket path too long\n");
        return 2;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ::unlink(path.c_str());
    if (::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(lfd.get(), 1) != 0) {
        fmt::print(stderr, "pciem-vfu-bad-server: cannot listen on {}: {}\n", path,
                   std::strerror(errno));
        return 1;
    }
    vu::Channel ch{pciem::UniqueFd(::accept4(lfd.get(), nullptr, nullptr, SOCK_CLOEXEC))};
    ::unlink(path.c_str());
    Device dev;
    unsigned seen = 0;
    for (;;) {
        auto m = ch.receive(std::chrono::hours(24));
        if (!m) {
            return 0; // the client went away
        }
        if (dma_probe && m->header.command == static_cast<uint16_t>(vu::Command::dma_map)) {
            dev.map_dma(*m);
        }
        const vu::Bytes good = dev.answer(*m);
        const bool hit = fault != "none" && m->header.command == static_cast<uint16_t>(on) &&
                         (!bar_only || bar_access(*m)) && seen++ == after;
        if (hit) {
            fmt::print(stderr, "pciem-vfu-bad-server: {} for {}\n", fault,
                       vu::command_name(m->header.command));
            if (!misbehave(ch, fault, *m, good)) {
                return 0;
            }
            if (fault == "silence") {
                std::this_thread::sleep_for(std::chrono::hours(24));
            }
            continue;
        }
        if ((m->header.flags & vu::flag_no_reply) == 0 &&
            !ch.send(vu::encode_reply(m->header, good))) {
            return 0;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "A vfio-user server of a small PCI device that misbehaves on demand (pciem-proxy's "
        "fault tests)."};
    std::string path, fault = "none", on = "region-read";
    unsigned after = 0;
    bool list = false;
    bool bar_only = false;
    bool dma_probe = false;
    app.add_option("--socket", path, "UNIX socket to listen on");
    app.add_option("--fault", fault, "What the faulty reply does (--list)");
    app.add_option("--on", on, "Which command's reply is faulty");
    app.add_option("--after", after, "Replies of that command sent correctly first");
    app.add_flag("--bar-only", bar_only,
                 "Count only REGION_READ/WRITEs of BARs (a driver's accesses after the "
                 "function exists), not of config space");
    app.add_flag("--dma-probe", dma_probe,
                 "Map the DMA region and touch it where the driver's BAR writes say "
                 "(registers 0x00-0x0c)");
    app.add_flag("--list", list, "List the faults and commands");
    CLI11_PARSE(app, argc, argv);
    if (list) {
        for (const auto& [name, what] : faults) {
            fmt::print("{:<14} {}\n", name, what);
        }
        fmt::print("commands:");
        for (const auto& [name, c] : commands) {
            fmt::print(" {}", name);
        }
        fmt::print("\n");
        return 0;
    }
    if (path.empty() || !faults.contains(fault) || !commands.contains(on)) {
        fmt::print(stderr, "pciem-vfu-bad-server: need --socket, a --fault and an --on from "
                           "--list\n");
        return 2;
    }
    return serve(path, fault, commands.at(on), after, bar_only, dma_probe);
}
