// SPDX-License-Identifier: MIT
//
// Dma::write_then_raise(): a device's completion (its data, the entry
// that says the data is there, the interrupt that announces it) in order,
// stopped by the first refused write.
//  - The default (every host but the kernel's): checked on the SimDma with
//    an Interrupts that looks at host memory when it is raised.
//  - KernelDma's one-system-call form: against a fake device node whose
//    PCIEM_IOC_DMA and PCIEM_IOC_RAISE this binary answers itself (it
//    defines ioctl(), which wins over libc's for libpciem's calls too), so
//    the batching, the 256-transfer split and how refusals and the raise's
//    errno come back are checked without a kernel. The guest suite runs
//    the real thing under the stock nvme driver (97-nvme).
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <linux/pciem.h>

#include "kernel_dma.hpp"
#include "kernel_interrupts.hpp"
#include "pciem/sim_dma.hpp"

namespace {

// ---- the fake module --------------------------------------------------

// What the fake device did, in order: "write ADDR LEN" / "raise V".
struct FakeDevice {
    dev_t dev = 0;
    ino_t ino = 0;
    std::vector<std::string> log;
    int dma_calls = 0;
    int raise_calls = 0;
    uint64_t refuse_at = 0; // a transfer starting here is refused (0: none)
    int raise_errno = 0;    // what a raise answers
};
FakeDevice fake;

bool is_fake_node(int fd) {
    struct stat st {};
    return fake.ino != 0 && ::fstat(fd, &st) == 0 && st.st_dev == fake.dev && st.st_ino == fake.ino;
}

int fake_dma(pciem_dma_req* req) {
    ++fake.dma_calls;
    if (req->count == 0 || req->count > 256 || req->xfer_size != sizeof(pciem_dma_xfer)) {
        errno = EINVAL;
        return -1;
    }
    auto* xs = reinterpret_cast<pciem_dma_xfer*>(req->xfers_ptr);
    for (req->done = 0; req->done < req->count; ++req->done) {
        pciem_dma_xfer& x = xs[req->done];
        if (x.op == PCIEM_DMA_RAISE) {
            fake.log.push_back("raise " + std::to_string(x.operand));
            x.result = static_cast<uint64_t>(-static_cast<int64_t>(fake.raise_errno));
            continue;
        }
        if (x.op != PCIEM_DMA_WRITE) {
            errno = EINVAL;
            return -1;
        }
        if (fake.refuse_at != 0 && x.addr == fake.refuse_at) {
            x.fault = PCIEM_DMA_F_DIRECTION;
            x.fault_addr = x.addr;
            return 0;
        }
        fake.log.push_back("write " + std::to_string(x.addr) + " " + std::to_string(x.len));
    }
    return 0;
}

int fake_ioctl(unsigned long request, void* arg) {
    if (_IOC_TYPE(request) == PCIEM_IOC_MAGIC && _IOC_NR(request) == _IOC_NR(PCIEM_IOC_DMA)) {
        return fake_dma(static_cast<pciem_dma_req*>(arg));
    }
    if (_IOC_TYPE(request) == PCIEM_IOC_MAGIC && _IOC_NR(request) == _IOC_NR(PCIEM_IOC_RAISE)) {
        ++fake.raise_calls;
        fake.log.push_back("raise " + std::to_string(static_cast<pciem_irq_req*>(arg)->value));
        if (fake.raise_errno != 0) {
            errno = fake.raise_errno;
            return -1;
        }
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

} // namespace

#include "fake_ioctl.hpp"

namespace {

using pciem::DmaFaultKind;
using pciem::DmaSegment;
using pciem::DmaWrite;

std::string write_of(uint64_t addr, uint64_t len) {
    return "write " + std::to_string(addr) + " " + std::to_string(len);
}

class KernelWriteThenRaise : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pciem-fake-device.XXXXXX";
        fd_ = ::mkstemp(tmpl);
        ASSERT_GE(fd_, 0);
        ::unlink(tmpl);
        struct stat st {};
        ASSERT_EQ(::fstat(fd_, &st), 0);
        fake = FakeDevice{};
        fake.dev = st.st_dev;
        fake.ino = st.st_ino;
        dma_ = std::make_unique<pciem::KernelDma>(fd_);
        irq_ = std::make_unique<pciem::KernelInterrupts>(fd_);
        dma_->bind_raise(irq_.get());
    }
    void TearDown() override {
        fake = FakeDevice{};
        ::close(fd_);
    }
    int fd_ = -1;
    std::unique_ptr<pciem::KernelDma> dma_;
    std::unique_ptr<pciem::KernelInterrupts> irq_;
    std::vector<std::byte> data_ = std::vector<std::byte>(8192, std::byte{0x5a});
};

TEST_F(KernelWriteThenRaise, DataEntryAndRaiseInOneCall) {
    const DmaSegment pages[] = {{0x10000, 4096}, {0x30000, 4096}};
    const DmaSegment slot[] = {{0x2000, 16}};
    const DmaWrite writes[] = {{pages, data_}, {slot, std::span(data_).first(16)}};
    auto r = dma_->write_then_raise(writes, 3, *irq_);
    EXPECT_FALSE(r.fault);
    EXPECT_EQ(r.written, 2u);
    ASSERT_TRUE(r.raised);
    EXPECT_TRUE(*r.raised);
    EXPECT_EQ(fake.dma_calls, 1);
    EXPECT_EQ(fake.raise_calls, 0);
    EXPECT_EQ(fake.log, (std::vector<std::string>{write_of(0x10000, 4096), write_of(0x30000, 4096),
                                                  write_of(0x2000, 16), "raise 3"}));
}

TEST_F(KernelWriteThenRaise, MoreThan256TransfersSplitAndRaiseLast) {
    // 300 one-byte segments: 256 in the first call, the rest and the
    // raise in the second.
    std::vector<DmaSegment> sg;
    for (uint64_t i = 0; i < 300; ++i) {
        sg.push_back({0x100000 + 2 * i, 1});
    }
    const DmaWrite writes[] = {{sg, std::span(data_).first(300)}};
    auto r = dma_->write_then_raise(writes, 7, *irq_);
    EXPECT_FALSE(r.fault);
    EXPECT_EQ(fake.dma_calls, 2);
    ASSERT_EQ(fake.log.size(), 301u);
    EXPECT_EQ(fake.log[299], write_of(0x100000 + 2 * 299, 1));
    EXPECT_EQ(fake.log.back(), "raise 7");
}

TEST_F(KernelWriteThenRaise, ARefusedWriteStopsTheRestAndTheRaise) {
    fake.refuse_at = 0x30000;
    const DmaSegment first[] = {{0x10000, 512}};
    const DmaSegment second[] = {{0x20000, 512}, {0x30000, 512}};
    const DmaSegment slot[] = {{0x2000, 16}};
    const DmaWrite writes[] = {{first, std::span(data_).first(512)},
                               {second, std::span(data_).first(1024)},
                               {slot, std::span(data_).first(16)}};
    auto r = dma_->write_then_raise(writes, 1, *irq_);
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.written, 1u) << "the refused transfer is the second write's";
    EXPECT_EQ(r.fault->kind, DmaFaultKind::direction);
    EXPECT_EQ(r.fault->address, 0x30000u);
    EXPECT_FALSE(r.raised);
    EXPECT_EQ(fake.log, (std::vector<std::string>{write_of(0x10000, 512), write_of(0x20000, 512)}));
}

TEST_F(KernelWriteThenRaise, TheRaisesErrnoComesBackAsRaiseReportsIt) {
    fake.raise_errno = EAGAIN;
    const DmaSegment slot[] = {{0x2000, 16}};
    const DmaWrite writes[] = {{slot, std::span(data_).first(16)}};
    auto r = dma_->write_then_raise(writes, 0, *irq_);
    EXPECT_FALSE(r.fault);
    EXPECT_EQ(r.written, 1u);
    ASSERT_TRUE(r.raised);
    ASSERT_FALSE(*r.raised);
    EXPECT_EQ(r.raised->error().errnum, EAGAIN);
    EXPECT_EQ(r.raised->error().message, irq_->raise(0).error().message);
}

TEST_F(KernelWriteThenRaise, AShortListIsOutOfBoundsAtItsWrite) {
    const DmaSegment ok[] = {{0x10000, 16}};
    const DmaSegment short_sg[] = {{0x20000, 8}};
    const DmaWrite writes[] = {{ok, std::span(data_).first(16)},
                               {short_sg, std::span(data_).first(16)}};
    auto r = dma_->write_then_raise(writes, 0, *irq_);
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.written, 1u);
    EXPECT_EQ(r.fault->kind, DmaFaultKind::bounds);
    EXPECT_FALSE(r.raised);
    EXPECT_EQ(fake.log.front(), write_of(0x10000, 16)) << "the writes before it are done";
    EXPECT_EQ(fake.log.size(), 2u);
}

TEST_F(KernelWriteThenRaise, AnotherInterruptsOrAnOlderModuleRaisesSeparately) {
    const DmaSegment slot[] = {{0x2000, 16}};
    const DmaWrite writes[] = {{slot, std::span(data_).first(16)}};
    pciem::KernelInterrupts other(fd_);
    auto r = dma_->write_then_raise(writes, 2, other);
    EXPECT_TRUE(r.raised && *r.raised);
    dma_->bind_raise(nullptr); // what KernelHost does for a module without the op
    r = dma_->write_then_raise(writes, 4, *irq_);
    EXPECT_TRUE(r.raised && *r.raised);
    EXPECT_EQ(fake.dma_calls, 2);
    EXPECT_EQ(fake.raise_calls, 2);
    EXPECT_EQ(fake.log, (std::vector<std::string>{write_of(0x2000, 16), "raise 2",
                                                  write_of(0x2000, 16), "raise 4"}));
}

// ---- the default, on the SimDma -----------------------------------------

// Interrupts that note what host memory held when each raise came.
class WatchingInterrupts final : public pciem::Interrupts {
public:
    explicit WatchingInterrupts(std::span<const std::byte> watched) : watched_(watched) {}
    pciem::Result<void> raise(unsigned vector) override {
        seen.emplace_back(vector, std::vector<std::byte>(watched_.begin(), watched_.end()));
        if (fail_with != 0) {
            return pciem::fail(fail_with, "cannot");
        }
        return {};
    }
    pciem::Result<void> set_intx(bool) override { return {}; }
    pciem::Result<int> eventfd(unsigned) override { return pciem::fail(ENOSYS, "none"); }
    std::vector<std::pair<unsigned, std::vector<std::byte>>> seen;
    int fail_with = 0;

private:
    std::span<const std::byte> watched_;
};

TEST(SimWriteThenRaise, WritesInOrderThenTheRaise) {
    pciem::SimDma dma;
    dma.set_bus_master(true);
    std::vector<std::byte> host(64);
    const uint64_t bus = dma.map(host, pciem::DmaDirection::from_device);
    WatchingInterrupts irq(host);
    const std::vector<std::byte> a(32, std::byte{1}), b(16, std::byte{2});
    const DmaSegment at_a[] = {{bus, 32}};
    const DmaSegment at_b[] = {{bus + 32, 16}};
    const DmaWrite writes[] = {{at_a, a}, {at_b, b}};
    auto r = dma.write_then_raise(writes, 5, irq);
    EXPECT_FALSE(r.fault);
    EXPECT_EQ(r.written, 2u);
    ASSERT_TRUE(r.raised && *r.raised);
    ASSERT_EQ(irq.seen.size(), 1u);
    EXPECT_EQ(irq.seen[0].first, 5u);
    EXPECT_EQ(irq.seen[0].second[31], std::byte{1}) << "the raise came before the data";
    EXPECT_EQ(irq.seen[0].second[47], std::byte{2}) << "the raise came before the entry";
    // No vector: no raise.
    r = dma.write_then_raise(writes, std::nullopt, irq);
    EXPECT_FALSE(r.raised);
    EXPECT_EQ(irq.seen.size(), 1u);
}

TEST(SimWriteThenRaise, ARefusedWriteStopsTheRestAndTheRaise) {
    pciem::SimDma dma;
    dma.set_bus_master(true);
    std::vector<std::byte> host(64), wrong(16);
    const uint64_t bus = dma.map(host, pciem::DmaDirection::from_device);
    const uint64_t to_device = dma.map(wrong, pciem::DmaDirection::to_device);
    WatchingInterrupts irq(host);
    const std::vector<std::byte> a(16, std::byte{1});
    const DmaSegment first[] = {{bus, 16}};
    const DmaSegment refused[] = {{to_device, 16}};
    const DmaSegment third[] = {{bus + 16, 16}};
    const DmaWrite writes[] = {{first, a}, {refused, a}, {third, a}};
    auto r = dma.write_then_raise(writes, 1, irq);
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.written, 1u);
    EXPECT_EQ(r.fault->kind, DmaFaultKind::direction);
    EXPECT_FALSE(r.raised);
    EXPECT_TRUE(irq.seen.empty());
    EXPECT_EQ(host[0], std::byte{1});
    EXPECT_EQ(host[16], std::byte{0}) << "a write after the refused one was done";
    // The raise's own failure comes back as it is.
    irq.fail_with = EAGAIN;
    const DmaWrite one[] = {{first, a}};
    r = dma.write_then_raise(one, 1, irq);
    ASSERT_TRUE(r.raised);
    EXPECT_EQ(r.raised->error().errnum, EAGAIN);
}

} // namespace
