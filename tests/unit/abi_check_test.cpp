// SPDX-License-Identifier: MIT
//
// Control::open() agrees on the ABI version with the module before
// anything else. The module is played by a fake control node: a plain
// file whose ioctls this binary answers itself, by defining ioctl(),
// which the program's own definition wins over libc's for libpciem's
// calls too (static or shared). Everything that is not the fake node goes
// on to the real ioctl().
#include <cerrno>
#include <cstdlib>
#include <string>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <linux/pciem.h>

#include "pciem/control.hpp"

namespace {

// What the fake module answers. GET_INFO_ERRNO non-zero: it fails.
struct FakeModule {
    dev_t dev = 0;
    ino_t ino = 0;
    uint32_t abi_version = PCIEM_ABI_VERSION;
    int get_info_errno = 0;
    int get_info_calls = 0;
};
FakeModule fake;

bool is_fake_node(int fd) {
    struct stat st {};
    return fake.ino != 0 && ::fstat(fd, &st) == 0 && st.st_dev == fake.dev && st.st_ino == fake.ino;
}

int fake_ioctl(unsigned long request, void* arg) {
    if (_IOC_TYPE(request) != PCIEM_IOC_MAGIC || _IOC_NR(request) != _IOC_NR(PCIEM_IOC_GET_INFO)) {
        errno = ENOTTY;
        return -1;
    }
    ++fake.get_info_calls;
    if (fake.get_info_errno != 0) {
        errno = fake.get_info_errno;
        return -1;
    }
    auto* info = static_cast<pciem_info*>(arg);
    if (info->size < sizeof(pciem_info) || info->flags != 0) {
        errno = EINVAL;
        return -1;
    }
    info->abi_version = fake.abi_version;
    info->domain = 0x10000;
    info->max_functions = 256;
    return 0;
}

} // namespace

#include "fake_ioctl.hpp"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class AbiCheck : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pciem-fake-node.XXXXXX";
        const int fd = ::mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        path_ = tmpl;
        struct stat st {};
        ASSERT_EQ(::fstat(fd, &st), 0);
        ::close(fd);
        fake = FakeModule{};
        fake.dev = st.st_dev;
        fake.ino = st.st_ino;
    }
    void TearDown() override {
        fake = FakeModule{};
        ::unlink(path_.c_str());
    }
    std::string path_;
};

TEST_F(AbiCheck, SameVersionOpens) {
    auto control = pciem::Control::open(path_);
    ASSERT_TRUE(control) << control.error().message;
    EXPECT_EQ(fake.get_info_calls, 1);
    auto info = control->info();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->abi_version, PCIEM_ABI_VERSION);
}

// A newer module and an older one: either way one sentence with both
// versions and what to do, and nothing that reads like a failed ioctl.
TEST_F(AbiCheck, NewerModuleIsReportedWithBothVersions) {
    fake.abi_version = PCIEM_ABI_VERSION + 1;
    auto control = pciem::Control::open(path_);
    ASSERT_FALSE(control);
    EXPECT_EQ(control.error().errnum, EPROTO);
    const std::string want = "the pciem.ko behind " + path_ + " speaks PCIem ABI version " +
                             std::to_string(PCIEM_ABI_VERSION + 1) +
                             ", but this libpciem speaks version " +
                             std::to_string(PCIEM_ABI_VERSION) +
                             ": install a pciem.ko and a libpciem of the same " + "ABI version";
    EXPECT_THAT(control.error().message, HasSubstr(want));
    EXPECT_THAT(control.error().message,
                AllOf(Not(HasSubstr("ioctl")), Not(HasSubstr("IOC")), Not(HasSubstr("EPROTO"))));
}

TEST_F(AbiCheck, OlderModuleIsReportedWithBothVersions) {
    fake.abi_version = 0;
    auto control = pciem::Control::open(path_);
    ASSERT_FALSE(control);
    EXPECT_THAT(control.error().message, AllOf(HasSubstr("speaks PCIem ABI version 0,"),
                                               HasSubstr("this libpciem speaks version " +
                                                         std::to_string(PCIEM_ABI_VERSION))));
}

// A node that is not PCIem's at all says so, rather than inventing a
// version.
TEST_F(AbiCheck, NodeWithoutPciemIoctls) {
    fake.get_info_errno = ENOTTY;
    auto control = pciem::Control::open(path_);
    ASSERT_FALSE(control);
    EXPECT_EQ(control.error().errnum, ENOTTY);
    EXPECT_THAT(control.error().message,
                AllOf(HasSubstr("does not understand PCIem ioctls"), Not(HasSubstr("version"))));
}

} // namespace
