// SPDX-License-Identifier: MIT
//
// Raw-ioctl helpers the guest test programs share (no libpciem, so each
// test checks pciem.ko's contract on its own): opening the control node,
// building PCIEM_IOC_CREATE requests, and finding a function in sysfs.
#pragma once

#include <linux/pciem.h>

#include <fcntl.h>
#include <sys/ioctl.h>
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

namespace pciem_test {

namespace fs = std::filesystem;

inline int open_control()
{
    int fd = open(PCIEM_CONTROL_NODE, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        ADD_FAILURE() << "open " << PCIEM_CONTROL_NODE << ": " << strerror(errno);
    return fd;
}

inline pciem_info get_info(int ctl)
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

inline Outcome create_raw(int ctl, pciem_create req)
{
    int fd = ioctl(ctl, PCIEM_IOC_CREATE, &req);
    return {fd, fd < 0 ? errno : 0, req.error};
}

inline Outcome create(int ctl, Request &r)
{
    return create_raw(ctl, *r.finish());
}

inline std::string sysfs_name(const pciem_dev_info &di)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", di.domain, di.bus, di.devfn >> 3,
             di.devfn & 7);
    return buf;
}

inline pciem_dev_info dev_info(int fd)
{
    pciem_dev_info di{};
    di.size = sizeof(di);
    EXPECT_EQ(ioctl(fd, PCIEM_IOC_DEV_INFO, &di), 0) << strerror(errno);
    return di;
}

inline fs::path sysfs_path(const pciem_dev_info &di)
{
    return fs::path("/sys/bus/pci/devices") / sysfs_name(di);
}

inline std::string read_file(const fs::path &p)
{
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

} // namespace pciem_test
