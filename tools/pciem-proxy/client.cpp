// SPDX-License-Identifier: MIT
#include "client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/socket.h>

#include <fmt/format.h>

namespace pciem::proxy {

namespace vu = vfio_user;

namespace {

// Writes in flight before the next one waits for the oldest reply: far
// below what a socket buffer holds in replies, so neither side can block
// the other by filling it.
constexpr size_t max_posted = 32;

// A reply slower than this is reported (a quarter of the default read
// timeout).
constexpr std::chrono::milliseconds slow_reply{250};

std::string name(vu::Command c) {
    return vu::command_name(static_cast<uint16_t>(c));
}

// The innermost frames of a thread's kernel stack ("a < b < c"), when
// this process may read it (root): where a server blocked in the kernel
// waits, beyond its wait channel.
std::string kernel_frames(const std::filesystem::path& task) {
    std::ifstream stack(task / "stack");
    std::string line, out;
    for (int n = 0; n < 4 && std::getline(stack, line); ++n) {
        // "[<0>] name+0x12/0x40": the name
        const auto start = line.find("] ");
        const auto plus = line.find('+');
        if (start == std::string::npos) {
            break;
        }
        out += (out.empty() ? "" : " < ") + line.substr(start + 2, plus == std::string::npos
                                                                       ? std::string::npos
                                                                       : plus - start - 2);
    }
    return out;
}

// What the server's threads are doing, when it runs on this machine: their
// state and where each waits in the kernel, so that a silent server's log
// line tells a busy one from a blocked one.
std::string server_whereabouts(int fd) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0) {
        return {};
    }
    const auto dir = fmt::format("/proc/{}/task", cred.pid);
    std::error_code ec;
    std::string out = fmt::format(" (server pid {}:", cred.pid);
    for (const auto& t : std::filesystem::directory_iterator(dir, ec)) {
        std::ifstream stat(t.path() / "stat");
        std::ifstream wchan(t.path() / "wchan");
        std::string st, w;
        std::getline(stat, st);
        std::getline(wchan, w);
        // the state follows the command's closing parenthesis
        const auto paren = st.rfind(')');
        const char state =
            paren != std::string::npos && paren + 2 < st.size() ? st[paren + 2] : '?';
        const auto frames = state == 'S' ? std::string() : kernel_frames(t.path());
        out += fmt::format(" thread {} {} in {}{};", t.path().filename().string(), state,
                           w.empty() || w == "0" ? "user space" : w,
                           frames.empty() ? "" : fmt::format(" [{}]", frames));
    }
    out.back() = ')';
    return out;
}

} // namespace

Result<Client> Client::negotiate(vu::Channel channel, std::chrono::milliseconds timeout) {
    Client c(std::move(channel), timeout);
    vu::Version mine;
    mine.minor = vu::version_minor_max;
    const uint16_t id = c.next_id();
    auto m = c.call(id, vu::Command::version, vu::encode_version(id, mine));
    if (!m) {
        return std::unexpected(m.error());
    }
    auto v = vu::decode_version(m->payload);
    if (!v) {
        return fail(EPROTO, fmt::format("the server's VERSION reply is malformed: {}", v.error()));
    }
    if (v->major != vu::version_major || v->minor > vu::version_minor_max) {
        return fail(EPROTONOSUPPORT,
                    fmt::format("the server speaks vfio-user {}.{}; pciem-proxy speaks 0.0 to "
                                "0.{}",
                                v->major, v->minor, vu::version_minor_max));
    }
    c.version_ = *v;
    return c;
}

Result<vu::Message> Client::reply_to(uint16_t id, vu::Command command) {
    // A reply not here when it is already slow: where the server's threads
    // are while it keeps us waiting (by the time it is late they may have
    // moved on), for the slow-reply and timeout messages.
    const auto start = std::chrono::steady_clock::now();
    // "; after N ms (server pid ...)", empty if the reply did not keep us
    std::string slow_whereabouts;
    const auto first = std::min(slow_reply, timeout_);
    const auto note = [&] {
        const auto where = server_whereabouts(ch_.fd());
        if (!where.empty()) {
            slow_whereabouts = fmt::format("; after {} ms{}", first.count(), where);
        }
    };
    auto m = ch_.receive(timeout_, vu::Channel::Slow{first, note});
    if (!m) {
        const auto& e = m.error();
        if (e.errnum == ETIMEDOUT) {
            return fail(ETIMEDOUT, fmt::format("the server did not answer {} (id {}) within {} "
                                               "ms: {}{}{}",
                                               name(command), id, timeout_.count(), e.message,
                                               server_whereabouts(ch_.fd()), slow_whereabouts));
        }
        return fail(e.errnum, fmt::format("waiting for the reply to {} (id {}): {}", name(command),
                                          id, e.message));
    }
    // A driver reading with preemption off gets all-ones after pciem.ko's
    // read timeout (1 s by default): say when the server came near it.
    // (Posted writes too: the next read waits behind them.)
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    if (took >= slow_reply) {
        fmt::print(stderr, "pciem-proxy: the server took {} ms to answer {} (id {}){}\n",
                   took.count(), name(command), id, slow_whereabouts);
    }
    if (auto ok = vu::check_reply(m->header, id, command); !ok) {
        return fail(EPROTO, fmt::format("the server broke the protocol: {}", ok.error()));
    }
    if ((m->header.flags & vu::flag_error) != 0) {
        return fail(m->header.error != 0 ? static_cast<int>(m->header.error) : EIO,
                    fmt::format("the server refused {} (id {}): {}", name(command), id,
                                std::strerror(static_cast<int>(m->header.error))));
    }
    // Only DMA_MAP-style requests carry descriptors, and among replies
    // REGION_INFO's: the fd of an mmap()able region, which the caller keeps.
    if (!m->fds.empty() && command != vu::Command::get_region_info) {
        return fail(EPROTO, fmt::format("the server's reply to {} came with {} file "
                                        "descriptors, where none belong",
                                        name(command), m->fds.size()));
    }
    return m;
}

bool Client::refused(const Error& e) {
    return e.errnum != EPROTO && e.errnum != ETIMEDOUT && e.errnum != EPIPE &&
           e.errnum != ECONNRESET;
}

Result<void> Client::collect_one_posted() {
    const Posted p = posted_.front();
    posted_.pop_front();
    auto m = reply_to(p.id, vu::Command::region_write);
    if (!m) {
        // A refused write is the server's business (real hardware drops
        // it too); anything else is a broken connection.
        if (refused(m.error())) {
            fmt::print(stderr, "pciem-proxy: {} ({} bytes at region {} offset {:#x})\n",
                       m.error().message, p.count, p.region, p.offset);
            return {};
        }
        return std::unexpected(m.error());
    }
    auto ok = vu::decode_region_access_reply(m->payload, vu::Command::region_write, p.region,
                                             p.offset, p.count);
    if (!ok) {
        return fail(EPROTO, fmt::format("the server's REGION_WRITE reply (id {}) is malformed: {}",
                                        p.id, ok.error()));
    }
    return {};
}

Result<void> Client::flush() {
    while (!posted_.empty()) {
        if (auto ok = collect_one_posted(); !ok) {
            return ok;
        }
    }
    return {};
}

Result<vu::Message> Client::call(uint16_t id, vu::Command command, const vu::Bytes& msg,
                                 std::span<const int> fds) {
    if (auto ok = ch_.send(msg, fds); !ok) {
        return std::unexpected(ok.error());
    }
    // Replies come in order: those of earlier writes first.
    if (auto ok = flush(); !ok) {
        return std::unexpected(ok.error());
    }
    return reply_to(id, command);
}

Result<vu::DeviceInfo> Client::device_info() {
    const uint16_t id = next_id();
    auto m = call(id, vu::Command::device_get_info, vu::encode_device_get_info(id));
    if (!m) {
        return std::unexpected(m.error());
    }
    auto d = vu::decode_device_info(m->payload);
    if (!d) {
        return fail(EPROTO,
                    fmt::format("the server's DEVICE_GET_INFO reply is malformed: {}", d.error()));
    }
    return *d;
}

Result<vu::RegionInfo> Client::region_info(uint32_t index, UniqueFd* fd) {
    // Room for a capability chain; a server needing more says so in argsz
    // and is asked again.
    uint32_t argsz = 256;
    for (int attempt = 0; attempt < 2; ++attempt) {
        const uint16_t id = next_id();
        auto m =
            call(id, vu::Command::get_region_info, vu::encode_get_region_info(id, index, argsz));
        if (!m) {
            return std::unexpected(m.error());
        }
        auto r = vu::decode_region_info(m->payload, index, m->fds.size());
        if (!r) {
            return fail(EPROTO, fmt::format("the server's reply about region {} is malformed: {}",
                                            index, r.error()));
        }
        if (r->argsz <= argsz || r->argsz > 65536) {
            // decode_region_info() allowed at most one, and only with MMAP.
            if (fd != nullptr && !m->fds.empty()) {
                *fd = std::move(m->fds.front());
            }
            return *r;
        }
        argsz = r->argsz;
    }
    return fail(EPROTO,
                fmt::format("the server keeps asking for more room to describe region {}", index));
}

Result<vu::IrqInfo> Client::irq_info(uint32_t index) {
    const uint16_t id = next_id();
    auto m = call(id, vu::Command::get_irq_info, vu::encode_get_irq_info(id, index));
    if (!m) {
        return std::unexpected(m.error());
    }
    auto r = vu::decode_irq_info(m->payload, index);
    if (!r) {
        return fail(EPROTO, fmt::format("the server's reply about interrupt index {} is "
                                        "malformed: {}",
                                        index, r.error()));
    }
    return *r;
}

Result<std::vector<std::byte>> Client::region_read(uint32_t region, uint64_t offset,
                                                   uint32_t count) {
    const uint16_t id = next_id();
    auto m = call(id, vu::Command::region_read, vu::encode_region_read(id, region, offset, count));
    if (!m) {
        return std::unexpected(m.error());
    }
    auto data =
        vu::decode_region_access_reply(m->payload, vu::Command::region_read, region, offset, count);
    if (!data) {
        return fail(EPROTO, fmt::format("the server's REGION_READ reply (region {} offset {:#x}, "
                                        "{} bytes) is malformed: {}",
                                        region, offset, count, data.error()));
    }
    return std::vector<std::byte>(data->begin(), data->end());
}

Result<void> Client::region_write(uint32_t region, uint64_t offset,
                                  std::span<const std::byte> data) {
    if (posted_.size() >= max_posted) {
        if (auto ok = collect_one_posted(); !ok) {
            return ok;
        }
    }
    const uint16_t id = next_id();
    if (auto ok = ch_.send(vu::encode_region_write(id, region, offset, data, false)); !ok) {
        return ok;
    }
    posted_.push_back({id, region, offset, static_cast<uint32_t>(data.size())});
    return {};
}

Result<void> Client::set_irq_eventfds(uint32_t index, uint32_t start, std::span<const int> fds) {
    const size_t chunk = std::clamp<size_t>(version_.caps.max_msg_fds, 1, vu::max_fds_per_message);
    for (size_t done = 0; done < fds.size(); done += chunk) {
        const auto part = fds.subspan(done, std::min(chunk, fds.size() - done));
        const uint16_t id = next_id();
        auto m = call(id, vu::Command::set_irqs,
                      vu::encode_set_irqs(
                          id, index, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                          static_cast<uint32_t>(start + done), static_cast<uint32_t>(part.size())),
                      part);
        if (!m) {
            return std::unexpected(m.error());
        }
    }
    return {};
}

Result<void> Client::disable_irqs(uint32_t index) {
    const uint16_t id = next_id();
    auto m = call(
        id, vu::Command::set_irqs,
        vu::encode_set_irqs(id, index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
    if (!m) {
        return std::unexpected(m.error());
    }
    return {};
}

Result<void> Client::dma_map(int fd, uint64_t bus_addr, uint64_t size) {
    const uint16_t id = next_id();
    const int fds[] = {fd};
    auto m = call(id, vu::Command::dma_map,
                  vu::encode_dma_map(id, vu::dma_read_flag | vu::dma_write_flag, 0, bus_addr, size),
                  fds);
    if (!m) {
        return std::unexpected(m.error());
    }
    return {};
}

Result<void> Client::device_reset() {
    const uint16_t id = next_id();
    auto m = call(id, vu::Command::device_reset, vu::encode_device_reset(id));
    if (!m) {
        return std::unexpected(m.error());
    }
    return {};
}

} // namespace pciem::proxy
