// SPDX-License-Identifier: MIT
//
// IntxLine: the server's INTx as PCIem's level-triggered INTx line.
//
// A vfio-user server signals an INTx eventfd when its line goes high
// (QEMU's server: on each assertion) and never when it drops, so the
// line has two halves here. A thread of its own waits on the eventfd and
// raises PCIem's line at once. The drop can only follow something the
// driver did (an acknowledging write, a read that clears), so after each
// such access while the line is high the proxy asks the server whether
// its device still asserts (Interrupt Status in its config space) and
// lowers PCIem's line when not. The question and the lowering hold a
// lock that an assertion must take to mark the line high, so an
// assertion that arrives meanwhile is never lost (at worst the line is
// raised for an interrupt the driver already acknowledged: its handler's
// next access lowers it again).
//
// Interrupt Disable is left to pciem.ko: the server always signals.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "pciem/error.hpp"
#include "pciem/interrupts.hpp"
#include "pciem/unique_fd.hpp"

namespace pciem::proxy {

class IntxLine {
public:
    // `irq` must outlive the line (the KernelHost's interrupts).
    static Result<std::unique_ptr<IntxLine>> create(Interrupts& irq);
    ~IntxLine();
    IntxLine(const IntxLine&) = delete;
    IntxLine& operator=(const IntxLine&) = delete;

    // The eventfd to hand to the server (SET_IRQS, INTx index).
    [[nodiscard]] int eventfd() const { return event_.get(); }
    [[nodiscard]] bool high() const { return high_.load(); }
    // After a driver access: lowers the line unless `still_asserted`
    // says the server's device still drives it. Its error is returned
    // and the line left as it was.
    Result<void> settle(const std::function<Result<bool>()>& still_asserted);

private:
    IntxLine(Interrupts& irq, UniqueFd event, UniqueFd stop)
        : irq_(irq), event_(std::move(event)), stop_(std::move(stop)) {}
    void wait_for_assertions();

    Interrupts& irq_;
    UniqueFd event_;
    UniqueFd stop_;
    std::mutex mutex_;
    std::atomic<bool> high_{false};
    std::thread thread_;
};

} // namespace pciem::proxy
