// SPDX-License-Identifier: MIT
//
// Guest test of PCIEM_IOC_BAR_BACKING through raw ioctls: every malformed
// request is refused with its errno, a BAR is backed only between CREATE
// (deferred) and START, only trapped memory BARs and only pages not
// backed yet, memory that cannot be pinned for writing is refused, and a
// backed BAR is not the device fd's to mmap. Functions are closed while
// pinned pages are still mapped by the test, so the unpin path runs too.
// And a driver's accesses (drivers/pciem_mmio_test, loaded by the case)
// to a partly backed 2 MiB leaf: backed pages are the test's memory both
// ways, the page left out of the same leaf is still trapped.
#include <linux/pciem.h>

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "raw_abi.hpp"

namespace {

using namespace pciem_test;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = 1ull << 20;

// BAR0 4 KiB trapped, BAR2 4 MiB trapped (64-bit, two 2 MiB leaves when
// ioremapped), BAR4 64 KiB RAM.
int create_fn(int ctl, uint32_t flags = PCIEM_CREATE_F_DEFER_ADD)
{
    Request r;
    r.req.flags = PCIEM_CREATE_F_NO_MODEL | flags;
    r.req.bars[2].size = 4 * kMiB;
    r.req.bars[2].flags = PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH;
    r.req.bars[4].size = 64 * 1024;
    r.req.bars[4].flags = PCIEM_BAR_MEM64 | PCIEM_BAR_RAM;
    Outcome o = create(ctl, r);
    EXPECT_GE(o.fd, 0) << strerror(o.err);
    return o.fd;
}

pciem_bar_backing backing(uint32_t bar, uint64_t offset, uint64_t len, const void *addr)
{
    pciem_bar_backing b{};
    b.size = sizeof(b);
    b.bar = bar;
    b.offset = offset;
    b.len = len;
    b.addr = reinterpret_cast<uintptr_t>(addr);
    return b;
}

int back(int fd, pciem_bar_backing b)
{
    errno = 0;
    return ioctl(fd, PCIEM_IOC_BAR_BACKING, &b) == 0 ? 0 : errno;
}

// Shared memory as a device server would offer it.
struct Memory {
    size_t len;
    uint8_t *p;
    explicit Memory(size_t n)
        : len(n), p(static_cast<uint8_t *>(mmap(nullptr, n, PROT_READ | PROT_WRITE,
                                                MAP_SHARED | MAP_ANONYMOUS, -1, 0)))
    {
        EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    }
    ~Memory() { munmap(p, len); }
    Memory(const Memory &) = delete;
    Memory &operator=(const Memory &) = delete;
};

class BarBacking : public ::testing::Test {
protected:
    void SetUp() override
    {
        ctl = open_control();
        ASSERT_GE(ctl, 0);
    }
    void TearDown() override { close(ctl); }
    int ctl = -1;
};

} // namespace

TEST_F(BarBacking, MalformedRequestsAreRefused)
{
    int fd = create_fn(ctl);
    ASSERT_GE(fd, 0);
    Memory m(4 * kMiB);

    auto b = backing(2, 0, kPage, m.p);
    b.size = 8;
    EXPECT_EQ(back(fd, b), EINVAL);
    b = backing(2, 0, kPage, m.p);
    b.flags = 1;
    EXPECT_EQ(back(fd, b), EINVAL);
    b = backing(2, 0, kPage, m.p);
    b.reserved = 1;
    EXPECT_EQ(back(fd, b), EINVAL);
    struct {
        pciem_bar_backing b;
        uint64_t future;
    } big{backing(2, 0, kPage, m.p), 1};
    big.b.size = sizeof(big);
    EXPECT_EQ(ioctl(fd, PCIEM_IOC_BAR_BACKING, &big) == 0 ? 0 : errno, E2BIG);
    EXPECT_EQ(ioctl(fd, PCIEM_IOC_BAR_BACKING, nullptr) == 0 ? 0 : errno, EFAULT);

    // Not a BAR, an empty slot, the upper half of a 64-bit BAR, a RAM BAR.
    for (uint32_t bar : {1u, 3u, 5u, 6u, ~0u})
        EXPECT_EQ(back(fd, backing(bar, 0, kPage, m.p)), EINVAL) << "BAR " << bar;
    EXPECT_EQ(back(fd, backing(4, 0, kPage, m.p)), EINVAL) << "a RAM BAR's pages are the kernel's";
    // Alignment, length and bounds.
    EXPECT_EQ(back(fd, backing(2, 1, kPage, m.p)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, 0, kPage - 1, m.p)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, 0, 0, m.p)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, 0, kPage, m.p + 1)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, 4 * kMiB, kPage, m.p)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, 4 * kMiB - kPage, 2 * kPage, m.p)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, ~0ull & ~(kPage - 1), kPage, m.p)), EINVAL);
    EXPECT_EQ(back(fd, backing(2, kPage, ~0ull & ~(kPage - 1), m.p)), EINVAL);
    // BAR0 is 4 KiB: one page at most.
    EXPECT_EQ(back(fd, backing(0, 0, 2 * kPage, m.p)), EINVAL);
    // Memory that cannot be pinned for writing.
    EXPECT_EQ(back(fd, backing(2, 0, kPage, nullptr)), EFAULT);
    EXPECT_EQ(back(fd, backing(2, 0, kPage, reinterpret_cast<void *>(0xffff888000000000ull))),
              EFAULT);
    void *ro = mmap(nullptr, kPage, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(ro, MAP_FAILED);
    EXPECT_EQ(back(fd, backing(2, 0, kPage, ro)), EFAULT) << "a read-only mapping was pinned";
    munmap(ro, kPage);
    // Half mapped: nothing is kept (the whole range is backed afterwards).
    void *gap = mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(gap, MAP_FAILED);
    munmap(static_cast<uint8_t *>(gap) + kPage, kPage);
    EXPECT_EQ(back(fd, backing(2, 0, 2 * kPage, gap)), EFAULT);
    munmap(gap, kPage);
    EXPECT_EQ(back(fd, backing(2, 0, 4 * kMiB, m.p)), 0) << strerror(errno);
    ASSERT_EQ(ioctl(fd, PCIEM_IOC_START), 0) << strerror(errno);
    close(fd);
}

TEST_F(BarBacking, OnlyBeforeStartAndOnlyPagesNotBackedYet)
{
    Memory m(4 * kMiB);
    int live = create_fn(ctl, 0);
    ASSERT_GE(live, 0);
    EXPECT_EQ(back(live, backing(2, 0, kPage, m.p)), EBUSY);
    close(live);

    int fd = create_fn(ctl);
    ASSERT_GE(fd, 0);
    // Sparse: two pieces, the second in the other 2 MiB half.
    EXPECT_EQ(back(fd, backing(2, 0, 16 * kPage, m.p)), 0) << strerror(errno);
    EXPECT_EQ(back(fd, backing(2, 2 * kMiB + kPage, kPage, m.p + kPage)), 0) << strerror(errno);
    EXPECT_EQ(back(fd, backing(2, 15 * kPage, 2 * kPage, m.p)), EBUSY);
    EXPECT_EQ(back(fd, backing(2, 2 * kMiB + kPage, kPage, m.p)), EBUSY);
    // A backed BAR is not the device fd's to map; a RAM BAR still is.
    void *p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   static_cast<off_t>(PCIEM_MMAP_BAR_OFFSET(2)));
    EXPECT_EQ(p, MAP_FAILED);
    EXPECT_EQ(errno, EINVAL);
    p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             static_cast<off_t>(PCIEM_MMAP_BAR_OFFSET(4)));
    EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    if (p != MAP_FAILED)
        munmap(p, kPage);
    ASSERT_EQ(ioctl(fd, PCIEM_IOC_START), 0) << strerror(errno);
    EXPECT_EQ(back(fd, backing(2, kMiB, kPage, m.p)), EBUSY) << "backed after START";
    // The pinned pages are still the test's memory, and stay usable.
    m.p[0] = 0x5a;
    EXPECT_EQ(m.p[0], 0x5a);
    close(fd);

    // Two threads backing the same page: one gets it.
    fd = create_fn(ctl);
    ASSERT_GE(fd, 0);
    int err[2] = {-1, -1};
    std::thread a([&] { err[0] = back(fd, backing(2, 0, kPage, m.p)); });
    std::thread b([&] { err[1] = back(fd, backing(2, 0, kPage, m.p + kPage)); });
    a.join();
    b.join();
    EXPECT_TRUE((err[0] == 0 && err[1] == EBUSY) || (err[0] == EBUSY && err[1] == 0))
        << strerror(err[0]) << ", " << strerror(err[1]);
    close(fd);
}

// The owner dies holding a backed function that never started: its fd
// goes with it and the pages are let go (the kernel log stays clean, which
// the case checks).
TEST_F(BarBacking, OwnerDeathWithBackedPages)
{
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Memory m(2 * kMiB);
        int fd = create_fn(ctl);
        if (fd < 0 || back(fd, backing(2, 0, 2 * kMiB, m.p)) != 0)
            _exit(1);
        pause();
        _exit(0);
    }
    usleep(200 * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "the child failed to back its BAR";
}

namespace {

// Writes `text` to a sysfs or debugfs file; errno, or 0.
int write_text(const fs::path &p, const std::string &text)
{
    std::ofstream out(p);
    out << text;
    out.flush();
    return out ? 0 : (errno ? errno : EIO);
}

// A 32-bit readl() by the driver at BAR0 + off, through its debugfs `reg`.
uint32_t driver_read(const fs::path &reg, uint32_t off)
{
    EXPECT_EQ(write_text(reg, std::to_string(off)), 0) << reg;
    return static_cast<uint32_t>(std::stoul(read_file(reg), nullptr, 16));
}

} // namespace

// The driver maps BAR0 (4 MiB, two 2 MiB leaves). Its first 2 MiB are the
// test's memory except page 0; the second 2 MiB are not backed. The
// function has no model: a trapped read is all-ones, a trapped write
// goes nowhere. So a read that returns the test's bytes, and a write the
// test then finds in its memory, were not trapped; page 0, under the same
// leaf (now a table of pciem.ko's own), still is.
TEST_F(BarBacking, DriverAccessesReachTheMemoryAndTheRestStaysTrapped)
{
    const fs::path drv = "/sys/bus/pci/drivers/pciem_mmio_test";
    ASSERT_TRUE(fs::exists(drv)) << "the case loads pciem_mmio_test";
    Request r;
    r.req.flags = PCIEM_CREATE_F_NO_MODEL | PCIEM_CREATE_F_DEFER_ADD;
    r.req.device_id = 0x10fb; // only this test binds pciem_mmio_test to it
    r.req.bars[0].size = 4 * kMiB;
    r.req.bars[0].flags = PCIEM_BAR_MEM64;
    Outcome o = create(ctl, r);
    ASSERT_GE(o.fd, 0) << strerror(o.err);
    const size_t len = 2 * kMiB - kPage;
    Memory m(len);
    auto *words = reinterpret_cast<volatile uint32_t *>(m.p);
    words[0] = 0x12345678;
    words[len / 4 - 1] = 0x9abcdef0;
    ASSERT_EQ(back(o.fd, backing(0, kPage, len, m.p)), 0) << strerror(errno);
    ASSERT_EQ(ioctl(o.fd, PCIEM_IOC_START), 0) << strerror(errno);
    const std::string addr = sysfs_name(dev_info(o.fd));

    // edu kind (driver_data 1): it maps BAR0 and touches nothing at probe.
    int err = write_text(drv / "new_id", "1af4 10fb ffffffff ffffffff 0 0 1");
    EXPECT_TRUE(err == 0 || err == EEXIST) << strerror(err);
    const fs::path reg = fs::path("/sys/kernel/debug/pciem_mmio_test") / addr / "reg";
    for (int i = 0; i < 50 && !fs::exists(reg); ++i)
        usleep(100 * 1000);
    ASSERT_TRUE(fs::exists(reg)) << "pciem_mmio_test did not bind to " << addr;

    EXPECT_EQ(driver_read(reg, kPage), 0x12345678u) << "the first backed word";
    EXPECT_EQ(driver_read(reg, 2 * kMiB - 4), 0x9abcdef0u) << "the last backed word";
    EXPECT_EQ(write_text(reg, std::to_string(kPage + 8) + " 0xcafef00d"), 0);
    EXPECT_EQ(words[2], 0xcafef00du) << "the driver's write is not in the memory";
    words[3] = 0x0badcafe;
    EXPECT_EQ(driver_read(reg, kPage + 12), 0x0badcafeu) << "the test's write is not seen";
    EXPECT_EQ(driver_read(reg, 0), 0xffffffffu) << "page 0 is not backed: trapped, no model";
    EXPECT_EQ(write_text(reg, "0 0x5a5a5a5a"), 0);
    EXPECT_EQ(driver_read(reg, 0), 0xffffffffu);
    EXPECT_EQ(driver_read(reg, 2 * kMiB), 0xffffffffu) << "the second 2 MiB are trapped";

    // One map of BAR0: two 2 MiB leaves, one of them a table over memory.
    std::ifstream traps("/sys/kernel/debug/pciem/traps");
    std::string line, all;
    bool split = false;
    while (std::getline(traps, line)) {
        all += line + "\n";
        split |= line.find(" 2M 2 1G 0 ram 1") != std::string::npos;
    }
    EXPECT_TRUE(split) << "no map of two 2 MiB leaves with one over memory:\n" << all;

    EXPECT_EQ(write_text(drv / "remove_id", "1af4 10fb"), 0);
    // The driver is unbound by the removal, its mapping and the pins go.
    close(o.fd);
}
