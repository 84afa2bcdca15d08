// SPDX-License-Identifier: MIT
//
// The NVM command set: Read, Write, Compare, Flush, Write Zeroes and
// Dataset Management (deallocate). Data moves between host memory and
// the backing through the SQ's bounce buffer: one dma() call per run of
// contiguous host memory, one pread/pwrite per command.
#include <algorithm>
#include <array>
#include <cstring>

#include "controller.hpp"
#include "data_pointer.hpp"

namespace pciem::nvme {

namespace {

struct LbaRange {
    uint64_t slba;
    uint64_t nlb;
};

// CDW10-11 SLBA, CDW12 15:0 NLB (0's based).
LbaRange lba_range(const Sqe& cmd) {
    return {cmd.cdw10 | uint64_t{cmd.cdw11} << 32, uint64_t{cmd.cdw12 & 0xffff} + 1};
}

constexpr uint32_t fua = 1u << 30; // CDW12 Force Unit Access

// A Dataset Management range (16 bytes).
struct DsmRange {
    uint32_t attributes;
    uint32_t nlb;
    uint64_t slba;
};
static_assert(sizeof(DsmRange) == 16);

std::span<std::byte> bounce(SubmissionQueue& sq, size_t len) {
    if (sq.bounce.size() < len) {
        sq.bounce.resize(len);
    }
    return std::span(sq.bounce).first(len);
}

} // namespace

Completion Controller::io_command(SubmissionQueue& sq, const Sqe& cmd) {
    if (cmd.opcode == io_op::flush) {
        return flush(cmd);
    }
    switch (cmd.opcode) {
    case io_op::read:
    case io_op::write:
    case io_op::compare:
    case io_op::write_zeroes:
    case io_op::dataset_management:
        break;
    default:
        return {status::invalid_opcode};
    }
    Namespace* ns = find_namespace(cmd.nsid);
    if (ns == nullptr) {
        return {status::invalid_namespace};
    }
    switch (cmd.opcode) {
    case io_op::read:
    case io_op::write:
        return read_write(sq, cmd, *ns);
    case io_op::compare:
        return compare(sq, cmd, *ns);
    case io_op::write_zeroes:
        return write_zeroes(cmd, *ns);
    default:
        return dataset_management(sq, cmd, *ns);
    }
}

uint64_t Controller::max_transfer() const {
    // MDTS is in units of CAP.MPSMIN (4 KiB).
    return uint64_t{4096} << options_.mdts;
}

Status Controller::map_blocks(SubmissionQueue& sq, const Sqe& cmd, const Namespace& ns,
                              BlockTransfer& t) {
    const LbaRange r = lba_range(cmd);
    if (!ns.in_range(r.slba, r.nlb)) {
        return status::lba_out_of_range;
    }
    t.offset = r.slba << ns.lba_shift;
    t.length = r.nlb << ns.lba_shift;
    if (t.length > max_transfer()) {
        return status::invalid_field;
    }
    return resolve_data_pointer(dma(), cmd, t.length, page_size_, true, sq.runs);
}

Completion Controller::read_write(SubmissionQueue& sq, const Sqe& cmd, Namespace& ns) {
    BlockTransfer t;
    if (Status s = map_blocks(sq, cmd, ns, t); !s.ok()) {
        return {s};
    }
    const uint64_t at = t.offset;
    const uint64_t len = t.length;
    queues_.count_transfer(len);
    if (cmd.opcode == io_op::write) {
        std::span<std::byte> data = bounce(sq, len);
        if (!dma().fast_read_sg(sq.runs, data)) {
            return {status::data_transfer_error};
        }
        if (ns.backing->write(at, data) != 0 ||
            (((cmd.cdw12 & fua) != 0 || !features_.current().write_cache) &&
             ns.backing->flush() != 0)) {
            logs_.count_media_error();
            return {status::write_fault};
        }
        logs_.count_write(len);
        return {};
    }
    // Straight from a memory namespace, whose bytes stay put until the
    // engine sends them with the completion and its interrupt in one go;
    // through the bounce buffer from a file (the next command reuses it:
    // written now).
    std::span<const std::byte> data = ns.backing->view(at, len);
    if (!data.empty() && queues_.hold_data(sq.runs, data)) {
        logs_.count_read(len);
        return {};
    }
    if (data.empty()) {
        std::span<std::byte> b = bounce(sq, len);
        if (ns.backing->read(at, b) != 0) {
            logs_.count_media_error();
            return {status::unrecovered_read_error};
        }
        data = b;
    }
    if (!dma().fast_write_sg(sq.runs, data)) {
        return {status::data_transfer_error};
    }
    logs_.count_read(len);
    return {};
}

Completion Controller::compare(SubmissionQueue& sq, const Sqe& cmd, Namespace& ns) {
    BlockTransfer t;
    if (Status s = map_blocks(sq, cmd, ns, t); !s.ok()) {
        return {s};
    }
    const uint64_t len = t.length;
    std::span<std::byte> both = bounce(sq, 2 * len);
    std::span<std::byte> host = both.first(len);
    std::span<std::byte> media = both.subspan(len);
    if (!dma().fast_read_sg(sq.runs, host)) {
        return {status::data_transfer_error};
    }
    if (ns.backing->read(t.offset, media) != 0) {
        return {status::unrecovered_read_error};
    }
    if (std::memcmp(host.data(), media.data(), len) != 0) {
        return {status::compare_failure};
    }
    return {};
}

Completion Controller::write_zeroes(const Sqe& cmd, Namespace& ns) {
    const LbaRange r = lba_range(cmd);
    if (!ns.in_range(r.slba, r.nlb)) {
        return {status::lba_out_of_range};
    }
    // Deallocated blocks read zeros (DLFEAT), so zeroing and deallocating
    // (DEAC) are the same operation here: a hole in a file.
    if (ns.backing->deallocate(r.slba << ns.lba_shift, r.nlb << ns.lba_shift) != 0) {
        logs_.count_media_error();
        return {status::write_fault};
    }
    return {};
}

Completion Controller::dataset_management(SubmissionQueue& sq, const Sqe& cmd, Namespace& ns) {
    const unsigned count = (cmd.cdw10 & 0xff) + 1;
    const bool deallocate = (cmd.cdw11 & (1u << 2)) != 0;
    std::array<DsmRange, 256> ranges{};
    const auto list = std::as_writable_bytes(std::span(ranges).first(count));
    if (Status s = resolve_data_pointer(dma(), cmd, list.size(), page_size_, true, sq.runs);
        !s.ok()) {
        return {s};
    }
    if (!dma().fast_read_sg(sq.runs, list)) {
        return {status::data_transfer_error};
    }
    if (!deallocate) {
        return {}; // attribute hints only: nothing to do
    }
    // All ranges are checked before any is deallocated.
    for (unsigned i = 0; i < count; ++i) {
        if (!ns.in_range(ranges[i].slba, ranges[i].nlb)) {
            return {status::lba_out_of_range};
        }
    }
    for (unsigned i = 0; i < count; ++i) {
        if (ranges[i].nlb != 0 &&
            ns.backing->deallocate(ranges[i].slba << ns.lba_shift,
                                   uint64_t{ranges[i].nlb} << ns.lba_shift) != 0) {
            return {status::internal_error};
        }
    }
    return {};
}

Completion Controller::flush(const Sqe& cmd) {
    if (cmd.nsid == broadcast_nsid) {
        for (Namespace& ns : namespaces_) {
            if (ns.backing->flush() != 0) {
                return {status::write_fault};
            }
        }
        return {};
    }
    Namespace* ns = find_namespace(cmd.nsid);
    if (ns == nullptr) {
        return {status::invalid_namespace};
    }
    return {ns->backing->flush() == 0 ? status::success : status::write_fault};
}

} // namespace pciem::nvme
