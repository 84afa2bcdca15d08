// SPDX-License-Identifier: MIT
//
// pciem-rtl-dma: the example DMA engine on the kernel, until SIGINT or
// SIGTERM: its SystemVerilog design simulated by Verilator behind the
// PCIem RTL adapter (default), or its C++ reference model (--model cpp),
// which the same driver (drivers/pciem_rtl_dma) binds to.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <rtl_dma_regs.h>

#include "Vdma_engine.h"
#include "dma_engine_model.hpp"
#include "dma_engine_spec.hpp"
#include "host_cli.hpp"
#include "rtl_cli.hpp"
#include "rtl_model.hpp"
#include "verilated_design.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Run the example RTL DMA engine (devices/rtl/dma-engine) on /dev/pciem until "
                 "SIGINT or SIGTERM. Needs pciem.ko and root."};
    pciem::devices::HostCli host_cli;
    host_cli.add_options(app);
    pciem::rtl::RtlCli rtl_cli;
    rtl_cli.add_options(app);
    std::string model_kind = "rtl";
    app.add_option("--model", model_kind,
                   "rtl: the SystemVerilog design under Verilator; cpp: the C++ reference model")
        ->check(CLI::IsMember({"rtl", "cpp"}))
        ->capture_default_str();
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }

    if (model_kind == "cpp") {
        pciem::devices::DmaEngineModel model(RTL_DMA_DEVICE_ID_CPP);
        return host_cli.serve("pciem-rtl-dma", model);
    }
    if (auto ok = rtl_cli.check(); !ok) {
        std::fprintf(stderr, "pciem-rtl-dma: %s\n", ok.error().message.c_str());
        return 1;
    }
    pciem::rtl::RtlModel model(pciem::devices::dma_engine_spec(RTL_DMA_DEVICE_ID),
                               std::make_unique<pciem::rtl::VerilatedDesign<Vdma_engine>>(),
                               rtl_cli.options);
    return host_cli.serve("pciem-rtl-dma", model, [&model] {
        fmt::print("{}\n", pciem::rtl::summary(model.adapter().stats()));
    });
}
