// SPDX-License-Identifier: MIT
#include "replay.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "pciem/dma.hpp"
#include "pciem/faults.hpp"

namespace pciem::devices::replay {

namespace {

uint64_t size_mask(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

bool is_read(uint16_t type) {
    return type == PCIEM_REC_MMIO_READ || type == PCIEM_REC_CFG_READ;
}

Step access_step(const Record& r, bool optional) {
    const auto a = r.as<pciem_rec_access>();
    Step s;
    s.kind = Step::Kind::access;
    s.record = r.index;
    s.type = r.type;
    s.optional = optional;
    s.bar = a.bar;
    s.offset = a.offset;
    s.size = a.size;
    s.value = a.value & size_mask(a.size);
    return s;
}

} // namespace

std::string describe_access(uint16_t type, unsigned bar, uint64_t offset, unsigned size,
                            std::optional<uint64_t> value) {
    const bool cfg = type == PCIEM_REC_CFG_READ || type == PCIEM_REC_CFG_WRITE;
    std::string out =
        cfg ? fmt::format("{} {:#05x}/{}", record_type_name(type), offset, size)
            : fmt::format("{} BAR{}+{:#x}/{}", record_type_name(type), bar, offset, size);
    if (value) {
        out += fmt::format(" = {:#x}", *value);
    }
    return out;
}

std::string describe_step(const Step& s) {
    switch (s.kind) {
    case Step::Kind::access:
        return describe_access(s.type, s.bar, s.offset, s.size, s.value);
    case Step::Kind::irq:
        return fmt::format("irq vector {}", s.value);
    case Step::Kind::intx:
        return fmt::format("intx {}", s.value);
    case Step::Kind::dma: {
        static constexpr const char* ops[] = {"dma-?",         "dma-read", "dma-write",
                                              "dma-fetch-add", "dma-swap", "dma-cas"};
        return fmt::format("{} {:#x}+{}", s.op < std::size(ops) ? ops[s.op] : ops[0], s.addr,
                           s.len);
    }
    }
    return "?";
}

Result<std::vector<Step>> steps_of(const Recording& rec, std::vector<std::string>* warnings) {
    std::vector<Step> steps;
    for (const Record& r : rec.records()) {
        switch (r.type) {
        case PCIEM_REC_CREATE:
        case PCIEM_REC_STATE:
            break;
        case PCIEM_REC_LOST:
            return fail(EINVAL, fmt::format("record #{}: {} records were lost while recording (the "
                                            "buffer was full), so the recording has a gap and "
                                            "cannot be replayed; record again with a larger "
                                            "--buffer-kb",
                                            r.index, r.as<pciem_rec_lost>().count));
        case PCIEM_REC_FAULT:
            if (warnings != nullptr) {
                warnings->push_back(fmt::format(
                    "record #{}: {} was injected while recording; the replay answers reads as "
                    "recorded but injects nothing itself (pciemctl inject it again if the "
                    "driver must see it)",
                    r.index, describe_record(r)));
            }
            break;
        case PCIEM_REC_CFG_READ:
        case PCIEM_REC_CFG_WRITE:
            // Emulated config space and blocked cycles (CRS, link down)
            // never reach a model: only the model's capabilities count.
            if ((r.flags & PCIEM_REC_F_MODEL) != 0) {
                steps.push_back(access_step(r, false));
            }
            break;
        case PCIEM_REC_MMIO_READ:
        case PCIEM_REC_MMIO_WRITE:
            if ((r.flags & PCIEM_REC_F_MODEL) != 0) {
                steps.push_back(access_step(r, false));
            } else if ((r.flags & PCIEM_REC_F_ABORT) != 0) {
                // Not decoded, removed, an injected fault or a timeout:
                // it may or may not reach this model.
                steps.push_back(access_step(r, true));
            }
            // Neither: the kernel served it (MSI-X table, PBA).
            break;
        case PCIEM_REC_IRQ: {
            const auto q = r.as<pciem_rec_irq>();
            Step s;
            s.kind = (r.flags & PCIEM_REC_F_INTX) ? Step::Kind::intx : Step::Kind::irq;
            s.record = r.index;
            s.value = q.value;
            s.result = q.result;
            steps.push_back(std::move(s));
            break;
        }
        case PCIEM_REC_DMA: {
            const auto d = r.as<pciem_rec_dma>();
            Step s;
            s.kind = Step::Kind::dma;
            s.record = r.index;
            s.op = d.op;
            s.fault = d.fault;
            s.addr = d.addr;
            s.len = d.len;
            s.operand = d.operand;
            s.compare = d.compare;
            s.old = d.result;
            s.truncated = (r.flags & PCIEM_REC_F_TRUNCATED) != 0;
            const auto data = r.dma_data();
            s.data.assign(data.begin(), data.end());
            if (d.op == PCIEM_DMA_WRITE && d.fault == 0 && s.truncated) {
                return fail(EINVAL,
                            fmt::format("record #{}: a DMA write of {} bytes kept only {} of them "
                                        "(a record holds at most a quarter of the recording "
                                        "buffer), so it cannot be replayed; record again with a "
                                        "larger --buffer-kb",
                                        r.index, d.len, d.data_len));
            }
            if (d.op < PCIEM_DMA_READ || d.op > PCIEM_DMA_CAS) {
                return fail(EINVAL,
                            fmt::format("record #{}: unknown DMA operation {}", r.index, d.op));
            }
            steps.push_back(std::move(s));
            break;
        }
        default:
            if (warnings != nullptr) {
                warnings->push_back(fmt::format("record #{}: {} is not known to this build; "
                                                "ignored",
                                                r.index, record_type_name(r.type)));
            }
            break;
        }
    }
    return steps;
}

Result<std::unique_ptr<ReplayModel>> ReplayModel::create(Recording recording, Options options) {
    auto created = recording.create();
    if (!created) {
        return std::unexpected(created.error());
    }
    std::vector<std::string> warnings;
    auto steps = steps_of(recording, &warnings);
    if (!steps) {
        return std::unexpected(steps.error());
    }
    DeviceSpec spec = created->spec();
    spec.origin(fmt::format("the recording of {}", format_pci_address(recording.address())));
    return std::unique_ptr<ReplayModel>(new ReplayModel(
        std::move(recording), options, std::move(spec), std::move(*steps), std::move(warnings)));
}

ReplayModel::ReplayModel(Recording recording, Options options, DeviceSpec spec,
                         std::vector<Step> steps, std::vector<std::string> warnings)
    : recording_(std::move(recording)), options_(options), spec_(std::move(spec)),
      steps_(std::move(steps)), warnings_(std::move(warnings)) {
    for (const Step& s : steps_) {
        (s.kind == Step::Kind::access ? accesses_ : events_)++;
    }
}

std::optional<uint64_t> ReplayModel::on_mmio_read(unsigned bar, uint64_t offset, unsigned size) {
    return access(PCIEM_REC_MMIO_READ, bar, offset, size, std::nullopt);
}

void ReplayModel::on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) {
    (void)access(PCIEM_REC_MMIO_WRITE, bar, offset, size, value);
}

uint32_t ReplayModel::on_config_read(uint16_t offset, unsigned size) {
    return static_cast<uint32_t>(access(PCIEM_REC_CFG_READ, 0, offset, size, std::nullopt));
}

void ReplayModel::on_config_write(uint16_t offset, unsigned size, uint32_t value) {
    (void)access(PCIEM_REC_CFG_WRITE, 0, offset, size, value);
}

std::string ReplayModel::where(const Step& s) const {
    const auto& records = recording_.records();
    const Record& r = records.at(s.record);
    return fmt::format("record #{} (+{:.9f} s)", s.record,
                       static_cast<double>(r.ns - recording_.start_ns()) / 1e9);
}

uint64_t ReplayModel::access(uint16_t type, unsigned bar, uint64_t offset, unsigned size,
                             std::optional<uint64_t> value) {
    if (value) {
        value = *value & size_mask(size);
    }
    std::unique_lock lock(mutex_);
    ++seen_;
    std::optional<uint64_t> answer;
    if (outcome_ != Outcome::diverged && run_events()) {
        for (;;) {
            if (next_ == steps_.size()) {
                const size_t last = steps_.empty() ? 0 : steps_.back().record;
                diverge(fmt::format("access #{} of the driver comes after the end of the "
                                    "recording (record #{} was its last step; all {} recorded "
                                    "accesses matched):\n"
                                    "  the driver did:       {}",
                                    seen_, last, matched_,
                                    describe_access(type, bar, offset, size, value)));
                break;
            }
            const Step& s = steps_[next_];
            const bool same = s.kind == Step::Kind::access && s.type == type && s.bar == bar &&
                              s.offset == offset && s.size == size &&
                              (is_read(type) || s.value == *value);
            if (same) {
                ++next_;
                ++matched_;
                answer = is_read(type) ? s.value : 0;
                if (!run_events()) {
                    answer.reset();
                }
                break;
            }
            if (s.optional) {
                ++next_; // master-aborted when recorded: not this time
                if (!run_events()) {
                    break;
                }
                continue;
            }
            diverge(fmt::format("access #{} of the driver differs from {} of the recording, "
                                "after {} accesses that matched:\n"
                                "  the driver did:       {}\n"
                                "  the recording has:    {}",
                                seen_, where(s), matched_,
                                describe_access(type, bar, offset, size, value), describe_step(s)));
            break;
        }
    }
    auto note = std::exchange(pending_, std::nullopt);
    lock.unlock();
    if (note && finish_) {
        finish_(*note);
    }
    // Once diverged, reads complete as all-ones, as from a device gone bad.
    return answer.value_or(size_mask(size));
}

bool ReplayModel::run_events() {
    while (next_ < steps_.size() && steps_[next_].kind != Step::Kind::access) {
        if (!perform(steps_[next_])) {
            return false;
        }
        ++next_;
        ++done_events_;
    }
    if (next_ == steps_.size() && outcome_ == Outcome::running) {
        outcome_ = Outcome::complete;
        pending_ = Outcome::complete;
    }
    return true;
}

bool ReplayModel::perform(const Step& s) {
    switch (s.kind) {
    case Step::Kind::access:
        return true;
    case Step::Kind::irq: {
        auto r = irq().raise(static_cast<unsigned>(s.value));
        const bool ok_then = s.result >= 0;
        if (r.has_value() != ok_then) {
            diverge(ok_then ? fmt::format("{}: the recording raised vector {}, which now fails: "
                                          "{} (has the driver set up its interrupts as it did "
                                          "when recorded?)",
                                          where(s), s.value, r.error().message)
                            : fmt::format("{}: the recording's raise of vector {} failed ({}), "
                                          "but now succeeds",
                                          where(s), s.value,
                                          strerrorname_np(-s.result) ? strerrorname_np(-s.result)
                                                                     : "error"));
            return false;
        }
        return true;
    }
    case Step::Kind::intx: {
        auto r = irq().set_intx(s.value != 0);
        if (!r) {
            diverge(fmt::format("{}: driving INTx to {} fails: {}", where(s), s.value,
                                r.error().message));
            return false;
        }
        return true;
    }
    case Step::Kind::dma:
        break;
    }

    // DMA: the same transfer, refused for the same reason if it was.
    std::optional<DmaFault> fault;
    std::vector<std::byte> found;
    uint64_t old = 0;
    const auto width = static_cast<unsigned>(s.len);
    switch (s.op) {
    case PCIEM_DMA_READ: {
        found.resize(s.len);
        if (auto r = dma().read(s.addr, found); !r) {
            fault = r.error();
        }
        break;
    }
    case PCIEM_DMA_WRITE:
        if (s.fault != 0) {
            return true; // refused when recorded: its bytes were never kept
        }
        if (auto r = dma().write(s.addr, s.data); !r) {
            fault = r.error();
        }
        break;
    default: {
        DmaResult<uint64_t> r =
            s.op == PCIEM_DMA_FETCH_ADD ? dma().fetch_add(s.addr, s.operand, width)
            : s.op == PCIEM_DMA_SWAP    ? dma().swap(s.addr, s.operand, width)
                                        : dma().compare_swap(s.addr, s.compare, s.operand, width);
        if (r) {
            old = *r;
        } else {
            fault = r.error();
        }
        break;
    }
    }
    if (s.fault == 0 && fault) {
        diverge(fmt::format("{}: {} was done when recorded, but now it is refused: {}", where(s),
                            describe_step(s), fault->message));
        return false;
    }
    if (s.fault != 0 && (!fault || fault->kind != dma_fault_kind(s.fault))) {
        const Record& r = recording_.records().at(s.record);
        diverge(fmt::format("{}: {}, but now it {}", where(s), describe_record(r),
                            fault ? "is refused: " + fault->message : std::string("is done")));
        return false;
    }
    if (s.fault != 0 || !options_.check_dma_data) {
        return true;
    }
    if (s.op == PCIEM_DMA_READ) {
        const size_t n = std::min(found.size(), s.data.size());
        for (size_t i = 0; i < n; ++i) {
            if (found[i] != s.data[i]) {
                diverge(fmt::format("{}: {} finds byte {} (bus address {:#x}) = {:#04x} in host "
                                    "memory, the recording has {:#04x} (what the driver put "
                                    "there differs; --no-dma-data skips this check)",
                                    where(s), describe_step(s), i, s.addr + i,
                                    static_cast<unsigned>(found[i]),
                                    static_cast<unsigned>(s.data[i])));
                return false;
            }
        }
    } else if (s.op != PCIEM_DMA_WRITE && old != s.old) {
        diverge(fmt::format("{}: {} finds {:#x} in host memory, the recording has {:#x}", where(s),
                            describe_step(s), old, s.old));
        return false;
    }
    return true;
}

void ReplayModel::diverge(std::string message) {
    if (outcome_ == Outcome::diverged) {
        return;
    }
    outcome_ = Outcome::diverged;
    divergence_ = std::move(message);
    pending_ = Outcome::diverged;
}

ReplayModel::Outcome ReplayModel::outcome() const {
    std::lock_guard lock(mutex_);
    return outcome_;
}

std::string ReplayModel::divergence() const {
    std::lock_guard lock(mutex_);
    return divergence_;
}

std::string ReplayModel::next_expected() const {
    std::lock_guard lock(mutex_);
    if (next_ >= steps_.size()) {
        return {};
    }
    return fmt::format("{}: {}", where(steps_[next_]), describe_step(steps_[next_]));
}

size_t ReplayModel::accesses_matched() const {
    std::lock_guard lock(mutex_);
    return matched_;
}

size_t ReplayModel::events_done() const {
    std::lock_guard lock(mutex_);
    return done_events_;
}

} // namespace pciem::devices::replay
