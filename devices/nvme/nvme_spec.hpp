// SPDX-License-Identifier: MIT
//
// The numbers of the NVMe specification (base 1.4, NVM command set) the
// model uses: register offsets and fields, command and completion
// layouts, opcodes, status codes, feature and log page identifiers.
// Names follow the specification so the code can be read next to it.
#pragma once

#include <bit>
#include <cstdint>

namespace pciem::nvme {

static_assert(std::endian::native == std::endian::little,
              "NVMe structures are little-endian; the model stores them as they are");

// ---- controller registers (BAR0) ------------------------------------------
namespace reg {
inline constexpr uint64_t cap = 0x00;
inline constexpr uint64_t vs = 0x08;
inline constexpr uint64_t intms = 0x0c;
inline constexpr uint64_t intmc = 0x10;
inline constexpr uint64_t cc = 0x14;
inline constexpr uint64_t csts = 0x1c;
inline constexpr uint64_t nssr = 0x20;
inline constexpr uint64_t aqa = 0x24;
inline constexpr uint64_t asq = 0x28;
inline constexpr uint64_t acq = 0x30;
inline constexpr uint64_t cmbloc = 0x38;
inline constexpr uint64_t cmbsz = 0x3c;
inline constexpr uint64_t doorbells = 0x1000;
} // namespace reg

// CC fields.
namespace cc {
inline constexpr uint32_t en = 1u << 0;
inline constexpr unsigned css_shift = 4, css_mask = 0x7;
inline constexpr unsigned mps_shift = 7, mps_mask = 0xf;
inline constexpr unsigned shn_shift = 14, shn_mask = 0x3;
inline constexpr unsigned iosqes_shift = 16, iocqes_shift = 20;
} // namespace cc

// CSTS fields.
namespace csts {
inline constexpr uint32_t rdy = 1u << 0;
inline constexpr uint32_t cfs = 1u << 1;
inline constexpr unsigned shst_shift = 2;
inline constexpr uint32_t shst_mask = 0x3u << shst_shift;
inline constexpr uint32_t shst_complete = 0x2u << shst_shift;
} // namespace csts

// ---- submission and completion queue entries ------------------------------
struct Sqe {
    uint8_t opcode;
    uint8_t flags; // FUSE 1:0, PSDT 7:6
    uint16_t cid;
    uint32_t nsid;
    uint32_t cdw2, cdw3;
    uint64_t mptr;
    uint64_t dptr1; // PRP1, or the first half of SGL1
    uint64_t dptr2; // PRP2, or the second half of SGL1
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;

    [[nodiscard]] unsigned fuse() const { return flags & 0x3u; }
    [[nodiscard]] unsigned psdt() const { return (flags >> 6) & 0x3u; }
};
static_assert(sizeof(Sqe) == 64);

struct Cqe {
    uint32_t dw0;
    uint32_t dw1;
    uint16_t sqhd;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status; // bit 0 phase tag, 15:1 status field
};
static_assert(sizeof(Cqe) == 16);

inline constexpr unsigned sqe_size_log2 = 6; // CC.IOSQES the model requires
inline constexpr unsigned cqe_size_log2 = 4; // CC.IOCQES

// ---- status ---------------------------------------------------------------
// The 15-bit status field of a completion: SC 7:0, SCT 10:8, DNR 14.
struct Status {
    uint16_t field = 0;

    [[nodiscard]] constexpr bool ok() const { return field == 0; }
    [[nodiscard]] constexpr unsigned sct() const { return (field >> 8) & 0x7u; }
    [[nodiscard]] constexpr unsigned sc() const { return field & 0xffu; }
    [[nodiscard]] constexpr bool dnr() const { return (field & 0x4000u) != 0; }
    friend constexpr bool operator==(Status, Status) = default;
};

namespace sct {
inline constexpr unsigned generic = 0, command_specific = 1, media = 2;
}

// Errors carry Do Not Retry: none of the model's failures go away when
// the same command is submitted again.
constexpr Status make_status(unsigned type, unsigned code) {
    const uint16_t f = static_cast<uint16_t>((type << 8) | code);
    return Status{static_cast<uint16_t>(f == 0 ? 0 : (f | 0x4000u))};
}

namespace status {
inline constexpr Status success = make_status(sct::generic, 0x00);
inline constexpr Status invalid_opcode = make_status(sct::generic, 0x01);
inline constexpr Status invalid_field = make_status(sct::generic, 0x02);
inline constexpr Status data_transfer_error = make_status(sct::generic, 0x04);
inline constexpr Status internal_error = make_status(sct::generic, 0x06);
inline constexpr Status abort_requested = make_status(sct::generic, 0x07);
inline constexpr Status aborted_sq_deleted = make_status(sct::generic, 0x08);
inline constexpr Status invalid_namespace = make_status(sct::generic, 0x0b);
inline constexpr Status command_sequence_error = make_status(sct::generic, 0x0c);
inline constexpr Status sgl_invalid_segment = make_status(sct::generic, 0x0d);
inline constexpr Status sgl_invalid_count = make_status(sct::generic, 0x0e);
inline constexpr Status sgl_invalid_data_length = make_status(sct::generic, 0x0f);
inline constexpr Status sgl_invalid_type = make_status(sct::generic, 0x11);
inline constexpr Status prp_invalid_offset = make_status(sct::generic, 0x13);
inline constexpr Status lba_out_of_range = make_status(sct::generic, 0x80);
inline constexpr Status cq_invalid = make_status(sct::command_specific, 0x00);
inline constexpr Status invalid_queue_id = make_status(sct::command_specific, 0x01);
inline constexpr Status invalid_queue_size = make_status(sct::command_specific, 0x02);
inline constexpr Status aer_limit_exceeded = make_status(sct::command_specific, 0x05);
inline constexpr Status invalid_interrupt_vector = make_status(sct::command_specific, 0x08);
inline constexpr Status invalid_log_page = make_status(sct::command_specific, 0x09);
inline constexpr Status invalid_format = make_status(sct::command_specific, 0x0a);
inline constexpr Status invalid_queue_deletion = make_status(sct::command_specific, 0x0c);
inline constexpr Status feature_not_saveable = make_status(sct::command_specific, 0x0d);
inline constexpr Status write_fault = make_status(sct::media, 0x80);
inline constexpr Status unrecovered_read_error = make_status(sct::media, 0x81);
inline constexpr Status compare_failure = make_status(sct::media, 0x85);
} // namespace status

// ---- opcodes --------------------------------------------------------------
namespace admin_op {
inline constexpr uint8_t delete_io_sq = 0x00;
inline constexpr uint8_t create_io_sq = 0x01;
inline constexpr uint8_t get_log_page = 0x02;
inline constexpr uint8_t delete_io_cq = 0x04;
inline constexpr uint8_t create_io_cq = 0x05;
inline constexpr uint8_t identify = 0x06;
inline constexpr uint8_t abort = 0x08;
inline constexpr uint8_t set_features = 0x09;
inline constexpr uint8_t get_features = 0x0a;
inline constexpr uint8_t async_event_request = 0x0c;
inline constexpr uint8_t doorbell_buffer_config = 0x7c;
inline constexpr uint8_t format_nvm = 0x80;
} // namespace admin_op

namespace io_op {
inline constexpr uint8_t flush = 0x00;
inline constexpr uint8_t write = 0x01;
inline constexpr uint8_t read = 0x02;
inline constexpr uint8_t compare = 0x05;
inline constexpr uint8_t write_zeroes = 0x08;
inline constexpr uint8_t dataset_management = 0x09;

// Commands whose CDW10-11 hold a starting LBA.
constexpr bool has_slba(uint8_t opcode) {
    return opcode == read || opcode == write || opcode == compare || opcode == write_zeroes;
}
} // namespace io_op

// Identify CNS values.
namespace cns {
inline constexpr uint8_t ns = 0x00;
inline constexpr uint8_t ctrl = 0x01;
inline constexpr uint8_t active_ns_list = 0x02;
inline constexpr uint8_t ns_descriptors = 0x03;
// I/O Command Set specific Identify Controller (CSI in CDW11 31:24). The
// Linux driver reads it for the NVM command set from NVMe 1.1 on and
// fails controller setup if it is refused.
inline constexpr uint8_t io_command_set_ctrl = 0x06;
} // namespace cns

namespace feature {
inline constexpr uint8_t arbitration = 0x01;
inline constexpr uint8_t power_management = 0x02;
inline constexpr uint8_t temperature_threshold = 0x04;
inline constexpr uint8_t volatile_write_cache = 0x06;
inline constexpr uint8_t number_of_queues = 0x07;
inline constexpr uint8_t interrupt_coalescing = 0x08;
inline constexpr uint8_t interrupt_vector_config = 0x09;
inline constexpr uint8_t async_event_config = 0x0b;
} // namespace feature

namespace log_page {
inline constexpr uint8_t error_info = 0x01;
inline constexpr uint8_t smart = 0x02;
inline constexpr uint8_t firmware_slot = 0x03;
} // namespace log_page

// Asynchronous event types (completion DW0 bits 2:0) and infos.
namespace aer {
inline constexpr uint8_t type_error = 0x0;
inline constexpr uint8_t type_smart = 0x1;
inline constexpr uint8_t info_invalid_doorbell_register = 0x01;
inline constexpr uint8_t info_invalid_doorbell_value = 0x02;
inline constexpr uint8_t info_temperature_threshold = 0x01;
} // namespace aer

// SGL descriptor types (byte 15, bits 7:4).
namespace sgl {
inline constexpr uint8_t data_block = 0x0;
inline constexpr uint8_t segment = 0x2;
inline constexpr uint8_t last_segment = 0x3;
inline constexpr unsigned descriptor_size = 16;
} // namespace sgl

inline constexpr uint32_t broadcast_nsid = 0xffffffff;
inline constexpr uint8_t csi_nvm = 0x00;

} // namespace pciem::nvme
