// SPDX-License-Identifier: MIT
//
// pciemctl record: keep what a function's device side saw and answered
// (PCIEM_IOC_RECORD) in a file, for `pciemctl dump` and `pciem-replay`
// (docs/record.md). pciemctl dump: print a recording, one line a record.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "pciem/control.hpp"
#include "pciem/recording.hpp"
#include "pciem/unique_fd.hpp"
#include "watch.hpp"

namespace pciemctl {

namespace {

struct RecordOptions {
    std::string address;
    std::string output;
    double duration = 0;
    uint32_t buffer_kb = 0;
    std::vector<std::string> command;
    std::string control_path = PCIEM_CONTROL_NODE;
};

bool write_all(int fd, const void* data, size_t len) {
    const auto* p = static_cast<const char*>(data);
    while (len > 0) {
        const ssize_t n = ::write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

int record(const RecordOptions& o) {
    if (o.duration > 0 && !o.command.empty()) {
        fmt::print(stderr, "pciemctl: give --duration or a COMMAND, not both\n");
        return exit_usage_error;
    }
    auto at = pciem::parse_pci_address(o.address);
    if (!at) {
        fmt::print(stderr, "pciemctl: {}\n", at.error().message);
        return exit_usage_error;
    }
    auto control = pciem::Control::open(o.control_path);
    if (!control) {
        fmt::print(stderr, "pciemctl: {}\n", control.error().message);
        return exit_runtime_error;
    }
    auto info = control->info();
    if (!info) {
        fmt::print(stderr, "pciemctl: {}\n", info.error().message);
        return exit_runtime_error;
    }
    auto rec = control->record(*at, o.buffer_kb);
    if (!rec) {
        fmt::print(stderr, "pciemctl: cannot record {}: {}\n", o.address, rec.error().message);
        return exit_runtime_error;
    }
    pciem::UniqueFd out(::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out.valid()) {
        fmt::print(stderr, "pciemctl: cannot write {}: {}\n", o.output, std::strerror(errno));
        return exit_runtime_error;
    }
    const auto header = pciem::make_recording_header(*at, info->abi_version, o.buffer_kb);
    if (!write_all(out.get(), &header, sizeof(header))) {
        fmt::print(stderr, "pciemctl: writing {} failed: {}\n", o.output, std::strerror(errno));
        return exit_runtime_error;
    }
    // read() returns whole records only: room for the largest, a DMA
    // record of a quarter of the buffer.
    const size_t buffer_bytes = size_t{o.buffer_kb ? o.buffer_kb : 16384u} << 10;
    std::vector<std::byte> buf(std::max<size_t>(1u << 20, buffer_bytes / 4 + 4096));
    uint64_t records = 0, bytes = 0, lost = 0;
    std::string error;
    bool ended = false;
    const int fd = rec->get();
    // Reads what is there; false once the function is gone and all was read.
    auto drain = [&]() {
        for (;;) {
            const ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n == 0) {
                ended = true;
                return false;
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno != EAGAIN) {
                    // EINVAL: the next record is larger than buf, which
                    // holds the largest the kernel makes.
                    error = fmt::format("reading the recording failed: {} (with a {}-byte buffer)",
                                        std::strerror(errno), buf.size());
                    return false;
                }
                return true;
            }
            for (size_t at = 0; at + sizeof(pciem_rec) <= static_cast<size_t>(n);) {
                pciem_rec h{};
                std::memcpy(&h, buf.data() + at, sizeof(h));
                if (h.len < sizeof(h)) {
                    break;
                }

                if (h.type == PCIEM_REC_LOST && at + sizeof(pciem_rec_lost) <= size_t(n)) {
                    pciem_rec_lost l{};
                    std::memcpy(&l, buf.data() + at, sizeof(l));
                    lost += l.count;
                }
                ++records;
                at += h.len;
            }
            bytes += static_cast<uint64_t>(n);
            if (!write_all(out.get(), buf.data(), static_cast<size_t>(n))) {
                error = fmt::format("writing {} failed: {}", o.output, std::strerror(errno));
                return false;
            }
        }
    };
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        fmt::print(stderr, "pciemctl: {}\n", std::strerror(errno));
        return exit_runtime_error;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto end = watch(fd, o.command, o.duration, 200, drain);
    if (!end) {
        fmt::print(stderr, "pciemctl: {}\n", end.error().message);
        return exit_runtime_error;
    }
    if (error.empty() && !ended) {
        (void)drain(); // what came until the command ended
    }
    if (!error.empty()) {
        fmt::print(stderr, "pciemctl: {}\n", error);
        return exit_runtime_error;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("pciemctl: {} records ({} bytes) of {} in {:.1f} s written to {}{}\n", records,
               bytes + sizeof(header), pciem::format_pci_address(*at), secs, o.output,
               ended ? " (the function went away)" : "");
    if (lost != 0) {
        fmt::print(stderr,
                   "pciemctl: warning: {} records were lost (the buffer was full): record "
                   "again with a larger --buffer-kb to replay it\n",
                   lost);
    }
    return command_outcome(o.command, *end);
}

struct DumpOptions {
    std::string file;
    bool offsets = false;
    bool data = false;
};

int dump(const DumpOptions& o) {
    auto rec = pciem::Recording::load(o.file);
    if (!rec) {
        fmt::print(stderr, "pciemctl: {}\n", rec.error().message);
        return exit_runtime_error;
    }
    const pciem::RecordingHeader& h = rec->header();
    fmt::print("# PCIem recording of {}: {} records, started {}, kernel {}, ABI {}\n",
               pciem::format_pci_address(rec->address()), rec->records().size(),
               pciem::recording_start_text(h), pciem::recording_kernel(h), h.abi_version);
    for (const pciem::Record& r : rec->records()) {
        if (o.offsets) {
            fmt::print("@{:#x} ", r.file_offset);
        }
        fmt::print("{}\n", pciem::format_record_line(r, rec->start_ns()));
        const auto data = r.dma_data();
        if (o.data && !data.empty()) {
            for (size_t i = 0; i < data.size(); i += 16) {
                std::string line = fmt::format("    {:06x} ", i);
                for (size_t j = i; j < std::min(data.size(), i + 16); ++j) {
                    line += fmt::format(" {:02x}", static_cast<unsigned>(data[j]));
                }
                fmt::print("{}\n", line);
            }
        }
    }
    return exit_ok;
}

} // namespace

void add_record_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<RecordOptions>();
    auto* cmd = app.add_subcommand(
        "record",
        "Record what a PCIem function's device side sees and answers (config, MMIO with the "
        "values the driver got, interrupts, DMA with its bytes) into FILE, for the duration, "
        "while COMMAND runs, or until Ctrl-C. `pciemctl dump FILE` prints it, `pciem-replay "
        "FILE` plays it back against the driver (docs/record.md).");
    cmd->add_option("address", o->address, "The function, as lspci prints it (10000:00:03.0)")
        ->required();
    cmd->add_option("-o,--output", o->output, "The recording file")->required();
    cmd->add_option("--duration", o->duration, "Stop after this many seconds")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--buffer-kb", o->buffer_kb,
                    "The kernel's buffer (64 to 1048576 KiB; default 16384): records that do "
                    "not fit while this tool is behind are lost, and a recording with losses "
                    "cannot be replayed")
        ->check(CLI::Range(64u, 1048576u));
    cmd->add_option("command", o->command, "-- COMMAND [ARGS...]: record while it runs");
    cmd->add_option("--control", o->control_path, "PCIem control node")->capture_default_str();
    cmd->callback([o, &action] {
        action = [o] {
            return record(*o);
        };
    });
}

void add_dump_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<DumpOptions>();
    auto* cmd = app.add_subcommand(
        "dump", "Print a recording (pciemctl record), one line per record: index, time since "
                "the first record, what happened (docs/record.md).");
    cmd->add_option("file", o->file, "The recording")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--offsets", o->offsets, "Start each line with the record's byte offset");
    cmd->add_flag("--data", o->data, "Print every byte of DMA records, 16 a line");
    cmd->callback([o, &action] {
        action = [o] {
            return dump(*o);
        };
    });
}

} // namespace pciemctl
