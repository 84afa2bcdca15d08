// SPDX-License-Identifier: MIT
//
// Channel: vfio-user messages over a UNIX stream socket. Sends a whole
// message with its file descriptors (SCM_RIGHTS); receives one, with a
// deadline, so a peer that stops half-way or never answers is reported in
// words instead of hanging the caller.
//
//     auto ch = Channel::connect("/run/nvme.sock", 5000ms);
//     ch->send(encode_device_get_info(1));
//     auto m = ch->receive(5000ms);   // header, payload, fds
//
// Receiving is buffered: each recvmsg(MSG_DONTWAIT) takes all the socket
// holds (up to the buffer's room, 64 KiB, more for a larger message), and
// messages are cut out of the buffer. A message already there costs one
// recvmsg, header and payload together, and replies that came together
// (a batch of posted writes') one recvmsg for all; poll() is called only
// when the buffer lacks a whole message and recvmsg found nothing. A
// header is checked with check_header() as soon as its 16 bytes are
// there, before any wait for its payload.
//
// Descriptors: a sender attaches them to a message's first byte (one
// sendmsg per message), and Linux ends a stream recvmsg right after the
// data that carried descriptors, which begins at its message's first
// byte. A recvmsg that read stream bytes [start, end) may have read the
// tail of earlier messages before it, though, so its descriptors belong
// to the last message beginning in [start, end): the message at offset o
// of size s with o < end <= o + s. They wait with that `end` until the
// message is cut out, and go with it in Message::fds.
//
// Either side uses it: pciem-proxy as a client, servers (and the tests'
// misbehaving server) with accept()ed sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
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
    // `timeout` (what came stays buffered for the next call); a message
    // already there is received whatever the deadline. EPIPE when the peer
    // closed the socket (ECONNRESET when it did so in the middle of a
    // message); EPROTO for a header that fails check_header() or more
    // descriptors than max_fds_per_message.
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
    // blocking: bytes in the buffer or in the socket.
    [[nodiscard]] bool readable() const;
    // Whether bytes of a message wait in the buffer, where a poll() of
    // fd() does not see them: call receive() before sleeping on fd().
    [[nodiscard]] bool has_buffered() const { return end_ > begin_; }
    // The recvmsg() and poll() calls receive() has made so far.
    [[nodiscard]] uint64_t receive_syscalls() const { return syscalls_; }

    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    // The descriptors one recvmsg brought, and the stream offset just
    // past the bytes it read; `truncated` if more came than it had room
    // for (MSG_CTRUNC: the kernel closed the rest).
    struct FdBatch {
        uint64_t end;
        std::vector<UniqueFd> fds;
        bool truncated;
    };
    enum class Filled { bytes, nothing, hang_up };
    // One recvmsg(MSG_DONTWAIT) into the buffer's free room.
    Result<Filled> fill();
    // Cuts the first buffered message (whole, `header` its header) out of
    // the buffer, with its descriptors.
    Result<Message> take(const Header& header);

    UniqueFd fd_;
    // Received bytes not yet handed out are buffer_[begin_, end_); the
    // stream offset of buffer_[begin_] is offset_.
    std::vector<std::byte> buffer_;
    size_t begin_ = 0;
    size_t end_ = 0;
    uint64_t offset_ = 0;
    // Descriptors waiting for their message, by `end`.
    std::deque<FdBatch> pending_fds_;
    uint64_t syscalls_ = 0;
};

} // namespace pciem::vfio_user
