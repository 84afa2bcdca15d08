// SPDX-License-Identifier: MIT
//
// Identify: the controller (CNS 01h), a namespace (00h), the active
// namespace list (02h) and a namespace's identification descriptors
// (03h), the NVM command set's controller limits (06h). Offsets are those of the NVMe 1.4 tables.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "controller.hpp"
#include "le_bytes.hpp"

namespace pciem::nvme {

namespace {

constexpr uint32_t version_1_4 = 0x00010400;
constexpr size_t identify_size = 4096;

// FNV-1a: a stable 64-bit value from the serial number, so a namespace
// keeps its NGUID across runs of the same configuration.
uint64_t fnv1a(std::string_view text, uint64_t seed) {
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (char c : text) {
        h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    }
    return h;
}

void put_nguid(std::span<std::byte> out, size_t offset, std::string_view serial, uint32_t nsid) {
    put_le<uint64_t>(out, offset, fnv1a(serial, nsid));
    put_le<uint64_t>(out, offset + 8, fnv1a(serial, uint64_t{nsid} << 32 | 0x5eed));
}

} // namespace

Completion Controller::identify(SubmissionQueue& sq, const Sqe& cmd) {
    alignas(8) std::array<std::byte, identify_size> data{};
    const uint8_t what = cmd.cdw10 & 0xff;
    switch (what) {
    case cns::ctrl:
        identify_controller(data);
        break;
    case cns::ns:
    case cns::ns_descriptors: {
        Namespace* ns = find_namespace(cmd.nsid);
        if (ns == nullptr) {
            return {status::invalid_namespace};
        }
        if (what == cns::ns) {
            identify_namespace(*ns, data);
        } else {
            namespace_descriptors(*ns, data);
        }
        break;
    }
    case cns::io_command_set_ctrl:
        // NVM: VSL, WZSL, WUSL, DMRL, DMRSL, DMSL all 0, i.e. no limits
        // beyond MDTS. Other command sets are not supported.
        if ((cmd.cdw11 >> 24) != csi_nvm) {
            return {status::invalid_field};
        }
        break;
    case cns::active_ns_list:
        if (cmd.nsid >= 0xfffffffe) {
            return {status::invalid_namespace};
        }
        active_namespaces(cmd.nsid, data);
        break;
    default:
        return {status::invalid_field};
    }
    return copy_to_host(sq, cmd, data);
}

void Controller::identify_controller(std::span<std::byte, 4096> out) const {
    put_le<uint16_t>(out, 0, vendor_id);                           // VID
    put_le<uint16_t>(out, 2, vendor_id);                           // SSVID
    put_ascii(out, 4, 20, options_.serial);                        // SN
    put_ascii(out, 24, 40, options_.model);                        // MN
    put_ascii(out, 64, 8, "1.0");                                  // FR
    put_le<uint8_t>(out, 72, 6);                                   // RAB
    put_le<uint8_t>(out, 77, static_cast<uint8_t>(options_.mdts)); // MDTS
    put_le<uint16_t>(out, 78, 1);                                  // CNTLID
    put_le<uint32_t>(out, 80, version_1_4);                        // VER
    put_le<uint8_t>(out, 111, 1);                                  // CNTRLTYPE: I/O controller
    // OACS: Format NVM, and Doorbell Buffer Config if offered.
    put_le<uint16_t>(out, 256, 1u << 1 | (options_.shadow_doorbells ? 1u << 8 : 0u));
    put_le<uint8_t>(out, 258, max_async_events - 1);   // ACL
    put_le<uint8_t>(out, 259, max_async_events - 1);   // AERL
    put_le<uint8_t>(out, 260, 0x03);                   // FRMW: one slot, slot 1 read-only
    put_le<uint8_t>(out, 261, 0x04);                   // LPA: extended data (NUMDU, offsets)
    put_le<uint8_t>(out, 262, ErrorLog::capacity - 1); // ELPE
    put_le<uint8_t>(out, 263, 0);                      // NPSS: one power state
    put_le<uint16_t>(out, 266, warning_temperature);   // WCTEMP
    put_le<uint16_t>(out, 268, critical_temperature);  // CCTEMP
    put_le<uint8_t>(out, 512, 0x66);                   // SQES: 64 bytes
    put_le<uint8_t>(out, 513, 0x44);                   // CQES: 16 bytes
    put_le<uint32_t>(out, 516, static_cast<uint32_t>(namespaces_.size())); // NN
    put_le<uint16_t>(out, 520, 0x000d); // ONCS: Compare, DSM, Write Zeroes
    put_le<uint8_t>(out, 525, 0x07);    // VWC: present, broadcast Flush supported
    put_le<uint8_t>(out, 530, 1);       // NVSCC
    put_le<uint32_t>(out, 536, 0x1);    // SGLS: SGLs, no alignment needed
    // SUBNQN is NUL-padded (out is zeroed).
    const std::string nqn = "nqn.2024-01.io.pciem:nvme:" + options_.serial;
    std::memcpy(out.data() + 768, nqn.data(), std::min<size_t>(nqn.size(), 255));
    put_le<uint16_t>(out, 2048, 2500); // PSD0 MP: 25 W
}

void Controller::identify_namespace(const Namespace& ns, std::span<std::byte, 4096> out) const {
    put_le<uint64_t>(out, 0, ns.blocks());                // NSZE
    put_le<uint64_t>(out, 8, ns.blocks());                // NCAP
    put_le<uint64_t>(out, 16, ns.blocks());               // NUSE
    put_le<uint8_t>(out, 24, 0);                          // NSFEAT
    put_le<uint8_t>(out, 25, 1);                          // NLBAF: two formats (0's based)
    put_le<uint8_t>(out, 26, ns.lba_shift == 12 ? 1 : 0); // FLBAS: the one in use
    // DLFEAT: deallocated blocks read zeros; Write Zeroes may deallocate.
    put_le<uint8_t>(out, 33, 0x09);
    put_nguid(out, 104, options_.serial, ns.nsid); // NGUID
    put_le<uint32_t>(out, 128, 9u << 16);          // LBAF0: 512 bytes, no metadata
    put_le<uint32_t>(out, 132, 12u << 16);         // LBAF1: 4096 bytes
}

void Controller::active_namespaces(uint32_t after, std::span<std::byte, 4096> out) const {
    size_t at = 0;
    for (const Namespace& ns : namespaces_) {
        if (ns.nsid > after && at + 4 <= out.size()) {
            put_le<uint32_t>(out, at, ns.nsid);
            at += 4;
        }
    }
}

void Controller::namespace_descriptors(const Namespace& ns, std::span<std::byte, 4096> out) const {
    // One descriptor: NIDT 2 (NGUID), NIDL 16, the same NGUID Identify
    // Namespace reports.
    put_le<uint8_t>(out, 0, 2);
    put_le<uint8_t>(out, 1, 16);
    put_nguid(out, 4, options_.serial, ns.nsid);
}

Namespace* Controller::find_namespace(uint32_t nsid) {
    if (nsid == 0 || nsid > namespaces_.size()) {
        return nullptr;
    }
    return &namespaces_[nsid - 1];
}

} // namespace pciem::nvme
