// SPDX-License-Identifier: MIT
#include "pciem/faults.hpp"

#include <array>
#include <cerrno>
#include <cmath>

#include <fmt/format.h>

#include "pciem/spec_number.hpp"

namespace pciem {

namespace {

constexpr std::array<FaultInfo, PCIEM_FAULT__COUNT - 1> catalog{{
    {PCIEM_FAULT_MMIO_ALL_ONES, "mmio-all-ones", true, "",
     "An MMIO read completes as all-ones, as after a completion timeout or an unsupported "
     "request; the model never sees it. Drivers see a dead device (readl() == ~0)."},
    {PCIEM_FAULT_MMIO_LATENCY, "mmio-latency", true, "nanoseconds (up to 10 s)",
     "An MMIO read takes this much longer to complete: slow hardware, timeouts in drivers "
     "that poll. Longer than the function's read timeout (default 1 s), it completes as "
     "all-ones when that ends, as a completion timeout."},
    {PCIEM_FAULT_IRQ_DROP, "irq-drop", true, "",
     "An interrupt the model raises is lost (MSI/MSI-X). The driver's timeout paths run."},
    {PCIEM_FAULT_IRQ_DELAY, "irq-delay", true, "nanoseconds (up to 10 s)",
     "An interrupt the model raises arrives this much later."},
    {PCIEM_FAULT_IRQ_SPURIOUS, "irq-spurious", false, "vector",
     "The vector is raised now, --count times (default 1), without the model asking: the "
     "handler runs with nothing to do. Needs MSI or MSI-X enabled."},
    {PCIEM_FAULT_DMA_REFUSE, "dma-refuse", true, "",
     "A DMA transfer of the model is refused, as an IOMMU fault would (the model's dma() "
     "fails with `injected`); --region limits it to bus addresses."},
    {PCIEM_FAULT_DMA_POISON, "dma-poison", true, "xor mask for the byte (default 0xff)",
     "A DMA transfer of the model moves its data with the first byte's bits flipped: "
     "silently corrupted data, caught only by the driver's or the model's checks."},
    {PCIEM_FAULT_SURPRISE_REMOVE, "surprise-remove", false, "",
     "The function leaves the bus as if pulled from its slot: accesses master-abort at once, "
     "the driver's remove() runs. The model keeps running, so reinsert can bring it back."},
    {PCIEM_FAULT_REINSERT, "reinsert", false, "",
     "A surprise-removed function is plugged in again: the PCI core finds a new device and "
     "drivers probe it."},
    {PCIEM_FAULT_AER_CORRECTABLE, "aer-correctable", false,
     "Correctable Error Status bits (default Receiver Error)",
     "A correctable error, reported through AER: the kernel logs and clears it. Needs a Root "
     "Complex Integrated Endpoint with an AER capability (model option --aer)."},
    {PCIEM_FAULT_AER_NONFATAL, "aer-nonfatal", false,
     "Uncorrectable Error Status bits (default Completion Timeout)",
     "An uncorrectable non-fatal error: the AER core calls the driver's error_detected() "
     "(io_normal), mmio_enabled() and resume(). Needs --aer."},
    {PCIEM_FAULT_AER_FATAL, "aer-fatal", false,
     "Uncorrectable Error Status bits (default Surprise Down)",
     "An uncorrectable fatal error: error_detected() (io_frozen), a Function Level Reset, "
     "slot_reset() and resume(). Needs --aer (which also offers FLR)."},
    {PCIEM_FAULT_LINK_DOWN, "link-down", false, "",
     "The link goes down: config cycles and MMIO master-abort until link-up, the function "
     "stays on the bus (no hotplug controller reports it)."},
    {PCIEM_FAULT_LINK_UP, "link-up", false, "",
     "The link trains again; a crs rule may take it as a reset."},
    {PCIEM_FAULT_CRS, "crs", true, "milliseconds (up to 60000)",
     "After a reset (FLR, link-up, reinsert) config reads answer Configuration Request Retry "
     "Status for this long: the Vendor ID reads 0001h, everything else all-ones."},
    {PCIEM_FAULT_MMIO_FLIP, "mmio-flip", true, "xor mask (bit 0 is bit 0 of the value read)",
     "An MMIO read reaches the model, and its answer comes back with these bits flipped: a "
     "register that reads wrong, such as a capability field a driver trusts."},
}};

bool is_mmio(uint16_t f) {
    return f == PCIEM_FAULT_MMIO_ALL_ONES || f == PCIEM_FAULT_MMIO_LATENCY ||
           f == PCIEM_FAULT_MMIO_FLIP;
}

bool is_dma(uint16_t f) {
    return f == PCIEM_FAULT_DMA_REFUSE || f == PCIEM_FAULT_DMA_POISON;
}

bool is_irq_rule(uint16_t f) {
    return f == PCIEM_FAULT_IRQ_DROP || f == PCIEM_FAULT_IRQ_DELAY;
}

} // namespace

std::span<const FaultInfo> fault_catalog() {
    return catalog;
}

const FaultInfo* find_fault(std::string_view name) {
    for (const auto& f : catalog) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

const FaultInfo* find_fault(uint16_t fault) {
    return fault >= 1 && fault < PCIEM_FAULT__COUNT ? &catalog[fault - 1] : nullptr;
}

Result<FaultRegion> parse_fault_region(std::string_view text, bool mmio) {
    const std::string form = mmio ? "an MMIO region is BAR:OFFSET+LEN, e.g. 0:0x1000+4"
                                  : "a DMA region is BUS_ADDRESS+LEN, e.g. 0x100000+4096";
    FaultRegion r;
    std::string_view rest = text;
    if (mmio) {
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos) {
            return fail(EINVAL, form);
        }
        auto bar = parse_spec_number(rest.substr(0, colon));
        if (!bar || *bar > 5) {
            return fail(EINVAL, "the BAR of a region is 0 to 5");
        }
        r.bar = static_cast<uint32_t>(*bar);
        rest = rest.substr(colon + 1);
    }
    const auto plus = rest.find('+');
    if (plus == std::string_view::npos) {
        return fail(EINVAL, form);
    }
    auto off = parse_spec_number(rest.substr(0, plus));
    auto len = parse_spec_number(rest.substr(plus + 1));
    if (!off || !len || *len == 0 || *off + *len < *off) {
        return fail(EINVAL, form);
    }
    r.offset = *off;
    r.len = *len;
    return r;
}

Result<pciem_inject> FaultRequest::build(uint32_t domain, uint8_t bus, uint8_t devfn) const {
    const FaultInfo* info = find_fault(fault);
    if (info == nullptr) {
        return fail(EINVAL, fmt::format("unknown fault {} (pciemctl inject --list shows them)",
                                        fault));
    }
    const auto bad = [&](std::string_view why) {
        return fail(EINVAL, fmt::format("{}: {}", info->name, why));
    };
    if (!info->rule && (after != 0 || every != 0 || probability != 0)) {
        return bad("--after, --every and --probability apply to rules, not to this one-off "
                   "action");
    }
    if (!info->rule && count != 0 && fault != PCIEM_FAULT_IRQ_SPURIOUS) {
        return bad("--count applies to rules and to irq-spurious");
    }
    if (!(probability >= 0 && probability <= 1)) {
        return bad("--probability must be between 0 and 1");
    }
    if (region && !is_mmio(fault) && !is_dma(fault)) {
        return bad("--region applies to the mmio-* and dma-* faults");
    }
    if (region && (region->len == 0 || (is_mmio(fault) && region->bar >= PCIEM_MAX_BARS))) {
        return bad("a region needs a BAR 0-5 (MMIO) and a length above 0");
    }
    if (vector && !is_irq_rule(fault)) {
        return bad("--vector applies to irq-drop and irq-delay (irq-spurious takes the vector "
                   "as --param)");
    }
    if (info->param.empty() && param != 0) {
        return bad("takes no --param");
    }
    if ((fault == PCIEM_FAULT_MMIO_LATENCY || fault == PCIEM_FAULT_IRQ_DELAY ||
         fault == PCIEM_FAULT_CRS || fault == PCIEM_FAULT_MMIO_FLIP) &&
        param == 0) {
        return bad(fmt::format("needs --param ({})", info->param));
    }
    pciem_inject q{};
    q.size = sizeof(q);
    q.domain = domain;
    q.bus = bus;
    q.devfn = devfn;
    q.fault = fault;
    q.count = count;
    q.after = after;
    q.every = every;
    q.probability = static_cast<uint32_t>(std::lround(probability * 1000000));
    if (region) {
        q.flags |= PCIEM_INJECT_F_REGION;
        q.bar = is_mmio(fault) ? region->bar : 0;
        q.offset = region->offset;
        q.len = region->len;
    }
    if (vector) {
        q.flags |= PCIEM_INJECT_F_VECTOR;
        q.vector = *vector;
    }
    q.param = param;
    return q;
}

} // namespace pciem
