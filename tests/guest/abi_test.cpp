// SPDX-License-Identifier: MIT
//
// Guest test of pciem.ko's ABI through raw ioctls (no libpciem), so it
// checks the kernel's contract on its own: every malformed request gets
// the precise errno and error code, and good requests put functions on
// the bus that sysfs, and so lspci and drivers, can see.
//
// Runs inside the test guest (tools/pciem-vm) as root with pciem.ko
// loaded.
#include <linux/pciem.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

int open_control()
{
    int fd = open(PCIEM_CONTROL_NODE, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        ADD_FAILURE() << "open " << PCIEM_CONTROL_NODE << ": " << strerror(errno);
    return fd;
}

pciem_info get_info(int ctl)
{
    pciem_info info{};
    info.size = sizeof(info);
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_GET_INFO, &info), 0) << strerror(errno);
    return info;
}

// A create request plus the capability records it points to.
struct Request {
    pciem_create req{};
    std::vector<pciem_cap> caps;

    Request()
    {
        req.size = sizeof(req);
        req.abi_version = PCIEM_ABI_VERSION;
        req.vendor_id = 0x1af4;
        req.device_id = 0x10f0;
        req.class_code = 0xff0000;
        req.bars[0].size = 4096;
        req.bars[0].flags = PCIEM_BAR_MEM64;
    }

    pciem_cap &cap(uint16_t type, uint16_t offset = 0)
    {
        pciem_cap c{};
        c.size = sizeof(c);
        c.type = type;
        c.offset = offset;
        caps.push_back(c);
        return caps.back();
    }

    pciem_create *finish()
    {
        req.caps_ptr = reinterpret_cast<uintptr_t>(caps.data());
        req.caps_len = static_cast<uint32_t>(caps.size() * sizeof(pciem_cap));
        return &req;
    }
};

// The outcome of one PCIEM_IOC_CREATE.
struct Outcome {
    int fd;
    int err;
    pciem_error detail;
};

Outcome create_raw(int ctl, pciem_create req)
{
    int fd = ioctl(ctl, PCIEM_IOC_CREATE, &req);
    return {fd, fd < 0 ? errno : 0, req.error};
}

Outcome create(int ctl, Request &r)
{
    return create_raw(ctl, *r.finish());
}

std::string sysfs_name(const pciem_dev_info &di)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", di.domain, di.bus, di.devfn >> 3,
             di.devfn & 7);
    return buf;
}

pciem_dev_info dev_info(int fd)
{
    pciem_dev_info di{};
    di.size = sizeof(di);
    EXPECT_EQ(ioctl(fd, PCIEM_IOC_DEV_INFO, &di), 0) << strerror(errno);
    return di;
}

fs::path sysfs_path(const pciem_dev_info &di)
{
    return fs::path("/sys/bus/pci/devices") / sysfs_name(di);
}

std::string read_file(const fs::path &p)
{
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

class Abi : public ::testing::Test {
protected:
    void SetUp() override
    {
        ctl = open_control();
        ASSERT_GE(ctl, 0);
    }
    void TearDown() override { close(ctl); }

    // Expect the request to fail with @err and error code @code at @index.
    void expect_refused(Request &r, int err, uint32_t code, uint32_t index = 0)
    {
        Outcome o = create(ctl, r);
        if (o.fd >= 0)
            close(o.fd);
        EXPECT_EQ(o.fd, -1);
        EXPECT_EQ(o.err, err) << "got " << strerror(o.err) << ", want " << strerror(err);
        EXPECT_EQ(o.detail.code, code);
        EXPECT_EQ(o.detail.index, index);
    }

    int ctl = -1;
};

TEST_F(Abi, InfoDescribesTheRootBus)
{
    pciem_info info = get_info(ctl);
    EXPECT_EQ(info.abi_version, PCIEM_ABI_VERSION);
    EXPECT_GE(info.domain, 0x10000u);
    EXPECT_EQ(info.max_functions, 256u);
    EXPECT_GE(info.window64_size, 128u << 20);
    EXPECT_GT(info.window64_start, 0xffffffffull);
    if (info.window32_size) {
        EXPECT_LE(info.window32_start + info.window32_size, 0x100000000ull);
    }
    // The root bus exists even with no functions on it.
    char bus[32];
    snprintf(bus, sizeof(bus), "/sys/class/pci_bus/%04x:00", info.domain);
    EXPECT_TRUE(fs::exists(bus)) << bus;
}

TEST_F(Abi, CreatedFunctionAppearsAndCloseRemovesIt)
{
    Request r;
    r.req.bars[2].size = 1 << 20;
    r.req.bars[2].flags = PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH;
    Outcome o = create(ctl, r);
    ASSERT_GE(o.fd, 0) << strerror(o.err);
    pciem_dev_info di = dev_info(o.fd);
    fs::path p = sysfs_path(di);
    ASSERT_TRUE(fs::exists(p)) << p;
    EXPECT_EQ(read_file(p / "vendor"), "0x1af4");
    EXPECT_EQ(read_file(p / "device"), "0x10f0");
    EXPECT_EQ(read_file(p / "class"), "0xff0000");
    EXPECT_EQ(di.bar_size[0], 4096u);
    EXPECT_EQ(di.bar_size[2], 1u << 20);
    EXPECT_NE(di.bar_start[0], 0u);
    EXPECT_EQ(di.bar_start[2] % (1 << 20), 0u) << "BARs are naturally aligned";
    close(o.fd);
    EXPECT_FALSE(fs::exists(p)) << "close must hot-remove the function";
}

TEST_F(Abi, DeferredAddWaitsForStart)
{
    Request r;
    r.req.flags = PCIEM_CREATE_F_DEFER_ADD;
    Outcome o = create(ctl, r);
    ASSERT_GE(o.fd, 0) << strerror(o.err);
    fs::path p = sysfs_path(dev_info(o.fd));
    EXPECT_FALSE(fs::exists(p)) << "not on the bus before PCIEM_IOC_START";
    ASSERT_EQ(ioctl(o.fd, PCIEM_IOC_START), 0) << strerror(errno);
    EXPECT_TRUE(fs::exists(p));
    EXPECT_NE(dev_info(o.fd).bar_start[0], 0u) << "BARs assigned at start";
    errno = 0;
    EXPECT_EQ(ioctl(o.fd, PCIEM_IOC_START), -1);
    EXPECT_EQ(errno, EALREADY);
    close(o.fd);
    EXPECT_FALSE(fs::exists(p));

    // Closing a function that never started leaves nothing behind.
    Outcome never = create(ctl, r);
    ASSERT_GE(never.fd, 0);
    close(never.fd);
}

TEST_F(Abi, LargerStructWithZeroTailIsAccepted)
{
    struct {
        pciem_create req;
        uint64_t future[4];
    } big{};
    Request r;
    big.req = *r.finish();
    big.req.size = sizeof(big);
    int fd = ioctl(ctl, PCIEM_IOC_CREATE, &big);
    EXPECT_GE(fd, 0) << strerror(errno);
    if (fd >= 0)
        close(fd);

    big.future[2] = 1;
    errno = 0;
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_CREATE, &big), -1);
    EXPECT_EQ(errno, E2BIG);
}

TEST_F(Abi, TruncatedAndAbsurdSizesAreRefused)
{
    Request r;
    r.req.size = 8;
    errno = 0;
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_CREATE, r.finish()), -1);
    EXPECT_EQ(errno, EINVAL);

    std::vector<uint8_t> huge(2 * 4096 + 8);
    Request ok;
    memcpy(huge.data(), ok.finish(), sizeof(pciem_create));
    uint32_t sz = static_cast<uint32_t>(huge.size());
    memcpy(huge.data(), &sz, sizeof(sz));
    errno = 0;
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_CREATE, huge.data()), -1);
    EXPECT_EQ(errno, E2BIG);
}

TEST_F(Abi, BadPointersFault)
{
    errno = 0;
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_CREATE, nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_GET_INFO, reinterpret_cast<void *>(16)), -1);
    EXPECT_EQ(errno, EFAULT);

    Request r;
    r.cap(PCIEM_CAP_PM);
    pciem_create req = *r.finish();
    req.caps_ptr = 16;
    Outcome o = create_raw(ctl, req);
    EXPECT_EQ(o.fd, -1);
    EXPECT_EQ(o.err, EFAULT);
    EXPECT_EQ(o.detail.code, PCIEM_ERR_FAULT);

    Request v;
    v.cap(PCIEM_CAP_PM);
    pciem_cap &c = v.cap(PCIEM_CAP_VENDOR);
    c.body.len = 8;
    c.body.data_ptr = 16;
    expect_refused(v, EFAULT, PCIEM_ERR_FAULT, 1);
}

TEST_F(Abi, UnknownIoctlIsNotATty)
{
    errno = 0;
    EXPECT_EQ(ioctl(ctl, _IO(PCIEM_IOC_MAGIC, 0x3f), nullptr), -1);
    EXPECT_EQ(errno, ENOTTY);
    errno = 0;
    EXPECT_EQ(ioctl(ctl, _IO('x', 1), nullptr), -1);
    EXPECT_EQ(errno, ENOTTY);
}

TEST_F(Abi, HeaderFieldsAreValidated)
{
    Request version;
    version.req.abi_version = PCIEM_ABI_VERSION + 1;
    expect_refused(version, EPROTO, PCIEM_ERR_ABI_VERSION);

    Request flags;
    flags.req.flags = 1u << 7;
    expect_refused(flags, EINVAL, PCIEM_ERR_FLAGS);

    Request type;
    type.req.header_type = 0x01;
    expect_refused(type, EINVAL, PCIEM_ERR_HEADER_TYPE);

    Request pin;
    pin.req.interrupt_pin = 5;
    expect_refused(pin, EINVAL, PCIEM_ERR_INTX_PIN);

    Request cls;
    cls.req.class_code = 0x1000000;
    expect_refused(cls, EINVAL, PCIEM_ERR_RESERVED);

    Request devfn;
    devfn.req.devfn = 9;  // without PCIEM_CREATE_F_DEVFN
    expect_refused(devfn, EINVAL, PCIEM_ERR_RESERVED);
}

TEST_F(Abi, BarsAreValidated)
{
    Request npot;
    npot.req.bars[2].size = 3000;
    expect_refused(npot, EINVAL, PCIEM_ERR_BAR_SIZE, 2);

    Request tiny;
    tiny.req.bars[3].size = 8;
    expect_refused(tiny, EINVAL, PCIEM_ERR_BAR_SIZE, 3);

    pciem_info info = get_info(ctl);
    Request big;
    big.req.bars[2].size = info.window64_size * 2;
    big.req.bars[2].flags = PCIEM_BAR_MEM64;
    expect_refused(big, EFBIG, PCIEM_ERR_BAR_TOO_BIG, 2);

    Request flags;
    flags.req.bars[2].size = 4096;
    flags.req.bars[2].flags = 1u << 5;
    expect_refused(flags, EINVAL, PCIEM_ERR_BAR_FLAGS, 2);

    Request empty_flags;
    empty_flags.req.bars[4].flags = PCIEM_BAR_PREFETCH;
    expect_refused(empty_flags, EINVAL, PCIEM_ERR_BAR_FLAGS, 4);

    // A 64-bit BAR in the last slot would need a seventh slot.
    Request seventh;
    seventh.req.bars[5].size = 4096;
    seventh.req.bars[5].flags = PCIEM_BAR_MEM64;
    expect_refused(seventh, EINVAL, PCIEM_ERR_BAR_SLOT, 5);

    // BAR 1 is the upper half of 64-bit BAR 0.
    Request upper;
    upper.req.bars[1].size = 4096;
    expect_refused(upper, EINVAL, PCIEM_ERR_BAR_SLOT, 0);

    Request reserved;
    reserved.req.bars[0].reserved = 1;
    expect_refused(reserved, EINVAL, PCIEM_ERR_RESERVED, 0);
}

TEST_F(Abi, CapabilitiesAreValidated)
{
    Request type;
    type.cap(PCIEM_CAP_PM);
    type.cap(99);
    expect_refused(type, EINVAL, PCIEM_ERR_CAP_TYPE, 1);

    Request overlap;
    overlap.cap(PCIEM_CAP_PM, 0x40);
    overlap.cap(PCIEM_CAP_MSI, 0x44).msi.vectors = 1;
    expect_refused(overlap, EINVAL, PCIEM_ERR_CAP_OVERLAP, 1);

    Request in_header;
    in_header.cap(PCIEM_CAP_PM, 0x20);
    expect_refused(in_header, EINVAL, PCIEM_ERR_CAP_OFFSET, 0);

    Request misaligned;
    misaligned.cap(PCIEM_CAP_PM, 0x42);
    expect_refused(misaligned, EINVAL, PCIEM_ERR_CAP_OFFSET, 0);

    Request std_in_ext;
    std_in_ext.cap(PCIEM_CAP_PM, 0x100);
    expect_refused(std_in_ext, EINVAL, PCIEM_ERR_CAP_OFFSET, 0);

    Request msi;
    msi.cap(PCIEM_CAP_MSI).msi.vectors = 3;
    expect_refused(msi, EINVAL, PCIEM_ERR_CAP_PARAM, 0);

    Request msix;
    pciem_cap &x = msix.cap(PCIEM_CAP_MSIX);
    x.msix.vectors = 4;
    x.msix.table_bar = 2;  // no BAR 2
    expect_refused(msix, EINVAL, PCIEM_ERR_CAP_PARAM, 0);

    Request msix_fit;
    pciem_cap &y = msix_fit.cap(PCIEM_CAP_MSIX);
    y.msix.vectors = 512;  // 8 KiB table in a 4 KiB BAR
    expect_refused(msix_fit, EINVAL, PCIEM_ERR_CAP_PARAM, 0);

    Request dup;
    dup.cap(PCIEM_CAP_MSI).msi.vectors = 1;
    dup.cap(PCIEM_CAP_MSI).msi.vectors = 1;
    expect_refused(dup, EINVAL, PCIEM_ERR_CAP_DUPLICATE, 1);

    Request aer;
    aer.cap(PCIEM_CAP_EXT_AER);
    expect_refused(aer, EINVAL, PCIEM_ERR_CAP_NEEDS_PCIE, 0);

    Request reserved;
    reserved.cap(PCIEM_CAP_PM).raw[30] = 1;
    expect_refused(reserved, EINVAL, PCIEM_ERR_RESERVED, 0);

    Request cap_flags;
    cap_flags.cap(PCIEM_CAP_PM).flags = 1;
    expect_refused(cap_flags, EINVAL, PCIEM_ERR_FLAGS, 0);

    Request no_room;
    for (int i = 0; i < 4; i++)
        no_room.cap(PCIEM_CAP_RAW).body.id = 0x0a;  // 60 bytes each
    for (auto &c : no_room.caps)
        c.body.len = 58;
    std::vector<uint8_t> body(58, 0xab);
    for (auto &c : no_room.caps)
        c.body.data_ptr = reinterpret_cast<uintptr_t>(body.data());
    expect_refused(no_room, ENOSPC, PCIEM_ERR_CAP_NO_ROOM, 3);
}

TEST_F(Abi, CapabilityRecordsAreValidated)
{
    Request small;
    small.cap(PCIEM_CAP_PM).size = 16;
    expect_refused(small, EINVAL, PCIEM_ERR_CAP_SIZE, 0);

    Request odd;
    odd.cap(PCIEM_CAP_PM);
    pciem_create req = *odd.finish();
    req.caps_len -= 4;
    Outcome o = create_raw(ctl, req);
    EXPECT_EQ(o.err, EINVAL);
    EXPECT_EQ(o.detail.code, PCIEM_ERR_CAPS_LEN);

    // A record from a newer header: larger, and accepted only if the
    // fields this kernel does not know are zero.
    std::vector<uint8_t> buf(sizeof(pciem_cap) + 16, 0);
    pciem_cap c{};
    c.size = static_cast<uint32_t>(buf.size());
    c.type = PCIEM_CAP_PM;
    memcpy(buf.data(), &c, sizeof(c));
    Request newer;
    pciem_create nr = *newer.finish();
    nr.caps_ptr = reinterpret_cast<uintptr_t>(buf.data());
    nr.caps_len = static_cast<uint32_t>(buf.size());
    o = create_raw(ctl, nr);
    EXPECT_GE(o.fd, 0) << strerror(o.err);
    if (o.fd >= 0)
        close(o.fd);
    buf.back() = 1;
    o = create_raw(ctl, nr);
    EXPECT_EQ(o.err, E2BIG);
    EXPECT_EQ(o.detail.code, PCIEM_ERR_CAP_SIZE);

    Request many;
    for (int i = 0; i < PCIEM_MAX_CAPS + 1; i++)
        many.cap(PCIEM_CAP_VENDOR);
    expect_refused(many, EINVAL, PCIEM_ERR_CAPS_LEN, PCIEM_MAX_CAPS);
}

TEST_F(Abi, ThirtyTwoSlotsThenTheBusIsFull)
{
    std::vector<int> fds;
    for (int i = 0; i < 32; i++) {
        Request r;
        Outcome o = create(ctl, r);
        ASSERT_GE(o.fd, 0) << "function " << i << ": " << strerror(o.err);
        fds.push_back(o.fd);
    }
    Request extra;
    expect_refused(extra, ENOSPC, PCIEM_ERR_BUS_FULL);

    // A fixed devfn in a used slot is busy; function 1 of it is free.
    pciem_dev_info first = dev_info(fds[0]);
    Request busy;
    busy.req.flags = PCIEM_CREATE_F_DEVFN;
    busy.req.devfn = first.devfn;
    expect_refused(busy, EBUSY, PCIEM_ERR_DEVFN_BUSY);

    Request fn1;
    fn1.req.flags = PCIEM_CREATE_F_DEVFN;
    fn1.req.devfn = static_cast<uint8_t>(first.devfn | 1);
    Outcome o = create(ctl, fn1);
    ASSERT_GE(o.fd, 0) << strerror(o.err);
    EXPECT_TRUE(fs::exists(sysfs_path(dev_info(o.fd))));
    fds.push_back(o.fd);

    // Every one of the 33 functions is on the bus.
    for (int fd : fds)
        EXPECT_TRUE(fs::exists(sysfs_path(dev_info(fd))));
    for (int fd : fds)
        close(fd);
}

TEST_F(Abi, MultiFunctionDevice)
{
    Request f0;
    f0.req.flags = PCIEM_CREATE_F_DEVFN;
    f0.req.devfn = (7 << 3) | 0;
    f0.req.header_type = 0x80;
    Outcome o0 = create(ctl, f0);
    ASSERT_GE(o0.fd, 0) << strerror(o0.err);
    Request f3;
    f3.req.flags = PCIEM_CREATE_F_DEVFN;
    f3.req.devfn = (7 << 3) | 3;
    f3.req.header_type = 0x80;
    f3.req.device_id = 0x10f3;
    Outcome o3 = create(ctl, f3);
    ASSERT_GE(o3.fd, 0) << strerror(o3.err);
    fs::path p0 = sysfs_path(dev_info(o0.fd)), p3 = sysfs_path(dev_info(o3.fd));
    EXPECT_TRUE(fs::exists(p0));
    EXPECT_EQ(read_file(p3 / "device"), "0x10f3");
    // Removing one function leaves its sibling alone.
    close(o3.fd);
    EXPECT_FALSE(fs::exists(p3));
    EXPECT_TRUE(fs::exists(p0));
    close(o0.fd);
}

TEST_F(Abi, ListShowsFunctionsAndOwners)
{
    Request r;
    r.req.device_id = 0x1234;
    Outcome o = create(ctl, r);
    ASSERT_GE(o.fd, 0);
    pciem_dev_info di = dev_info(o.fd);
    std::vector<pciem_list_entry> entries(256);
    pciem_list l{};
    l.size = sizeof(l);
    l.entry_size = sizeof(pciem_list_entry);
    l.capacity = static_cast<uint32_t>(entries.size());
    l.entries_ptr = reinterpret_cast<uintptr_t>(entries.data());
    ASSERT_EQ(ioctl(ctl, PCIEM_IOC_LIST, &l), 0) << strerror(errno);
    bool found = false;
    for (uint32_t i = 0; i < l.count; i++) {
        const pciem_list_entry &e = entries[i];
        if (e.devfn != di.devfn)
            continue;
        found = true;
        EXPECT_EQ(e.device_id, 0x1234);
        EXPECT_EQ(e.owner_pid, getpid());
        EXPECT_EQ(e.state, static_cast<uint32_t>(PCIEM_STATE_PRESENT));
    }
    EXPECT_TRUE(found);

    l.entry_size = 4;
    errno = 0;
    EXPECT_EQ(ioctl(ctl, PCIEM_IOC_LIST, &l), -1);
    EXPECT_EQ(errno, EINVAL);
    close(o.fd);
}

TEST_F(Abi, OwnerDeathRemovesTheFunction)
{
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        Request r;
        Outcome o = create(ctl, r);
        pciem_dev_info di{};
        if (o.fd >= 0)
            di = dev_info(o.fd);
        if (write(pipefd[1], &di, sizeof(di)) != sizeof(di))
            _exit(1);
        pause();
        _exit(0);
    }
    pciem_dev_info di{};
    ASSERT_EQ(read(pipefd[0], &di, sizeof(di)), static_cast<ssize_t>(sizeof(di)));
    ASSERT_NE(di.domain, 0u) << "child could not create a function";
    fs::path p = sysfs_path(di);
    EXPECT_TRUE(fs::exists(p));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_FALSE(fs::exists(p)) << "owner death must hot-remove " << p;
    close(pipefd[0]);
    close(pipefd[1]);
}

TEST_F(Abi, UserspaceMappingsOfTrappedBarsAreRefused)
{
    Request r;
    Outcome o = create(ctl, r);
    ASSERT_GE(o.fd, 0) << strerror(o.err);
    pciem_dev_info di = dev_info(o.fd);
    // Enable memory decode as a driver would, so only PCIem refuses.
    std::string res = (sysfs_path(di) / "resource0").string();
    int fd = open(res.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0) << res << ": " << strerror(errno);
    errno = 0;
    void *p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT_EQ(p, MAP_FAILED) << "sysfs resource0 mmap of a trapped BAR must fail";
    EXPECT_EQ(errno, EPERM);
    if (p != MAP_FAILED)
        munmap(p, 4096);
    close(fd);

    int mem = open("/dev/mem", O_RDWR | O_CLOEXEC);
    if (mem >= 0) {
        errno = 0;
        p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, mem, static_cast<off_t>(di.bar_start[0]));
        EXPECT_EQ(p, MAP_FAILED) << "/dev/mem mmap of a PCIem window must fail";
        if (p != MAP_FAILED)
            munmap(p, 4096);
        uint32_t v = 0;
        errno = 0;
        EXPECT_EQ(pread(mem, &v, sizeof(v), static_cast<off_t>(di.bar_start[0])), -1)
            << "/dev/mem read of a PCIem window must fail";
        close(mem);
    }
    close(o.fd);
}

TEST(AbiPermissions, NonRootIsRefused)
{
    struct stat st{};
    ASSERT_EQ(stat(PCIEM_CONTROL_NODE, &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(10);
        int fd = open(PCIEM_CONTROL_NODE, O_RDWR);
        _exit(fd < 0 && errno == EACCES ? 0 : 11);
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "non-root open must fail with EACCES, status " << status;

    // Even with the node opened up, the capability check refuses.
    ASSERT_EQ(chmod(PCIEM_CONTROL_NODE, 0666), 0);
    child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(10);
        int fd = open(PCIEM_CONTROL_NODE, O_RDWR);
        _exit(fd < 0 && errno == EPERM ? 0 : fd < 0 ? 20 + errno : 11);
    }
    waitpid(child, &status, 0);
    chmod(PCIEM_CONTROL_NODE, 0600);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "non-root open of a 0666 node must fail with EPERM, status " << status;
}

}  // namespace
