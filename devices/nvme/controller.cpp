// SPDX-License-Identifier: MIT
//
// The controller's identity and registers, the state changes CC
// orders: enable (CC.EN 0->1), controller reset (CC.EN 1->0) and
// shutdown (CC.SHN), and the status the queue engine asks about.
#include "controller.hpp"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

namespace pciem::nvme {

namespace {

constexpr uint32_t nvme_version_1_4 = 0x00010400;
// CAP.TO in 500 ms units: how long the host waits for CSTS.RDY.
constexpr uint64_t ready_timeout = 15;
// CAP.MPSMIN/MPSMAX: 4 KiB .. 64 KiB memory pages.
constexpr unsigned mps_min = 0;
constexpr unsigned mps_max = 4;

} // namespace

ControllerOptions Controller::clamped(ControllerOptions options) {
    options.io_queues = std::clamp(options.io_queues, 1u, 65535u);
    options.max_queue_entries = std::clamp(options.max_queue_entries, 2u, 65536u);
    options.doorbell_stride = std::min(options.doorbell_stride, 15u);
    options.mdts = std::clamp(options.mdts, 1u, 12u);
    return options;
}

Controller::Controller(ControllerOptions options, std::vector<Namespace> namespaces)
    : options_(clamped(std::move(options))), namespaces_(std::move(namespaces)),
      queues_(options_, *this, *this), events_(queues_), features_(options_.io_queues) {
    // NSIDs are 1..N in order: Identify's active list relies on it.
    for (size_t i = 0; i < namespaces_.size(); ++i) {
        namespaces_[i].nsid = static_cast<uint32_t>(i + 1);
    }
    RegisterMap& regs = declare_bar(0, "nvme BAR0", bar0_size());
    declare_registers(regs);
    declare_doorbells(regs);
    // The driver reads CAP, VS and CC at probe and polls CSTS (RDY while
    // enabling, SHST while shutting down, CFS from its timeout handler):
    // none has read side effects, so the kernel answers them itself.
    declare_shadow(0, reg::cap, 0x20);
}

DeviceSpec Controller::spec() const {
    // MSI (multiple message, maskable) and INTA are the fallbacks the
    // driver uses when MSI-X cannot be had.
    const unsigned msi_vectors = std::bit_ceil(std::min(options_.vectors(), 32u));
    return DeviceSpec{}
        .ids(vendor_id, device_id)
        .subsystem(vendor_id, device_id)
        .class_code(class_code)
        .interrupt_pin(InterruptPin::a)
        .bar(0, Bar::mem64(bar0_size()))
        .bar(msix_bar, Bar::mem64(msix_bar_size))
        .pm()
        .msi(msi_vectors, /*is64=*/true, /*maskable=*/true)
        .msix(options_.vectors(), msix_bar, 0, msix_bar, msix_pba_offset)
        .pcie(PCIEM_PCIE_ENDPOINT);
}

uint64_t Controller::bar0_size() const {
    const uint64_t doorbells =
        uint64_t{2} * (options_.io_queues + 1) * (uint64_t{4} << options_.doorbell_stride);
    return std::max<uint64_t>(16 * 1024, std::bit_ceil(reg::doorbells + doorbells));
}

uint64_t Controller::sq_doorbell_offset(uint16_t qid) const {
    return reg::doorbells + doorbell_slot(qid, false);
}

uint64_t Controller::cq_doorbell_offset(uint16_t qid) const {
    return reg::doorbells + doorbell_slot(qid, true);
}

uint64_t Controller::cap_value() const {
    return uint64_t{options_.max_queue_entries - 1}   // MQES
           | uint64_t{1} << 16                        // CQR: queues must be contiguous
           | ready_timeout << 24                      // TO
           | uint64_t{options_.doorbell_stride} << 32 // DSTRD
           | uint64_t{1} << 37                        // CSS: NVM command set
           | uint64_t{mps_min} << 48 | uint64_t{mps_max} << 52;
}

void Controller::declare_registers(RegisterMap& regs) {
    regs.reg64(reg::cap, "CAP").ro(cap_value());
    regs.reg32(reg::vs, "VS").ro(nvme_version_1_4);
    // INTMS and INTMC both read as the mask; writing 1s to INTMS sets
    // bits, to INTMC clears them. The spec requires 32-bit accesses.
    intms_ = &regs.reg32(reg::intms, "INTMS").rw().on_write([this](uint64_t old, uint64_t now) {
        set_interrupt_mask(static_cast<uint32_t>(old | now));
    });
    intmc_ = &regs.reg32(reg::intmc, "INTMC").rw().on_write([this](uint64_t old, uint64_t now) {
        set_interrupt_mask(static_cast<uint32_t>(old & ~now));
    });
    cc_ = &regs.reg32(reg::cc, "CC").rw().on_write([this](uint64_t old, uint64_t now) {
        on_cc_write(static_cast<uint32_t>(old), static_cast<uint32_t>(now));
    });
    csts_ = &regs.reg32(reg::csts, "CSTS").ro(0);
    aqa_ = &regs.reg32(reg::aqa, "AQA").rw();
    asq_ = &regs.reg64(reg::asq, "ASQ").rw();
    acq_ = &regs.reg64(reg::acq, "ACQ").rw();
    // No controller memory buffer.
    regs.reg32(reg::cmbloc, "CMBLOC").ro(0);
    regs.reg32(reg::cmbsz, "CMBSZ").ro(0);
}

void Controller::declare_doorbells(RegisterMap& regs) {
    for (unsigned q = 0; q <= options_.io_queues; ++q) {
        const auto qid = static_cast<uint16_t>(q);
        regs.reg32(sq_doorbell_offset(qid), fmt::format("SQ{}TDBL", q))
            .wo()
            .on_write([this, qid](uint64_t, uint64_t v) {
                queues_.sq_doorbell(qid, static_cast<uint32_t>(v));
            });
        regs.reg32(cq_doorbell_offset(qid), fmt::format("CQ{}HDBL", q))
            .wo()
            .on_write([this, qid](uint64_t, uint64_t v) {
                queues_.cq_doorbell(qid, static_cast<uint32_t>(v));
            });
    }
}

void Controller::set_interrupt_mask(uint32_t mask) {
    // INTMS and INTMC both read as the mask.
    intms_->set(mask);
    intmc_->set(mask);
    queues_.set_interrupt_mask(mask);
}

void Controller::on_mmio_write(unsigned bar, uint64_t offset, unsigned, uint64_t) {
    // Between doorbells (DSTRD > 0) or past the last queue's.
    if (bar == 0 && offset >= reg::doorbells && (csts_->value() & csts::rdy) != 0) {
        events_.report(aer::type_error, aer::info_invalid_doorbell_register, log_page::error_info);
    }
}

void Controller::on_cc_write(uint32_t old_cc, uint32_t new_cc) {
    const bool was_enabled = (old_cc & cc::en) != 0;
    const bool enabled = (new_cc & cc::en) != 0;
    if (was_enabled && !enabled) {
        reset();
    } else if (!was_enabled && enabled) {
        enable(new_cc);
    }
    const unsigned old_shn = (old_cc >> cc::shn_shift) & cc::shn_mask;
    const unsigned shn = (new_cc >> cc::shn_shift) & cc::shn_mask;
    if (shn != 0 && old_shn == 0) {
        shutdown();
    }
}

void Controller::enable(uint32_t cc) {
    const unsigned mps = (cc >> cc::mps_shift) & cc::mps_mask;
    const unsigned css = (cc >> cc::css_shift) & cc::css_mask;
    const auto aqa = static_cast<uint32_t>(aqa_->value());
    const uint32_t asqs = (aqa & 0xfff) + 1;
    const uint32_t acqs = ((aqa >> 16) & 0xfff) + 1;
    const uint64_t asq = asq_->value() & ~uint64_t{0xfff};
    const uint64_t acq = acq_->value() & ~uint64_t{0xfff};
    // A configuration the controller cannot run with: it does not become
    // ready, and says why it will not in the only way it can.
    // (MQES limits I/O queues only; AQA's 12-bit fields cap the admin queues.)
    if (mps < mps_min || mps > mps_max || css != 0 || asqs < 2 || acqs < 2 || asq == 0 ||
        acq == 0) {
        fatal_error();
        return;
    }
    page_size_ = uint64_t{1} << (12 + mps);
    queues_.start(asq, asqs, acq, acqs);
    shut_down_ = false;
    logs_.count_power_cycle();
    csts_->set(csts::rdy);
}

void Controller::reset() {
    // Controller Level Reset: every queue goes (commands held, such as
    // AERs, are dropped without completion), features return to their
    // defaults, CSTS clears. AQA, ASQ and ACQ keep their values.
    queues_.reset();
    events_.reset();
    features_.reset();
    logs_.clear_warnings();
    intms_->set(0);
    intmc_->set(0);
    shut_down_ = false;
    csts_->set(0);
    check_temperature();
}

void Controller::shutdown() {
    // Normal and abrupt shutdown alike: stop fetching commands, make
    // written data durable, report completion. Inline processing leaves
    // nothing in flight.
    shut_down_ = true;
    for (Namespace& ns : namespaces_) {
        (void)ns.backing->flush();
    }
    csts_->set((csts_->value() & ~csts::shst_mask) | csts::shst_complete);
}

void Controller::fatal_error() {
    // Controller Fatal Status: the host's recovery is a reset.
    csts_->set_bits(csts::cfs);
}

bool Controller::running() const {
    const auto status = static_cast<uint32_t>(csts_->value());
    return (status & csts::rdy) != 0 && (status & csts::cfs) == 0;
}

bool Controller::failed() const {
    return (csts_->value() & csts::cfs) != 0;
}

void Controller::command_failed(uint16_t sqid, const Sqe& cmd, Status status, bool phase) {
    const bool block = sqid != 0 && io_op::has_slba(cmd.opcode);
    logs_.record_failure({.sqid = sqid,
                          .cid = cmd.cid,
                          .status = status,
                          .phase = phase,
                          .nsid = cmd.nsid,
                          .lba = block ? (cmd.cdw10 | uint64_t{cmd.cdw11} << 32) : 0});
}

void Controller::doorbell_error(uint8_t info) {
    events_.report(aer::type_error, info, log_page::error_info);
}

} // namespace pciem::nvme
