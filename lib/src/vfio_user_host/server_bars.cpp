// SPDX-License-Identifier: MIT
//
// BAR regions. RAM BARs are memfds shared with the client (and with the
// model through ram()); the MSI-X table and PBA are the host's; every
// other byte goes to the model through the dispatch every host uses. A
// client's span is cut into the naturally aligned 1/2/4/8-byte accesses a
// CPU's memcpy_toio/fromio would make, so registers see the sizes their
// datasheet allows.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <linux/pci_regs.h>

#include "pciem/dispatch.hpp"
#include "pciem/error_text.hpp"
#include "pciem_cfg_decode.h"
#include "server.hpp"

namespace pciem {

namespace {

uint64_t ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

} // namespace

Result<void> VfioUserHost::Impl::make_ram_bars() {
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        const uint64_t size = cfg->bar_size[bar];
        if ((cfg->bar_flags[bar] & PCIEM_BAR_RAM) == 0 || size == 0) {
            continue;
        }
        const std::string name = fmt::format("pciem-bar{}", bar);
        UniqueFd fd{::memfd_create(name.c_str(), MFD_CLOEXEC)};
        if (!fd.valid() || ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
            const int e = errno;
            return fail(e, describe_errno(e, fmt::format("memory for RAM BAR {} ({} bytes)", bar,
                                                         size)));
        }
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            return fail(e, describe_errno(e, fmt::format("mapping RAM BAR {}", bar)));
        }
        ram.at(bar) = std::span(static_cast<std::byte*>(p), size);
        ram_fd.at(bar) = std::move(fd);
        binding.ram(bar, ram.at(bar));
    }
    return {};
}

bool VfioUserHost::Impl::msix_access(unsigned bar, uint64_t offset, unsigned size, bool write,
                                     uint64_t& value) {
    if (rules.msix_n == 0) {
        return false;
    }
    // The pending bits are irqs' (SET_IRQS masking): bring the PBA up to date.
    if (!write) {
        for (size_t w = 0; w < msix_pba.size(); ++w) {
            msix_pba[w] = irqs.msix_pending_word(static_cast<unsigned>(w));
        }
    }
    // The model is not told of entry writes here: the client owns the
    // table's meaning (it masks through SET_IRQS).
    pciem_irq_rules_events ev{};
    return pciem_irq_rules_msix_access(&rules, bar, offset, size, write, &value, &ev);
}

namespace {

Result<void> check_bar(const pciem_cfg& cfg, unsigned bar, uint64_t offset, size_t len,
                       const char* what) {
    const uint64_t size = pciem_cfg_region_size(&cfg, bar);
    if (size == 0 || offset > size || len > size - offset) {
        return fail(EINVAL, fmt::format("BAR {} {} of {} bytes at {:#x}: the region has {} bytes",
                                        bar, what, len, offset, size));
    }
    return {};
}

} // namespace

Result<void> VfioUserHost::Impl::bar_read(unsigned bar, uint64_t offset, std::span<std::byte> out) {
    if (auto ok = check_bar(*cfg, bar, offset, out.size(), "read"); !ok) {
        return ok;
    }
    if (bar < PCIEM_MAX_BARS && !ram.at(bar).empty()) {
        std::memcpy(out.data(), ram[bar].data() + offset, out.size());
        return {};
    }
    for (size_t done = 0; done < out.size();) {
        const uint64_t at = offset + done;
        const unsigned size = vfu::cycle(at, out.size() - done, 8);
        uint64_t v = 0;
        if (!msix_access(bar, at, size, false, v)) {
            // A read the model leaves unanswered completes as all-ones,
            // as after a completion timeout.
            v = dispatch_mmio_read(model, bar, at, size).value_or(ones(size));
        }
        std::memcpy(out.data() + done, &v, size);
        done += size;
    }
    if (model.auto_shadow_update()) {
        model.shadow_update();
    }
    return {};
}

Result<void> VfioUserHost::Impl::bar_write(unsigned bar, uint64_t offset,
                                           std::span<const std::byte> in) {
    if (auto ok = check_bar(*cfg, bar, offset, in.size(), "write"); !ok) {
        return ok;
    }
    if (!ram.at(bar).empty()) {
        std::memcpy(ram[bar].data() + offset, in.data(), in.size());
        return {};
    }
    for (size_t done = 0; done < in.size();) {
        const uint64_t at = offset + done;
        const unsigned size = vfu::cycle(at, in.size() - done, 8);
        uint64_t v = 0;
        std::memcpy(&v, in.data() + done, size);
        if (!msix_access(bar, at, size, true, v)) {
            dispatch_mmio_write(model, bar, at, size, v);
        }
        done += size;
    }
    if (model.auto_shadow_update()) {
        model.shadow_update();
    }
    return {};
}

} // namespace pciem
