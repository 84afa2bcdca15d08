// SPDX-License-Identifier: MIT
//
// The register chapter of the test device. Every register is exactly as
// testdev_regs.h describes it; the comments give the reason a register
// exists (what emulation bug it catches).
#include "testdev.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <unistd.h>

#include <testdev_regs.h>

namespace pciem::devices {

TestDev::TestDev() {
    RegisterMap& regs = declare_bar(0, "testdev BAR0", TESTDEV_BAR0_SIZE);
    declare_identity(regs);
    declare_latches(regs);
    declare_fifo(regs);
    declare_timing(regs);
    declare_shadowed(regs);
    declare_ram(regs);
    declare_irq(regs);
    declare_dma(regs);
    // memcpy_toio/memcpy_fromio/memset_io land here with string
    // instructions of every width.
    regs.memory(TESTDEV_MEM, TESTDEV_MEM_SIZE, "MEM");
    // Counts writes of any width to any offset, so a test can see that
    // none was lost, duplicated or split by the trap.
    regs.observe_writes([this](uint64_t, unsigned, uint64_t value) {
        ++write_count_;
        last_write_ = static_cast<uint32_t>(value);
    });
}

TestDev::~TestDev() {
    stop_storm();
}

void TestDev::on_stop() {
    stop_storm();
}

DeviceSpec TestDev::spec() const {
    // A PCIe endpoint with PM, like real hardware, so the PCI core
    // treats it as it would a plug-in card. BAR4 has no registers: the
    // host serves the MSI-X table and PBA in it.
    return DeviceSpec{}
        .ids(TESTDEV_VENDOR_ID, TESTDEV_DEVICE_ID)
        .class_code(TESTDEV_CLASS)
        .interrupt_pin(InterruptPin::a)
        .bar(0, Bar::mem64(TESTDEV_BAR0_SIZE))
        .bar(2, Bar::mem64(TESTDEV_BAR2_SIZE).prefetchable().ram())
        .bar(4, Bar::mem64(TESTDEV_BAR4_SIZE))
        .pm()
        .msi(TESTDEV_MSI_VECTORS, /*is64=*/true, /*maskable=*/true)
        .msix(TESTDEV_MSIX_VECTORS, 4, 0, 4, TESTDEV_MSIX_PBA)
        .pcie(PCIEM_PCIE_ENDPOINT);
}

void TestDev::declare_identity(RegisterMap& regs) {
    regs.reg32(TESTDEV_ID, "ID").ro(TESTDEV_ID_VALUE);
    regs.reg32(TESTDEV_VERSION, "VERSION").ro(1);
    // Narrow accesses must hit the right bytes of these.
    regs.reg32(TESTDEV_SCRATCH, "SCRATCH").rw();
    regs.reg64(TESTDEV_SCRATCH64, "SCRATCH64").rw();
    regs.reg32(TESTDEV_WRITE_COUNT, "WRITE_COUNT").ro([this] { return write_count_; });
    regs.reg32(TESTDEV_LAST_WRITE, "LAST_WRITE").ro([this] { return last_write_; });
}

void TestDev::declare_latches(RegisterMap& regs) {
    // Moves on every read: a read that reaches the model twice, or a
    // cached one, shows up as a skipped or repeated value.
    regs.reg32(TESTDEV_COUNTER, "COUNTER").ro().on_read([this](uint64_t) {
        return uint64_t{counter_++};
    });
    rc_ = &regs.reg32(TESTDEV_RC, "RC").rc();
    regs.reg32(TESTDEV_RC_SET, "RC_SET").wo().on_write([this](uint64_t, uint64_t bits) {
        rc_->set_bits(bits);
    });
    status_ = &regs.reg32(TESTDEV_STATUS, "STATUS").w1c();
    regs.reg32(TESTDEV_STATUS_SET, "STATUS_SET").wo().on_write([this](uint64_t, uint64_t bits) {
        status_->set_bits(bits);
    });
}

std::optional<uint64_t> TestDev::pop_fifo() {
    if (fifo_.empty()) {
        status_->set_bits(TESTDEV_STATUS_UNDERFLOW);
        return 0;
    }
    const uint32_t v = fifo_.front();
    fifo_.pop_front();
    return v;
}

void TestDev::declare_fifo(RegisterMap& regs) {
    // Order-sensitive in both directions: reordered or replayed accesses
    // come out in the wrong order.
    regs.reg32(TESTDEV_FIFO, "FIFO")
        .rw()
        .on_read([this](uint64_t) { return pop_fifo(); })
        .on_write(
            [this](uint64_t, uint64_t value) { fifo_.push_back(static_cast<uint32_t>(value)); });
    regs.reg32(TESTDEV_FIFO_COUNT, "FIFO_COUNT").ro([this] { return fifo_.size(); });
}

void TestDev::declare_timing(RegisterMap& regs) {
    delay_us_ = &regs.reg32(TESTDEV_DELAY_US, "DELAY_US").rw();
    // Answers late: exercises the kernel's spin-then-sleep wait and, past
    // the read timeout, its all-ones completion.
    regs.reg32(TESTDEV_SLOW, "SLOW").ro(TESTDEV_SLOW_VALUE).on_read([this](uint64_t v) {
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us_->value()));
        return std::optional<uint64_t>{v};
    });
    // Never answers: the kernel must time the read out, not hang.
    regs.reg32(TESTDEV_HANG, "HANG").ro().on_read([](uint64_t) {
        return std::optional<uint64_t>{};
    });
}

void TestDev::declare_shadowed(RegisterMap& regs) {
    for (unsigned i = 0; i < 8; ++i) {
        regs.reg32(TESTDEV_SHADOWED + 4 * i, "SHADOWED" + std::to_string(i))
            .ro(TESTDEV_SHADOW_VALUE(i));
    }
    // Constants with no read side effects: the kernel answers these from
    // its shadow without a round trip to us.
    declare_shadow(0, TESTDEV_SHADOWED, 8 * 4);
}

uint64_t TestDev::peek_offset() const {
    // A dword inside BAR2: the offset is taken modulo the BAR, aligned down.
    return (peek_off_->value() % TESTDEV_BAR2_SIZE) & ~uint64_t{3};
}

void TestDev::declare_ram(RegisterMap& regs) {
    // The model's view of BAR2 (its own mapping), so the driver can check
    // both sides see the same bytes, in both directions.
    peek_off_ = &regs.reg32(TESTDEV_RAM_PEEK_OFF, "RAM_PEEK_OFF").rw();
    regs.reg32(TESTDEV_RAM_PEEK, "RAM_PEEK").ro([this] {
        const auto ram = this->ram(2);
        if (ram.empty()) {
            return uint64_t{0};
        }
        uint32_t v = 0;
        std::memcpy(&v, ram.data() + peek_offset(), sizeof(v));
        return uint64_t{v};
    });
    regs.reg32(TESTDEV_RAM_POKE, "RAM_POKE").wo().on_write([this](uint64_t, uint64_t value) {
        const auto ram = this->ram(2);
        if (!ram.empty()) {
            const auto v = static_cast<uint32_t>(value);
            std::memcpy(ram.data() + peek_offset(), &v, sizeof(v));
        }
    });
}

void TestDev::raise(uint32_t vector) {
    if (via_irqfd_->value() == 1) {
        auto fd = irq().eventfd(vector);
        const uint64_t one = 1;
        if (!fd) {
            raise_err_.store(static_cast<uint32_t>(fd.error().errnum));
        } else if (::write(*fd, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
            raise_err_.store(static_cast<uint32_t>(errno));
        }
        return;
    }
    if (auto ok = irq().raise(vector); !ok) {
        raise_err_.store(static_cast<uint32_t>(ok.error().errnum));
    }
}

void TestDev::declare_irq(RegisterMap& regs) {
    regs.reg32(TESTDEV_IRQ_RAISE, "IRQ_RAISE").wo().on_write([this](uint64_t, uint64_t v) {
        raise(static_cast<uint32_t>(v));
    });
    // Level-triggered: the line stays where the driver last put it.
    regs.reg32(TESTDEV_IRQ_INTX, "IRQ_INTX").rw().on_write([this](uint64_t, uint64_t v) {
        if (auto ok = irq().set_intx((v & 1) != 0); !ok) {
            raise_err_.store(static_cast<uint32_t>(ok.error().errnum));
        }
    });
    storm_count_ = &regs.reg32(TESTDEV_IRQ_STORM_COUNT, "IRQ_STORM_COUNT").rw();
    storm_nvec_ = &regs.reg32(TESTDEV_IRQ_STORM_NVEC, "IRQ_STORM_NVEC").rw();
    regs.reg32(TESTDEV_IRQ_STORM_GO, "IRQ_STORM_GO").wo().on_write([this](uint64_t, uint64_t) {
        start_storm();
    });
    regs.reg32(TESTDEV_IRQ_STORM_DONE, "IRQ_STORM_DONE").ro([this] {
        return uint64_t{storm_done_.load(std::memory_order_acquire)};
    });
    via_irqfd_ = &regs.reg32(TESTDEV_IRQ_VIA_IRQFD, "IRQ_VIA_IRQFD").rw();
    regs.reg32(TESTDEV_IRQ_RAISE_ERR, "IRQ_RAISE_ERR").ro().on_read([this](uint64_t) {
        return std::optional<uint64_t>{raise_err_.exchange(0)};
    });
    regs.reg32(TESTDEV_IRQCFG_EVENTS, "IRQCFG_EVENTS").ro().on_read([this](uint64_t) {
        return std::optional<uint64_t>{irqcfg_events_};
    });
    regs.reg32(TESTDEV_IRQCFG_MODE, "IRQCFG_MODE").ro().on_read([this](uint64_t) {
        return std::optional<uint64_t>{irqcfg_mode_};
    });
    regs.reg32(TESTDEV_IRQCFG_UNMASKED, "IRQCFG_UNMASKED").ro().on_read([this](uint64_t) {
        uint64_t n = 0;
        if ((irqcfg_mode_ & TESTDEV_IRQCFG_M_MSIX) != 0) {
            n = static_cast<uint64_t>(std::count(msix_masked_.begin(), msix_masked_.end(), false));
        } else if ((irqcfg_mode_ & TESTDEV_IRQCFG_M_MSI) != 0) {
            const unsigned nvec = (irqcfg_mode_ >> TESTDEV_IRQCFG_M_NVEC_SHIFT) & 0xff;
            for (unsigned v = 0; v < nvec; ++v) {
                n += (msi_mask_ >> v & 1) == 0 ? 1 : 0;
            }
        }
        return std::optional<uint64_t>{n};
    });
}

void TestDev::on_irq_config(const IrqConfigEvent& event) {
    using Kind = IrqConfigEvent::Kind;
    auto set = [this](uint32_t bit, bool on) {
        irqcfg_mode_ = on ? (irqcfg_mode_ | bit) : (irqcfg_mode_ & ~bit);
    };
    ++irqcfg_events_;
    switch (event.kind) {
    case Kind::msi:
        set(TESTDEV_IRQCFG_M_MSI, event.enabled);
        irqcfg_mode_ = (irqcfg_mode_ & ~(0xffu << TESTDEV_IRQCFG_M_NVEC_SHIFT)) |
                       (event.vectors & 0xff) << TESTDEV_IRQCFG_M_NVEC_SHIFT;
        break;
    case Kind::msi_mask:
        msi_mask_ = event.mask_bits;
        break;
    case Kind::msix:
        set(TESTDEV_IRQCFG_M_MSIX, event.enabled);
        set(TESTDEV_IRQCFG_M_FMASK, event.masked);
        break;
    case Kind::msix_entry:
        if (event.vector < msix_masked_.size()) {
            msix_masked_[event.vector] = event.masked;
        }
        break;
    case Kind::intx_disable:
        set(TESTDEV_IRQCFG_M_INTX_DIS, event.masked);
        break;
    case Kind::unknown:
        break;
    }
}

void TestDev::start_storm() {
    if (storm_running_.load()) {
        return; // a GO while a storm runs is ignored
    }
    if (storm_.joinable()) {
        storm_.join(); // the previous storm, finished
    }
    const auto count = static_cast<uint32_t>(storm_count_->value());
    // NVEC 0 would name no vector at all: take it as 1.
    const uint32_t nvec = std::max<uint32_t>(1, static_cast<uint32_t>(storm_nvec_->value()));
    storm_done_.store(0, std::memory_order_release);
    storm_cancel_.store(false);
    storm_running_.store(true);
    // Inherits the CPU affinity of the thread that serves requests
    // (pciem-testdev --cpu pins the whole process).
    storm_ = std::thread([this, count, nvec] {
        std::vector<int> fds(nvec, -1);
        const uint64_t one = 1;
        for (uint32_t i = 0; i < count && !storm_cancel_.load(std::memory_order_relaxed); ++i) {
            const uint32_t v = i % nvec;
            if (fds[v] < 0) {
                auto fd = irq().eventfd(v);
                if (!fd) {
                    raise_err_.store(static_cast<uint32_t>(fd.error().errnum));
                    break;
                }
                fds[v] = *fd;
            }
            if (::write(fds[v], &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
                raise_err_.store(static_cast<uint32_t>(errno));
                break;
            }
            storm_done_.store(i + 1, std::memory_order_release);
        }
        storm_running_.store(false);
    });
}

void TestDev::stop_storm() {
    storm_cancel_.store(true);
    if (storm_.joinable()) {
        storm_.join();
    }
    storm_running_.store(false);
}

} // namespace pciem::devices
