// SPDX-License-Identifier: MIT
// The interrupt rules (kernel/rules/pciem_irq_rules.c), which pciem.ko,
// the SimHost and the vfio-user host all run: MSI / MSI-X enable, the
// table and PBA as a driver reads and writes them, masking, pending bits,
// INTx and Interrupt Disable, each on its own.
#include "pciem_irq_rules.h"

#include <linux/pci_regs.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace {

// A function with MSI-X (table in BAR 2 at 0x1000, PBA in BAR 4 at 0x800),
// MSI (64-bit, maskable, 8 vectors capable) and an interrupt pin.
struct Fn {
    pciem_cfg cfg{};
    pciem_irq_rules r{};
    std::vector<uint8_t> table;
    std::vector<uint64_t> pba;
    std::vector<uint32_t> fired;
    pciem_irq_rules_events ev{};

    explicit Fn(uint8_t pin = 1) {
        pciem_create req{};
        req.size = sizeof(req);
        req.abi_version = PCIEM_ABI_VERSION;
        req.vendor_id = 0x1af4;
        req.device_id = 0x1001;
        req.class_code = 0xff0000;
        req.interrupt_pin = pin;
        req.bars[2] = {0x4000, 0, 0};
        req.bars[4] = {0x1000, 0, 0};
        std::vector<pciem_cap> caps(2);
        for (auto& c : caps) {
            c.size = sizeof(c);
        }
        caps[0].type = PCIEM_CAP_MSI;
        caps[0].msi.flags = PCIEM_MSI_64BIT | PCIEM_MSI_MASKABLE;
        caps[0].msi.vectors = 8;
        caps[1].type = PCIEM_CAP_MSIX;
        caps[1].msix = {70, 2, 0x1000, 4, 0x800};
        std::vector<pciem_cfg_cap_in> in{{&caps[0], nullptr}, {&caps[1], nullptr}};
        pciem_cfg_limits limits{1ull << 30, 64u << 20};
        pciem_error err{};
        if (pciem_cfg_build(&cfg, &req, in.data(), 2, &limits, &err) != 0) {
            ADD_FAILURE() << "config space: " << pciem_err_str(err.code);
        }
        pciem_irq_rules_shape(&r, &cfg);
        table.assign(pciem_irq_rules_table_bytes(&r), 0xa5);
        pba.assign(pciem_irq_rules_pba_words(&r), ~uint64_t{0});
        r.msix_table = table.data();
        r.msix_pba = pba.data();
        r.ctx = this;
        r.fire = [](void* ctx, uint32_t v) { static_cast<Fn*>(ctx)->fired.push_back(v); };
        pciem_irq_rules_reset(&r);
    }

    // Software writes config space, then the rules look at it.
    void cfg_write(unsigned off, unsigned size, uint32_t v) {
        pciem_cfg_write(&cfg, off, size, v);
        ev = {};
        pciem_irq_rules_cfg_written(&r, &cfg, off, size, &ev);
    }
    uint32_t cfg_read(unsigned off, unsigned size) {
        uint32_t v = pciem_cfg_read(&cfg, off, size);
        pciem_irq_rules_cfg_read(&r, &cfg, off, size, &v);
        return v;
    }
    void msix_ctl(uint16_t v) { cfg_write(cfg.layout.msix + PCI_MSIX_FLAGS, 2, v); }
    bool bar(unsigned b, uint64_t off, unsigned size, bool write, uint64_t& v) {
        ev = {};
        return pciem_irq_rules_msix_access(&r, b, off, size, write, &v, &ev);
    }
    uint64_t table_read(uint64_t off, unsigned size) {
        uint64_t v = 0;
        EXPECT_TRUE(bar(2, 0x1000 + off, size, false, v));
        return v;
    }
    void table_write(uint64_t off, unsigned size, uint64_t v) {
        EXPECT_TRUE(bar(2, 0x1000 + off, size, true, v));
    }
    uint64_t pba_read(uint64_t off, unsigned size) {
        uint64_t v = 0;
        EXPECT_TRUE(bar(4, 0x800 + off, size, false, v));
        return v;
    }
    void unmask(unsigned entry) { table_write(entry * 16 + 12, 4, 0); }
    // MSI: 64-bit and maskable, so Message Data, Mask and Pending follow.
    void msi_ctl(uint16_t v) { cfg_write(cfg.layout.msi + PCI_MSI_FLAGS, 2, v); }
    void msi_mask(uint32_t m) { cfg_write(cfg.layout.msi_data + 4, 4, m); }
};

} // namespace

TEST(IrqRules, ShapeComesFromTheCapabilities) {
    Fn f;
    EXPECT_EQ(f.r.msix_n, 70u);
    EXPECT_EQ(f.r.table_bar, 2);
    EXPECT_EQ(f.r.table_off, 0x1000u);
    EXPECT_EQ(f.r.pba_bar, 4);
    EXPECT_EQ(f.r.pba_off, 0x800u);
    EXPECT_EQ(f.r.msi_max, 8u);
    EXPECT_TRUE(f.r.msi_maskable);
    EXPECT_TRUE(f.r.intx_pin);
    EXPECT_EQ(pciem_irq_rules_table_bytes(&f.r), 70u * 16);
    EXPECT_EQ(pciem_irq_rules_pba_words(&f.r), 2u) << "70 bits take two words";
}

TEST(IrqRules, ResetMasksEveryEntryAndClearsTheRest) {
    Fn f;
    for (unsigned i = 0; i < 70; ++i) {
        EXPECT_EQ(f.table_read(i * 16, 8), 0u) << "address of entry " << i;
        EXPECT_EQ(f.table_read(i * 16 + 8, 8), uint64_t{PCI_MSIX_ENTRY_CTRL_MASKBIT} << 32)
            << "data 0, masked: entry " << i;
    }
    EXPECT_EQ(f.pba_read(0, 8), 0u);
    EXPECT_EQ(f.pba_read(8, 8), 0u);
}

TEST(IrqRules, NothingEnabledCannotSignal) {
    Fn f;
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 0), PCIEM_IRQ_DISABLED);
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    f.msix_ctl(0);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 0), PCIEM_IRQ_DISABLED) << "disabled again";
    EXPECT_TRUE(f.fired.empty());
}

TEST(IrqRules, MsixMaskedEntryPendsAndFiresOnceWhenUnmasked) {
    Fn f;
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    ASSERT_EQ(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].event, uint32_t{PCIEM_IRQ_EV_MSIX});
    EXPECT_EQ(f.ev.ev[0].data, 1u) << "enabled, no function mask";
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 66), PCIEM_IRQ_PENDING) << "entries start masked";
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 66), PCIEM_IRQ_PENDING) << "a second raise merges";
    EXPECT_TRUE(f.fired.empty());
    EXPECT_TRUE(pciem_irq_rules_msix_pending(&f.r, 66));
    EXPECT_EQ(f.pba_read(8, 8), uint64_t{1} << 2) << "bit 66 is bit 2 of the second word";
    EXPECT_EQ(f.pba_read(8, 1), 4u) << "byte reads of the PBA";
    f.unmask(66);
    EXPECT_EQ(f.fired, std::vector<uint32_t>{66}) << "one delivery for the pending bit";
    ASSERT_EQ(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].event, uint32_t{PCIEM_IRQ_EV_MSIX_ENTRY});
    EXPECT_EQ(f.ev.ev[0].index, 66u);
    EXPECT_TRUE(f.ev.msix_mask_flip);
    EXPECT_FALSE(pciem_irq_rules_msix_pending(&f.r, 66));
    EXPECT_EQ(f.pba_read(8, 8), 0u);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 66), PCIEM_IRQ_SENT);
    EXPECT_EQ(f.fired, (std::vector<uint32_t>{66, 66}));
}

TEST(IrqRules, MsixVectorPastTheTableIsRefused) {
    Fn f;
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 70), PCIEM_IRQ_NO_VECTOR);
    EXPECT_FALSE(pciem_irq_rules_msix_pending(&f.r, 70));
}

TEST(IrqRules, FunctionMaskHoldsEveryVectorUntilCleared) {
    Fn f;
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    f.unmask(1);
    f.unmask(3);
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    EXPECT_EQ(f.ev.ev[0].data, 3u) << "enabled and function-masked";
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 3), PCIEM_IRQ_PENDING);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 1), PCIEM_IRQ_PENDING);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 2), PCIEM_IRQ_PENDING);
    f.unmask(2); // entry unmasked, function still masked: nothing
    EXPECT_TRUE(f.fired.empty());
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    EXPECT_EQ(f.fired, (std::vector<uint32_t>{1, 2, 3})) << "in vector order, each once";
}

TEST(IrqRules, EnablingMsixClearsWhatWasPending) {
    Fn f;
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 5), PCIEM_IRQ_PENDING);
    f.msix_ctl(0);
    EXPECT_TRUE(pciem_irq_rules_msix_pending(&f.r, 5)) << "disabling keeps it";
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    EXPECT_FALSE(pciem_irq_rules_msix_pending(&f.r, 5)) << "enabling resets it";
    f.unmask(5);
    EXPECT_TRUE(f.fired.empty());
}

TEST(IrqRules, OnlyTheMaskBitOfVectorControlIsWritable) {
    Fn f;
    f.table_write(4 * 16 + 12, 4, 0xfffffffe);
    EXPECT_TRUE(f.ev.msix_mask_flip);
    EXPECT_EQ(f.table_read(4 * 16 + 12, 4), 0u) << "reserved bits stay 0, mask cleared";
    f.table_write(4 * 16 + 12, 4, 0xffffffff);
    EXPECT_EQ(f.table_read(4 * 16 + 12, 4), 1u);
    f.table_write(4 * 16 + 13, 1, 0xff);
    EXPECT_EQ(f.ev.n, 0u) << "a write that changed nothing tells the model nothing";
}

TEST(IrqRules, AnEntryWrittenInPiecesIsReportedWhole) {
    Fn f;
    f.table_write(9 * 16, 8, 0x00000000fee01000);
    ASSERT_EQ(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].index, 9u);
    EXPECT_FALSE(f.ev.msix_mask_flip);
    f.table_write(9 * 16 + 9, 1, 0x12); // second byte of Message Data
    ASSERT_EQ(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].data, uint64_t{0x1200} << 32 | 1) << "data and the Mask bit";
    EXPECT_EQ(f.table_read(9 * 16, 8), 0x00000000fee01000u);
}

TEST(IrqRules, PbaIgnoresWrites) {
    Fn f;
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    (void)pciem_irq_rules_raise(&f.r, 0);
    uint64_t v = 0;
    EXPECT_TRUE(f.bar(4, 0x800, 8, true, v)) << "served, as the PBA";
    EXPECT_EQ(f.pba_read(0, 8), 1u);
    v = ~uint64_t{0};
    EXPECT_TRUE(f.bar(4, 0x808, 8, true, v));
    EXPECT_EQ(f.pba_read(8, 8), 0u);
}

TEST(IrqRules, OnlyAccessesWhollyInsideTheTableOrPbaAreServed) {
    Fn f;
    uint64_t v = 0;
    EXPECT_FALSE(f.bar(2, 0xff8, 8, false, v)) << "before the table";
    EXPECT_FALSE(f.bar(2, 0x1000 + 70 * 16 - 4, 8, false, v)) << "straddling its end";
    EXPECT_TRUE(f.bar(2, 0x1000 + 70 * 16 - 8, 8, false, v)) << "its last 8 bytes";
    EXPECT_FALSE(f.bar(4, 0x1000, 8, false, v)) << "table offset, PBA BAR";
    EXPECT_FALSE(f.bar(4, 0x800 + 16, 1, false, v)) << "past the PBA's two words";
    EXPECT_FALSE(f.bar(2, ~uint64_t{0} - 3, 8, false, v)) << "no wrap at the top";
    EXPECT_FALSE(f.bar(0, 0x1000, 4, false, v)) << "another BAR";
}

TEST(IrqRules, MsiVectorsFollowMultipleMessageEnableUpToCapable) {
    Fn f;
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE | (2 << 4)); // 4 vectors
    EXPECT_EQ(f.r.msi_nvec, 4u);
    ASSERT_GE(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].event, uint32_t{PCIEM_IRQ_EV_MSI});
    EXPECT_EQ(f.ev.ev[0].data, (4u << 8) | 1u);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 3), PCIEM_IRQ_SENT);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 4), PCIEM_IRQ_NO_VECTOR);
    EXPECT_EQ(f.fired, std::vector<uint32_t>{3});
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE | (5 << 4)); // 32 asked of an 8-vector function
    EXPECT_LE(f.r.msi_nvec, 8u) << "never more than the function is capable of";
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 8), PCIEM_IRQ_NO_VECTOR);
}

TEST(IrqRules, MsiMaskedVectorPendsAndShowsInPendingBits) {
    Fn f;
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE | (3 << 4));
    f.msi_mask(0x22);
    EXPECT_EQ(f.ev.msi_mask_flips, 0x22u);
    ASSERT_EQ(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].event, uint32_t{PCIEM_IRQ_EV_MSI_MASK});
    EXPECT_EQ(f.ev.ev[0].data, 0x22u);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 5), PCIEM_IRQ_PENDING);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 0), PCIEM_IRQ_SENT);
    const unsigned pending = f.cfg.layout.msi_data + 8;
    EXPECT_EQ(f.cfg_read(pending, 4), 0x20u);
    EXPECT_EQ(f.cfg_read(pending, 1), 0x20u);
    EXPECT_EQ(f.cfg_read(pending + 1, 1), 0u);
    f.msi_mask(0x02);
    EXPECT_EQ(f.ev.msi_mask_flips, 0x20u);
    EXPECT_EQ(f.fired, (std::vector<uint32_t>{0, 5}));
    EXPECT_EQ(f.cfg_read(pending, 4), 0u);
}

TEST(IrqRules, EnablingMsiClearsPendingBits) {
    Fn f;
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE);
    f.msi_mask(1);
    (void)pciem_irq_rules_raise(&f.r, 0);
    f.msi_ctl(0);
    EXPECT_EQ(f.r.msi_pending, 1u);
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE);
    EXPECT_EQ(f.r.msi_pending, 0u);
}

TEST(IrqRules, MsixTakesPrecedenceOverMsi) {
    Fn f;
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE);
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 7), PCIEM_IRQ_PENDING) << "an MSI-X entry, masked";
}

// Found by tests/fuzz/irq_rules_fuzz.c: an MSI vector pending from before
// MSI-X was enabled fired when the MSI mask was cleared, while MSI-X (which
// raise() prefers) was on and its entry masked.
TEST(IrqRules, PendingMsiStaysPendingWhileMsixIsEnabled) {
    Fn f;
    f.msi_ctl(PCI_MSI_FLAGS_ENABLE);
    f.msi_mask(1);
    EXPECT_EQ(pciem_irq_rules_raise(&f.r, 0), PCIEM_IRQ_PENDING);
    f.msix_ctl(PCI_MSIX_FLAGS_ENABLE);
    f.msi_mask(0);
    EXPECT_TRUE(f.fired.empty()) << "fired MSI vector " << f.fired.front();
    f.msix_ctl(0);
    EXPECT_EQ(f.fired, (std::vector<uint32_t>{0})) << "MSI alone again: the pending vector goes";
}

TEST(IrqRules, IntxLevelShowsInStatusAndInterruptDisableGatesIt) {
    Fn f;
    EXPECT_TRUE(pciem_irq_rules_set_intx(&f.r, true));
    EXPECT_TRUE(pciem_irq_rules_intx_on(&f.r));
    EXPECT_EQ(f.cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, unsigned{PCI_STATUS_INTERRUPT});
    EXPECT_EQ(f.cfg_read(PCI_COMMAND, 4) >> 16 & PCI_STATUS_INTERRUPT,
              unsigned{PCI_STATUS_INTERRUPT})
        << "in a dword read too";
    f.cfg_write(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    ASSERT_EQ(f.ev.n, 1u);
    EXPECT_EQ(f.ev.ev[0].event, uint32_t{PCIEM_IRQ_EV_INTX_DISABLE});
    EXPECT_EQ(f.ev.ev[0].data, 1u);
    EXPECT_FALSE(pciem_irq_rules_intx_on(&f.r));
    EXPECT_EQ(f.cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, unsigned{PCI_STATUS_INTERRUPT})
        << "the status shows the line, disabled or not";
    f.cfg_write(PCI_COMMAND, 2, 0);
    EXPECT_TRUE(pciem_irq_rules_intx_on(&f.r));
    EXPECT_TRUE(pciem_irq_rules_set_intx(&f.r, false));
    EXPECT_EQ(f.cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0u);
}

TEST(IrqRules, NoPinNoIntx) {
    Fn f(0);
    EXPECT_FALSE(pciem_irq_rules_set_intx(&f.r, true));
    EXPECT_FALSE(pciem_irq_rules_intx_on(&f.r));
}
