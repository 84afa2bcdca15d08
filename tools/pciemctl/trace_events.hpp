// SPDX-License-Identifier: MIT
//
// `pciemctl trace`'s conversion of tracefs text into PCIem events, and of
// those into text or Chrome/Perfetto JSON (the Trace Event Format). Pure
// functions over strings, so unit tests feed them canned tracefs output.
//
// tracefs prints each event as
//     <comm>-<pid>  [<cpu>] <flags> <seconds>: <event>: <fields>
// with <fields> as the event's TP_printk (kernel/pciem_trace.h) says; the
// function tracer prints "<function> <-<caller>" instead of an event name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pciemctl::trace {

// One line of tracefs text output.
struct TraceLine {
    std::string comm;
    int pid = 0;
    int cpu = 0;
    double seconds = 0; // the trace clock (pciemctl uses "mono": CLOCK_MONOTONIC)
    std::string event;  // "pciem_mmio", ...; "function" for the function tracer
    std::string body;   // what follows "<event>: " (function tracer: "f <-caller")
};

// Nothing for lines that are no event (comments, "CPU:1 [LOST 12 EVENTS]").
std::optional<TraceLine> parse_trace_line(std::string_view line);
// "CPU:1 [LOST 12 EVENTS]" -> 12, else 0.
uint64_t lost_events(std::string_view line);

struct Event {
    enum class Kind {
        config,
        mmio,
        irq_raise,
        irq_mask,
        irq_deliver,
        dma_map,
        dma_access,
        ring_full,
        state,
        fault,
        call, // a driver function (function tracer)
    };
    Kind kind = Kind::call;
    double ts_us = 0; // microseconds on the trace clock
    int cpu = 0;
    int pid = 0;
    std::string comm;
    std::string function; // the PCI function, "10000:00:00.0" (empty for calls)

    // config, mmio
    bool write = false;
    unsigned bar = 0;
    uint64_t offset = 0;
    unsigned size = 0;
    uint64_t value = 0;
    bool model = false; // config: the model handled it
    unsigned insn = 0;  // mmio: enum pciem_insn_kind
    std::string source; // mmio: model, kernel, shadow, abort, injected, timeout
    uint64_t ns = 0;    // mmio: time to answer
    // irq_*
    uint32_t vector = 0;
    int result = 0; // raise: 0 queued, 1 pending (masked), < 0 errno
    bool masked = false;
    bool intx = false;
    unsigned virq = 0;
    // dma_*
    bool map = false;
    uint64_t addr = 0;
    uint64_t len = 0;
    unsigned dir = 0;       // enum dma_data_direction
    unsigned dma_kind = 0;  // single, sg, coherent
    unsigned op = 0;        // enum pciem_dma_op
    unsigned dma_fault = 0; // enum pciem_dma_fault
    // state, fault
    int from = 0, to = 0; // enum pciem_fn_state (kernel/pciem.h)
    unsigned fault = 0;   // enum pciem_fault
    unsigned rule = 0;
    uint64_t detail = 0;
    // call
    std::string callee, caller;
};

// Nothing for events that are not PCIem's or a driver function call, and
// for a pciem_* line whose fields do not parse (a newer kernel's format).
std::optional<Event> parse_event(const TraceLine& line);

// The event in words, without time or task: "mmio write BAR0+0x1000/4 =
// 0x1 (model, 2.345 us)", "irq raise vector 0", "call nvme_irq <- ...".
std::string describe_event(const Event& e);
// One line per event: "<seconds> cpu<N> <comm>-<pid> <function> <words>".
std::string to_text(const std::vector<Event>& events);

struct JsonInfo {
    std::string command;       // what was traced, for otherData
    std::string driver_module; // --driver, names the process of its calls
};

// Trace Event Format (Chrome's JSON, which Perfetto and chrome://tracing
// open): one process per PCI function with a thread (track) each for
// config cycles, MMIO per CPU (slices as long as the access took), DMA
// accesses, DMA mappings, state and faults, and one per interrupt vector
// (raise and delivery instants, masked spans); driver function calls in
// a process of their own, a track per task.
nlohmann::ordered_json to_chrome_json(const std::vector<Event>& events, const JsonInfo& info);

} // namespace pciemctl::trace
