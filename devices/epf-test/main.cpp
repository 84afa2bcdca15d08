// SPDX-License-Identifier: MIT
//
// pciem-epf-test: a pci-epf-test compatible endpoint on the kernel, until
// SIGINT/SIGTERM, for the kernel's pci_endpoint_test driver and pcitest
// (docs/epf-test.md).
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "epf_test.hpp"
#include "host_cli.hpp"
#include "pciem/spec_number.hpp"

namespace epf = pciem::devices::epf;

namespace {

// "0x104c", "4096", "1M" (spec-file numbers) into v, or a CLI11 message.
template <class T>
std::string parse_into(const std::string& text, T& v, uint64_t max) {
    auto n = pciem::parse_spec_number(text);
    if (!n) {
        return fmt::format("'{}': {}", text, n.error());
    }
    if (*n > max) {
        return fmt::format("'{}': at most {}", text, max);
    }
    v = static_cast<T>(*n);
    return {};
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run a pci-epf-test compatible PCI endpoint on /dev/pciem until SIGINT or "
                 "SIGTERM, for the kernel's pci_endpoint_test driver and pcitest. Needs "
                 "pciem.ko and root."};
    epf::Config config;
    std::string vendor = fmt::format("{:#06x}", config.vendor);
    std::string device = fmt::format("{:#06x}", config.device);
    std::vector<std::string> bars;
    std::string pio_chunk = std::to_string(config.pio_chunk);
    std::string max_transfer = "64M";
    app.add_option("--vendor", vendor,
                   "Vendor ID; the driver binds by ID to endpoint controllers only (or use its "
                   "sysfs new_id)")
        ->capture_default_str();
    app.add_option("--device", device,
                   "Device ID (default: TI DRA74x, test registers in BAR0, 4 KiB alignment)")
        ->capture_default_str();
    app.add_option("--test-bar", config.test_bar,
                   "BAR holding the test registers and MSI-X table; must be the one the "
                   "driver's data for these IDs names")
        ->check(CLI::Range(0u, 5u))
        ->capture_default_str();
    app.add_option("--bar", bars,
                   "N=SIZE: size of BAR N (0 removes it; the test BAR's 0 sizes it to fit). "
                   "Default 1=512 2=1K 3=16K 4=128K 5=1M. Repeatable");
    app.add_option("--msi", config.msi_vectors, "MSI vectors: 1, 2, 4, 8, 16 or 32")
        ->capture_default_str();
    app.add_option("--msix", config.msix_vectors, "MSI-X vectors: 0 (none) to 2048")
        ->capture_default_str();
    app.add_option("--pio-chunk", pio_chunk,
                   "Bytes per device access of a transfer without the DMA flag")
        ->capture_default_str();
    app.add_option("--max-transfer", max_transfer,
                   "Larger transfers fail with SRC/DST_ADDR_INVALID")
        ->capture_default_str();
    pciem::devices::HostCli host_cli;
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }

    std::string err = parse_into(vendor, config.vendor, 0xffff);
    if (err.empty()) {
        err = parse_into(device, config.device, 0xffff);
    }
    if (err.empty()) {
        err = parse_into(pio_chunk, config.pio_chunk, 1u << 30);
    }
    if (err.empty()) {
        err = parse_into(max_transfer, config.max_transfer, 0xffffffffu);
    }
    for (const std::string& b : bars) {
        const auto eq = b.find('=');
        unsigned index = 6;
        if (eq == 1 && b[0] >= '0' && b[0] <= '5') {
            index = static_cast<unsigned>(b[0] - '0');
        }
        if (index > 5) {
            err = fmt::format("--bar '{}': want N=SIZE with N from 0 to 5", b);
            break;
        }
        err = parse_into(b.substr(eq + 1), config.bar_size[index], 256u << 20);
        if (!err.empty()) {
            err = fmt::format("--bar {}: BAR{} size {}", b, index, err);
            break;
        }
    }
    if (err.empty()) {
        if (auto ok = epf::validate(config); !ok) {
            err = ok.error().message;
        }
    }
    if (!err.empty()) {
        fmt::print(stderr, "pciem-epf-test: {}\n", err);
        return 2;
    }

    epf::EpfTest model(config);
    return host_cli.serve("pciem-epf-test", model, [&model] {
        const epf::Stats& s = model.stats();
        fmt::print("pciem-epf-test: {} commands, {} transfers ok, {} failed, {} interrupts "
                   "raised, {} not, {} commands ignored\n",
                   s.commands, s.transfers_ok, s.transfers_failed, s.irqs_raised, s.irqs_failed,
                   s.commands_ignored);
    });
}
