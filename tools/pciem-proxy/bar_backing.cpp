// SPDX-License-Identifier: MIT
#include "bar_backing.hpp"

#include <sys/mman.h>

#include <cstring>

#include <fmt/format.h>
#include <linux/pciem.h>

namespace pciem::proxy {

namespace {

uint64_t round_up(uint64_t v, uint64_t page) {
    return (v + page - 1) & ~(page - 1);
}

uint64_t round_down(uint64_t v, uint64_t page) {
    return v & ~(page - 1);
}

void plan_bar(const ServerDevice& dev, unsigned bar, uint64_t page, BackingPlan& plan) {
    const vfio_user::RegionInfo& r = dev.regions[bar];
    if (r.size > PCIEM_MAX_RAM_BAR) {
        plan.notes.push_back(fmt::format("BAR {} is offered as mmap()able, but at {} bytes it is "
                                         "larger than PCIem backs ({}): it stays trapped",
                                         bar, r.size, PCIEM_MAX_RAM_BAR));
        return;
    }
    for (const vfio_user::MmapArea& a : r.mmap_areas) {
        // decode_region_info() keeps areas inside the region.
        const uint64_t start = round_up(a.offset, page);
        const uint64_t end = round_down(a.offset + a.size, page);
        if ((r.offset + start) % page != 0) {
            plan.notes.push_back(fmt::format("BAR {} bytes {:#x}..{:#x} are mmap()able only at "
                                             "an fd offset that is not page aligned ({:#x}): they "
                                             "stay trapped",
                                             bar, a.offset, a.offset + a.size, r.offset + start));
            continue;
        }
        if (start >= end) {
            plan.notes.push_back(fmt::format("BAR {} bytes {:#x}..{:#x} hold no whole page: they "
                                             "stay trapped",
                                             bar, a.offset, a.offset + a.size));
            continue;
        }
        if (start != a.offset || end != a.offset + a.size) {
            plan.notes.push_back(fmt::format("BAR {} bytes {:#x}..{:#x}: only the whole pages "
                                             "{:#x}..{:#x} are shared, the rest stays trapped",
                                             bar, a.offset, a.offset + a.size, start, end));
        }
        plan.pieces.push_back({bar, start, end - start, r.offset + start});
    }
}

} // namespace

BackingPlan plan_bar_backing(const ServerDevice& dev, const Mirror& mirror, size_t page_size) {
    BackingPlan plan;
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        if (mirror.bar_present[bar] && dev.region_fds[bar].valid() &&
            !dev.regions[bar].mmap_areas.empty()) {
            plan_bar(dev, bar, page_size, plan);
        }
    }
    return plan;
}

uint64_t apply_bar_backing(const ServerDevice& dev, const BackingPlan& plan, const BackFn& back,
                           std::vector<std::string>& notes) {
    uint64_t backed = 0;
    for (const BackingPiece& p : plan.pieces) {
        void* addr = ::mmap(nullptr, p.len, PROT_READ | PROT_WRITE, MAP_SHARED,
                            dev.region_fds[p.bar].get(), static_cast<off_t>(p.file_offset));
        if (addr == MAP_FAILED) {
            notes.push_back(fmt::format("BAR {} bytes {:#x}..{:#x} stay trapped: mapping the "
                                        "server's region fd failed: {}",
                                        p.bar, p.bar_offset, p.bar_offset + p.len,
                                        std::strerror(errno)));
            continue;
        }
        auto ok = back(p, addr);
        // The kernel holds the pages now (or refused them): our view goes.
        ::munmap(addr, p.len);
        if (!ok) {
            notes.push_back(fmt::format("BAR {} bytes {:#x}..{:#x} stay trapped: {}", p.bar,
                                        p.bar_offset, p.bar_offset + p.len, ok.error().message));
            continue;
        }
        backed += p.len;
    }
    return backed;
}

} // namespace pciem::proxy
