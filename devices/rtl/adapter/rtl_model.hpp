// SPDX-License-Identifier: MIT
//
// RtlModel: a PCIem device model whose behaviour is a simulated design.
// The spec says what config space looks like (IDs, BARs, MSI-X); every
// access to the register BAR goes to the design's AXI4-Lite slave through
// an RtlAdapter, which also turns its DMA requests into dma() and its irq
// lines into vectors. The model declares no register map for that BAR:
// the registers live in the RTL.
//
//     pciem::rtl::RtlModel model(spec, std::make_unique<VerilatedDesign<Vmy_device>>(),
//                                pciem::rtl::RtlOptions{});
//     return host_cli.serve("pciem-my-device", model);
#pragma once

#include <memory>

#include "rtl_adapter.hpp"

#include "pciem/device_model.hpp"

namespace pciem::rtl {

class RtlModel : public DeviceModel {
public:
    RtlModel(DeviceSpec spec, std::unique_ptr<RtlDesign> design, RtlOptions options,
             unsigned register_bar = 0)
        : spec_(std::move(spec)), register_bar_(register_bar),
          adapter_(*this, std::move(design), std::move(options)) {}

    [[nodiscard]] DeviceSpec spec() const override { return spec_; }

    void on_start() override {
        if (auto ok = adapter_.start(); !ok) {
            start_error_ = ok.error();
        }
    }
    void on_stop() override { adapter_.stop(); }

    std::optional<uint64_t> on_mmio_read(unsigned bar, uint64_t offset, unsigned size) override {
        if (bar != register_bar_) {
            return std::nullopt;
        }
        return adapter_.read(offset, size);
    }
    void on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) override {
        if (bar == register_bar_) {
            adapter_.write(offset, size, value);
        }
    }

    [[nodiscard]] RtlAdapter& adapter() { return adapter_; }
    // Why on_start() could not start the design (a trace file that could
    // not be written), if it could not.
    [[nodiscard]] const std::optional<Error>& start_error() const { return start_error_; }

private:
    DeviceSpec spec_;
    unsigned register_bar_;
    RtlAdapter adapter_;
    std::optional<Error> start_error_;
};

} // namespace pciem::rtl
