// SPDX-License-Identifier: MIT
//
// ServerIrqs: interrupts as a vfio-user server delivers them. The client
// hands one eventfd per vector with SET_IRQS (ACTION_TRIGGER); the model's
// raise(v) writes to it. Masking is VFIO's: SET_IRQS MASK/UNMASK per
// vector, a masked vector turns pending and fires once on UNMASK; INTx
// is level-triggered and automasked (each assertion masks it until the
// client's UNMASK, which re-signals if the line is still high).
//
// Which of MSI-X and MSI a raise goes to is the host's call (set_modes):
// the client enabling it in config space or wiring its triggers.
// Thread-safe: models raise from threads of their own.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include <linux/vfio.h>

#include "pciem/interrupts.hpp"
#include "pciem/unique_fd.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace pciem::vfu {

inline constexpr unsigned irq_indexes = 3; // INTx, MSI, MSI-X

class ServerIrqs final : public Interrupts {
public:
    // Vectors per index: INTx 0 or 1, MSI 0..32, MSI-X 0..2048.
    ServerIrqs(unsigned intx, unsigned msi, unsigned msix);

    Result<void> raise(unsigned vector) override;
    Result<void> set_intx(bool level) override;
    // The model's irqfd for a vector: the host's loop reads it (poll_fds())
    // and raises the vector once per count.
    Result<int> eventfd(unsigned vector) override;

    // SET_IRQS, already decoded: `bools` is the BOOL data (count bytes),
    // `fds` the eventfds that came with it. An error carries the errno
    // of the reply.
    Result<void> set_irqs(const vfio_user::IrqSet& s, std::span<const std::byte> bools,
                          std::vector<UniqueFd>& fds);

    [[nodiscard]] unsigned count(unsigned index) const { return counts_.at(index); }
    [[nodiscard]] static uint32_t info_flags(unsigned index);
    // Whether the client wired any trigger eventfd of an index.
    [[nodiscard]] bool wired(unsigned index);
    // What raise() targets: MSI-X when msix, else MSI when msi.
    void set_modes(bool msix, bool msi);
    // Interrupt Disable in the Command register gates INTx.
    void set_intx_disabled(bool disabled);
    [[nodiscard]] bool intx_level();
    // MSI-X pending bits (the PBA), 64 vectors a word.
    [[nodiscard]] uint64_t msix_pending_word(unsigned word);
    // Forgets masks and pending state (a reset); with drop_triggers also
    // the client's eventfds (the client left).
    void reset(bool drop_triggers);
    // Raises lost because no eventfd was wired for their vector.
    [[nodiscard]] uint64_t dropped();

    // The model's irqfds, for the loop to poll: (fd, vector).
    std::vector<std::pair<int, unsigned>> model_fds();
    // The loop found `n` counts on the model's irqfd of `vector`.
    void model_fired(unsigned vector, uint64_t n);
    // An eventfd the host's loop polls: written when model_fds() grew.
    void set_wake_fd(int fd) { wake_fd_ = fd; }

private:
    struct Vector {
        UniqueFd trigger;
        bool masked = false;
        bool pending = false;
    };
    // Callers hold mutex_.
    void fire_locked(unsigned index, unsigned vector);
    void intx_update_locked();
    Result<void> set_triggers_locked(unsigned index, unsigned start, unsigned count,
                                     std::vector<UniqueFd>& fds);

    std::array<unsigned, irq_indexes> counts_{};
    std::mutex mutex_;
    std::array<std::vector<Vector>, irq_indexes> vectors_;
    bool msix_mode_ = false, msi_mode_ = false;
    bool intx_level_ = false, intx_disabled_ = false;
    uint64_t dropped_ = 0;
    std::mutex model_fds_mutex_;
    std::vector<std::pair<UniqueFd, unsigned>> model_fds_;
    int wake_fd_ = -1;
};

} // namespace pciem::vfu
