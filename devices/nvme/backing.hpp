// SPDX-License-Identifier: MIT
//
// Where a namespace keeps its blocks: a file (sparse, pread/pwrite,
// deallocation punches holes) or anonymous memory (reserved lazily, so a
// large namespace costs only what is written). Both read zeros from
// deallocated ranges, which Identify Namespace promises (DLFEAT).
//
// Calls are thread-safe as pread/pwrite are: queue threads may use one
// backing at once on distinct or overlapping blocks (the host orders
// overlapping I/O, as it must with real hardware).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "pciem/error.hpp"

namespace pciem::nvme {

class Backing {
public:
    Backing() = default;
    Backing(const Backing&) = delete;
    Backing& operator=(const Backing&) = delete;
    virtual ~Backing() = default;

    // 0 or an errno. Offsets and lengths lie within size() (callers check).
    virtual int read(uint64_t offset, std::span<std::byte> out) = 0;
    virtual int write(uint64_t offset, std::span<const std::byte> in) = 0;
    // Afterwards the range reads as zeros and, where the medium allows,
    // holds no storage.
    virtual int deallocate(uint64_t offset, uint64_t length) = 0;
    // Makes completed writes durable (Flush, shutdown).
    virtual int flush() = 0;
    [[nodiscard]] virtual uint64_t size() const = 0;
    // The blocks in place, for a backing the model can read without a
    // copy (memory); empty otherwise (then read()).
    [[nodiscard]] virtual std::span<const std::byte> view(uint64_t /*offset*/,
                                                          uint64_t /*length*/) {
        return {};
    }
};

// A window [base, base + size) of a file; several namespaces may share
// one file at different bases. The file is extended (sparsely) to cover
// the window.
Result<std::unique_ptr<Backing>> open_file_backing(const std::string& path, uint64_t base,
                                                   uint64_t size);
Result<std::unique_ptr<Backing>> make_memory_backing(uint64_t size);

} // namespace pciem::nvme
