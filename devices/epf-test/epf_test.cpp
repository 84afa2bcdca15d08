// SPDX-License-Identifier: MIT
//
// The pci-epf-test function as its host driver sees it. The comments give
// the driver's reason for each behaviour.
#include "epf_test.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace pciem::devices::epf {

namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1) != 0 ? (c >> 1) ^ 0xedb88320u : c >> 1;
        }
        table[i] = c;
    }
    return table;
}

constexpr auto crc_table = make_crc_table();

constexpr uint64_t msix_pba_bytes(unsigned vectors) {
    return (uint64_t{vectors} + 63) / 64 * 8;
}

constexpr bool is_pow2(uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

} // namespace

uint32_t crc32_le(uint32_t crc, std::span<const std::byte> data) {
    for (std::byte b : data) {
        crc = crc_table[(crc ^ std::to_integer<uint32_t>(b)) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

uint64_t test_bar_size(const Config& config) {
    if (config.bar_size[config.test_bar] != 0) {
        return config.bar_size[config.test_bar];
    }
    uint64_t need = reg_block_size;
    if (config.msix_vectors != 0) {
        need =
            msix_table_offset + 16ull * config.msix_vectors + msix_pba_bytes(config.msix_vectors);
    }
    return std::max<uint64_t>(512, std::bit_ceil(need));
}

Result<void> validate(const Config& config) {
    if (config.test_bar > 5) {
        return fail(EINVAL, fmt::format("test BAR {}: there are BARs 0 to 5", config.test_bar));
    }
    if (!is_pow2(config.msi_vectors) || config.msi_vectors > 32) {
        return fail(EINVAL, fmt::format("{} MSI vectors: MSI offers 1, 2, 4, 8, 16 or 32 (the "
                                        "driver needs MSI to probe)",
                                        config.msi_vectors));
    }
    if (config.msix_vectors > 2048) {
        return fail(EINVAL, fmt::format("{} MSI-X vectors: at most 2048 (0 for none)",
                                        config.msix_vectors));
    }
    for (unsigned bar = 0; bar < 6; ++bar) {
        const uint64_t size = bar == config.test_bar ? test_bar_size(config) : config.bar_size[bar];
        if (size != 0 && (!is_pow2(size) || size < 16 || size > (256u << 20))) {
            return fail(EINVAL, fmt::format("BAR{} of {} bytes: a BAR is a power of two from 16 "
                                            "bytes to 256 MiB",
                                            bar, size));
        }
    }
    const uint64_t test_size = test_bar_size(config);
    if (test_size < reg_block_size) {
        return fail(EINVAL, fmt::format("test BAR{} of {} bytes cannot hold the {} bytes of "
                                        "registers",
                                        config.test_bar, test_size, reg_block_size));
    }
    if (config.msix_vectors != 0 &&
        msix_table_offset + 16ull * config.msix_vectors + msix_pba_bytes(config.msix_vectors) >
            test_size) {
        return fail(EINVAL, fmt::format("test BAR{} of {} bytes cannot hold the table of {} MSI-X "
                                        "vectors at {:#x}; leave its size 0 to size it to fit",
                                        config.test_bar, test_size, config.msix_vectors,
                                        msix_table_offset));
    }
    if (config.pio_chunk == 0) {
        return fail(EINVAL, "a PIO chunk of 0 bytes moves nothing");
    }
    return {};
}

EpfTest::EpfTest(const Config& config) : config_(config), rng_(std::random_device{}()) {
    config_.bar_size[config_.test_bar] = test_bar_size(config_);
    declare_registers(
        declare_bar(config_.test_bar, "epf-test registers", config_.bar_size[config_.test_bar]));
    // The driver's BAR test writes a pattern over the whole BAR and reads
    // it back: every other BAR is memory. Small ones are trapped and held
    // here; the others are RAM BARs (no map).
    for (unsigned bar = 0; bar < 6; ++bar) {
        const uint64_t size = config_.bar_size[bar];
        if (bar != config_.test_bar && size != 0 && size < 4096) {
            declare_bar(bar, fmt::format("epf-test BAR{}", bar), size)
                .memory(0, size, fmt::format("BAR{} memory", bar));
        }
    }
    // No register has read side effects: the interrupt handler's read of
    // STATUS is served without a round trip to the model.
    declare_shadow(config_.test_bar, 0, reg_block_size);
}

DeviceSpec EpfTest::spec() const {
    DeviceSpec spec;
    spec.ids(config_.vendor, config_.device)
        .class_code(class_others)
        .interrupt_pin(InterruptPin::a);
    for (unsigned bar = 0; bar < 6; ++bar) {
        const uint64_t size = config_.bar_size[bar];
        if (size == 0) {
            continue;
        }
        // 32-bit BARs, so all six indexes exist (the BAR test runs 0 to 5).
        const bool ram = bar != config_.test_bar && size >= 4096;
        spec.bar(bar, Bar::mem32(size).ram(ram));
    }
    spec.pm().msi(config_.msi_vectors, /*is64=*/true, /*maskable=*/true);
    if (config_.msix_vectors != 0) {
        spec.msix(config_.msix_vectors, config_.test_bar, msix_table_offset, config_.test_bar,
                  msix_table_offset + 16ull * config_.msix_vectors);
    }
    return spec.pcie(PCIEM_PCIE_ENDPOINT);
}

void EpfTest::declare_registers(RegisterMap& regs) {
    // MAGIC is plain memory on the endpoint: the BAR test writes its
    // pattern to the first word of the test BAR and reads it back.
    regs.reg32(reg_magic, "MAGIC").rw();
    // The driver writes COMMAND last, after every parameter.
    command_ = &regs.reg32(reg_command, "COMMAND").rw().on_write([this](uint64_t, uint64_t now) {
        if (now != 0) {
            run(static_cast<uint32_t>(now));
        }
    });
    // RW, not RW1C: the 6.1 driver's handler writes back what it read
    // with STATUS_IRQ_RAISED cleared.
    status_ = &regs.reg32(reg_status, "STATUS").rw();
    src_lo_ = &regs.reg32(reg_src_lo, "LOWER_SRC_ADDR").rw();
    src_hi_ = &regs.reg32(reg_src_hi, "UPPER_SRC_ADDR").rw();
    dst_lo_ = &regs.reg32(reg_dst_lo, "LOWER_DST_ADDR").rw();
    dst_hi_ = &regs.reg32(reg_dst_hi, "UPPER_DST_ADDR").rw();
    size_ = &regs.reg32(reg_size, "SIZE").rw();
    checksum_ = &regs.reg32(reg_checksum, "CHECKSUM").rw();
    irq_type_ = &regs.reg32(reg_irq_type, "IRQ_TYPE").rw();
    irq_number_ = &regs.reg32(reg_irq_number, "IRQ_NUMBER").rw();
    flags_ = &regs.reg32(reg_flags, "FLAGS").rw();
}

uint64_t EpfTest::src() const {
    return src_hi_->value() << 32 | src_lo_->value();
}

uint64_t EpfTest::dst() const {
    return dst_hi_->value() << 32 | dst_lo_->value();
}

void EpfTest::log(std::string_view line) const {
    if (log_) {
        log_(line);
    } else {
        fmt::print(stderr, "pciem-epf-test: {}\n", line);
    }
}

void EpfTest::run(uint32_t command) {
    ++stats_.commands;
    // Taking a command clears it and the previous outcome.
    command_->set(0);
    status_->set(0);
    const auto irq_type = static_cast<uint32_t>(irq_type_->value());
    const auto irq_number = static_cast<uint32_t>(irq_number_->value());
    if (irq_type > irq_type_msix) {
        // pci-epf-test drops such a command: there is no way to signal.
        ++stats_.commands_ignored;
        log(fmt::format("command {:#x} ignored: IRQ_TYPE {} is none of 0 (INTx), 1 (MSI), "
                        "2 (MSI-X)",
                        command, irq_type));
        return;
    }
    switch (command) {
    case cmd_raise_intx:
        complete(0, irq_type_intx, 0);
        break;
    case cmd_raise_msi:
        complete(0, irq_type_msi, irq_number);
        break;
    case cmd_raise_msix:
        complete(0, irq_type_msix, irq_number);
        break;
    case cmd_read:
        complete(device_read(), irq_type, irq_number);
        break;
    case cmd_write:
        complete(device_write(), irq_type, irq_number);
        break;
    case cmd_copy:
        complete(device_copy(), irq_type, irq_number);
        break;
    default:
        ++stats_.commands_ignored;
        log(fmt::format("command {:#x} ignored: not exactly one command bit", command));
        break;
    }
}

bool EpfTest::take_size(const char* what) {
    const auto size = static_cast<uint32_t>(size_->value());
    if (size > config_.max_transfer) {
        log(fmt::format("{} of {} bytes: more than the {} the endpoint maps", what, size,
                        config_.max_transfer));
        return false;
    }
    buf_.resize(size);
    return true;
}

bool EpfTest::move(uint64_t address, bool to_host, const char* what) {
    const std::span<std::byte> data(buf_);
    const bool use_dma = (flags_->value() & flag_use_dma) != 0;
    const size_t step = use_dma ? data.size() : config_.pio_chunk;
    for (size_t off = 0; off < data.size(); off += step) {
        const auto piece = data.subspan(off, std::min(step, data.size() - off));
        auto ok = to_host ? dma().write(address + off, piece) : dma().read(address + off, piece);
        if (!ok) {
            log(fmt::format("{}: {} ({})", what, ok.error().message,
                            dma_fault_name(ok.error().kind)));
            return false;
        }
    }
    return true;
}

uint32_t EpfTest::device_read() {
    if (!take_size("READ") || !move(src(), false, "READ")) {
        return status_src_addr_invalid | status_read_fail;
    }
    // The driver put the CRC of what it offered in CHECKSUM.
    if (crc32_le(~0u, buf_) != static_cast<uint32_t>(checksum_->value())) {
        return status_read_fail;
    }
    return status_read_success;
}

uint32_t EpfTest::device_write() {
    if (!take_size("WRITE")) {
        return status_dst_addr_invalid | status_write_fail;
    }
    // Fresh random bytes each time, so stale memory never passes.
    for (size_t off = 0; off < buf_.size(); off += 8) {
        const uint64_t r = rng_();
        std::memcpy(buf_.data() + off, &r, std::min<size_t>(8, buf_.size() - off));
    }
    checksum_->set(crc32_le(~0u, buf_));
    if (!move(dst(), true, "WRITE")) {
        return status_dst_addr_invalid | status_write_fail;
    }
    return status_write_success;
}

uint32_t EpfTest::device_copy() {
    if (!take_size("COPY") || !move(src(), false, "COPY source")) {
        return status_src_addr_invalid | status_copy_fail;
    }
    if (!move(dst(), true, "COPY destination")) {
        return status_dst_addr_invalid | status_copy_fail;
    }
    return status_copy_success;
}

void EpfTest::complete(uint32_t status, uint32_t irq_type, uint32_t irq_number) {
    if ((status & (status_read_success | status_write_success | status_copy_success)) != 0) {
        ++stats_.transfers_ok;
    } else if (status != 0) {
        ++stats_.transfers_failed;
    }
    // STATUS first: the handler reads it when the interrupt arrives.
    status_->set(status | status_irq_raised);
    raise(irq_type, irq_number);
}

void EpfTest::raise(uint32_t irq_type, uint32_t irq_number) {
    Result<void> ok;
    if (irq_type == irq_type_intx) {
        // An endpoint sends Assert_INTx then Deassert_INTx: a pulse. The
        // 6.12 driver never acknowledges, so a held line would storm.
        ok = irq().set_intx(true);
        if (ok) {
            ok = irq().set_intx(false);
        }
    } else if (irq_number == 0) {
        ok = fail(EINVAL, "IRQ_NUMBER 0: MSI and MSI-X numbers start at 1");
    } else {
        ok = irq().raise(irq_number - 1);
    }
    if (ok) {
        ++stats_.irqs_raised;
        return;
    }
    ++stats_.irqs_failed;
    log(fmt::format("cannot raise {} {}: {}",
                    irq_type == irq_type_intx  ? "INTx"
                    : irq_type == irq_type_msi ? "MSI"
                                               : "MSI-X",
                    irq_number, ok.error().message));
}

} // namespace pciem::devices::epf
