// SPDX-License-Identifier: MIT
#include "held_completions.hpp"

namespace pciem::nvme {

void HeldCompletions::rollback(size_t mark) {
    if (mark >= writes_.size()) {
        return;
    }
    writes_.resize(mark);
    // Segments and entries of the writes that stay.
    size_t segs = 0;
    size_t entries = 0;
    for (const Write& w : writes_) {
        if (w.entry >= 0) {
            entries = static_cast<size_t>(w.entry) + 1;
        } else {
            segs = w.first_seg + w.segs;
        }
    }
    segs_.resize(segs);
    entries_.resize(entries);
}

void HeldCompletions::hold_data(std::span<const DmaSegment> sg, std::span<const std::byte> data) {
    const auto first = static_cast<uint32_t>(segs_.size());
    segs_.insert(segs_.end(), sg.begin(), sg.end());
    writes_.push_back(Write{
        .first_seg = first, .segs = static_cast<uint32_t>(sg.size()), .data = data, .entry = -1});
}

void HeldCompletions::hold_entry(uint64_t address, const Cqe& entry, uint16_t sqid,
                                 const Sqe& cmd) {
    entries_.push_back(
        Entry{.slot = DmaSegment{address, sizeof(Cqe)}, .cqe = entry, .sqid = sqid, .cmd = cmd});
    writes_.push_back(Write{
        .first_seg = 0, .segs = 0, .data = {}, .entry = static_cast<int32_t>(entries_.size() - 1)});
}

bool HeldCompletions::flush(Dma& dma, Interrupts& irq, std::optional<unsigned> vector,
                            std::optional<Result<void>>& raised) {
    failures_.clear();
    for (size_t from = 0; from < writes_.size();) {
        // Spans into segs_ and entries_ are taken now: holding grew them.
        scratch_.clear();
        for (size_t i = from; i < writes_.size(); ++i) {
            const Write& w = writes_[i];
            if (w.entry >= 0) {
                const Entry& e = entries_[static_cast<size_t>(w.entry)];
                scratch_.push_back(
                    DmaWrite{std::span(&e.slot, 1), std::as_bytes(std::span(&e.cqe, 1))});
            } else {
                scratch_.push_back(DmaWrite{std::span(segs_).subspan(w.first_seg, w.segs), w.data});
            }
        }
        WriteThenRaise r = dma.write_then_raise(scratch_, vector, irq);
        if (!r.fault) {
            raised = std::move(r.raised);
            clear();
            return true;
        }
        const size_t refused = from + r.written;
        if (writes_[refused].entry >= 0) {
            clear();
            return false; // the CQ is unreachable
        }
        // The refused data's command is the next entry (hold_entry()
        // follows every command's data): its data writes after the
        // refused one are skipped, its entry says why, the rest goes on.
        size_t at = refused;
        while (at < writes_.size() && writes_[at].entry < 0) {
            ++at;
        }
        if (at == writes_.size()) {
            break; // data no entry followed (the engine rolls such back)
        }
        Entry& e = entries_[static_cast<size_t>(writes_[at].entry)];
        const bool phase = (e.cqe.status & 1u) != 0;
        e.cqe.status =
            static_cast<uint16_t>((status::data_transfer_error.field << 1) | (phase ? 1 : 0));
        failures_.push_back(Failure{.sqid = e.sqid, .cmd = e.cmd, .phase = phase});
        from = at;
    }
    clear();
    if (vector) {
        raised = irq.raise(*vector);
    }
    return true;
}

} // namespace pciem::nvme
