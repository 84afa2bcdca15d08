// SPDX-License-Identifier: MIT
#include "nvme_driver.hpp"

#include <unistd.h>

#include <cstring>

namespace pciem::nvme::test {

Sqe command(uint8_t opcode, uint32_t nsid) {
    Sqe c{};
    c.opcode = opcode;
    c.nsid = nsid;
    return c;
}

std::vector<std::byte> pattern(size_t n, uint8_t seed) {
    std::vector<std::byte> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x = x * 1103515245u + 12345u;
        b = std::byte(static_cast<uint8_t>(x >> 16));
    }
    return v;
}

Driver::Driver(ControllerOptions options, std::vector<NamespaceSpec> namespaces) {
    std::vector<Namespace> nss;
    for (const NamespaceSpec& spec : namespaces) {
        Result<std::unique_ptr<Backing>> b = spec.file.empty()
                                                 ? make_memory_backing(spec.size)
                                                 : open_file_backing(spec.file, 0, spec.size);
        EXPECT_TRUE(b) << b.error().message;
        if (!spec.file.empty()) {
            files_.push_back(spec.file);
        }
        nss.push_back({.nsid = 0, .lba_shift = spec.lba_shift, .backing = std::move(*b)});
    }
    model_ = std::make_unique<Controller>(std::move(options), std::move(nss));
    auto h = SimHost::create(*model_);
    EXPECT_TRUE(h) << h.error().message;
    host_ = std::move(*h);
}

Driver::~Driver() {
    host_.reset();
    for (const std::string& f : files_) {
        ::unlink(f.c_str());
    }
}

void Driver::enable_pci(bool msix) {
    host_->cfg_write(0x04, 2, 0x0006); // Memory Space, Bus Master
    if (!msix) {
        return;
    }
    const uint16_t cap = host_->config().layout.msix;
    host_->cfg_write(cap + 2, 2, 0x8000);
    for (unsigned v = 0; v < model_->options().vectors(); ++v) {
        host_->write32(Controller::msix_bar, 16 * v + 12, 0);
    }
}

uint32_t Driver::enable_controller(uint32_t admin_entries, unsigned mps) {
    admin_ = HostQueue{};
    admin_.sq_entries = admin_.cq_entries = admin_entries;
    admin_.sq_bus = alloc_coherent(admin_entries * sizeof(Sqe));
    admin_.cq_bus = alloc_coherent(admin_entries * sizeof(Cqe));
    host_->write32(0, reg::aqa, (admin_entries - 1) << 16 | (admin_entries - 1));
    host_->write64(0, reg::asq, admin_.sq_bus);
    host_->write64(0, reg::acq, admin_.cq_bus);
    const uint32_t cc = cc::en | mps << cc::mps_shift | sqe_size_log2 << cc::iosqes_shift |
                        cqe_size_log2 << cc::iocqes_shift;
    host_->write32(0, reg::cc, cc);
    return host_->read32(0, reg::csts);
}

void Driver::disable_controller() {
    const uint32_t cc = host_->read32(0, reg::cc);
    host_->write32(0, reg::cc, cc & ~cc::en);
}

void Driver::submit(HostQueue& q, Sqe cmd) {
    if (cmd.cid == 0) {
        static uint16_t next_cid = 1;
        cmd.cid = next_cid++;
    }
    std::memcpy(coherent(q.sq_bus).data() + q.sq_tail * sizeof(Sqe), &cmd, sizeof(Sqe));
    q.sq_tail = (q.sq_tail + 1) % q.sq_entries;
    if (update_shadow(q.qid, false, q.sq_tail)) {
        host_->write32(0, model_->sq_doorbell_offset(q.qid), q.sq_tail);
    }
}

void Driver::submit_batch(HostQueue& q, std::span<const Sqe> cmds) {
    for (const Sqe& cmd : cmds) {
        std::memcpy(coherent(q.sq_bus).data() + q.sq_tail * sizeof(Sqe), &cmd, sizeof(Sqe));
        q.sq_tail = (q.sq_tail + 1) % q.sq_entries;
    }
    if (update_shadow(q.qid, false, q.sq_tail)) {
        host_->write32(0, model_->sq_doorbell_offset(q.qid), q.sq_tail);
    }
}

Status Driver::enable_shadow_doorbells() {
    const uint64_t db = alloc_coherent(4096);
    const uint64_t ei = alloc_coherent(4096);
    Sqe c = command(admin_op::doorbell_buffer_config);
    c.dptr1 = db;
    c.dptr2 = ei;
    const Status s = status_of(admin(c));
    if (s.ok()) {
        dbbuf_ = db;
        eventidx_ = ei;
    }
    return s;
}

uint32_t& Driver::shadow(uint16_t qid, bool cq) {
    return *reinterpret_cast<uint32_t*>(coherent(dbbuf_).data() + model_->doorbell_slot(qid, cq));
}

uint32_t& Driver::event_index(uint16_t qid, bool cq) {
    return *reinterpret_cast<uint32_t*>(coherent(eventidx_).data() +
                                        model_->doorbell_slot(qid, cq));
}

bool Driver::update_shadow(uint16_t qid, bool cq, uint32_t value) {
    if (qid == 0) {
        return true;
    }
    if (dbbuf_ == 0) {
        ++io_doorbell_writes_;
        return true;
    }
    const auto old = static_cast<uint16_t>(shadow(qid, cq));
    shadow(qid, cq) = value;
    // Ring when the EventIdx lies in [old, value): the controller asked
    // to hear about this step.
    const auto ei = static_cast<uint16_t>(event_index(qid, cq));
    const auto now = static_cast<uint16_t>(value);
    if (static_cast<uint16_t>(now - ei - 1) < static_cast<uint16_t>(now - old)) {
        ++io_doorbell_writes_;
        return true;
    }
    return false;
}

std::optional<Cqe> Driver::reap(HostQueue& q, bool ring) {
    Cqe c{};
    std::memcpy(&c, coherent(q.cq_bus).data() + q.cq_head * sizeof(Cqe), sizeof(Cqe));
    if ((c.status & 1) != (q.phase ? 1 : 0)) {
        return std::nullopt;
    }
    q.cq_head = (q.cq_head + 1) % q.cq_entries;
    if (q.cq_head == 0) {
        q.phase = !q.phase;
    }
    if (ring) {
        ring_cq(q);
    }
    return c;
}

void Driver::ring_cq(const HostQueue& q) {
    if (update_shadow(q.cqid, true, q.cq_head)) {
        host_->write32(0, model_->cq_doorbell_offset(q.cqid), q.cq_head);
    }
}

Cqe Driver::run(HostQueue& q, const Sqe& cmd) {
    submit(q, cmd);
    auto c = reap(q);
    EXPECT_TRUE(c) << "no completion for opcode " << int(cmd.opcode) << " on queue " << q.qid;
    return c.value_or(Cqe{});
}

Cqe Driver::create_cq(uint16_t qid, uint32_t entries, uint16_t vector, uint64_t bus,
                      bool irq_enabled) {
    Sqe c = command(admin_op::create_io_cq);
    c.dptr1 = bus;
    c.cdw10 = (entries - 1) << 16 | qid;
    c.cdw11 = uint32_t{vector} << 16 | (irq_enabled ? 2u : 0u) | 1u;
    return admin(c);
}

Cqe Driver::create_sq(uint16_t qid, uint32_t entries, uint16_t cqid, uint64_t bus) {
    Sqe c = command(admin_op::create_io_sq);
    c.dptr1 = bus;
    c.cdw10 = (entries - 1) << 16 | qid;
    c.cdw11 = uint32_t{cqid} << 16 | 1u;
    return admin(c);
}

HostQueue Driver::create_io_queue(uint16_t qid, uint32_t entries, uint16_t vector, uint16_t cqid) {
    HostQueue q;
    q.qid = qid;
    q.cqid = cqid != 0 ? cqid : qid;
    q.sq_entries = q.cq_entries = entries;
    q.sq_bus = alloc_coherent(entries * sizeof(Sqe));
    if (cqid == 0) {
        q.cq_bus = alloc_coherent(entries * sizeof(Cqe));
        EXPECT_EQ(status_of(create_cq(qid, entries, vector, q.cq_bus)), status::success);
    }
    EXPECT_EQ(status_of(create_sq(qid, entries, q.cqid, q.sq_bus)), status::success);
    return q;
}

std::unique_ptr<Driver::Buffer> Driver::map(size_t size, DmaDirection dir, size_t page_offset) {
    // Over-allocate so the buffer can start at a chosen offset in a page
    // (the bus address keeps the offset within the page).
    auto b = std::make_unique<Buffer>();
    b->storage.resize(size + 2 * 4096);
    const auto addr = reinterpret_cast<uintptr_t>(b->storage.data());
    const size_t skip = (4096 - addr % 4096) % 4096 + page_offset;
    b->bytes = std::span(b->storage).subspan(skip, size);
    b->bus = host_->dma().map(b->bytes, dir);
    return b;
}

Sqe block_command(uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb, uint64_t prp1,
                  uint64_t prp2) {
    Sqe c = command(opcode, nsid);
    c.dptr1 = prp1;
    c.dptr2 = prp2;
    c.cdw10 = static_cast<uint32_t>(slba);
    c.cdw11 = static_cast<uint32_t>(slba >> 32);
    c.cdw12 = nlb - 1;
    return c;
}

Cqe Driver::io(HostQueue& q, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb,
               uint64_t prp1, uint64_t prp2) {
    return run(q, block_command(opcode, nsid, slba, nlb, prp1, prp2));
}

} // namespace pciem::nvme::test
