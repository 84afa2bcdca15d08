// SPDX-License-Identifier: MIT
//
// Control: the /dev/pciem control node. Opening it needs root; it is the
// place to ask what the PCIem instance offers, to list existing
// functions and to create new ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/pciem.h>

#include "pciem/address.hpp"
#include "pciem/device.hpp"
#include "pciem/device_spec.hpp"
#include "pciem/error.hpp"
#include "pciem/faults.hpp"
#include "pciem/unique_fd.hpp"

namespace pciem {

class Control {
public:
    static Result<Control> open(const std::string& path = PCIEM_CONTROL_NODE);

    // PCIEM_IOC_GET_INFO: domain, bus, BAR windows, ABI version.
    [[nodiscard]] Result<pciem_info> info() const;
    // PCIEM_IOC_CREATE: the returned Device owns the new function. On
    // failure the message names the BAR or capability at fault.
    // create_flags adds PCIEM_CREATE_F_* bits (e.g. PCIEM_CREATE_F_DEFER_ADD:
    // the function goes on the bus only at Device::start()).
    [[nodiscard]] Result<Device> create(const DeviceSpec& spec, uint32_t create_flags = 0) const;
    // PCIEM_IOC_LIST: every PCIem function that exists now, whoever owns it.
    [[nodiscard]] Result<std::vector<pciem_list_entry>> list() const;

    // PCIEM_IOC_INJECT: a fault for the function at `at`. Returns the
    // rule's id (0 for a one-off action, which has happened on return).
    [[nodiscard]] Result<uint32_t> inject(const PciAddress& at, const FaultRequest& fault) const;
    // PCIEM_IOC_INJECT_CLEAR: rule `id` of that function, or all (0).
    [[nodiscard]] Result<void> clear_faults(const PciAddress& at, uint32_t id = 0) const;
    // PCIEM_IOC_RECORD: a read-only fd of the function's records
    // (docs/abi.md); buffer_kb 0 is the kernel's default (16 MiB).
    [[nodiscard]] Result<UniqueFd> record(const PciAddress& at, uint32_t buffer_kb = 0) const;

    [[nodiscard]] int fd() const { return fd_.get(); }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    Control(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
};

} // namespace pciem
