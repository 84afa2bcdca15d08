// SPDX-License-Identifier: MIT
//
// The unit tests' NVMe "driver": plays the Linux nvme driver's side
// against the controller on a SimHost. Queues live in coherent memory,
// data buffers are mapped with the DMA API's directions, MSI-X is
// enabled and unmasked the way the PCI core does it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "controller.hpp"
#include "pciem/sim_host.hpp"

namespace pciem::nvme::test {

// One submission/completion queue pair as the host sees it.
struct HostQueue {
    uint16_t qid = 0;
    uint16_t cqid = 0;
    uint64_t sq_bus = 0;
    uint64_t cq_bus = 0;
    uint32_t sq_entries = 0;
    uint32_t cq_entries = 0;
    uint32_t sq_tail = 0;
    uint32_t cq_head = 0;
    bool phase = true;
};

struct NamespaceSpec {
    NamespaceSpec(uint64_t bytes = 1 << 20, unsigned shift = 9, std::string path = {})
        : size(bytes), lba_shift(shift), file(std::move(path)) {}
    uint64_t size;
    unsigned lba_shift;
    std::string file; // empty: memory
};

class Driver {
public:
    explicit Driver(ControllerOptions options = {}, std::vector<NamespaceSpec> namespaces = {{}});
    ~Driver();

    SimHost& host() { return *host_; }
    Controller& model() { return *model_; }

    // Memory Space + Bus Master Enable, MSI-X enabled with every vector
    // unmasked (pci_alloc_irq_vectors).
    void enable_pci(bool msix = true);
    // AQA/ASQ/ACQ, CC.EN with the given CC.MPS, then CSTS.RDY. Returns
    // CSTS as last read.
    uint32_t enable_controller(uint32_t admin_entries = 32, unsigned mps = 0);
    void disable_controller();
    // enable_pci() and enable_controller(): the driver's probe, up to a
    // ready controller with its admin queue.
    uint32_t start() {
        enable_pci();
        return enable_controller();
    }

    // Writes cmd at the SQ tail, rings the doorbell.
    void submit(HostQueue& q, Sqe cmd);
    // Writes cmds (their cids as given) at the SQ tail, then rings the
    // doorbell once: a batch the controller takes in one go.
    void submit_batch(HostQueue& q, std::span<const Sqe> cmds);
    // The next completion if its phase tag says it is new; consumes it
    // and rings the CQ head doorbell.
    std::optional<Cqe> reap(HostQueue& q, bool ring = true);
    // submit + reap, failing the test if no completion arrived.
    Cqe run(HostQueue& q, const Sqe& cmd);
    Cqe admin(const Sqe& cmd) { return run(admin_, cmd); }
    HostQueue& admin_queue() { return admin_; }
    // CQ head doorbell for the queue's CQ as the host has consumed it.
    void ring_cq(const HostQueue& q);

    // Doorbell Buffer Config, as nvme_dbbuf_set() sends it: two zeroed
    // coherent pages. From then on submit()/ring_cq() on I/O queues
    // write the shadow and ring the register only when the EventIdx
    // says so (nvme_dbbuf_update_and_check_event()). Returns the status.
    Status enable_shadow_doorbells();
    // The shadow and EventIdx slots of a queue's SQ tail / CQ head.
    uint32_t& shadow(uint16_t qid, bool cq);
    uint32_t& event_index(uint16_t qid, bool cq);
    // I/O queue doorbell registers written so far (admin ones not counted).
    [[nodiscard]] unsigned io_doorbell_writes() const { return io_doorbell_writes_; }

    // Create I/O CQ (vector) and SQ. Statuses are checked by the caller
    // via create_cq()/create_sq() when they matter.
    HostQueue create_io_queue(uint16_t qid, uint32_t entries = 64, uint16_t vector = 0,
                              uint16_t cqid = 0);
    Cqe create_cq(uint16_t qid, uint32_t entries, uint16_t vector, uint64_t bus,
                  bool irq_enabled = true);
    Cqe create_sq(uint16_t qid, uint32_t entries, uint16_t cqid, uint64_t bus);

    // A buffer the "driver" maps for DMA; bus() is its bus address.
    struct Buffer {
        std::vector<std::byte> storage;
        std::span<std::byte> bytes; // the mapped part of storage
        uint64_t bus = 0;
    };
    std::unique_ptr<Buffer> map(size_t size, DmaDirection dir, size_t page_offset = 0);

    // Reads/writes with PRP1 (and PRP2 when the data spans two pages).
    Cqe io(HostQueue& q, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb, uint64_t prp1,
           uint64_t prp2 = 0);

    uint64_t alloc_coherent(size_t size) { return host_->dma().alloc_coherent(size); }
    std::span<std::byte> coherent(uint64_t bus) { return host_->dma().coherent(bus); }

private:
    std::unique_ptr<Controller> model_;
    std::unique_ptr<SimHost> host_;
    // Updates the shadow slot; true when the register must be written.
    bool update_shadow(uint16_t qid, bool cq, uint32_t value);

    HostQueue admin_;
    std::vector<std::string> files_;
    uint64_t dbbuf_ = 0; // bus address of the Shadow Doorbell page (0: off)
    uint64_t eventidx_ = 0;
    unsigned io_doorbell_writes_ = 0;
};

Sqe command(uint8_t opcode, uint32_t nsid = 0);
// A Read/Write/Compare of nlb blocks at slba.
Sqe block_command(uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb, uint64_t prp1,
                  uint64_t prp2 = 0);
// Status field of a completion (phase bit removed).
inline Status status_of(const Cqe& c) {
    return Status{static_cast<uint16_t>(c.status >> 1)};
}
std::vector<std::byte> pattern(size_t n, uint8_t seed);

} // namespace pciem::nvme::test
