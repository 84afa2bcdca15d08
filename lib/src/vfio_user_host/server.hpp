// SPDX-License-Identifier: MIT
//
// VfioUserHost::Impl: the state one served model has, split by concern
// over small files: server_loop.cpp (the socket, message framing, the
// order of work), server_messages.cpp (one handler per command),
// server_config.cpp (the CONFIG region and what its writes set off),
// server_bars.cpp (BAR regions: RAM, MSI-X table and PBA, the model),
// server_irqs.* and server_dma.* (interrupts and DMA, used by model
// threads too).
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <pciem_cfg.h>

#include "pciem/device_model.hpp"
#include "pciem/vfio_user/channel.hpp"
#include "pciem/vfio_user/server_wire.hpp"
#include "pciem/vfio_user_host.hpp"
#include "server_dma.hpp"
#include "pciem_irq_rules.h"
#include "server_irqs.hpp"

namespace pciem {

namespace vfu {
// The largest naturally aligned access (at most `widest` bytes) at
// `offset` that fits in `left`: how a client's span of a region is cut
// into the cycles a CPU's memcpy_toio/fromio would issue.
inline unsigned cycle(uint64_t offset, uint64_t left, unsigned widest) {
    for (unsigned s = widest; s > 1; s /= 2) {
        if (offset % s == 0 && left >= s) {
            return s;
        }
    }
    return 1;
}
} // namespace vfu

struct VfioUserHost::Impl {
    Impl(DeviceModel& m, std::unique_ptr<pciem_cfg> c, const VfioUserHostOptions& o);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    // ---- server_loop.cpp ----
    Result<void> serve(UniqueFd socket);
    // The next command from the client (stashed or from the socket);
    // nullopt when stop() or a model irqfd woke the loop instead.
    Result<std::optional<vfio_user::Message>> next_message();
    void send(std::span<const std::byte> msg, std::span<const int> fds = {});
    // DMA through the client (ServerDma's Transfer): from any thread.
    Result<void> dma_transfer(bool write, uint64_t address, std::span<std::byte> buf);
    void wake();

    // ---- server_messages.cpp ----
    // Handles one command; an error is fatal for the connection.
    Result<void> handle(vfio_user::Message& m);
    void reply_error(const vfio_user::Header& h, const Error& e);

    // ---- server_config.cpp ----
    Result<void> config_read(uint64_t offset, std::span<std::byte> out);
    Result<void> config_write(uint64_t offset, std::span<const std::byte> in);
    // Follows Command, MSI and MSI-X enables into the DMA checks, the
    // interrupt targets and the model's on_command/on_irq_config.
    void config_changed();
    // The function as it comes out of reset (DEVICE_RESET, a client left).
    void reset_function(bool client_left);

    // ---- server_bars.cpp ----
    Result<void> make_ram_bars();
    Result<void> bar_read(unsigned bar, uint64_t offset, std::span<std::byte> out);
    Result<void> bar_write(unsigned bar, uint64_t offset, std::span<const std::byte> in);
    // Serves an access to the MSI-X table or PBA; false if it is not one.
    bool msix_access(unsigned bar, uint64_t offset, unsigned size, bool write, uint64_t& value);

    DeviceModel& model;
    std::unique_ptr<pciem_cfg> cfg;
    VfioUserHostOptions options;
    vfu::ServerIrqs irqs;
    vfu::ServerDma dma;

    // RAM BARs: a memfd each, mapped here and offered to the client.
    std::array<UniqueFd, PCIEM_MAX_BARS> ram_fd;
    std::array<std::span<std::byte>, PCIEM_MAX_BARS> ram;
    // The MSI-X table and PBA as every host serves them (kernel/rules).
    // The table is the client's to use: masking is SET_IRQS's (VFIO's),
    // and the pending bits are irqs'.
    pciem_irq_rules rules{};
    std::vector<uint8_t> msix_table;
    std::vector<uint64_t> msix_pba;

    // What the model was last told.
    uint16_t command = 0;
    bool msix_on = false, msi_on = false;
    unsigned msi_vectors = 0;

    // The connection. io_mutex orders sends and receives between the
    // loop and model threads doing DMA through messages; commands those
    // threads receive while waiting for their reply wait in `stash`.
    std::optional<vfio_user::Channel> channel;
    std::mutex io_mutex;
    std::deque<vfio_user::Message> stash;
    std::optional<Error> broken; // the connection failed under a DMA transfer
    uint16_t next_dma_id = 0x8000;
    bool negotiated = false;
    vfio_user::Capabilities client_caps;

    UniqueFd wake_fd;
    std::atomic<bool> stopping{false};
    mutable std::mutex stats_mutex;
    VfioUserStats stats;
    // Last: destroyed first; ~Impl() also releases it before unmapping
    // the RAM BARs the model was bound to.
    ModelBinding binding;
};

} // namespace pciem
