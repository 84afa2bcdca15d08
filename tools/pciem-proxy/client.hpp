// SPDX-License-Identifier: MIT
//
// Client: pciem-proxy's side of one vfio-user connection. Request and
// reply with message ids, every reply checked against what it answers
// (wire.hpp), and writes posted: a REGION_WRITE is sent at once and its
// reply collected later, before the next reply is awaited, so writes
// cost no round trip and stay ordered with reads (the server handles
// messages one at a time, in order).
//
//     auto c = Client::negotiate(std::move(channel), 5000ms);
//     auto info = c->device_info();
//     auto v = c->region_read(VFIO_PCI_BAR0_REGION_INDEX, 0x1c, 4);
//
// Not thread-safe: one thread talks to the server at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "pciem/error.hpp"
#include "pciem/vfio_user/channel.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace pciem::proxy {

class Client {
public:
    // Sends VERSION and checks the answer: major 0, minor 0..2.
    static Result<Client> negotiate(vfio_user::Channel channel, std::chrono::milliseconds timeout);

    [[nodiscard]] const vfio_user::Version& server_version() const { return version_; }

    Result<vfio_user::DeviceInfo> device_info();
    // The region's description; an mmap()able region's fd goes to `fd`
    // (closed when `fd` is null).
    Result<vfio_user::RegionInfo> region_info(uint32_t index, UniqueFd* fd = nullptr);
    Result<vfio_user::IrqInfo> irq_info(uint32_t index);
    // `count` bytes from the region (at most the server's transfer size).
    Result<std::vector<std::byte>> region_read(uint32_t region, uint64_t offset, uint32_t count);
    // Posted: returns once sent; a refusal surfaces at a later call.
    Result<void> region_write(uint32_t region, uint64_t offset, std::span<const std::byte> data);
    // SET_IRQS with eventfds for vectors start.. (chunked by the server's
    // max_msg_fds), or with none and count 0 to disable the index.
    Result<void> set_irq_eventfds(uint32_t index, uint32_t start, std::span<const int> fds);
    Result<void> disable_irqs(uint32_t index);
    Result<void> dma_map(int fd, uint64_t bus_addr, uint64_t size);
    Result<void> device_reset();
    // Collects the replies of every posted write.
    Result<void> flush();

    [[nodiscard]] int socket_fd() const { return ch_.fd(); }

    // Is `e` the server refusing one request (an error reply), rather
    // than a broken connection? Hardware answers a refused read with
    // all-ones and drops a refused write; the proxy does the same.
    static bool refused(const Error& e);

private:
    Client(vfio_user::Channel ch, std::chrono::milliseconds timeout)
        : ch_(std::move(ch)), timeout_(timeout) {}
    // Sends `msg` (id `id`) and returns the payload of its checked reply.
    Result<vfio_user::Message> call(uint16_t id, vfio_user::Command command,
                                    const vfio_user::Bytes& msg, std::span<const int> fds = {});
    // Receives the reply to `id`/`command`: a fault if anything else comes.
    Result<vfio_user::Message> reply_to(uint16_t id, vfio_user::Command command);
    Result<void> collect_one_posted();
    uint16_t next_id() { return ++last_id_; }

    struct Posted {
        uint16_t id;
        uint32_t region;
        uint64_t offset;
        uint32_t count;
    };

    vfio_user::Channel ch_;
    std::chrono::milliseconds timeout_;
    vfio_user::Version version_;
    uint16_t last_id_ = 0;
    std::deque<Posted> posted_;
};

} // namespace pciem::proxy
