// SPDX-License-Identifier: MIT
//
// Guest test of a PCIem function's lifetime against everything else on the
// machine that adds or removes PCI devices: bus rescans, sysfs `remove`,
// its owner closing the fd or dying, and mappings that outlive the fd.
// Each race runs hundreds of times from several threads. A kernel bug
// here shows as a failed expectation, a WARNING/BUG/hung task in the
// kernel log (the case's kernel-log check) or a guest that never returns.
//
// Runs inside the test guest as root with pciem.ko loaded (raw ioctls, no
// libpciem). PCIEM_LIFETIME_ITERS scales the loops (default 1).
#include <linux/pciem.h>

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "raw_abi.hpp"

namespace {

using namespace pciem_test;

// Loop counts are multiplied by this (PCIEM_LIFETIME_ITERS, default 1).
int scale()
{
    const char *s = getenv("PCIEM_LIFETIME_ITERS");
    int n = s ? atoi(s) : 1;
    return n > 0 ? n : 1;
}

// Write @value to a sysfs attribute; false (errno set) if it failed.
bool write_sysfs(const fs::path &p, const char *value)
{
    int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t want = static_cast<ssize_t>(strlen(value));
    ssize_t n = write(fd, value, want);
    int err = errno;
    close(fd);
    errno = err;
    return n == want;
}

// /sys/class/pci_bus/DDDDD:00: PCIem's root bus, with its own rescan file.
fs::path root_bus_dir(int ctl)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "/sys/class/pci_bus/%04x:00", get_info(ctl).domain);
    return buf;
}

void rescan_all()
{
    write_sysfs("/sys/bus/pci/rescan", "1");
}

uint32_t list_state(int ctl, const pciem_dev_info &di)
{
    std::vector<pciem_list_entry> e(256);
    pciem_list l{};
    l.size = sizeof(l);
    l.entry_size = sizeof(pciem_list_entry);
    l.capacity = static_cast<uint32_t>(e.size());
    l.entries_ptr = reinterpret_cast<uintptr_t>(e.data());
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_LIST, &l), 0) << strerror(errno);
    for (uint32_t i = 0; i < std::min<uint32_t>(l.count, l.capacity); i++)
        if (e[i].domain == di.domain && e[i].devfn == di.devfn)
            return e[i].state;
    return 0;
}

// Is the function with device ID @device at sysfs path @p? (Another
// thread's function may take the same devfn as soon as ours is gone.)
bool present(const fs::path &p, uint16_t device)
{
    char want[16];
    snprintf(want, sizeof(want), "0x%04x", device);
    return read_file(p / "device") == want;
}

// A device ID no other function of this run has (and no driver binds:
// virtio-pci takes 1af4:1000-107f).
uint16_t unique_device_id()
{
    static std::atomic<uint16_t> next{0xc000};
    return next++;
}

int ioctl_errno(int fd, unsigned long cmd, void *arg = nullptr)
{
    errno = 0;
    return ioctl(fd, cmd, arg) == -1 ? errno : 0;
}

class Lifetime : public ::testing::Test {
protected:
    void SetUp() override
    {
        ctl = open_control();
        ASSERT_GE(ctl, 0);
    }
    void TearDown() override { close(ctl); }

    // A function with one small BAR, on the bus unless @deferred. No
    // model serves it: any access a driver makes master-aborts at once.
    int make(bool deferred = false, uint16_t device = 0x10f0)
    {
        Request r;
        r.req.device_id = device;
        r.req.flags |= PCIEM_CREATE_F_NO_MODEL;
        if (deferred)
            r.req.flags |= PCIEM_CREATE_F_DEFER_ADD;
        Outcome o = create(ctl, r);
        EXPECT_GE(o.fd, 0) << strerror(o.err);
        return o.fd;
    }

    int ctl = -1;
};

// A function created with PCIEM_CREATE_F_DEFER_ADD does not answer config
// cycles until PCIEM_IOC_START: a rescan in between must not find it, and
// START must then add it exactly once. (It used to be found by the rescan
// and added a second time by START: duplicate sysfs files, then a double
// free and a panic on close.)
TEST_F(Lifetime, RescanBeforeStartFindsNothingAndStartAddsOnce)
{
    fs::path bus = root_bus_dir(ctl);
    for (int i = 0; i < 20 * scale(); i++) {
        int fd = make(true);
        ASSERT_GE(fd, 0);
        pciem_dev_info di = dev_info(fd);
        fs::path p = sysfs_path(di);
        EXPECT_EQ(di.state, PCIEM_STATE_NOT_STARTED);
        EXPECT_EQ(list_state(ctl, di), PCIEM_STATE_NOT_STARTED);
        rescan_all();
        ASSERT_TRUE(write_sysfs(bus / "rescan", "1")) << strerror(errno);
        EXPECT_FALSE(fs::exists(p)) << "a rescan found a function before START";
        ASSERT_EQ(ioctl_errno(fd, PCIEM_IOC_START), 0);
        EXPECT_TRUE(fs::exists(p / "resource0"));
        EXPECT_EQ(dev_info(fd).state, PCIEM_STATE_PRESENT);
        rescan_all();
        EXPECT_TRUE(fs::exists(p));
        close(fd);
        EXPECT_FALSE(fs::exists(p));
    }
}

// Removal through sysfs is one of the ways a function goes: the PCI core
// unbinds and removes it; the owner's fd then reports the function gone
// (POLLHUP, ENODEV from the ioctls that need it on the bus) and a rescan
// does not bring it back. Closing the fd afterwards is the usual cleanup.
TEST_F(Lifetime, SysfsRemoveIsARemovalTheOwnerSees)
{
    int fd = make();
    ASSERT_GE(fd, 0);
    pciem_dev_info di = dev_info(fd);
    fs::path p = sysfs_path(di);
    ASSERT_TRUE(fs::exists(p));
    ASSERT_TRUE(write_sysfs(p / "remove", "1")) << strerror(errno);
    EXPECT_FALSE(fs::exists(p));

    pollfd pfd{fd, POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 5000), 1) << "no event on the owner's fd";
    EXPECT_TRUE(pfd.revents & POLLHUP) << "revents " << pfd.revents;
    EXPECT_EQ(dev_info(fd).state, PCIEM_STATE_DETACHED);
    EXPECT_EQ(list_state(ctl, di), PCIEM_STATE_DETACHED);

    pciem_irq_req irq{};
    irq.size = sizeof(irq);
    EXPECT_EQ(ioctl_errno(fd, PCIEM_IOC_RAISE, &irq), ENODEV);
    EXPECT_EQ(ioctl_errno(fd, PCIEM_IOC_SET_INTX, &irq), ENODEV);
    EXPECT_EQ(ioctl_errno(fd, PCIEM_IOC_START), ENODEV);

    rescan_all();
    ASSERT_TRUE(write_sysfs(root_bus_dir(ctl) / "rescan", "1"));
    EXPECT_FALSE(fs::exists(p)) << "a rescan brought a removed function back";
    close(fd);
    EXPECT_EQ(list_state(ctl, di), 0u);

    // The devfn is free again: a new function may take it.
    int again = make();
    ASSERT_GE(again, 0);
    EXPECT_EQ(dev_info(again).devfn, di.devfn);
    close(again);
}

// sysfs `remove` written while the owner closes its fd: whichever wins,
// the function goes exactly once, with no oops (a use after free of the
// pci_dev) and no deadlock (close waiting for the sysfs writer, which
// waited for close's lock). Several threads, hundreds of rounds, with the
// two sides' start offset varied so every interleaving comes up.
TEST_F(Lifetime, SysfsRemoveRacingCloseInALoop)
{
    constexpr int kThreads = 4;
    const int rounds = 250 * scale();
    std::atomic<int> removes_won{0}, failures{0};

    auto worker = [&](int seed) {
        std::mt19937 rng(seed);
        for (int i = 0; i < rounds && !failures; i++) {
            uint16_t id = unique_device_id();
            int fd = make(false, id);
            if (fd < 0) {
                failures++;
                return;
            }
            fs::path p = sysfs_path(dev_info(fd));
            std::atomic<bool> go{false};
            std::thread remover([&] {
                while (!go.load())
                    ;
                if (write_sysfs(p / "remove", "1"))
                    removes_won++;
            });
            auto delay = std::chrono::microseconds(rng() % 400);
            auto t0 = std::chrono::steady_clock::now();
            go = true;
            std::this_thread::sleep_for(delay);
            close(fd);
            auto t1 = std::chrono::steady_clock::now();
            remover.join();
            auto t2 = std::chrono::steady_clock::now();
            auto ms = [](auto d) {
                return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
            };
            if (ms(t2 - t0) > 100)
                printf("slow round: close %lld ms, remove done %lld ms\n", (long long)ms(t1 - t0),
                       (long long)ms(t2 - t0));
            if (present(p, id)) {
                ADD_FAILURE() << p << " still exists after close and remove";
                failures++;
            }
        }
    };
    std::vector<std::thread> t;
    for (int i = 0; i < kThreads; i++)
        t.emplace_back(worker, i + 1);
    for (auto &th : t)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    RecordProperty("removes_won", removes_won.load());
    printf("sysfs remove won %d of %d races\n", removes_won.load(), kThreads * rounds);
}

// Rescans (global and of PCIem's bus) and sysfs removes storm while
// several threads create and destroy functions, deferred and not. Every
// function appears exactly when its creator says it is on the bus, and
// nothing is left when the storm ends.
TEST_F(Lifetime, RescanStormsDuringCreateDestroyStorms)
{
    constexpr int kCreators = 3;
    const int rounds = 100 * scale();
    fs::path bus_rescan = root_bus_dir(ctl) / "rescan";
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0}, rescans{0}, removes{0};
    unsigned domain = get_info(ctl).domain;

    std::vector<std::thread> storm;
    storm.emplace_back([&] {
        while (!stop) {
            rescan_all();
            rescans++;
        }
    });
    storm.emplace_back([&] {
        while (!stop) {
            write_sysfs(bus_rescan, "1");
            rescans++;
        }
    });
    // Removes whatever PCIem function it finds, now and then.
    storm.emplace_back([&] {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "%04x:", domain);
        while (!stop) {
            std::error_code ec;
            for (auto &d : fs::directory_iterator("/sys/bus/pci/devices", ec))
                if (d.path().filename().string().rfind(prefix, 0) == 0 &&
                    write_sysfs(d.path() / "remove", "1"))
                    removes++;
            std::this_thread::sleep_for(std::chrono::milliseconds(3));
        }
    });

    auto creator = [&](int id) {
        for (int i = 0; i < rounds && !failures; i++) {
            bool deferred = (i + id) % 2;
            uint16_t device = unique_device_id();
            int fd = make(deferred, device);
            if (fd < 0) {
                failures++;
                return;
            }
            pciem_dev_info di = dev_info(fd);
            fs::path p = sysfs_path(di);
            if (deferred) {
                if (present(p, device)) {
                    ADD_FAILURE() << p << " is on the bus before START";
                    failures++;
                }
                int err = ioctl_errno(fd, PCIEM_IOC_START);
                if (err) {
                    ADD_FAILURE() << "START: " << strerror(err);
                    failures++;
                }
            }
            // Present, or already removed by the storm; never anything else.
            uint32_t st = dev_info(fd).state;
            if (st != PCIEM_STATE_PRESENT && st != PCIEM_STATE_DETACHED) {
                ADD_FAILURE() << "state " << st << " after add";
                failures++;
            }
            close(fd);
            if (present(p, device)) {
                ADD_FAILURE() << p << " exists after close";
                failures++;
            }
        }
    };
    std::vector<std::thread> creators;
    for (int i = 0; i < kCreators; i++)
        creators.emplace_back(creator, i);
    for (auto &t : creators)
        t.join();
    stop = true;
    for (auto &t : storm)
        t.join();
    EXPECT_EQ(failures.load(), 0);
    printf("%d rescans and %d sysfs removes during %d creations\n", rescans.load(),
           removes.load(), kCreators * rounds);

    // Nothing of ours is left.
    pciem_list l{};
    l.size = sizeof(l);
    l.entry_size = sizeof(pciem_list_entry);
    ASSERT_EQ(ioctl(ctl, PCIEM_IOC_LIST, &l), 0);
    EXPECT_EQ(l.count, 0u);
}

// 0x0000, 0xffff (nothing there) and 0x0001 (configuration request retry)
// are vendor IDs that mean "no device" to the PCI core: refused at once.
TEST_F(Lifetime, VendorIdsThatMeanNoDeviceAreRefused)
{
    for (uint16_t vendor : {0x0000, 0x0001, 0xffff}) {
        for (bool deferred : {false, true}) {
            Request r;
            r.req.vendor_id = vendor;
            if (deferred)
                r.req.flags |= PCIEM_CREATE_F_DEFER_ADD;
            Outcome o = create(ctl, r);
            if (o.fd >= 0)
                close(o.fd);
            EXPECT_EQ(o.fd, -1) << "vendor " << vendor;
            EXPECT_EQ(o.err, EINVAL) << "vendor " << vendor << ": " << strerror(o.err);
            EXPECT_EQ(o.detail.code, PCIEM_ERR_VENDOR_ID) << "vendor " << vendor;
        }
    }
}

// Every kind of mapping of a device fd keeps the function, and its pages,
// after close(): reading and writing them never faults, and the function
// goes when the last mapping does.
TEST_F(Lifetime, MappingsOutliveClose)
{
    Request r;
    r.req.flags = PCIEM_CREATE_F_DEFER_ADD;
    r.req.bars[2].size = 4u << 20;
    r.req.bars[2].flags = PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH | PCIEM_BAR_RAM;
    Outcome o = create(ctl, r);
    ASSERT_GE(o.fd, 0) << strerror(o.err);
    int fd = o.fd;

    pciem_shadow sh{};
    sh.size = sizeof(sh);
    sh.bar = 0;
    sh.offset = 0;
    sh.len = 64;
    ASSERT_EQ(ioctl(fd, PCIEM_IOC_SHADOW, &sh), 0) << strerror(errno);
    pciem_dma_window win{};
    win.size = sizeof(win);
    win.window_size = 2u << 20;
    ASSERT_EQ(ioctl(fd, PCIEM_IOC_DMA_WINDOW, &win), 0) << strerror(errno);

    struct Map {
        const char *what;
        off_t offset;
        size_t len;
        void *p;
    };
    std::vector<Map> maps = {
        {"ring", 0, 4096, nullptr},
        {"shadow", static_cast<off_t>(sh.shadow_offset), 4096, nullptr},
        {"RAM BAR", static_cast<off_t>(PCIEM_MMAP_BAR_OFFSET(2)), 4u << 20, nullptr},
        {"DMA window", static_cast<off_t>(win.mmap_offset), 2u << 20, nullptr},
    };
    for (auto &m : maps) {
        m.p = mmap(nullptr, m.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
        ASSERT_NE(m.p, MAP_FAILED) << m.what << ": " << strerror(errno);
    }
    ASSERT_EQ(ioctl(fd, PCIEM_IOC_START), 0) << strerror(errno);
    fs::path p = sysfs_path(dev_info(fd));
    close(fd);
    EXPECT_TRUE(fs::exists(p)) << "the mappings hold the function";

    // Touch every page in a child, so a SIGBUS is a failure, not a crash.
    auto touch_all = [&](int pass) {
        pid_t pid = fork();
        if (pid == 0) {
            for (auto &m : maps) {
                volatile uint8_t *b = static_cast<uint8_t *>(m.p);
                // The ring header is the kernel's: read it, write the rest.
                for (size_t off = 0; off < m.len; off += 4096) {
                    uint8_t v = b[off];
                    if (m.offset != 0)
                        b[off] = static_cast<uint8_t>(v + pass);
                }
            }
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return status;
    };
    for (int pass = 1; pass <= 3; pass++) {
        int status = touch_all(pass);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << "pass " << pass << ": touching the mappings after close "
            << (WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "failed");
        // The kernel may drop page-table entries of a shared mapping at any
        // time (MADV_DONTNEED here; reclaim and migration elsewhere): the
        // next access must find the same page again, not a SIGBUS.
        for (auto &m : maps)
            EXPECT_EQ(madvise(m.p, m.len, MADV_DONTNEED), 0) << m.what << ": " << strerror(errno);
    }
    // Writes through one mapping are there to read through it again.
    EXPECT_EQ(static_cast<uint8_t *>(maps[2].p)[4096], 1 + 2 + 3);
    EXPECT_EQ(static_cast<uint8_t *>(maps[3].p)[4096], 1 + 2 + 3);

    for (auto &m : maps)
        munmap(m.p, m.len);
    EXPECT_FALSE(fs::exists(p)) << "the last munmap must remove the function";
}

} // namespace
