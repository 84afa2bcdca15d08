// SPDX-License-Identifier: MIT
//
// VfioUserHost: the third host (DESIGN.md decision 6). It serves a device
// model to a vfio-user client (pciem-proxy, QEMU's vfio-user-pci, SPDK,
// libvfio-user's tools) over a UNIX socket, so the same model class that
// runs on /dev/pciem and in the SimHost also runs behind any client of the
// protocol, in another process, container or user:
//
//     MyModel model;
//     auto host = pciem::VfioUserHost::create(model);       // realizes the model
//     auto listener = pciem::VfioUserHost::listen("/run/my.sock");
//     (*host)->run(listener->get());                         // until stop()
//
// What the client sees (docs/sdk.md has the table):
//  - Regions: BAR0..5 as the spec declares them, CONFIG (256 or 4096
//    bytes) built by the same config-space unit pciem.ko compiles, no ROM.
//    RAM BARs (Bar::ram()) are memfd-backed and offered as mmap()able
//    (one sparse mmap area over the whole BAR, the fd beside the reply);
//    they also answer REGION_READ/WRITE. Other BAR accesses reach the
//    model's register maps through the same dispatch as on every host;
//    the MSI-X table and PBA are the host's. Any size and alignment is
//    split into the naturally aligned 1/2/4/8-byte accesses a CPU would
//    make.
//  - Interrupts: INTx (level, automasked as VFIO's), MSI and MSI-X, each
//    vector an eventfd the client gives with SET_IRQS; MASK/UNMASK/
//    TRIGGER actions with NONE and BOOL data. Masking is the client's
//    (SET_IRQS), not the table's: clients such as QEMU emulate the MSI-X
//    table themselves and never write it. A masked vector turns pending
//    and fires once on UNMASK. The model's irq().raise(v) goes to MSI-X
//    when the client wired MSI-X triggers (or enabled it in config
//    space), else MSI, else fails with EAGAIN, as on every host.
//  - DMA: DMA_MAP with an fd is mmap()ed; without one, the model's dma()
//    calls become DMA_READ/DMA_WRITE messages to the client. Every access
//    is checked: Bus Master Enable, inside one region, the region's
//    read/write flags. DMA_UNMAP waits for DMA in flight.
//  - DEVICE_RESET resets what the host owns (config space, interrupt
//    state); DeviceModel has no reset hook, so the model's registers
//    keep their values (its driver resets it as on real hardware, e.g.
//    NVMe's CC.EN).
//  - One client at a time. When it leaves, its DMA regions and eventfds
//    are dropped, the function is reset and the next client is accepted.
//    A client that breaks the protocol so the stream cannot be trusted
//    (a bad header, a message cut short, silence in the middle of one)
//    is disconnected with a sentence; a bad request in a sound message
//    gets an error reply with its errno and the connection goes on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pciem/config_preview.hpp"
#include "pciem/device_model.hpp"
#include "pciem/error.hpp"
#include "pciem/unique_fd.hpp"

namespace pciem {

struct VfioUserHostOptions {
    // How long a client may take to finish a message it has started, and
    // to answer a DMA_READ/DMA_WRITE.
    std::chrono::milliseconds reply_timeout{5000};
    ConfigLimits limits;
};

struct VfioUserStats {
    uint64_t messages = 0;      // commands received
    uint64_t region_reads = 0;  // REGION_READ
    uint64_t region_writes = 0; // REGION_WRITE
    uint64_t dma_messages = 0;  // DMA_READ/DMA_WRITE sent
    uint64_t error_replies = 0; // commands refused with an errno
    uint64_t clients = 0;       // connections served
};

class VfioUserHost {
public:
    // Realizes the model, builds its config space and calls on_start().
    static Result<std::unique_ptr<VfioUserHost>> create(DeviceModel& model,
                                                        const VfioUserHostOptions& options = {});
    VfioUserHost(const VfioUserHost&) = delete;
    VfioUserHost& operator=(const VfioUserHost&) = delete;
    VfioUserHost(VfioUserHost&&) = delete;
    VfioUserHost& operator=(VfioUserHost&&) = delete;
    // Calls on_stop().
    ~VfioUserHost();

    // A listening UNIX stream socket at `path` (a stale socket file there
    // is replaced; any other file is refused with EEXIST).
    static Result<UniqueFd> listen(const std::string& path);

    // Serves one connected client until it disconnects (success), breaks
    // the protocol (an error whose message says how) or stop() is called.
    Result<void> serve_client(UniqueFd socket);
    // Accepts clients on `listener` one after another, until stop().
    // Each client's end is handed to `log` as a sentence.
    Result<void> run(int listener, const std::function<void(const std::string&)>& log = {});
    // Ends serve_client()/run() from any thread (a signal thread).
    void stop();

    [[nodiscard]] VfioUserStats stats() const;

    struct Impl;

private:
    explicit VfioUserHost(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace pciem
