// SPDX-License-Identifier: MIT
//
// ServerDma: the model's dma() on a vfio-user server. The client's
// DMA_MAP regions are the only memory the device may reach: a region
// that came with an fd is mmap()ed (MAP_SHARED, with the protection its
// flags give), one without is reached by DMA_READ/DMA_WRITE messages to
// the client (the `Transfer` the host provides). Every access is checked
// as on every host: Bus Master Enable, every byte inside the one region
// the access starts in, the region readable/writable as the access needs.
// DMA_UNMAP waits for accesses in flight (the spec wants every reference
// released before the reply).
//
// Limit: a client that shrinks a mapped file under the server makes an
// access fault (SIGBUS) as with any mmap(); regions are checked against
// the file's size when mapped.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>
#include <span>

#include "pciem/dma.hpp"
#include "pciem/error.hpp"
#include "pciem/unique_fd.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace pciem::vfu {

class ServerDma final : public Dma {
public:
    // Moves bytes through the client: read into `buf` (write == false)
    // or write `buf` (write == true) at bus address `address`.
    using Transfer = std::function<Result<void>(bool write, uint64_t address,
                                                std::span<std::byte> buf)>;
    explicit ServerDma(Transfer transfer) : transfer_(std::move(transfer)) {}
    ~ServerDma() override { unmap_all(); }
    ServerDma(const ServerDma&) = delete;
    ServerDma& operator=(const ServerDma&) = delete;
    ServerDma(ServerDma&&) = delete;
    ServerDma& operator=(ServerDma&&) = delete;

    // DMA_MAP: EEXIST when it overlaps a region, else what mmap() says.
    Result<void> map(const vfio_user::DmaMap& m, UniqueFd fd);
    // DMA_UNMAP of exactly one earlier region (ENOENT otherwise).
    Result<void> unmap(uint64_t address, uint64_t size);
    void unmap_all();
    [[nodiscard]] size_t regions() const;
    void set_bus_master(bool on);

    DmaResult<void> read(uint64_t address, std::span<std::byte> out) override;
    DmaResult<void> write(uint64_t address, std::span<const std::byte> in) override;
    DmaResult<uint64_t> fetch_add(uint64_t address, uint64_t addend, unsigned size) override;
    DmaResult<uint64_t> swap(uint64_t address, uint64_t value, unsigned size) override;
    DmaResult<uint64_t> compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                     unsigned size) override;

private:
    struct Region {
        uint64_t size = 0;
        uint32_t flags = 0;         // vfio_user::dma_read_flag / dma_write_flag
        std::byte* memory = nullptr; // nullptr: reached through messages
    };
    enum class Access : uint8_t { read, write, atomic };

    // The region holding [address, address + length) for `access`, or the
    // fault. Caller holds lock_ (shared).
    DmaResult<const Region*> check(uint64_t address, uint64_t length, Access access,
                                   uint64_t& region_start) const;
    template <class Op>
    DmaResult<uint64_t> atomic(uint64_t address, unsigned size, Op op);

    Transfer transfer_;
    mutable std::shared_mutex lock_;
    std::map<uint64_t, Region> regions_; // by bus address
    bool bus_master_ = false;
};

} // namespace pciem::vfu
