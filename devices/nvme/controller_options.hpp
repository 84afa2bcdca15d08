// SPDX-License-Identifier: MIT
//
// What a user may choose about the controller (the CLI's options); the
// namespaces are passed separately.
#pragma once

#include <cstdint>
#include <string>

namespace pciem::nvme {

struct ControllerOptions {
    // I/O queue pairs the controller grants (Number of Queues). The Linux
    // driver asks for one per CPU.
    unsigned io_queues = 8;
    // MSI-X table size; 0 means one per I/O queue plus the admin queue's.
    unsigned msix_vectors = 0;
    // CAP.MQES + 1: the largest queue the host may create.
    unsigned max_queue_entries = 1024;
    // CAP.DSTRD: doorbells are (4 << stride) bytes apart.
    unsigned doorbell_stride = 0;
    // Identify Controller MDTS: transfers up to 2^mdts memory pages (of
    // CAP.MPSMIN, 4 KiB).
    unsigned mdts = 8;
    // OACS bit 8: the Doorbell Buffer Config command (shadow doorbells
    // and EventIdx in host memory, NVMe 1.3), which the Linux driver uses
    // for its I/O queues when offered.
    bool shadow_doorbells = true;
    std::string serial = "PCIEM-NVME-0001";
    std::string model = "PCIem NVMe Controller";

    [[nodiscard]] unsigned vectors() const {
        return msix_vectors != 0 ? msix_vectors : io_queues + 1;
    }
};

} // namespace pciem::nvme
