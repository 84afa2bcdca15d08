// SPDX-License-Identifier: MIT
#include <cerrno>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pciem/error_text.hpp"

namespace {

using ::testing::HasSubstr;

TEST(ErrorText, ErrnoNames) {
    EXPECT_EQ(pciem::errno_name(EINVAL), "EINVAL");
    EXPECT_EQ(pciem::errno_name(ENOSPC), "ENOSPC");
    EXPECT_EQ(pciem::errno_name(99999), "errno 99999");
}

TEST(ErrorText, BarErrorNamesTheBar) {
    const auto spec = pciem::DeviceSpec{}.ids(1, 2).bar(2, pciem::Bar::mem32(3000));
    const pciem_error err{PCIEM_ERR_BAR_SIZE, 2};
    EXPECT_EQ(pciem::describe_create_error(EINVAL, err, spec),
              "BAR 2 (mem32, size 3000): BAR size must be a power of two of at least 16 bytes "
              "(4 KiB for a RAM BAR) (EINVAL)");
}

TEST(ErrorText, BarSlotErrorSaysWhatToDo) {
    const auto spec = pciem::DeviceSpec{}
                          .bar(0, pciem::Bar::mem64(4096).prefetchable())
                          .bar(1, pciem::Bar::mem32(16));
    const pciem_error err{PCIEM_ERR_BAR_SLOT, 0};
    EXPECT_EQ(pciem::describe_create_error(EINVAL, err, spec),
              std::string("BAR 0 (mem64 prefetchable, size 4096): ") +
                  pciem_err_str(PCIEM_ERR_BAR_SLOT) + " (EINVAL); leave BAR 1 empty");
}

TEST(ErrorText, CapabilityErrorNamesTheCapability) {
    const auto spec = pciem::DeviceSpec{}.pm().msi(4).msix(8, 0, 0, 0, 0x800, 0x50).pcie();
    EXPECT_EQ(pciem::describe_create_error(EINVAL, {PCIEM_ERR_CAP_OVERLAP, 2}, spec),
              "capability 2 (msix at 0x50): capability overlaps the header or another "
              "capability (EINVAL)");
    EXPECT_EQ(pciem::describe_create_error(EINVAL, {PCIEM_ERR_CAP_PARAM, 1}, spec),
              std::string("capability 1 (msi): ") + pciem_err_str(PCIEM_ERR_CAP_PARAM) +
                  " (EINVAL)");
    EXPECT_EQ(pciem::describe_create_error(EINVAL, {PCIEM_ERR_CAP_NEEDS_PCIE, 3}, spec),
              std::string("capability 3 (pcie): ") + pciem_err_str(PCIEM_ERR_CAP_NEEDS_PCIE) +
                  " (EINVAL); add a pcie capability");
}

TEST(ErrorText, CodesWithoutIndexHaveNoContext) {
    EXPECT_EQ(pciem::describe_create_error(EBUSY, {PCIEM_ERR_DEVFN_BUSY, 0}, {}),
              std::string(pciem_err_str(PCIEM_ERR_DEVFN_BUSY)) +
                  " (EBUSY); choose another slot/function, or leave them out to let PCIem pick");
}

TEST(ErrorText, ErrnoOnlyFailures) {
    EXPECT_THAT(pciem::describe_create_error(EPROTO, {}, {}),
                HasSubstr("ABI version mismatch between libpciem (version 1) and pciem.ko"));
    EXPECT_EQ(pciem::describe_open_error(ENOENT, "/dev/pciem"),
              "/dev/pciem does not exist: pciem.ko is not loaded (load it with `modprobe "
              "pciem` or `insmod pciem.ko`) (ENOENT)");
    EXPECT_THAT(pciem::describe_open_error(EACCES, "/dev/pciem"), HasSubstr("run as root"));
    EXPECT_THAT(pciem::describe_open_error(EPERM, "/dev/pciem"), HasSubstr("(EPERM)"));
    EXPECT_EQ(pciem::describe_errno(ENOMEM, "PCIEM_IOC_LIST"),
              "PCIEM_IOC_LIST: Cannot allocate memory (ENOMEM)");
}

} // namespace
