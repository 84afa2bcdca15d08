// SPDX-License-Identifier: MIT
//
// The queue engine: the controller's submission and completion queues,
// their doorbells (registers and, with Doorbell Buffer Config, shadows in
// host memory), fetching commands, posting completions and raising the
// interrupts that announce them. It knows nothing of what a command
// means: the controller executes each fetched command through Owner and
// gets its Completion back, which the engine posts.
//
//   queue_engine.cpp      doorbells, fetching, posting, interrupts (INTMS, INTx)
//   admin_queues.cpp      the admin queue pair at enable; Create/Delete I/O SQ and CQ
//   shadow_doorbells.cpp  Doorbell Buffer Config, event mode and polled mode
//
// Threading: the host calls the model from one thread, and doorbell
// writes process the submission queue inline (deterministic on the
// SimHost). The queue path is written so a worker per SQ can take over
// process_sq() later: see queue_engine.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "controller_options.hpp"
#include "held_completions.hpp"
#include "nvme_spec.hpp"
#include "pciem/device_model.hpp"
#include "queues.hpp"

namespace pciem::nvme {

class QueueEngine {
public:
    // What the engine needs from the controller around it: controller
    // status (CSTS), the commands' meaning, and where errors go.
    class Owner {
    public:
        // CSTS.RDY set and CSTS.CFS clear: doorbells have an effect.
        [[nodiscard]] virtual bool running() const = 0;
        // CSTS.CFS: the engine stops fetching.
        [[nodiscard]] virtual bool failed() const = 0;
        // CC.SHN was written: doorbells are recorded, nothing is fetched.
        [[nodiscard]] virtual bool shut_down() const = 0;
        // Queue memory (or a shadow buffer) is unreachable: CSTS.CFS.
        virtual void fatal_error() = 0;
        // Executes a fetched command: its completion, or nullopt when the
        // command is held to complete later (an AER).
        [[nodiscard]] virtual std::optional<Completion> execute(SubmissionQueue& sq,
                                                                const Sqe& cmd) = 0;
        // A command completed with an error; phase is its CQE's.
        virtual void command_failed(uint16_t sqid, const Sqe& cmd, Status status, bool phase) = 0;
        // An Invalid Doorbell Register / Value write (aer::info_*).
        virtual void doorbell_error(uint8_t info) = 0;
        // The host released admin CQ entries: room for held events.
        virtual void admin_cq_released() = 0;

    protected:
        ~Owner() = default;
    };

    // `options` is the controller's (already clamped); `model` gives DMA
    // and interrupts.
    QueueEngine(const ControllerOptions& options, DeviceModel& model, Owner& owner);

    // Byte offset of queue qid's SQ tail / CQ head slot from the first
    // doorbell: the layout of the doorbell registers, and of the Shadow
    // Doorbell and EventIdx buffers alike.
    [[nodiscard]] uint64_t doorbell_slot(uint16_t qid, bool cq) const;

    // ---- admin_queues.cpp
    // CC.EN 0->1: the admin queue pair from AQA, ASQ and ACQ.
    void start(uint64_t asq, uint32_t asq_entries, uint64_t acq, uint32_t acq_entries);
    // Controller Level Reset: every queue, the shadow buffers and INTMS
    // go; held interrupts are dropped and INTx is lowered.
    void reset();
    // The queue-management admin commands. cc is the current CC (entry
    // sizes), page_size CC.MPS's.
    [[nodiscard]] Completion create_io_cq(const Sqe& cmd, uint32_t cc, uint64_t page_size);
    [[nodiscard]] Completion create_io_sq(const Sqe& cmd, uint32_t cc, uint64_t page_size);
    [[nodiscard]] Completion delete_io_sq(const Sqe& cmd);
    [[nodiscard]] Completion delete_io_cq(const Sqe& cmd);
    // Whether any I/O SQ or CQ exists (Set Features Number of Queues
    // refuses then).
    [[nodiscard]] bool has_io_queues() const;

    // ---- queue_engine.cpp
    void sq_doorbell(uint16_t qid, uint32_t tail);
    void cq_doorbell(uint16_t qid, uint32_t head);
    // Raises the vector of every CQ with new entries (once per batch).
    void signal_completions();
    // A command's data for the host, held to go with its completion
    // entry and the interrupt (held_completions.hpp). False when the
    // command being executed cannot hold (admin commands): write it now.
    // The bytes must stay valid until the engine returns to the host.
    [[nodiscard]] bool hold_data(std::span<const DmaSegment> sg, std::span<const std::byte> data);
    // Data moved by a command: a batch of large transfers signals as it
    // goes rather than holding back its first completions until the last
    // is done (the host could already be reaping and submitting more).
    void count_transfer(uint64_t bytes) { unsignalled_bytes_ += bytes; }
    // INTMS / INTMC wrote a new mask: raises it held back now unmasked.
    void set_interrupt_mask(uint32_t mask);
    // A completion on the admin CQ for a command held earlier (an AER):
    // whether the admin queues exist and the CQ has room, and the post.
    [[nodiscard]] bool admin_cq_has_room() const;
    [[nodiscard]] bool post_admin(uint16_t cid, const Completion& c);

    // ---- shadow_doorbells.cpp
    [[nodiscard]] Completion doorbell_buffer_config(const Sqe& cmd, uint64_t page_size);
    // DeviceModel::on_poll() / on_idle(), which the controller forwards.
    bool poll();
    bool idle();

private:
    // ---- queue_engine.cpp
    void process_sq(SubmissionQueue& sq);
    // Room appeared in a CQ: SQs that stopped because it was full go on.
    void resume_stalled(CompletionQueue& cq);
    // `cmd`: the command, whose entry may be held (I/O queues); nullptr
    // for completions written at once.
    [[nodiscard]] bool post_completion(CompletionQueue& cq, uint16_t sqid, uint16_t sqhd,
                                       uint16_t cid, const Completion& c, const Sqe* cmd = nullptr);
    void raise_vector(uint16_t vector);
    [[nodiscard]] bool masked(uint16_t vector) const; // by INTMS
    // Sends the held completions, then raises `vector` if given (already
    // past INTMS); with nothing held, just the raise.
    void send(std::optional<uint16_t> vector);
    // What a raise's outcome means: MSI or MSI-X on, or INTx (EAGAIN).
    void after_raise(const Result<void>& raised);
    void update_intx();

    // ---- shadow_doorbells.cpp
    [[nodiscard]] bool shadow_active(uint16_t qid) const {
        return qid != 0 && shadow_.doorbells != 0;
    }
    [[nodiscard]] std::optional<uint32_t> read_shadow(uint16_t qid, bool cq);
    // The tail/head a doorbell register write stands for: its value, or
    // the shadow's for a queue that has one; nullopt if that is
    // unreachable (then CSTS.CFS is set).
    [[nodiscard]] std::optional<uint32_t> doorbell_value(uint16_t qid, bool cq, uint32_t written);
    void write_event_index(uint16_t qid, bool cq, uint32_t value);
    // Event mode, after an SQ doorbell: ask for the next one (EventIdx =
    // the tail) and take what the shadow announced meanwhile.
    void rearm_sq(SubmissionQueue& sq);
    // Event mode: take the host's CQ head from the shadow; if the CQ is
    // still full (or, until_empty, still holds entries: INTx's level),
    // ask for a CQ head doorbell.
    void refresh_cq_head(CompletionQueue& cq, bool until_empty = false);
    [[nodiscard]] bool coalescing(const CompletionQueue& cq) const;

    const ControllerOptions& options_;
    DeviceModel& model_;
    Owner& owner_;

    // Indexed by queue id; admin queues are 0.
    std::vector<std::unique_ptr<SubmissionQueue>> sqs_;
    std::vector<std::unique_ptr<CompletionQueue>> cqs_;
    // Interrupt state: which vectors INTMS masks, raises they held back,
    // whether the function signals by INTx (neither MSI nor MSI-X on).
    uint32_t interrupt_mask_ = 0;
    uint32_t masked_pending_ = 0;
    bool pin_based_ = false;

    // Doorbell Buffer Config: bus addresses of the Shadow Doorbell and
    // EventIdx buffers (0: not configured), and whether a polling
    // host calls on_poll() (then the engine reads the shadows itself and
    // never asks for doorbell writes): from its first on_poll() until an
    // on_idle(), when the host is about to sleep.
    struct ShadowDoorbells {
        uint64_t doorbells = 0;
        uint64_t event_indexes = 0;
        std::vector<uint32_t> values; // scratch for one read of every slot
    };
    ShadowDoorbells shadow_;
    bool polled_ = false;
    // Completions held for one host call (held_completions.hpp), and
    // where the command being executed started holding (none: it may not).
    HeldCompletions held_;
    std::optional<size_t> holding_from_;
    std::vector<uint16_t> later_vectors_; // signal_completions() scratch
    // Data moved since the last signal_completions() (count_transfer()).
    static constexpr uint64_t eager_signal_bytes = 32 * 1024;
    uint64_t unsignalled_bytes_ = 0;
};

} // namespace pciem::nvme
