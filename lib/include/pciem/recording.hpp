// SPDX-License-Identifier: MIT
//
// Recordings: what a function's device side saw and answered, as the
// kernel streams it (PCIEM_IOC_RECORD, Control::record()), kept in a file
// by `pciemctl record`, printed by `pciemctl dump` and replayed by
// `pciem-replay`. The file format is in docs/record.md:
//
//     RecordingHeader            96 bytes: magic "PCIEMREC", version, the
//                                function, when, which kernel
//     the kernel's records       as read() returned them: each starts with
//                                struct pciem_rec, rec.len bytes (a
//                                multiple of 8, header included)
//
//     auto rec = pciem::Recording::load("probe.pcierec");
//     if (!rec) { print(rec.error().message); return 1; }
//     for (const pciem::Record& r : rec->records())
//         puts(pciem::format_record_line(r, rec->start_ns()).c_str());
//
// Loading checks every record's framing and the minimum size of its type,
// so code that reads a Record's payload never reads past it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linux/pciem.h>

#include "pciem/address.hpp"
#include "pciem/device_spec.hpp"
#include "pciem/error.hpp"

namespace pciem {

inline constexpr char recording_magic[8] = {'P', 'C', 'I', 'E', 'M', 'R', 'E', 'C'};
inline constexpr uint16_t recording_version = 1;

// The file header, little-endian as every PCIem structure. Readers accept
// a longer header_len (later versions may append fields) and skip it.
struct RecordingHeader {
    char magic[8];        // recording_magic
    uint16_t version;     // recording_version
    uint16_t header_len;  // bytes before the first record (96)
    uint32_t abi_version; // PCIEM_ABI_VERSION of the recording kernel
    uint32_t domain;      // the recorded function
    uint8_t bus;
    uint8_t devfn;
    uint16_t reserved;           // 0
    uint32_t buffer_kb;          // the recorder's buffer (0: kernel default)
    uint32_t flags;              // none defined yet: 0
    uint64_t start_realtime_ns;  // CLOCK_REALTIME when recording started
    uint64_t start_monotonic_ns; // CLOCK_MONOTONIC then (records' clock)
    char kernel[48];             // uname -r of the recording machine, NUL-padded
};
static_assert(sizeof(RecordingHeader) == 96);

// A header for a recording of the function at `at` starting now.
RecordingHeader make_recording_header(const PciAddress& at, uint32_t abi_version,
                                      uint32_t buffer_kb);
// When it started, for people: "2026-12-04 05:18:28 UTC".
std::string recording_start_text(const RecordingHeader& header);
// The recording kernel's release ("6.1.0-57-amd64"), without the padding.
std::string recording_kernel(const RecordingHeader& header);

// One record: where it is in the recording and a view of its bytes.
struct Record {
    size_t index = 0;         // 0 is the first record after the header
    uint64_t file_offset = 0; // of its first byte
    uint16_t type = 0;        // enum pciem_rec_type
    uint16_t flags = 0;
    uint32_t len = 0;
    uint64_t ns = 0;                  // CLOCK_MONOTONIC
    std::span<const std::byte> bytes; // all len bytes, struct pciem_rec included

    // The record as its structure (struct pciem_rec_access, ...). Loading
    // checked that the record holds at least a T for its type.
    template <class T>
    [[nodiscard]] T as() const {
        T v{};
        std::memcpy(&v, bytes.data(), std::min(sizeof(T), bytes.size()));
        return v;
    }
    // PCIEM_REC_DMA: the bytes the transfer moved (data_len of them).
    [[nodiscard]] std::span<const std::byte> dma_data() const;
};

// A parsed PCIEM_REC_CREATE: the function as it was created.
struct CreateRecord {
    pciem_create create{};
    std::vector<pciem_cap> caps;
    std::vector<std::vector<uint8_t>> bodies; // one per cap, empty if none

    // The same function as a DeviceSpec (placed at the recorded devfn only
    // when the recording's creator placed it, PCIEM_CREATE_F_DEVFN).
    [[nodiscard]] DeviceSpec spec() const;
};

class Recording {
public:
    // Checks the header and each record (framing, the minimum size of its
    // type, a CREATE record's capabilities); errors name the record and
    // its byte offset. `origin` (a file name) prefixes messages.
    static Result<Recording> parse(std::vector<std::byte> bytes, const std::string& origin = "");
    static Result<Recording> load(const std::string& path);

    // Records are views into the bytes: movable, not copyable.
    Recording(const Recording&) = delete;
    Recording& operator=(const Recording&) = delete;
    Recording(Recording&&) noexcept = default;
    Recording& operator=(Recording&&) noexcept = default;
    ~Recording() = default;

    [[nodiscard]] const RecordingHeader& header() const { return header_; }
    [[nodiscard]] const std::vector<Record>& records() const { return records_; }
    [[nodiscard]] const std::vector<std::byte>& bytes() const { return bytes_; }
    [[nodiscard]] PciAddress address() const {
        return PciAddress{header_.domain, header_.bus, header_.devfn};
    }
    // Time zero for relative timestamps: the first record's, else the start.
    [[nodiscard]] uint64_t start_ns() const;
    // The first PCIEM_REC_CREATE (a recording always starts with one).
    [[nodiscard]] Result<CreateRecord> create() const;

private:
    Recording() = default;
    RecordingHeader header_{};
    std::vector<std::byte> bytes_;
    std::vector<Record> records_;
};

// Parses a PCIEM_REC_CREATE record (Recording::parse() checked its size).
Result<CreateRecord> parse_create_record(const Record& r);

// "mmio-read", "dma", ... ("type-N" for types this build does not know).
std::string record_type_name(uint16_t type);
// One record in words, without index or time:
//   "mmio-read BAR0+0x8/4 = 0x40 (model)", "irq vector 0", "dma-read 0x1000+64: 01 00 ..."
std::string describe_record(const Record& r);
// What `pciemctl dump` prints per record: "#12 +0.001234567 " + describe_record(r).
std::string format_record_line(const Record& r, uint64_t start_ns);

// Builds recordings in memory: tests, and tools that write one. Records are
// added as the kernel lays them out (lengths padded to 8 bytes).
class RecordingBuilder {
public:
    explicit RecordingBuilder(const RecordingHeader& header);
    RecordingBuilder& create(const AbiRequest& request, uint64_t ns = 0);
    // type: PCIEM_REC_CFG_READ/WRITE, PCIEM_REC_MMIO_READ/WRITE.
    RecordingBuilder& access(uint16_t type, uint16_t flags, unsigned bar, uint64_t offset,
                             unsigned size, uint64_t value, uint64_t ns = 0);
    RecordingBuilder& irq(uint32_t vector, int32_t result = 0, uint64_t ns = 0);
    RecordingBuilder& intx(bool level, uint64_t ns = 0);
    // A DMA transfer (PCIEM_DMA_READ/WRITE) with the bytes it moved.
    RecordingBuilder& dma(uint32_t op, uint64_t addr, std::span<const std::byte> data,
                          uint32_t fault = 0, uint64_t ns = 0);
    RecordingBuilder& state(uint32_t state, uint64_t ns = 0);
    RecordingBuilder& lost(uint64_t count, uint64_t ns = 0);
    RecordingBuilder& fault(uint32_t fault, uint32_t id, uint64_t detail, uint64_t ns = 0);
    // Any record as raw bytes (struct pciem_rec first; len is set here).
    RecordingBuilder& raw(std::span<const std::byte> record);

    [[nodiscard]] const std::vector<std::byte>& bytes() const { return bytes_; }

private:
    void append(const void* data, size_t len);
    std::vector<std::byte> bytes_;
};

} // namespace pciem
