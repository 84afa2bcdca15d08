// SPDX-License-Identifier: MIT
//
// ReplayModel: a device model that plays a recording back (docs/record.md).
// It creates the recorded function again, answers the driver's MMIO and
// model-handled config reads with the recorded values, in order, checks
// every access the driver makes against the recorded sequence, and does
// the recorded device-side events (interrupts, DMA with the recorded
// bytes) at the point they happened between the driver's accesses. The
// first access that differs ends the replay: divergence() names it and
// the access the recording expected.
//
//     auto rec = pciem::Recording::load(path);
//     auto model = ReplayModel::create(std::move(*rec), {});
//     (*model)->on_finish([&] { stop the host });
//     ... run it on a KernelHost (pciem-replay) or a SimHost (tests)
//
// What the model is compared on: accesses that reached the recorded
// model (flag PCIEM_REC_F_MODEL): MMIO reads and writes, and config
// cycles of capabilities handed to the model. Accesses the kernel served
// itself (emulated config space, the MSI-X table and PBA) never reach a
// model, so they are not compared; accesses that master-aborted
// (PCIEM_REC_F_ABORT) are optional: matched if they come, skipped if not.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pciem/device_model.hpp"
#include "pciem/recording.hpp"

namespace pciem::devices::replay {

struct Options {
    // Compare the bytes a recorded DMA read finds in host memory (what the
    // driver put there: commands, descriptors, data) with the recording.
    bool check_dma_data = true;
};

// One thing the replay expects or does, in recorded order.
struct Step {
    enum class Kind : uint8_t { access, irq, intx, dma };
    Kind kind = Kind::access;
    size_t record = 0; // index in the recording, for messages
    // access
    uint16_t type = 0;     // PCIEM_REC_MMIO_READ, ... (config: offset is the register)
    bool optional = false; // master-aborted when recorded: may not come
    unsigned bar = 0;
    uint64_t offset = 0;
    unsigned size = 0;
    uint64_t value = 0; // read: the answer; write: the data; irq: vector or level
    // irq
    int32_t result = 0;
    // dma
    uint32_t op = 0;
    uint32_t fault = 0;
    uint64_t addr = 0;
    uint64_t len = 0;
    uint64_t operand = 0, compare = 0, old = 0;
    bool truncated = false;
    std::vector<std::byte> data;
};

// The steps a recording turns into, or why it cannot be replayed (lost
// records, a truncated DMA write). Warnings (injected faults in the
// recording) go to *warnings.
Result<std::vector<Step>> steps_of(const Recording& rec, std::vector<std::string>* warnings);

// An access or step in words: "mmio-write BAR0+0x4/4 = 0x2".
std::string describe_access(uint16_t type, unsigned bar, uint64_t offset, unsigned size,
                            std::optional<uint64_t> value);
std::string describe_step(const Step& s);

class ReplayModel final : public DeviceModel {
public:
    enum class Outcome { running, complete, diverged };

    static Result<std::unique_ptr<ReplayModel>> create(Recording recording, Options options);

    DeviceSpec spec() const override { return spec_; }
    std::optional<uint64_t> on_mmio_read(unsigned bar, uint64_t offset, unsigned size) override;
    void on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) override;
    uint32_t on_config_read(uint16_t offset, unsigned size) override;
    void on_config_write(uint16_t offset, unsigned size, uint32_t value) override;

    // Called on the model's thread, without the model's lock, each time
    // the outcome changes: complete once the last step of the recording
    // was done, diverged at the first difference (also after complete,
    // when the driver goes on past the end of the recording).
    void on_finish(std::function<void(Outcome)> callback) { finish_ = std::move(callback); }

    // Thread-safe.
    [[nodiscard]] Outcome outcome() const;
    // The divergence in words (empty while none): which access of the
    // driver differed, and what the recording expected there.
    [[nodiscard]] std::string divergence() const;
    // While running: what the recording still expects, in words.
    [[nodiscard]] std::string next_expected() const;
    [[nodiscard]] size_t accesses_matched() const;
    [[nodiscard]] size_t accesses_expected() const { return accesses_; }
    [[nodiscard]] size_t events_done() const;
    [[nodiscard]] size_t events_expected() const { return events_; }
    [[nodiscard]] const std::vector<std::string>& warnings() const { return warnings_; }
    [[nodiscard]] const Recording& recording() const { return recording_; }

private:
    ReplayModel(Recording recording, Options options, DeviceSpec spec, std::vector<Step> steps,
                std::vector<std::string> warnings);

    // One access of the driver: the answer for a read (all-ones once the
    // replay is over).
    uint64_t access(uint16_t type, unsigned bar, uint64_t offset, unsigned size,
                    std::optional<uint64_t> value);
    // Performs device-side steps from next_ up to the next access step.
    // False when one of them diverged.
    bool run_events();
    bool perform(const Step& s);
    void diverge(std::string message);
    std::string where(const Step& s) const;

    Recording recording_;
    Options options_;
    DeviceSpec spec_;
    std::vector<Step> steps_;
    std::vector<std::string> warnings_;
    size_t accesses_ = 0, events_ = 0;

    mutable std::mutex mutex_;
    size_t next_ = 0;
    size_t matched_ = 0, done_events_ = 0, seen_ = 0;
    Outcome outcome_ = Outcome::running;
    std::optional<Outcome> pending_; // to tell on_finish() once unlocked
    std::string divergence_;
    std::function<void(Outcome)> finish_;
};

} // namespace pciem::devices::replay
