// SPDX-License-Identifier: MIT
//
// An NVMe 1.4 controller (PCI class 010802h) that the stock Linux nvme
// driver drives: controller registers and doorbells in BAR0, the MSI-X
// table in BAR4, the admin command set the driver and nvme-cli use and
// the NVM command set over file- or memory-backed namespaces.
//
// The Controller keeps the registers (CAP, CC, CSTS, AQA, ...) and the
// state changes CC orders, executes commands, and wires the parts that
// own the rest, each with its own state:
//   queue_engine.hpp    queues, doorbells (and shadows), completions, interrupts
//   async_events.hpp    Asynchronous Event Requests and the events they report
//   features.hpp        Get/Set Features values
//   log_pages.hpp       log page contents: error log, SMART counters, temperature
// The Controller's own code is split by job:
//   controller.cpp      identity, registers, enable/reset/shutdown (CC, CSTS), the engine's hooks
//   commands.cpp        command dispatch; the admin commands the parts serve
//   identify.cpp        Identify data structures
//   format.cpp          Format NVM
//   io_commands.cpp     Read, Write, Compare, Flush, Write Zeroes, Dataset Management
//   data_pointer.cpp    PRPs and SGLs to runs of host memory
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "async_events.hpp"
#include "controller_options.hpp"
#include "features.hpp"
#include "log_pages.hpp"
#include "namespace.hpp"
#include "nvme_spec.hpp"
#include "pciem/device_model.hpp"
#include "queue_engine.hpp"
#include "queues.hpp"

namespace pciem::nvme {

class Controller final : public DeviceModel, private QueueEngine::Owner {
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
    static constexpr unsigned max_async_events = AsyncEvents::limit;
    static constexpr uint16_t default_temperature = Features::default_temperature;   // Kelvin
    static constexpr uint16_t warning_temperature = Features::warning_temperature;   // WCTEMP
    static constexpr uint16_t critical_temperature = Features::critical_temperature; // CCTEMP

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
    [[nodiscard]] uint64_t doorbell_slot(uint16_t qid, bool cq) const {
        return queues_.doorbell_slot(qid, cq);
    }
    // Where the host rings queue qid's SQ tail / CQ head doorbell.
    [[nodiscard]] uint64_t sq_doorbell_offset(uint16_t qid) const;
    [[nodiscard]] uint64_t cq_doorbell_offset(uint16_t qid) const;
    // The composite temperature the SMART log reports; crossing a
    // threshold raises a SMART event (also how tests provoke one).
    void set_temperature(uint16_t kelvin);

    // A polling host (busy, or on a timer): the queue engine reads the
    // shadow doorbells of the I/O queues and processes what they
    // announce, so the driver never traps on a doorbell; completions are
    // coalesced while the host is still busy with the previous
    // interrupt's.
    bool on_poll() override { return queues_.poll(); }
    bool on_idle() override { return queues_.idle(); }

private:
    // The options as the controller runs them: counts within the spec's
    // (and this model's) limits.
    [[nodiscard]] static ControllerOptions clamped(ControllerOptions options);

    // ---- controller.cpp
    void declare_registers(RegisterMap& regs);
    void declare_doorbells(RegisterMap& regs);
    void on_cc_write(uint32_t old_cc, uint32_t new_cc);
    void enable(uint32_t cc);
    void reset();
    void shutdown();
    [[nodiscard]] uint64_t cap_value() const;
    [[nodiscard]] uint64_t page_size() const { return page_size_; }
    void set_interrupt_mask(uint32_t mask);

    // QueueEngine::Owner (controller.cpp; execute() in commands.cpp)
    [[nodiscard]] bool running() const override;
    [[nodiscard]] bool failed() const override;
    [[nodiscard]] bool shut_down() const override { return shut_down_; }
    void fatal_error() override;
    [[nodiscard]] std::optional<Completion> execute(SubmissionQueue& sq, const Sqe& cmd) override;
    void command_failed(uint16_t sqid, const Sqe& cmd, Status status, bool phase) override;
    void doorbell_error(uint8_t info) override;
    void admin_cq_released() override { events_.deliver(); }

    // ---- commands.cpp
    [[nodiscard]] std::optional<Completion> admin_command(SubmissionQueue& sq, const Sqe& cmd);
    [[nodiscard]] Completion set_features(const Sqe& cmd);
    [[nodiscard]] Completion get_log_page(SubmissionQueue& sq, const Sqe& cmd);
    // The temperature against the thresholds: a SMART event when it
    // newly crosses one.
    void check_temperature();
    // Admin data to the host through the command's PRPs.
    [[nodiscard]] Completion copy_to_host(SubmissionQueue& sq, const Sqe& cmd,
                                          std::span<const std::byte> data);

    // ---- identify.cpp
    [[nodiscard]] Completion identify(SubmissionQueue& sq, const Sqe& cmd);
    void identify_controller(std::span<std::byte, 4096> out) const;
    void identify_namespace(const Namespace& ns, std::span<std::byte, 4096> out) const;
    void active_namespaces(uint32_t after, std::span<std::byte, 4096> out) const;
    void namespace_descriptors(const Namespace& ns, std::span<std::byte, 4096> out) const;

    // ---- format.cpp
    [[nodiscard]] Completion format_nvm(const Sqe& cmd);

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

    uint64_t page_size_ = 4096; // CC.MPS's, from enable on
    bool shut_down_ = false;

    // The parts, after options_ (which they read) and in the order they
    // use each other: events complete through the queues.
    QueueEngine queues_;
    AsyncEvents events_;
    Features features_;
    LogPages logs_;
};

} // namespace pciem::nvme
