// SPDX-License-Identifier: MIT
#include "pciem/vfio_user/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace pciem::vfio_user {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Result<Channel> Channel::connect(const std::string& path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return fail(EINVAL, fmt::format("the socket path '{}' is empty or longer than the {} "
                                        "bytes a UNIX socket path may have",
                                        path, sizeof(addr.sun_path) - 1));
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const auto deadline = Clock::now() + timeout;
    int last = 0;
    for (;;) {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd.valid()) {
            return fail(errno, fmt::format("socket(): {}", std::strerror(errno)));
        }
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
            return Channel(std::move(fd));
        }
        last = errno;
        // Not there yet, or not listening yet: a server that is starting.
        if ((last != ENOENT && last != ECONNREFUSED) || Clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    return fail(last, fmt::format("cannot connect to the vfio-user server at {}: {}{}", path,
                                  std::strerror(last),
                                  last == ENOENT || last == ECONNREFUSED
                                      ? fmt::format(" (waited {} ms for it)", timeout.count())
                                      : ""));
}

Result<void> Channel::send(std::span<const std::byte> message, std::span<const int> fds) {
    if (fds.size() > max_fds_per_message) {
        return fail(EINVAL, fmt::format("{} file descriptors in one message, more than {}",
                                        fds.size(), max_fds_per_message));
    }
    size_t sent = 0;
    while (sent < message.size()) {
        iovec iov{const_cast<std::byte*>(message.data() + sent), message.size() - sent};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)];
        if (sent == 0 && !fds.empty()) {
            std::memset(control, 0, sizeof(control));
            mh.msg_control = control;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
            cmsghdr* c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        }
        // MSG_NOSIGNAL: a peer that went away is an EPIPE, not a SIGPIPE.
        const ssize_t n = ::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int e = errno;
            return fail(e, e == EPIPE || e == ECONNRESET
                               ? std::string("the server closed the socket")
                               : fmt::format("sending to the server failed: {}", std::strerror(e)));
        }
        sent += static_cast<size_t>(n);
    }
    return {};
}

Result<void> Channel::read_exact(std::span<std::byte> out, std::vector<UniqueFd>& fds,
                                 Clock::time_point deadline, size_t done_before, size_t total,
                                 const Slow* slow, Clock::time_point slow_at) {
    size_t got = 0;
    while (got < out.size()) {
        // Until `slow` is noted (only while nothing of the message came),
        // wait no further than its moment.
        const bool noting = slow != nullptr && done_before + got == 0 && slow_at < deadline;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            (noting ? slow_at : deadline) - Clock::now());
        pollfd p{fd_.get(), POLLIN, 0};
        // Past the deadline, still look once without waiting: a message
        // that is already here is not late, however long its wait was.
        const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0 && noting) {
            slow->note();
            slow = nullptr;
            continue;
        }
        if (r == 0) {
            const size_t have = done_before + got;
            return fail(ETIMEDOUT, have == 0 ? std::string("no message came")
                                             : fmt::format("the message stopped after {} of {} "
                                                           "bytes",
                                                           have, total));
        }
        iovec iov{out.data() + got, out.size() - got};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)];
        mh.msg_control = control;
        mh.msg_controllen = sizeof(control);
        const ssize_t n = ::recvmsg(fd_.get(), &mh, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            const int e = errno;
            return fail(e == ECONNRESET ? ECONNRESET : e,
                        fmt::format("receiving from the server failed: {}", std::strerror(e)));
        }
        // Take ownership of every descriptor first, so none leaks on the
        // error paths below.
        for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                continue;
            }
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                fds.emplace_back(fd);
            }
        }
        if ((mh.msg_flags & MSG_CTRUNC) != 0) {
            return fail(EPROTO, fmt::format("a message came with more than {} file descriptors",
                                            max_fds_per_message));
        }
        if (n == 0) {
            const size_t have = done_before + got;
            if (have == 0) {
                return fail(EPIPE, "the server closed the socket");
            }
            return fail(ECONNRESET, fmt::format("the server closed the socket in the middle of "
                                                "a message, after {} of {} bytes",
                                                have, total));
        }
        got += static_cast<size_t>(n);
    }
    return {};
}

Result<Message> Channel::receive(std::chrono::milliseconds timeout, size_t max_size) {
    return receive(timeout, Slow{timeout, {}}, max_size);
}

Result<Message> Channel::receive(std::chrono::milliseconds timeout, const Slow& slow,
                                 size_t max_size) {
    const auto now = Clock::now();
    const auto deadline = now + timeout;
    Message m;
    std::array<std::byte, header_size> raw{};
    if (auto ok = read_exact(raw, m.fds, deadline, 0, header_size, slow.note ? &slow : nullptr,
                             now + slow.after);
        !ok) {
        return std::unexpected(ok.error());
    }
    m.header = decode_header(raw);
    if (auto ok = check_header(m.header, max_size); !ok) {
        return fail(EPROTO, fmt::format("a message with id {} for {}: {}", m.header.id,
                                        command_name(m.header.command), ok.error()));
    }
    m.payload.resize(m.header.size - header_size);
    if (auto ok = read_exact(m.payload, m.fds, deadline, header_size, m.header.size); !ok) {
        return std::unexpected(ok.error());
    }
    if (m.fds.size() > max_fds_per_message) {
        return fail(EPROTO, fmt::format("a message came with {} file descriptors, more than {}",
                                        m.fds.size(), max_fds_per_message));
    }
    return m;
}

bool Channel::readable() const {
    pollfd p{fd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

} // namespace pciem::vfio_user
