// SPDX-License-Identifier: MIT
//
// An NVMe 1.4 controller (PCI class 010802h) that the stock Linux nvme
// driver drives: controller registers and doorbells in BAR0, the MSI-X
// table in BAR4, the admin command set the driver and nvme-cli use and
// the NVM command set over file- or memory-backed namespaces.
//
// The code is split by job:
//   controller.cpp      identity, registers, enable/reset/shutdown (CC, CSTS)
//   queue_engine.cpp    doorbells, fetching commands, posting completions, interrupts
//   admin_queues.cpp    admin dispatch, Create/Delete I/O SQ and CQ, Abort
//   async_events.cpp    Asynchronous Event Request and the events it reports
//   identify.cpp        Identify data structures
//   features.cpp        Get/Set Features
//   log_pages.cpp       Get Log Page
//   error_log.cpp       the Error Information log's entries
//   io_commands.cpp     Read, Write, Compare, Flush, Write Zeroes, Dataset Management
//   data_pointer.cpp    PRPs and SGLs to runs of host memory
//
// Threading: the host calls the model from one thread, and doorbell
// writes process the submission queue inline (deterministic on the
// SimHost). The queue path is written so a worker per SQ can take over
// process_sq() later: see queue_engine.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "controller_options.hpp"
#include "error_log.hpp"
#include "namespace.hpp"
#include "nvme_spec.hpp"
#include "pciem/device_model.hpp"
#include "queues.hpp"

namespace pciem::nvme {

class Controller final : public DeviceModel {
public:
    // A PCI ID of the PCIem range under Red Hat's vendor ID. The Linux
    // driver binds by class code; QEMU's 1b36:0010 is avoided on purpose,
    // since the driver applies QEMU quirks to it.
    static constexpr uint16_t vendor_id = 0x1b36;
    static constexpr uint16_t device_id = 0x7e30;
    static constexpr uint32_t class_code = 0x010802;
    static constexpr unsigned msix_bar = 4;
    static constexpr uint64_t msix_bar_size = 64 * 1024;
    static constexpr uint64_t msix_pba_offset = 0x8000;
    // Identify Controller AERL + 1, ACL + 1.
    static constexpr unsigned max_async_events = 4;
    static constexpr uint16_t default_temperature = 311;  // Kelvin
    static constexpr uint16_t warning_temperature = 343;  // WCTEMP, the default threshold
    static constexpr uint16_t critical_temperature = 353; // CCTEMP

    Controller(ControllerOptions options, std::vector<Namespace> namespaces);

    [[nodiscard]] DeviceSpec spec() const override;
    // Doorbell offsets past the last queue: an Invalid Doorbell Register
    // error event.
    void on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) override;

    [[nodiscard]] const ControllerOptions& options() const { return options_; }
    [[nodiscard]] uint64_t bar0_size() const;
    // Byte offset of queue qid's SQ tail / CQ head slot from the first
    // doorbell: the layout of the doorbell registers, and of the Shadow
    // Doorbell and EventIdx buffers alike.
    [[nodiscard]] uint64_t doorbell_slot(uint16_t qid, bool cq) const;
    // Where the host rings queue qid's SQ tail / CQ head doorbell.
    [[nodiscard]] uint64_t sq_doorbell_offset(uint16_t qid) const;
    [[nodiscard]] uint64_t cq_doorbell_offset(uint16_t qid) const;
    // The composite temperature the SMART log reports; crossing a
    // threshold raises a SMART event (also how tests provoke one).
    void set_temperature(uint16_t kelvin);

private:
    struct Features {
        uint32_t arbitration = 0;
        uint32_t power_management = 0;
        uint16_t temperature_over = warning_temperature;
        uint16_t temperature_under = 0;
        bool write_cache = true;
        uint32_t interrupt_coalescing = 0;
        uint32_t async_event_config = 0;
    };

    // ---- controller.cpp
    void declare_registers(RegisterMap& regs);
    void declare_doorbells(RegisterMap& regs);
    void on_cc_write(uint32_t old_cc, uint32_t new_cc);
    void enable(uint32_t cc);
    void reset();
    void shutdown();
    void fatal_error();
    [[nodiscard]] uint64_t cap_value() const;
    [[nodiscard]] uint64_t page_size() const { return page_size_; }

    // ---- queue_engine.cpp
    void sq_doorbell(uint16_t qid, uint32_t tail);
    void cq_doorbell(uint16_t qid, uint32_t head);
    void process_sq(SubmissionQueue& sq);
    // Room appeared in a CQ: SQs that stopped because it was full go on.
    void resume_stalled(CompletionQueue& cq);
    [[nodiscard]] bool post_completion(CompletionQueue& cq, uint16_t sqid, uint16_t sqhd,
                                       uint16_t cid, const Completion& c);
    void signal_completions();
    void raise_vector(uint16_t vector);
    void update_intx();
    void on_interrupt_mask_change(uint32_t old_mask);
    [[nodiscard]] std::optional<Completion> execute(SubmissionQueue& sq, const Sqe& cmd);

    // ---- shadow_doorbells.cpp
public:
    // A polling host (busy, or on a timer): read the shadow doorbells of the I/O queues
    // and process what they announce, so the driver never traps on a
    // doorbell; completions are coalesced while the host is still busy
    // with the previous interrupt's.
    bool on_poll() override;
    bool on_idle() override;

private:
    [[nodiscard]] Completion doorbell_buffer_config(const Sqe& cmd);
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

    // ---- admin_queues.cpp
    [[nodiscard]] std::optional<Completion> admin_command(SubmissionQueue& sq, const Sqe& cmd);
    [[nodiscard]] Completion create_io_cq(const Sqe& cmd);
    [[nodiscard]] Completion create_io_sq(const Sqe& cmd);
    [[nodiscard]] Completion delete_io_cq(const Sqe& cmd);
    [[nodiscard]] Completion delete_io_sq(const Sqe& cmd);
    // Admin data to the host through the command's PRPs.
    [[nodiscard]] Completion copy_to_host(SubmissionQueue& sq, const Sqe& cmd,
                                          std::span<const std::byte> data);

    // ---- async_events.cpp
    [[nodiscard]] std::optional<Completion> async_event_request(const Sqe& cmd);
    void report_event(uint8_t type, uint8_t info, uint8_t log_page);
    void deliver_events();
    void log_page_read(uint8_t log_page);
    void check_temperature();

    // ---- identify.cpp
    [[nodiscard]] Completion identify(SubmissionQueue& sq, const Sqe& cmd);
    void identify_controller(std::span<std::byte, 4096> out) const;
    void identify_namespace(const Namespace& ns, std::span<std::byte, 4096> out) const;
    void active_namespaces(uint32_t after, std::span<std::byte, 4096> out) const;
    void namespace_descriptors(const Namespace& ns, std::span<std::byte, 4096> out) const;

    // ---- format.cpp
    [[nodiscard]] Completion format_nvm(const Sqe& cmd);

    // ---- features.cpp
    [[nodiscard]] Completion set_features(const Sqe& cmd);
    [[nodiscard]] Completion get_features(const Sqe& cmd);

    // ---- log_pages.cpp
    [[nodiscard]] Completion get_log_page(SubmissionQueue& sq, const Sqe& cmd);
    void smart_log(std::span<std::byte, 512> out) const;

    // ---- io_commands.cpp
    // The blocks a Read/Write/Compare names, checked, and its data
    // pointer resolved into sq.runs.
    struct BlockTransfer {
        uint64_t offset = 0; // bytes into the namespace
        uint64_t length = 0;
    };
    [[nodiscard]] Status map_blocks(SubmissionQueue& sq, const Sqe& cmd, const Namespace& ns,
                                    BlockTransfer& t);
    [[nodiscard]] Completion io_command(SubmissionQueue& sq, const Sqe& cmd);
    [[nodiscard]] Completion read_write(SubmissionQueue& sq, const Sqe& cmd, Namespace& ns);
    [[nodiscard]] Completion compare(SubmissionQueue& sq, const Sqe& cmd, Namespace& ns);
    [[nodiscard]] Completion write_zeroes(const Sqe& cmd, Namespace& ns);
    [[nodiscard]] Completion dataset_management(SubmissionQueue& sq, const Sqe& cmd, Namespace& ns);
    [[nodiscard]] Completion flush(const Sqe& cmd);
    [[nodiscard]] Namespace* find_namespace(uint32_t nsid);
    [[nodiscard]] uint64_t max_transfer() const;

    ControllerOptions options_;
    std::vector<Namespace> namespaces_;

    Register* cc_ = nullptr;
    Register* csts_ = nullptr;
    Register* aqa_ = nullptr;
    Register* asq_ = nullptr;
    Register* acq_ = nullptr;
    Register* intms_ = nullptr;
    Register* intmc_ = nullptr;

    uint64_t page_size_ = 4096;
    bool shut_down_ = false;
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
    // host calls on_poll() (then the model reads the shadows itself and
    // never asks for doorbell writes): from its first on_poll() until an
    // on_idle(), when the host is about to sleep.
    struct ShadowDoorbells {
        uint64_t doorbells = 0;
        uint64_t event_indexes = 0;
        std::vector<uint32_t> values; // scratch for one read of every slot
    };
    ShadowDoorbells shadow_;
    bool polled_ = false;
    // Data moved since the last signal_completions(): a batch of large
    // transfers signals as it goes rather than holding back its first
    // completions until the last is done (the host could already be
    // reaping and submitting more).
    static constexpr uint64_t eager_signal_bytes = 32 * 1024;
    uint64_t unsignalled_bytes_ = 0;

    Features features_;
    uint16_t temperature_ = default_temperature;
    uint8_t critical_warning_ = 0;
    // Asynchronous events: outstanding requests (their command ids),
    // events waiting for one, and log pages whose event was reported but
    // not yet read (no new event of that page until it is).
    std::vector<uint16_t> aer_cids_;
    std::deque<uint32_t> pending_events_;
    uint32_t masked_log_pages_ = 0; // bit per log page id < 32
    uint64_t power_cycles_ = 0;
    ErrorLog error_log_;

    // SMART counters; atomics so queue threads can count later.
    std::atomic<uint64_t> data_units_read_{0}; // bytes, converted when reported
    std::atomic<uint64_t> data_units_written_{0};
    std::atomic<uint64_t> host_reads_{0};
    std::atomic<uint64_t> host_writes_{0};
    std::atomic<uint64_t> media_errors_{0};
};

} // namespace pciem::nvme
