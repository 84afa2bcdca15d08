// SPDX-License-Identifier: MIT
#include "pciem/vfio_user/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <thread>

#include <fmt/format.h>

namespace pciem::vfio_user {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The receive buffer's room to begin with: many replies, or a page of
// data with its headers; it grows for a larger message (up to max_size).
constexpr size_t initial_buffer = 64 * 1024;

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

Result<Channel::Filled> Channel::fill() {
    if (begin_ == end_) {
        begin_ = end_ = 0;
    } else if (begin_ > 0) {
        // What remains is the start of the message being waited for.
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (buffer_.empty()) {
        buffer_.resize(initial_buffer);
    }
    for (;;) {
        iovec iov{buffer_.data() + end_, buffer_.size() - end_};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)];
        mh.msg_control = control;
        mh.msg_controllen = sizeof(control);
        ++syscalls_;
        const ssize_t n = ::recvmsg(fd_.get(), &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return Filled::nothing;
            }
            const int e = errno;
            return fail(e, fmt::format("receiving from the server failed: {}", std::strerror(e)));
        }
        // Take ownership of every descriptor first, so none leaks.
        FdBatch batch{offset_ + (end_ - begin_) + static_cast<size_t>(n),
                      {},
                      (mh.msg_flags & MSG_CTRUNC) != 0};
        for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                continue;
            }
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                batch.fds.emplace_back(fd);
            }
        }
        if (n == 0) {
            return Filled::hang_up; // no message for descriptors: closed here
        }
        end_ += static_cast<size_t>(n);
        if (!batch.fds.empty() || batch.truncated) {
            pending_fds_.push_back(std::move(batch));
        }
        return Filled::bytes;
    }
}

Result<Message> Channel::take(const Header& header) {
    Message m;
    m.header = header;
    const std::byte* at = buffer_.data() + begin_;
    m.payload.assign(at + header_size, at + header.size);
    begin_ += header.size;
    offset_ += header.size;
    bool truncated = false;
    while (!pending_fds_.empty() && pending_fds_.front().end <= offset_) {
        auto& batch = pending_fds_.front();
        truncated = truncated || batch.truncated;
        std::move(batch.fds.begin(), batch.fds.end(), std::back_inserter(m.fds));
        pending_fds_.pop_front();
    }
    if (truncated) {
        return fail(EPROTO, fmt::format("a message came with more than {} file descriptors",
                                        max_fds_per_message));
    }
    if (m.fds.size() > max_fds_per_message) {
        return fail(EPROTO, fmt::format("a message came with {} file descriptors, more than {}",
                                        m.fds.size(), max_fds_per_message));
    }
    return m;
}

Result<Message> Channel::receive(std::chrono::milliseconds timeout, size_t max_size) {
    return receive(timeout, Slow{timeout, {}}, max_size);
}

Result<Message> Channel::receive(std::chrono::milliseconds timeout, const Slow& slow,
                                 size_t max_size) {
    const auto now = Clock::now();
    const auto deadline = now + timeout;
    const auto slow_at = now + slow.after;
    const Slow* noting = slow.note ? &slow : nullptr;
    for (;;) {
        const size_t have = end_ - begin_;
        size_t total = header_size;
        if (have >= header_size) {
            const Header h = decode_header(
                std::span<const std::byte, header_size>(buffer_.data() + begin_, header_size));
            if (auto ok = check_header(h, max_size); !ok) {
                return fail(EPROTO, fmt::format("a message with id {} for {}: {}", h.id,
                                                command_name(h.command), ok.error()));
            }
            total = h.size;
            if (have >= total) {
                return take(h);
            }
            if (buffer_.size() < total) {
                buffer_.resize(total);
            }
        }
        // Too many descriptors with this message: said at once, as when
        // they came, not after the rest of the message.
        const uint64_t mine = offset_ + (have >= header_size ? total : have);
        for (const auto& batch : pending_fds_) {
            if (batch.end > mine) {
                break;
            }
            if (batch.truncated) {
                return fail(EPROTO, fmt::format("a message came with more than {} file "
                                                "descriptors",
                                                max_fds_per_message));
            }
        }
        auto filled = fill();
        if (!filled) {
            return std::unexpected(filled.error());
        }
        if (*filled == Filled::bytes) {
            continue;
        }
        if (*filled == Filled::hang_up) {
            // What came of the message is gone with the peer: the next
            // call says EPIPE.
            begin_ = end_ = 0;
            pending_fds_.clear();
            if (have == 0) {
                return fail(EPIPE, "the server closed the socket");
            }
            return fail(ECONNRESET, fmt::format("the server closed the socket in the middle of "
                                                "a message, after {} of {} bytes",
                                                have, total));
        }
        // Nothing in the socket: wait for it. Until `slow` is noted (only
        // while nothing of the message came), no further than its moment.
        for (;;) {
            const bool note_first = noting != nullptr && have == 0 && slow_at < deadline;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                (note_first ? slow_at : deadline) - Clock::now());
            pollfd p{fd_.get(), POLLIN, 0};
            // Past the deadline, still look once without waiting (and
            // fill() has read whatever was here already): a message that
            // is here is not late, however long its wait was.
            ++syscalls_;
            const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r == 0 && note_first) {
                noting->note();
                noting = nullptr;
                continue;
            }
            if (r == 0) {
                return fail(ETIMEDOUT, have == 0 ? std::string("no message came")
                                                 : fmt::format("the message stopped after {} "
                                                               "of {} bytes",
                                                               have, total));
            }
            break;
        }
    }
}

bool Channel::readable() const {
    if (has_buffered()) {
        return true;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

} // namespace pciem::vfio_user
