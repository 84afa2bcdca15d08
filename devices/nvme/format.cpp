// SPDX-License-Identifier: MIT
//
// Format NVM (admin 80h): a namespace switches to another of the two LBA
// formats Identify Namespace offers (512 or 4096-byte blocks, no
// metadata, no protection information) and its user data is erased.
// Secure Erase Settings 0 (none asked) and 1 (user data erase) both
// deallocate every block, which then reads as zeros (DLFEAT says so);
// cryptographic erase (2) is not offered (FNA bit 2 clear).
#include "controller.hpp"

namespace pciem::nvme {

namespace {

// CDW10 fields (NVMe 1.4, 5.23).
struct FormatParams {
    unsigned lbaf;  // bits 3:0
    bool mset;      // bit 4: metadata settings
    unsigned pi;    // bits 7:5: protection information type
    bool pil;       // bit 8
    unsigned ses;   // bits 11:9: secure erase settings
};

FormatParams format_params(uint32_t cdw10) {
    return {cdw10 & 0xf, ((cdw10 >> 4) & 1) != 0, (cdw10 >> 5) & 0x7, ((cdw10 >> 8) & 1) != 0,
            (cdw10 >> 9) & 0x7};
}

} // namespace

Completion Controller::format_nvm(const Sqe& cmd) {
    const FormatParams p = format_params(cmd.cdw10);
    // Only formats 0 (512) and 1 (4096) exist; neither carries metadata,
    // so protection information cannot be had either.
    if (p.lbaf > 1 || p.pi != 0) {
        return {status::invalid_format};
    }
    if (p.ses > 1) {
        return {status::invalid_field};
    }
    // FNA bit 0 clear: per namespace, or all of them with NSID FFFFFFFFh.
    std::vector<Namespace*> targets;
    if (cmd.nsid == broadcast_nsid) {
        for (Namespace& ns : namespaces_) {
            targets.push_back(&ns);
        }
    } else if (Namespace* ns = find_namespace(cmd.nsid)) {
        targets.push_back(ns);
    } else {
        return {status::invalid_namespace};
    }
    for (Namespace* ns : targets) {
        if (ns->backing->deallocate(0, ns->backing->size()) != 0) {
            return {status::internal_error};
        }
        ns->lba_shift = p.lbaf == 1 ? 12 : 9;
    }
    return {status::success};
}

} // namespace pciem::nvme
