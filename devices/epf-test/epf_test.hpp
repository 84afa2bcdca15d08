// SPDX-License-Identifier: MIT
//
// A PCI endpoint that looks, to the kernel's pci_endpoint_test host driver
// (drivers/misc/pci_endpoint_test.c) and its pcitest tool, like an endpoint
// controller running the pci-epf-test function
// (drivers/pci/endpoint/functions/pci-epf-test.c): the test register block
// at the start of the test BAR, memory in every other BAR, INTx, MSI and
// MSI-X raised on request, and READ/WRITE/COPY transfers of host memory
// checked with the driver's CRC. The register layout is the one both 6.1
// and 6.12 drivers use; docs/epf-test.md has the whole chapter.
//
// Directions are the endpoint's: READ means the device reads host memory
// at SRC_ADDR (the driver's PCITEST_WRITE ioctl), WRITE means it writes
// DST_ADDR (PCITEST_READ). Every transfer ends with STATUS_IRQ_RAISED and
// the interrupt IRQ_TYPE/IRQ_NUMBER name, whatever went wrong: the driver
// waits for it with no timeout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "pciem/device_model.hpp"

namespace pciem::devices::epf {

// ---- the test register block (offsets in the test BAR) --------------------
inline constexpr uint64_t reg_magic = 0x00;
inline constexpr uint64_t reg_command = 0x04;
inline constexpr uint64_t reg_status = 0x08;
inline constexpr uint64_t reg_src_lo = 0x0c;
inline constexpr uint64_t reg_src_hi = 0x10;
inline constexpr uint64_t reg_dst_lo = 0x14;
inline constexpr uint64_t reg_dst_hi = 0x18;
inline constexpr uint64_t reg_size = 0x1c;
inline constexpr uint64_t reg_checksum = 0x20;
inline constexpr uint64_t reg_irq_type = 0x24;
inline constexpr uint64_t reg_irq_number = 0x28;
inline constexpr uint64_t reg_flags = 0x2c;
inline constexpr uint64_t reg_block_size = 0x30;

// COMMAND: one bit per command. The device clears COMMAND and STATUS when
// it takes a command.
inline constexpr uint32_t cmd_raise_intx = 1u << 0;
inline constexpr uint32_t cmd_raise_msi = 1u << 1;
inline constexpr uint32_t cmd_raise_msix = 1u << 2;
inline constexpr uint32_t cmd_read = 1u << 3;  // device reads SRC_ADDR, checks CHECKSUM
inline constexpr uint32_t cmd_write = 1u << 4; // device writes DST_ADDR, sets CHECKSUM
inline constexpr uint32_t cmd_copy = 1u << 5;  // SRC_ADDR to DST_ADDR

inline constexpr uint32_t status_read_success = 1u << 0;
inline constexpr uint32_t status_read_fail = 1u << 1;
inline constexpr uint32_t status_write_success = 1u << 2;
inline constexpr uint32_t status_write_fail = 1u << 3;
inline constexpr uint32_t status_copy_success = 1u << 4;
inline constexpr uint32_t status_copy_fail = 1u << 5;
inline constexpr uint32_t status_irq_raised = 1u << 6;
inline constexpr uint32_t status_src_addr_invalid = 1u << 7;
inline constexpr uint32_t status_dst_addr_invalid = 1u << 8;

// IRQ_TYPE (both drivers: 0 INTx, 1 MSI, 2 MSI-X). IRQ_NUMBER is 1-based
// for MSI and MSI-X: number n is vector n - 1.
inline constexpr uint32_t irq_type_intx = 0;
inline constexpr uint32_t irq_type_msi = 1;
inline constexpr uint32_t irq_type_msix = 2;

inline constexpr uint32_t flag_use_dma = 1u << 0;

// The MSI-X table and PBA live in the test BAR, after the registers.
inline constexpr uint64_t msix_table_offset = 0x1000;

// ---- identity -------------------------------------------------------------
// The driver binds by ID only to real endpoint controllers. TI DRA74x
// (104c:b500) is in both the 6.1 and 6.12 tables with the default data:
// test registers in BAR0, buffers aligned to 4 KiB, MSI.
inline constexpr uint16_t default_vendor = 0x104c;
inline constexpr uint16_t default_device = 0xb500;
inline constexpr uint32_t class_others = 0xff0000; // PCI_CLASS_OTHERS

// The CRC the driver and pci-epf-test compute: crc32_le(~0, buf, len), the
// reflected CRC-32 (polynomial 0xEDB88320) without the final inversion.
uint32_t crc32_le(uint32_t crc, std::span<const std::byte> data);

struct Config {
    uint16_t vendor = default_vendor;
    uint16_t device = default_device;
    // BAR that holds the registers (and the MSI-X table): 0 for the
    // default-data IDs; 2 for TI AM654 (104c:b00c), for example.
    unsigned test_bar = 0;
    // Size of each BAR (0: absent). The test BAR's size 0 means "as small
    // as the registers and MSI-X table allow". The other defaults are
    // pci-epf-test's own. A BAR of 4 KiB or more is plain memory shared
    // with the driver (a RAM BAR, untrapped); a smaller one is trapped
    // memory the model holds. All are 32-bit BARs: six of them.
    std::array<uint64_t, 6> bar_size{0, 512, 1024, 16384, 131072, 1048576};
    unsigned msi_vectors = 32;    // 1, 2, 4, 8, 16 or 32
    unsigned msix_vectors = 2048; // 0 (no MSI-X) .. 2048
    // Without FLAG_USE_DMA data moves in pieces of this many bytes, as a
    // CPU copy through the endpoint's outbound window would; with it, in
    // one DMA transfer.
    uint32_t pio_chunk = 4096;
    // Larger transfers fail with SRC/DST_ADDR_INVALID, as an endpoint
    // fails to map a window that large.
    uint32_t max_transfer = 64u << 20;
};

// Checks what the config says, in sentences ("--msi 3: ...").
Result<void> validate(const Config& config);
// The size the test BAR gets.
uint64_t test_bar_size(const Config& config);

struct Stats {
    uint64_t commands = 0;
    uint64_t transfers_ok = 0;
    uint64_t transfers_failed = 0;
    uint64_t irqs_raised = 0;
    uint64_t irqs_failed = 0;      // a raise the host refused, or a bad IRQ_NUMBER
    uint64_t commands_ignored = 0; // unknown COMMAND or IRQ_TYPE: no interrupt
};

class EpfTest : public DeviceModel {
public:
    // The config must pass validate().
    explicit EpfTest(const Config& config = {});
    EpfTest(const EpfTest&) = delete;
    EpfTest& operator=(const EpfTest&) = delete;
    EpfTest(EpfTest&&) = delete;
    EpfTest& operator=(EpfTest&&) = delete;
    ~EpfTest() override = default;

    [[nodiscard]] DeviceSpec spec() const override;
    [[nodiscard]] const Stats& stats() const { return stats_; }
    // Where failures are reported (stderr by default).
    void log_to(std::function<void(std::string_view)> sink) { log_ = std::move(sink); }

private:
    void declare_registers(RegisterMap& regs);
    void run(uint32_t command);
    uint32_t device_read();  // cmd_read: the status bits it ends with
    uint32_t device_write(); // cmd_write
    uint32_t device_copy();  // cmd_copy
    // SIZE into buf_'s size; false (logged) past --max-transfer.
    bool take_size(const char* what);
    // buf_ from (to_host: to) host memory at address, honouring
    // FLAG_USE_DMA; false (logged) on a DMA fault.
    bool move(uint64_t address, bool to_host, const char* what);
    // Sets STATUS_IRQ_RAISED with the outcome and signals as asked.
    void complete(uint32_t status, uint32_t irq_type, uint32_t irq_number);
    void raise(uint32_t irq_type, uint32_t irq_number);
    [[nodiscard]] uint64_t src() const;
    [[nodiscard]] uint64_t dst() const;
    void log(std::string_view line) const;

    Config config_;
    Register* command_ = nullptr;
    Register* status_ = nullptr;
    Register* src_lo_ = nullptr;
    Register* src_hi_ = nullptr;
    Register* dst_lo_ = nullptr;
    Register* dst_hi_ = nullptr;
    Register* size_ = nullptr;
    Register* checksum_ = nullptr;
    Register* irq_type_ = nullptr;
    Register* irq_number_ = nullptr;
    Register* flags_ = nullptr;
    std::vector<std::byte> buf_;
    std::mt19937_64 rng_;
    Stats stats_;
    std::function<void(std::string_view)> log_;
};

} // namespace pciem::devices::epf
