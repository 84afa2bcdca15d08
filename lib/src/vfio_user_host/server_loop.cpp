// SPDX-License-Identifier: MIT
//
// The server's loop: one client at a time, one command at a time, in
// order. It sleeps in poll() on the socket, a wake-up eventfd (stop(), a
// model irqfd created, commands stashed by a DMA transfer) and the
// model's irqfds. Model threads doing DMA through messages take the
// socket under io_mutex while they wait for their reply; commands that
// arrive meanwhile wait in the stash, in order, for the loop (and those the
// channel read with the last reply in its buffer: the loop takes them
// before it sleeps).
#include <poll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <linux/pci_regs.h>

#include "pciem/error_text.hpp"
#include "server.hpp"

namespace pciem {

namespace {

using vfio_user::Message;

// The Channel words its errors for a client ("the server closed ..."):
// here the other side is the client.
Error as_client(Error e) {
    for (size_t at = 0; (at = e.message.find("the server", at)) != std::string::npos;) {
        e.message.replace(at, 10, "the client");
    }
    return e;
}

} // namespace

VfioUserHost::Impl::Impl(DeviceModel& m, std::unique_ptr<pciem_cfg> c, const VfioUserHostOptions& o)
    : model(m), cfg(std::move(c)), options(o),
      irqs(pciem_cfg_read(cfg.get(), PCI_INTERRUPT_PIN, 1) != 0 ? 1 : 0,
           cfg->layout.msi != 0
               ? 1u << ((pciem_cfg_read(cfg.get(), cfg->layout.msi + PCI_MSI_FLAGS, 2) &
                         PCI_MSI_FLAGS_QMASK) >> 1)
               : 0,
           cfg->layout.msix != 0
               ? (pciem_cfg_read(cfg.get(), cfg->layout.msix + PCI_MSIX_FLAGS, 2) &
                  PCI_MSIX_FLAGS_QSIZE) + 1
               : 0),
      dma([this](bool write, uint64_t address, std::span<std::byte> buf) {
          return dma_transfer(write, address, buf);
      }),
      wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), binding(m) {
    irqs.set_wake_fd(wake_fd.get());
    pciem_irq_rules_shape(&rules, cfg.get());
    msix_table.assign(pciem_irq_rules_table_bytes(&rules), 0);
    msix_pba.assign(pciem_irq_rules_pba_words(&rules), 0);
    rules.msix_table = msix_table.data();
    rules.msix_pba = msix_pba.data();
    // Never called: delivery is irqs' (MSI-X is never enabled in rules).
    rules.fire = [](void*, uint32_t) {};
    pciem_irq_rules_reset(&rules);
}

VfioUserHost::Impl::~Impl() {
    model.on_stop();
    binding.release(); // before the RAM BARs below go
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        if (!ram[bar].empty()) {
            ::munmap(ram[bar].data(), ram[bar].size());
        }
    }
}

Result<std::unique_ptr<VfioUserHost>> VfioUserHost::create(DeviceModel& model,
                                                           const VfioUserHostOptions& options) {
    if (auto ok = model.realize(); !ok) {
        return std::unexpected(ok.error());
    }
    auto cfg = preview_config(model.spec(), options.limits);
    if (!cfg) {
        return std::unexpected(cfg.error());
    }
    auto impl = std::make_unique<Impl>(model, std::move(*cfg), options);
    if (!impl->wake_fd.valid()) {
        const int e = errno;
        return fail(e, describe_errno(e, "the vfio-user server's wake-up eventfd"));
    }
    if (auto ok = impl->make_ram_bars(); !ok) {
        return std::unexpected(ok.error());
    }
    impl->reset_function(true);
    impl->binding.interrupts(&impl->irqs);
    impl->binding.dma(&impl->dma);
    model.on_start();
    return std::unique_ptr<VfioUserHost>(new VfioUserHost(std::move(impl)));
}

VfioUserHost::VfioUserHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VfioUserHost::~VfioUserHost() = default;

Result<UniqueFd> VfioUserHost::listen(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return fail(ENAMETOOLONG, fmt::format("the socket path '{}' is empty or longer than the "
                                              "{} bytes a UNIX socket address holds",
                                              path, sizeof(addr.sun_path) - 1));
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return fail(EEXIST, fmt::format("{} exists and is not a socket: not replacing it",
                                            path));
        }
        ::unlink(path.c_str()); // a stale socket of an earlier server
    }
    UniqueFd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (!fd.valid()) {
        const int e = errno;
        return fail(e, describe_errno(e, "a UNIX socket"));
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd.get(), 1) != 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("listening on {}", path)));
    }
    return fd;
}

void VfioUserHost::Impl::wake() {
    const uint64_t one = 1;
    (void)!::write(wake_fd.get(), &one, sizeof(one));
}

void VfioUserHost::stop() {
    impl_->stopping.store(true);
    impl_->wake();
}

VfioUserStats VfioUserHost::stats() const {
    const std::lock_guard lock(impl_->stats_mutex);
    return impl_->stats;
}

void VfioUserHost::Impl::send(std::span<const std::byte> msg, std::span<const int> fds) {
    const std::lock_guard lock(io_mutex);
    if (broken || !channel) {
        return;
    }
    if (auto ok = channel->send(msg, fds); !ok) {
        broken = as_client(ok.error());
    }
}

Result<std::optional<Message>> VfioUserHost::Impl::next_message() {
    // Messages the channel has read already, which a poll() of the
    // socket does not see: the poll below only looks, without sleeping.
    bool buffered = false;
    {
        const std::lock_guard lock(io_mutex);
        if (broken) {
            return std::unexpected(*broken);
        }
        if (!stash.empty()) {
            Message m = std::move(stash.front());
            stash.pop_front();
            return m;
        }
        buffered = channel->has_buffered();
    }
    const auto model_fds = irqs.model_fds();
    std::vector<pollfd> p;
    p.push_back({channel->fd(), POLLIN, 0});
    p.push_back({wake_fd.get(), POLLIN, 0});
    for (const auto& [fd, vector] : model_fds) {
        p.push_back({fd, POLLIN, 0});
    }
    if (::poll(p.data(), p.size(), buffered ? 0 : -1) < 0) {
        return std::optional<Message>{}; // EINTR: look again
    }
    uint64_t n = 0;
    if ((p[1].revents & POLLIN) != 0) {
        (void)!::read(wake_fd.get(), &n, sizeof(n));
    }
    for (size_t i = 0; i < model_fds.size(); ++i) {
        if ((p[i + 2].revents & POLLIN) != 0 &&
            ::read(model_fds[i].first, &n, sizeof(n)) == static_cast<ssize_t>(sizeof(n))) {
            irqs.model_fired(model_fds[i].second, n);
        }
    }
    if (p[0].revents == 0 && !buffered) {
        return std::optional<Message>{};
    }
    const std::lock_guard lock(io_mutex);
    if (!stash.empty() || !channel->readable()) {
        return std::optional<Message>{}; // a DMA transfer took it
    }
    auto m = channel->receive(options.reply_timeout);
    if (!m) {
        return std::unexpected(as_client(m.error()));
    }
    return std::optional<Message>(std::move(*m));
}

Result<void> VfioUserHost::Impl::dma_transfer(bool write, uint64_t address,
                                              std::span<std::byte> buf) {
    using vfio_user::Command;
    const Command command = write ? Command::dma_write : Command::dma_read;
    const std::unique_lock lock(io_mutex);
    if (broken || !channel) {
        return fail(ENOTCONN, "no client connected to answer DMA");
    }
    const size_t chunk = client_caps.max_data_xfer_size;
    for (size_t done = 0; done < buf.size();) {
        const size_t len = std::min(chunk, buf.size() - done);
        const uint16_t id = next_dma_id++;
        const uint64_t at = address + done;
        const auto piece = buf.subspan(done, len);
        const vfio_user::Bytes msg =
            write ? vfio_user::encode_dma_write(id, at, piece) : vfio_user::encode_dma_read(id, at, len);
        if (auto ok = channel->send(msg); !ok) {
            broken = as_client(ok.error());
            return std::unexpected(*broken);
        }
        {
            const std::lock_guard s(stats_mutex);
            ++stats.dma_messages;
        }
        for (;;) {
            auto m = channel->receive(options.reply_timeout);
            if (!m) {
                broken = as_client(m.error());
                broken->message = fmt::format("waiting for the reply to {}: {}",
                                              vfio_user::command_name(static_cast<uint16_t>(command)),
                                              broken->message);
                wake();
                return std::unexpected(*broken);
            }
            if ((m->header.flags & vfio_user::flag_type_mask) == vfio_user::type_command) {
                stash.push_back(std::move(*m)); // the loop's, after this transfer
                continue;
            }
            if (auto ok = vfio_user::check_reply(m->header, id, command); !ok) {
                broken = Error{EPROTO, "the client's reply to a DMA request: " + ok.error()};
                wake();
                return std::unexpected(*broken);
            }
            if ((m->header.flags & vfio_user::flag_error) != 0) {
                if (!stash.empty() || channel->has_buffered()) {
                    wake();
                }
                return fail(m->header.error != 0 ? static_cast<int>(m->header.error) : EIO,
                            fmt::format("the client refused {} of {} bytes at {:#x} (errno {})",
                                        vfio_user::command_name(static_cast<uint16_t>(command)),
                                        len, at, m->header.error));
            }
            auto data = vfio_user::decode_dma_access_reply(m->payload, command, at, len);
            if (!data) {
                broken = Error{EPROTO, "the client's reply to a DMA request: " + data.error()};
                wake();
                return std::unexpected(*broken);
            }
            if (!write) {
                std::memcpy(piece.data(), data->data(), len);
            }
            break;
        }
        done += len;
    }
    // Commands that came with the replies: the loop's poll does not see
    // those the channel has buffered.
    if (!stash.empty() || channel->has_buffered()) {
        wake();
    }
    return {};
}

Result<void> VfioUserHost::Impl::serve(UniqueFd socket) {
    {
        const std::lock_guard lock(io_mutex);
        channel.emplace(std::move(socket));
        stash.clear();
        broken.reset();
        negotiated = false;
        client_caps = {};
    }
    {
        const std::lock_guard s(stats_mutex);
        ++stats.clients;
    }
    Result<void> result;
    while (!stopping.load()) {
        auto m = next_message();
        if (!m) {
            // A hang-up between messages is how a client says goodbye.
            if (m.error().errnum != EPIPE) {
                result = std::unexpected(m.error());
            }
            break;
        }
        if (!*m) {
            continue;
        }
        if (auto ok = handle(**m); !ok) {
            result = std::unexpected(ok.error());
            break;
        }
        const std::lock_guard lock(io_mutex);
        if (broken) {
            result = std::unexpected(*broken);
            break;
        }
    }
    {
        const std::lock_guard lock(io_mutex);
        channel.reset();
        stash.clear();
    }
    // The next client finds the function as after a reset, with none of
    // this client's memory or eventfds.
    reset_function(true);
    return result;
}

Result<void> VfioUserHost::serve_client(UniqueFd socket) {
    return impl_->serve(std::move(socket));
}

Result<void> VfioUserHost::run(int listener, const std::function<void(const std::string&)>& log) {
    while (!impl_->stopping.load()) {
        pollfd p[2] = {{listener, POLLIN, 0}, {impl_->wake_fd.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            continue;
        }
        if ((p[1].revents & POLLIN) != 0) {
            uint64_t n = 0;
            (void)!::read(impl_->wake_fd.get(), &n, sizeof(n));
        }
        if ((p[0].revents & POLLIN) == 0) {
            continue;
        }
        UniqueFd client{::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)};
        if (!client.valid()) {
            const int e = errno;
            if (e == EINTR || e == EAGAIN || e == ECONNABORTED) {
                continue;
            }
            return fail(e, describe_errno(e, "accepting a vfio-user client"));
        }
        if (log) {
            log("a client connected");
        }
        auto served = impl_->serve(std::move(client));
        if (log) {
            log(served ? std::string("the client disconnected; waiting for the next")
                       : fmt::format("dropped the client: {}; waiting for the next",
                                     served.error().message));
        }
    }
    return {};
}

} // namespace pciem
