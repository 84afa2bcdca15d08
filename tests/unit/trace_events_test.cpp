// SPDX-License-Identifier: MIT
// `pciemctl trace`'s conversion (tools/pciemctl/trace_events.cpp) on canned
// tracefs output: the line format of 6.1 and 6.12, every pciem event,
// function tracer lines, and the Trace Event Format JSON built from them.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "trace_events.hpp"

namespace {

using pciemctl::trace::Event;
using pciemctl::trace::parse_event;
using pciemctl::trace::parse_trace_line;

// An NVMe admin command as tracefs prints it (clock mono), with a driver
// call from the function tracer.
const char* const nvme_trace[] = {
    "            nvme-231     [001] .....   812.000100: pciem_dma_map: 10000:00:00.0 dma map "
    "0x100000000+4096 dir=2 kind=0",
    "            nvme-231     [001] d..1.   812.000150: pciem_mmio: 10000:00:00.0 mmio write "
    "BAR0+0x1000/4 = 0x5 insn=1 model 4200ns",
    "     pciem-nvme-190     [000] .....   812.000300: pciem_dma_access: 10000:00:00.0 dma "
    "op=1 0x1000+64 fault=0",
    "     pciem-nvme-190     [000] .....   812.000400: pciem_dma_access: 10000:00:00.0 dma "
    "op=2 0x100000000+4096 fault=0",
    "     pciem-nvme-190     [000] .....   812.000450: pciem_dma_access: 10000:00:00.0 dma "
    "op=2 0x3000+16 fault=0",
    "     pciem-nvme-190     [000] d..1.   812.000460: pciem_irq_raise: 10000:00:00.0 irq raise "
    "vector 0 result 0",
    "          <idle>-0       [001] d.h1.   812.000500: pciem_irq_deliver: 10000:00:00.0 irq "
    "deliver vector 0 as irq 45",
    "          <idle>-0       [001] d.h1.   812.000510: nvme_irq <-__handle_irq_event_percpu",
    "          <idle>-0       [001] d.h1.   812.000530: pciem_mmio: 10000:00:00.0 mmio write "
    "BAR0+0x1004/4 = 0x6 insn=1 model 3000ns",
    "            nvme-231     [001] .....   812.000600: pciem_dma_map: 10000:00:00.0 dma unmap "
    "0x100000000+4096 dir=2 kind=0",
};

std::vector<Event> events_of(const std::vector<std::string>& lines) {
    std::vector<Event> out;
    for (const auto& l : lines) {
        auto tl = parse_trace_line(l);
        EXPECT_TRUE(tl) << l;
        if (!tl) {
            continue;
        }
        auto e = parse_event(*tl);
        EXPECT_TRUE(e) << l;
        if (e) {
            out.push_back(*e);
        }
    }
    return out;
}

TEST(TraceLine, ParsesTheFieldsOfBothKernelsFormats) {
    // 6.12 (five flag columns), 6.1 without irq-info, and a comm with a dash.
    auto a = parse_trace_line("   kworker/u4:1-37      [000] d..2.    15.123456: pciem_state: "
                              "10000:00:01.0 state 1 -> 2");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->comm, "kworker/u4:1");
    EXPECT_EQ(a->pid, 37);
    EXPECT_EQ(a->cpu, 0);
    EXPECT_DOUBLE_EQ(a->seconds, 15.123456);
    EXPECT_EQ(a->event, "pciem_state");
    EXPECT_EQ(a->body, "10000:00:01.0 state 1 -> 2");
    auto b = parse_trace_line("pciem-epf-test-88 [1] 7.000001: pciem_ring_full: 10000:00:00.0 "
                              "ring full");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->comm, "pciem-epf-test");
    EXPECT_EQ(b->pid, 88);
    EXPECT_EQ(b->cpu, 1);
    // record-tgid adds a column.
    auto c = parse_trace_line("  nvme-231  (    231) [001] ..... 1.5: pciem_ring_full: "
                              "10000:00:00.0 ring full");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->comm, "nvme");
    EXPECT_EQ(c->pid, 231);
    EXPECT_FALSE(parse_trace_line("# tracer: nop"));
    EXPECT_FALSE(parse_trace_line("CPU:1 [LOST 12 EVENTS]"));
    EXPECT_EQ(pciemctl::trace::lost_events("CPU:1 [LOST 12 EVENTS]"), 12u);
    EXPECT_EQ(pciemctl::trace::lost_events("  nvme-1 [000] 1.0: x: y"), 0u);
}

TEST(TraceEvent, ParsesEveryPciemEvent) {
    auto one = [](const std::string& body, const std::string& ev) {
        auto tl = parse_trace_line("x-1 [0] .... 1.000000: " + ev + ": 10000:00:02.0 " + body);
        EXPECT_TRUE(tl) << body;
        auto e = parse_event(*tl);
        EXPECT_TRUE(e) << body;
        return e.value_or(Event{});
    };
    Event e = one("cfg read 0x004/2 = 0x6", "pciem_config");
    EXPECT_EQ(e.kind, Event::Kind::config);
    EXPECT_EQ(e.function, "10000:00:02.0");
    EXPECT_EQ(e.offset, 4u);
    EXPECT_EQ(e.value, 6u);
    EXPECT_FALSE(e.model);
    // %#05x of 0 prints no 0x; %#x of 0 neither.
    e = one("cfg write 00000/4 = 0 (model)", "pciem_config");
    EXPECT_TRUE(e.write);
    EXPECT_TRUE(e.model);
    EXPECT_EQ(e.offset, 0u);
    e = one("mmio read BAR2+0x18/8 = 0xffffffffffffffff insn=0 timeout 1000000000ns", "pciem_mmio");
    EXPECT_EQ(e.bar, 2u);
    EXPECT_EQ(e.size, 8u);
    EXPECT_EQ(e.value, ~0ull);
    EXPECT_EQ(e.source, "timeout");
    EXPECT_EQ(e.ns, 1000000000u);
    e = one("irq raise vector 7 result -11", "pciem_irq_raise");
    EXPECT_EQ(e.vector, 7u);
    EXPECT_EQ(e.result, -11);
    e = one("irq mask vector 3", "pciem_irq_mask");
    EXPECT_TRUE(e.masked);
    e = one("irq deliver intx 0 as irq 19", "pciem_irq_deliver");
    EXPECT_TRUE(e.intx);
    EXPECT_EQ(e.virq, 19u);
    e = one("dma op=5 0xfff8+8 fault=4", "pciem_dma_access");
    EXPECT_EQ(e.op, 5u);
    EXPECT_EQ(e.dma_fault, 4u);
    EXPECT_EQ(pciemctl::trace::describe_event(e), "dma cas 0xfff8+8 refused: bounds");
    e = one("fault 3 rule 2 detail 0x1", "pciem_fault");
    EXPECT_EQ(pciemctl::trace::describe_event(e), "fault irq-drop rule 2 detail 0x1");
    e = one("state 2 -> 5", "pciem_state");
    EXPECT_EQ(pciemctl::trace::describe_event(e), "state on-bus -> pulled");
    // Not ours, or a format this build does not know: nothing.
    auto other = parse_trace_line("x-1 [0] .... 1.0: sched_switch: prev_comm=x");
    ASSERT_TRUE(other);
    EXPECT_FALSE(parse_event(*other));
    auto changed = parse_trace_line("x-1 [0] .... 1.0: pciem_mmio: 10000:00:00.0 mmio what");
    ASSERT_TRUE(changed);
    EXPECT_FALSE(parse_event(*changed));
}

TEST(TraceEvent, TextHasOneLinePerEvent) {
    auto evs = events_of(std::vector<std::string>(std::begin(nvme_trace), std::end(nvme_trace)));
    ASSERT_EQ(evs.size(), 10u);
    EXPECT_EQ(evs[7].kind, Event::Kind::call);
    EXPECT_EQ(evs[7].callee, "nvme_irq");
    EXPECT_EQ(evs[7].caller, "__handle_irq_event_percpu");
    const std::string text = pciemctl::trace::to_text(evs);
    EXPECT_NE(text.find("      812.000150 cpu1 nvme-231 10000:00:00.0 mmio write BAR0+0x1000/4 = "
                        "0x5 (model, store, 4.200 us)\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("812.000510 cpu1 <idle>-0 - call nvme_irq <- __handle_irq_event_percpu"),
              std::string::npos)
        << text;
}

TEST(TraceJson, TracksPerFunctionAndVector) {
    auto evs = events_of(std::vector<std::string>(std::begin(nvme_trace), std::end(nvme_trace)));
    // A second function and a masked vector.
    for (const char* l : {"x-5 [0] ..... 812.000700: pciem_irq_mask: 10000:00:01.0 irq mask "
                          "vector 3",
                          "x-5 [0] ..... 812.000800: pciem_irq_mask: 10000:00:01.0 irq unmask "
                          "vector 3"}) {
        evs.push_back(*parse_event(*parse_trace_line(l)));
    }
    auto j = pciemctl::trace::to_chrome_json(evs, {"nvme id-ctrl /dev/nvme0", "nvme"});
    // Strict JSON out and back in.
    auto doc = nlohmann::json::parse(j.dump());
    ASSERT_TRUE(doc["traceEvents"].is_array());
    EXPECT_EQ(doc["displayTimeUnit"], "ns");
    EXPECT_EQ(doc["otherData"]["command"], "nvme id-ctrl /dev/nvme0");
    std::map<int, std::string> procs;
    std::map<std::pair<int, int>, std::string> threads;
    std::vector<nlohmann::json> evj;
    for (const auto& e : doc["traceEvents"]) {
        if (e["ph"] == "M" && e["name"] == "process_name") {
            procs[e["pid"]] = e["args"]["name"];
        } else if (e["ph"] == "M" && e["name"] == "thread_name") {
            threads[{e["pid"], e["tid"]}] = e["args"]["name"];
        } else if (e["ph"] != "M") {
            evj.push_back(e);
        }
    }
    EXPECT_EQ(procs[1], "PCIem 10000:00:00.0");
    EXPECT_EQ(procs[2], "PCIem 10000:00:01.0");
    EXPECT_EQ(procs[3], "driver nvme");
    EXPECT_EQ(threads[std::make_pair(1, 101)], "MMIO (CPU 1)");
    EXPECT_EQ(threads[std::make_pair(1, 1000)], "vector 0");
    EXPECT_EQ(threads[std::make_pair(1, 2)], "DMA");
    EXPECT_EQ(threads[std::make_pair(1, 3)], "DMA mappings");
    EXPECT_EQ(threads[std::make_pair(3, 0)], "<idle>-0");
    ASSERT_EQ(evj.size(), 12u - 2 + 1); // the mask pair became one slice
    // In time order; the doorbell is a slice of the time it took.
    const auto& doorbell = evj[1];
    EXPECT_EQ(doorbell["name"], "write BAR0+0x1000");
    EXPECT_EQ(doorbell["ph"], "X");
    EXPECT_NEAR(doorbell["ts"].get<double>(), 812000150.0 - 4.2, 1e-3);
    EXPECT_NEAR(doorbell["dur"].get<double>(), 4.2, 1e-6);
    EXPECT_EQ(doorbell["args"]["value"], "0x5");
    EXPECT_EQ(doorbell["args"]["answered by"], "model");
    EXPECT_EQ(evj[2]["name"], "dma read 0x1000+64");
    EXPECT_EQ(evj[2]["ph"], "i");
    EXPECT_EQ(evj[5]["name"], "raise");
    EXPECT_EQ(evj[6]["name"], "deliver");
    EXPECT_EQ(evj[6]["args"]["linux irq"], 45);
    EXPECT_EQ(evj[7]["name"], "nvme_irq");
    EXPECT_EQ(evj[7]["pid"], 3);
    const auto& masked = evj.back();
    EXPECT_EQ(masked["name"], "masked");
    EXPECT_EQ(masked["tid"], 1003);
    EXPECT_NEAR(masked["dur"].get<double>(), 100.0, 1e-3);
}

TEST(TraceJson, SlicesOfOneTrackNeverOverlap) {
    // Two reads on one CPU whose rounded end times would overlap.
    std::vector<std::string> lines = {
        "a-1 [0] ..... 1.000010: pciem_mmio: 10000:00:00.0 mmio read BAR0+0x0/4 = 0x1 insn=0 "
        "model 5000ns",
        "a-1 [0] ..... 1.000012: pciem_mmio: 10000:00:00.0 mmio read BAR0+0x4/4 = 0x1 insn=0 "
        "model 4500ns",
    };
    auto j = pciemctl::trace::to_chrome_json(events_of(lines), {});
    double end = 0;
    for (const auto& e : j["traceEvents"]) {
        if (e["ph"] == "X") {
            EXPECT_GE(e["ts"].get<double>() + 1e-9, end);
            end = e["ts"].get<double>() + e["dur"].get<double>();
        }
    }
}

} // namespace
