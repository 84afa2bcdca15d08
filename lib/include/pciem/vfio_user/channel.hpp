// SPDX-License-Identifier: MIT
//
// Channel: vfio-user messages over a UNIX stream socket. Sends a whole
// message with its file descriptors (SCM_RIGHTS); receives one, header
// first (checked with check_header() before a byte of payload is read),
// with a deadline, so a peer that stops half-way or never answers is
// reported in words instead of hanging the caller.
//
//     auto ch = Channel::connect("/run/nvme.sock", 5000ms);
//     ch->send(encode_device_get_info(1));
//     auto m = ch->receive(5000ms);   // header, payload, fds
//
// Either side uses it: pciem-proxy as a client, servers (and the tests'
// misbehaving server) with accept()ed sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "pciem/error.hpp"
#include "pciem/unique_fd.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace pciem::vfio_user {

// Most descriptors one message may carry in either direction (the
// servers in the wild cap it at 8, QEMU's at max_msg_fds).
inline constexpr size_t max_fds_per_message = 16;

struct Message {
    Header header;
    Bytes payload;
    std::vector<UniqueFd> fds;
};

class Channel {
public:
    // Connects to the server socket at `path`, retrying while it does
    // not exist yet or refuses (a server still starting) until `timeout`.
    static Result<Channel> connect(const std::string& path, std::chrono::milliseconds timeout);
    // A connected socket (accept(), socketpair()).
    explicit Channel(UniqueFd socket) : fd_(std::move(socket)) {}

    // The whole message, fds attached to its first byte. Blocks while the
    // socket buffer is full (the peer applies back-pressure).
    Result<void> send(std::span<const std::byte> message, std::span<const int> fds = {});
    // One message. ETIMEDOUT when nothing (or only part of it) came within
    // `timeout`; EPIPE when the peer closed the socket (ECONNRESET when it
    // did so in the middle of a message); EPROTO for a header that fails
    // check_header() or more descriptors than max_fds_per_message.
    Result<Message> receive(std::chrono::milliseconds timeout, size_t max_size = max_message_size);
    // The same, calling `slow.note` once if nothing of the message has
    // come after `slow.after` (while still waiting): what a caller logs
    // about a slow peer is then about the peer while it keeps us waiting.
    // Costs no system call more than receive().
    struct Slow {
        std::chrono::milliseconds after;
        std::function<void()> note;
    };
    Result<Message> receive(std::chrono::milliseconds timeout, const Slow& slow,
                            size_t max_size = max_message_size);
    // Whether a message (or the peer's hang-up) is waiting, without
    // blocking.
    [[nodiscard]] bool readable() const;

    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    // Reads exactly `out.size()` bytes, collecting descriptors.
    Result<void> read_exact(std::span<std::byte> out, std::vector<UniqueFd>& fds,
                            std::chrono::steady_clock::time_point deadline, size_t done_before,
                            size_t total, const Slow* slow = nullptr,
                            std::chrono::steady_clock::time_point slow_at = {});

    UniqueFd fd_;
};

} // namespace pciem::vfio_user
