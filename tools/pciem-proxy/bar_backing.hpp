// SPDX-License-Identifier: MIT
//
// BAR backing: the parts of the server's BARs it offers as mmap()able
// (the whole region with the MMAP flag, or the areas of its sparse mmap
// capability) become plain memory of the PCIem function, shared between
// the server and the driver, instead of trapped accesses forwarded as
// REGION_READ/REGION_WRITE. The proxy maps each piece of the region's fd
// and hands it to pciem.ko (PCIEM_IOC_BAR_BACKING), which pins its pages
// for as long as the function exists; the proxy's own mapping is dropped
// at once. What cannot be backed stays trapped and forwarded.
//
//     auto plan = plan_bar_backing(server, mirror, page_size);
//     auto backed = apply_bar_backing(server, plan, [&](const BackingPiece& p, void* a) {
//         return back_bar(device_fd, p.bar, p.bar_offset, a, p.len);
//     });
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mirror.hpp"
#include "pciem/error.hpp"

namespace pciem::proxy {

// One page-aligned piece of a BAR and where it lies in its region's fd.
struct BackingPiece {
    unsigned bar = 0;
    uint64_t bar_offset = 0;
    uint64_t len = 0;
    uint64_t file_offset = 0;
    friend bool operator==(const BackingPiece&, const BackingPiece&) = default;
};

struct BackingPlan {
    std::vector<BackingPiece> pieces;
    // What is offered as mmap()able but stays trapped, one sentence each.
    std::vector<std::string> notes;
};

// Pure: the pieces to back for every BAR the mirror shows. Areas are cut
// to whole pages (what is left of a page stays trapped) and refused when
// their place in the fd is not page aligned or the BAR is larger than
// pciem.ko backs (PCIEM_MAX_RAM_BAR).
BackingPlan plan_bar_backing(const ServerDevice& dev, const Mirror& mirror, size_t page_size);

// Gives one mapped piece to the kernel (PCIEM_IOC_BAR_BACKING).
using BackFn = std::function<Result<void>(const BackingPiece&, void* addr)>;

// Maps each piece of its region's fd (shared, read-write), calls `back`
// and unmaps it again. A piece that cannot be mapped or that `back`
// refuses stays trapped, with a note. Returns the bytes backed.
uint64_t apply_bar_backing(const ServerDevice& dev, const BackingPlan& plan, const BackFn& back,
                           std::vector<std::string>& notes);

} // namespace pciem::proxy
