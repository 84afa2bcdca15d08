// SPDX-License-Identifier: MIT
//
// RegisterMap declarations and their validation. The access path (split
// and dispatch) is in regmap_access.cpp.
#include "pciem/regmap.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

namespace pciem {

Register& RegisterMap::reg(uint64_t offset, unsigned bits, std::string name) {
    sealed_ = false;
    unsigned bytes = bits / 8;
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
        declaration_errors_.push_back(fmt::format(
            "{} has a width of {} bits; registers are 8, 16, 32 or 64 bits wide", name, bits));
        bytes = 4; // keep a usable object; seal() fails anyway
    }
    return regs_.emplace_back(offset, bytes, std::move(name));
}

MemoryRange& RegisterMap::memory(uint64_t offset, uint64_t len, std::string name) {
    sealed_ = false;
    if (len == 0) {
        declaration_errors_.push_back(fmt::format("memory range {} is empty", name));
    }
    return mems_.emplace_back(offset, len, std::move(name));
}

RegisterMap& RegisterMap::unmapped(UnmappedPolicy policy) {
    policy_ = policy;
    return *this;
}

RegisterMap& RegisterMap::observe_writes(WriteObserver observer) {
    observer_ = std::move(observer);
    return *this;
}

RegisterMap& RegisterMap::fallback(UnmappedRead read, UnmappedWrite write) {
    fallback_read_ = std::move(read);
    fallback_write_ = std::move(write);
    return *this;
}

RegisterMap& RegisterMap::log_to(LogSink sink) {
    log_ = std::move(sink);
    return *this;
}

void RegisterMap::build_index() {
    index_.clear();
    for (auto& r : regs_) {
        index_.push_back({r.offset(), r.end(), &r, nullptr});
    }
    for (auto& m : mems_) {
        index_.push_back({m.offset(), m.end(), nullptr, &m});
    }
    std::sort(index_.begin(), index_.end(),
              [](const Entry& a, const Entry& b) { return a.start < b.start; });
}

namespace {

std::string describe(const Register* r, const MemoryRange* m) {
    if (r != nullptr) {
        return fmt::format("{} ({:#x}, {} bytes)", r->name(), r->offset(), r->width());
    }
    return fmt::format("{} ({:#x}..{:#x})", m->name(), m->offset(), m->end() - 1);
}

} // namespace

Result<void> RegisterMap::seal() {
    build_index();
    std::vector<std::string> errors = declaration_errors_;
    for (const auto& r : regs_) {
        // Misaligned registers do not exist on PCIe: a naturally aligned
        // access must never straddle one register's boundary.
        if (r.offset() % r.width() != 0) {
            errors.push_back(fmt::format("{} is not aligned to its width", describe(&r, nullptr)));
        }
    }
    for (const auto& e : index_) {
        if (e.end > size_ || e.end < e.start) {
            errors.push_back(
                fmt::format("{} lies beyond the BAR size {:#x}", describe(e.reg, e.mem), size_));
        }
    }
    for (size_t i = 1; i < index_.size(); ++i) {
        const Entry& a = index_[i - 1];
        const Entry& b = index_[i];
        if (b.start < a.end) {
            errors.push_back(
                fmt::format("{} overlaps {}", describe(b.reg, b.mem), describe(a.reg, a.mem)));
        }
    }
    if (!errors.empty()) {
        // Nothing is served from a map that is wrong: every access
        // falls to the unmapped policy, loudly in the error.
        index_.clear();
        std::string text = fmt::format("{} map: {}", name_, errors.front());
        if (errors.size() > 1) {
            text += fmt::format(" (and {} more problem{})", errors.size() - 1,
                                errors.size() > 2 ? "s" : "");
        }
        return fail(EINVAL, text);
    }
    sealed_ = true;
    return {};
}

Register* RegisterMap::find(std::string_view name) {
    for (auto& r : regs_) {
        if (r.name() == name) {
            return &r;
        }
    }
    return nullptr;
}

const Register* RegisterMap::register_at(uint64_t offset) const {
    for (const auto& r : regs_) {
        if (offset >= r.offset() && offset < r.end()) {
            return &r;
        }
    }
    return nullptr;
}

void RegisterMap::log_unmapped(const char* what, uint64_t offset, unsigned len) {
    if (!policy_.log) {
        return;
    }
    // Name the register below the hole: "4 bytes after LAST_WRITE" is
    // what a driver writer needs to find the off-by-one.
    std::string near;
    for (const auto& e : index_) {
        if (e.reg != nullptr && e.end <= offset) {
            near = fmt::format(" ({} bytes after {})", offset - e.start, e.reg->name());
        }
    }
    const std::string line = fmt::format("{}: {} of {} byte{} at {:#x} hits no register{}", name_,
                                         what, len, len == 1 ? "" : "s", offset, near);
    if (log_) {
        log_(line);
    } else {
        std::fprintf(stderr, "pciem: %s\n", line.c_str());
    }
}

} // namespace pciem
