// SPDX-License-Identifier: MIT
#include "server_irqs.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "pciem/error_text.hpp"

namespace pciem::vfu {

namespace {

const char* index_name(unsigned index) {
    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return "INTx";
    case VFIO_PCI_MSI_IRQ_INDEX:
        return "MSI";
    default:
        return "MSI-X";
    }
}

// Only an eventfd may be signalled: 8 bytes written to a pipe or, worse,
// a regular file would be data, not an interrupt.
bool is_eventfd(int fd) {
    char link[64];
    const std::string path = fmt::format("/proc/self/fd/{}", fd);
    const ssize_t n = ::readlink(path.c_str(), link, sizeof(link) - 1);
    return n > 0 && std::string_view(link, static_cast<size_t>(n)) == "anon_inode:[eventfd]";
}

void signal_fd(int fd) {
    const uint64_t one = 1;
    // A full counter (2^64 - 2 unread signals) or a closed peer: the
    // interrupt is lost either way, as on a wire nobody listens to.
    (void)!::write(fd, &one, sizeof(one));
}

} // namespace

ServerIrqs::ServerIrqs(unsigned intx, unsigned msi, unsigned msix) : counts_{intx, msi, msix} {
    for (unsigned i = 0; i < irq_indexes; ++i) {
        vectors_.at(i).resize(counts_.at(i));
    }
}

uint32_t ServerIrqs::info_flags(unsigned index) {
    uint32_t f = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE;
    if (index == VFIO_PCI_INTX_IRQ_INDEX) {
        f |= VFIO_IRQ_INFO_AUTOMASKED;
    } else if (index == VFIO_PCI_MSI_IRQ_INDEX) {
        f |= VFIO_IRQ_INFO_NORESIZE; // a block of vectors, as the capability has
    }
    return f;
}

void ServerIrqs::fire_locked(unsigned index, unsigned vector) {
    Vector& v = vectors_.at(index).at(vector);
    if (v.masked) {
        v.pending = true;
        return;
    }
    if (!v.trigger.valid()) {
        ++dropped_;
        return;
    }
    signal_fd(v.trigger.get());
    if (index == VFIO_PCI_INTX_IRQ_INDEX) {
        v.masked = true; // automasked until the client's UNMASK
    }
}

void ServerIrqs::intx_update_locked() {
    if (counts_[VFIO_PCI_INTX_IRQ_INDEX] == 0) {
        return;
    }
    Vector& v = vectors_[VFIO_PCI_INTX_IRQ_INDEX][0];
    if (intx_level_ && !intx_disabled_ && !v.masked) {
        fire_locked(VFIO_PCI_INTX_IRQ_INDEX, 0);
    }
}

Result<void> ServerIrqs::raise(unsigned vector) {
    const std::lock_guard lock(mutex_);
    unsigned index = UINT_MAX;
    if (msix_mode_) {
        index = VFIO_PCI_MSIX_IRQ_INDEX;
    } else if (msi_mode_) {
        index = VFIO_PCI_MSI_IRQ_INDEX;
    }
    if (index == UINT_MAX) {
        ++dropped_;
        return fail(EAGAIN, fmt::format("cannot raise vector {}: neither MSI nor MSI-X is "
                                        "enabled, so the function cannot signal (EAGAIN)",
                                        vector));
    }
    if (vector >= counts_.at(index)) {
        ++dropped_;
        return fail(EINVAL, fmt::format("cannot raise vector {}: {} has {} vector(s) (EINVAL)",
                                        vector, index_name(index), counts_.at(index)));
    }
    fire_locked(index, vector);
    return {};
}

Result<void> ServerIrqs::set_intx(bool level) {
    const std::lock_guard lock(mutex_);
    if (counts_[VFIO_PCI_INTX_IRQ_INDEX] == 0) {
        return fail(EINVAL, "cannot drive INTx: the function has no interrupt pin (EINVAL)");
    }
    const bool rose = level && !intx_level_;
    intx_level_ = level;
    if (rose) {
        intx_update_locked();
    }
    return {};
}

Result<int> ServerIrqs::eventfd(unsigned vector) {
    const std::lock_guard lock(model_fds_mutex_);
    for (const auto& [fd, v] : model_fds_) {
        if (v == vector) {
            return fd.get();
        }
    }
    UniqueFd efd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    if (!efd.valid()) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("eventfd for vector {}", vector)));
    }
    const int fd = efd.get();
    model_fds_.emplace_back(std::move(efd), vector);
    if (wake_fd_ >= 0) {
        signal_fd(wake_fd_); // the loop polls the new fd from now on
    }
    return fd;
}

std::vector<std::pair<int, unsigned>> ServerIrqs::model_fds() {
    const std::lock_guard lock(model_fds_mutex_);
    std::vector<std::pair<int, unsigned>> out;
    for (const auto& [fd, v] : model_fds_) {
        out.emplace_back(fd.get(), v);
    }
    return out;
}

void ServerIrqs::model_fired(unsigned vector, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
        (void)raise(vector); // failures are not reported, as with pciem.ko's irqfds
    }
}

Result<void> ServerIrqs::set_triggers_locked(unsigned index, unsigned start, unsigned count,
                                             std::vector<UniqueFd>& fds) {
    for (const UniqueFd& fd : fds) {
        if (!is_eventfd(fd.get())) {
            return fail(EINVAL, fmt::format("SET_IRQS for {} came with a descriptor that is not "
                                            "an eventfd",
                                            index_name(index)));
        }
    }
    auto& vs = vectors_.at(index);
    for (unsigned i = 0; i < count; ++i) {
        // No descriptors: de-assign the range (the spec's DATA_EVENTFD
        // with none).
        vs.at(start + i).trigger = fds.empty() ? UniqueFd{} : std::move(fds.at(i));
    }
    return {};
}

Result<void> ServerIrqs::set_irqs(const vfio_user::IrqSet& s, std::span<const std::byte> bools,
                                  std::vector<UniqueFd>& fds) {
    const std::lock_guard lock(mutex_);
    if (s.index >= irq_indexes || counts_.at(s.index) == 0) {
        return fail(EINVAL, fmt::format("SET_IRQS for interrupt index {}, which the device does "
                                        "not have",
                                        s.index));
    }
    const uint32_t data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    const uint32_t action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    auto& vs = vectors_.at(s.index);
    // The spec's special case: DATA_NONE, TRIGGER, start and count 0
    // disables the whole index.
    if (data == VFIO_IRQ_SET_DATA_NONE && action == VFIO_IRQ_SET_ACTION_TRIGGER && s.count == 0) {
        if (s.start != 0) {
            return fail(EINVAL, "SET_IRQS disabling an index must have start 0");
        }
        for (Vector& v : vs) {
            v = Vector{};
        }
        return {};
    }
    if (s.start >= vs.size() || s.count > vs.size() - s.start) {
        return fail(EINVAL, fmt::format("SET_IRQS for {} vectors {}..+{}: the index has {}",
                                        index_name(s.index), s.start, s.count, vs.size()));
    }
    if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
        if (action != VFIO_IRQ_SET_ACTION_TRIGGER) {
            return fail(ENOTSUP, "SET_IRQS: eventfds signalled on mask or unmask are not "
                                 "supported (only ACTION_TRIGGER takes eventfds)");
        }
        return set_triggers_locked(s.index, s.start, s.count, fds);
    }
    for (unsigned i = 0; i < s.count; ++i) {
        if (data == VFIO_IRQ_SET_DATA_BOOL && bools[i] == std::byte{0}) {
            continue;
        }
        const unsigned n = s.start + i;
        Vector& v = vs.at(n);
        if (action == VFIO_IRQ_SET_ACTION_MASK) {
            v.masked = true;
        } else if (action == VFIO_IRQ_SET_ACTION_UNMASK) {
            v.masked = false;
            if (s.index == VFIO_PCI_INTX_IRQ_INDEX) {
                v.pending = false;
                intx_update_locked(); // a line still high signals again
            } else if (v.pending) {
                v.pending = false;
                fire_locked(s.index, n);
            }
        } else {
            fire_locked(s.index, n); // the client triggers it itself
        }
    }
    return {};
}

bool ServerIrqs::wired(unsigned index) {
    const std::lock_guard lock(mutex_);
    for (const Vector& v : vectors_.at(index)) {
        if (v.trigger.valid()) {
            return true;
        }
    }
    return false;
}

void ServerIrqs::set_modes(bool msix, bool msi) {
    const std::lock_guard lock(mutex_);
    // Enabling clears what was pending, as on every host.
    if (msix && !msix_mode_) {
        for (Vector& v : vectors_[VFIO_PCI_MSIX_IRQ_INDEX]) {
            v.pending = false;
        }
    }
    if (msi && !msi_mode_) {
        for (Vector& v : vectors_[VFIO_PCI_MSI_IRQ_INDEX]) {
            v.pending = false;
        }
    }
    msix_mode_ = msix;
    msi_mode_ = msi;
}

void ServerIrqs::set_intx_disabled(bool disabled) {
    const std::lock_guard lock(mutex_);
    intx_disabled_ = disabled;
    intx_update_locked();
}

bool ServerIrqs::intx_level() {
    const std::lock_guard lock(mutex_);
    return intx_level_;
}

uint64_t ServerIrqs::msix_pending_word(unsigned word) {
    const std::lock_guard lock(mutex_);
    uint64_t bits = 0;
    const auto& vs = vectors_[VFIO_PCI_MSIX_IRQ_INDEX];
    for (unsigned b = 0; b < 64 && word * 64 + b < vs.size(); ++b) {
        bits |= uint64_t{vs[word * 64 + b].pending} << b;
    }
    return bits;
}

void ServerIrqs::reset(bool drop_triggers) {
    const std::lock_guard lock(mutex_);
    for (auto& vs : vectors_) {
        for (Vector& v : vs) {
            v.masked = false;
            v.pending = false;
            if (drop_triggers) {
                v.trigger.reset();
            }
        }
    }
    msix_mode_ = msi_mode_ = false;
    intx_disabled_ = false;
}

uint64_t ServerIrqs::dropped() {
    const std::lock_guard lock(mutex_);
    return dropped_;
}

} // namespace pciem::vfu
