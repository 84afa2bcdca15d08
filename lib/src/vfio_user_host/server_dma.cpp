// SPDX-License-Identifier: MIT
#include "server_dma.hpp"

#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "pciem/error_text.hpp"

namespace pciem::vfu {

namespace {

const char* access_name(bool write) {
    return write ? "write" : "read";
}

DmaFault fault(DmaFaultKind kind, uint64_t at, std::string what) {
    return DmaFault{kind, at,
                    fmt::format("DMA {}: {} ({})", what, dma_fault_name(kind),
                                kind == DmaFaultKind::bus_master_off
                                    ? "the client has not set Bus Master Enable"
                                    : "outside the client's DMA_MAP regions or their flags")};
}

} // namespace

Result<void> ServerDma::map(const vfio_user::DmaMap& m, UniqueFd fd) {
    const std::unique_lock lock(lock_);
    // Regions never overlap (the spec: EEXIST for a map over another).
    auto next = regions_.lower_bound(m.addr);
    if (next != regions_.end() && next->first < m.addr + m.size) {
        return fail(EEXIST, fmt::format("DMA_MAP {:#x}+{:#x} overlaps the region at {:#x}",
                                        m.addr, m.size, next->first));
    }
    if (next != regions_.begin()) {
        const auto prev = std::prev(next);
        if (prev->first + prev->second.size > m.addr) {
            return fail(EEXIST, fmt::format("DMA_MAP {:#x}+{:#x} overlaps the region at {:#x}",
                                            m.addr, m.size, prev->first));
        }
    }
    Region r{m.size, m.flags, nullptr};
    if (fd.valid()) {
        struct stat st{};
        if (::fstat(fd.get(), &st) != 0) {
            const int e = errno;
            return fail(e, describe_errno(e, "DMA_MAP: fstat of its descriptor"));
        }
        // A file shorter than the region would fault (SIGBUS) on access.
        if (S_ISREG(st.st_mode) &&
            (m.offset > static_cast<uint64_t>(st.st_size) ||
             m.size > static_cast<uint64_t>(st.st_size) - m.offset)) {
            return fail(EINVAL, fmt::format("DMA_MAP {:#x}+{:#x}: its file has {} bytes, less "
                                            "than offset {:#x} plus the size",
                                            m.addr, m.size, st.st_size, m.offset));
        }
        int prot = PROT_NONE;
        prot |= (m.flags & vfio_user::dma_read_flag) != 0 ? PROT_READ : 0;
        prot |= (m.flags & vfio_user::dma_write_flag) != 0 ? PROT_WRITE : 0;
        void* p = ::mmap(nullptr, m.size, prot, MAP_SHARED, fd.get(), static_cast<off_t>(m.offset));
        if (p == MAP_FAILED) {
            const int e = errno;
            return fail(e, describe_errno(e, fmt::format("DMA_MAP {:#x}+{:#x}: mmap of its "
                                                         "descriptor at offset {:#x}",
                                                         m.addr, m.size, m.offset)));
        }
        r.memory = static_cast<std::byte*>(p);
    }
    regions_.emplace(m.addr, r);
    return {};
}

Result<void> ServerDma::unmap(uint64_t address, uint64_t size) {
    // The exclusive lock waits for every access in flight.
    const std::unique_lock lock(lock_);
    const auto it = regions_.find(address);
    if (it == regions_.end() || it->second.size != size) {
        return fail(ENOENT, fmt::format("DMA_UNMAP {:#x}+{:#x} matches no mapped region", address,
                                        size));
    }
    if (it->second.memory != nullptr) {
        ::munmap(it->second.memory, it->second.size);
    }
    regions_.erase(it);
    return {};
}

void ServerDma::unmap_all() {
    const std::unique_lock lock(lock_);
    for (auto& [addr, r] : regions_) {
        if (r.memory != nullptr) {
            ::munmap(r.memory, r.size);
        }
    }
    regions_.clear();
}

size_t ServerDma::regions() const {
    const std::shared_lock lock(lock_);
    return regions_.size();
}

void ServerDma::set_bus_master(bool on) {
    const std::unique_lock lock(lock_);
    bus_master_ = on;
}

DmaResult<const ServerDma::Region*> ServerDma::check(uint64_t address, uint64_t length,
                                                     Access access, uint64_t& start) const {
    const bool write = access == Access::write;
    const std::string what = fmt::format("{} of {} bytes at {:#x}",
                                         access == Access::atomic ? "atomic" : access_name(write),
                                         length, address);
    if (!bus_master_) {
        return std::unexpected(fault(DmaFaultKind::bus_master_off, address, what));
    }
    auto it = regions_.upper_bound(address);
    if (it == regions_.begin()) {
        return std::unexpected(fault(DmaFaultKind::unmapped, address, what));
    }
    --it;
    const Region& r = it->second;
    const uint64_t off = address - it->first;
    if (off >= r.size) {
        return std::unexpected(fault(DmaFaultKind::unmapped, address, what));
    }
    if (length > r.size - off) {
        return std::unexpected(fault(DmaFaultKind::bounds, it->first + r.size, what));
    }
    const bool need_read = access != Access::write;
    const bool need_write = access != Access::read;
    if ((need_read && (r.flags & vfio_user::dma_read_flag) == 0) ||
        (need_write && (r.flags & vfio_user::dma_write_flag) == 0)) {
        return std::unexpected(fault(DmaFaultKind::direction, address, what));
    }
    start = it->first;
    return &r;
}

DmaResult<void> ServerDma::read(uint64_t address, std::span<std::byte> out) {
    const std::shared_lock lock(lock_);
    uint64_t start = 0;
    auto r = check(address, out.size(), Access::read, start);
    if (!r) {
        return std::unexpected(r.error());
    }
    if ((*r)->memory != nullptr) {
        std::memcpy(out.data(), (*r)->memory + (address - start), out.size());
        return {};
    }
    if (auto ok = transfer_(false, address, out); !ok) {
        return std::unexpected(DmaFault{DmaFaultKind::no_host, address, ok.error().message});
    }
    return {};
}

DmaResult<void> ServerDma::write(uint64_t address, std::span<const std::byte> in) {
    const std::shared_lock lock(lock_);
    uint64_t start = 0;
    auto r = check(address, in.size(), Access::write, start);
    if (!r) {
        return std::unexpected(r.error());
    }
    if ((*r)->memory != nullptr) {
        std::memcpy((*r)->memory + (address - start), in.data(), in.size());
        return {};
    }
    // The transfer only reads the bytes it is given to write.
    std::vector<std::byte> copy(in.begin(), in.end());
    if (auto ok = transfer_(true, address, copy); !ok) {
        return std::unexpected(DmaFault{DmaFaultKind::no_host, address, ok.error().message});
    }
    return {};
}

template <class Op>
DmaResult<uint64_t> ServerDma::atomic(uint64_t address, unsigned size, Op op) {
    if ((size != 4 && size != 8) || address % size != 0) {
        return std::unexpected(DmaFault{
            DmaFaultKind::alignment, address,
            fmt::format("DMA atomic of {} bytes at {:#x}: {}", size, address,
                        dma_fault_name(DmaFaultKind::alignment))});
    }
    const std::shared_lock lock(lock_);
    uint64_t start = 0;
    auto r = check(address, size, Access::atomic, start);
    if (!r) {
        return std::unexpected(r.error());
    }
    if ((*r)->memory != nullptr) {
        std::byte* p = (*r)->memory + (address - start);
        if (size == 4) {
            std::atomic_ref<uint32_t> a(*reinterpret_cast<uint32_t*>(p));
            uint32_t old = a.load();
            while (!a.compare_exchange_weak(old, static_cast<uint32_t>(op(old)))) {
            }
            return old;
        }
        std::atomic_ref<uint64_t> a(*reinterpret_cast<uint64_t*>(p));
        uint64_t old = a.load();
        while (!a.compare_exchange_weak(old, op(old))) {
        }
        return old;
    }
    // Through messages: a read and a write, atomic against the device's
    // other accesses (this lock) but not against the client's CPUs.
    uint64_t old = 0;
    auto bytes = std::as_writable_bytes(std::span(&old, 1)).first(size);
    if (auto ok = transfer_(false, address, bytes); !ok) {
        return std::unexpected(DmaFault{DmaFaultKind::no_host, address, ok.error().message});
    }
    uint64_t next = op(old);
    if (auto ok = transfer_(true, address, std::as_writable_bytes(std::span(&next, 1)).first(size));
        !ok) {
        return std::unexpected(DmaFault{DmaFaultKind::no_host, address, ok.error().message});
    }
    return old;
}

DmaResult<uint64_t> ServerDma::fetch_add(uint64_t address, uint64_t addend, unsigned size) {
    return atomic(address, size, [addend](uint64_t old) { return old + addend; });
}

DmaResult<uint64_t> ServerDma::swap(uint64_t address, uint64_t value, unsigned size) {
    return atomic(address, size, [value](uint64_t) { return value; });
}

DmaResult<uint64_t> ServerDma::compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                            unsigned size) {
    return atomic(address, size,
                  [expected, desired](uint64_t old) { return old == expected ? desired : old; });
}

} // namespace pciem::vfu
