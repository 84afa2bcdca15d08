// SPDX-License-Identifier: MIT
#include "trace_events.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "pciem/faults.hpp"

namespace pciemctl::trace {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') {
            ++i;
        }
        size_t j = i;
        while (j < s.size() && s[j] != ' ') {
            ++j;
        }
        if (j > i) {
            out.push_back(s.substr(i, j - i));
        }
        i = j;
    }
    return out;
}

// A number as the kernel's printf wrote it: "0x1f", "31", "-11", "00000"
// (%#05x of 0 has no "0x").
template <class T>
bool num(std::string_view s, T& out) {
    int base = 10;
    bool neg = false;
    if (!s.empty() && s.front() == '-') {
        neg = true;
        s.remove_prefix(1);
    }
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) {
        return false;
    }
    out = static_cast<T>(neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v));
    return true;
}

// "key=value" with a number value.
template <class T>
bool keyed(std::string_view s, std::string_view key, T& out) {
    if (!s.starts_with(key) || s.size() <= key.size() || s[key.size()] != '=') {
        return false;
    }
    return num(s.substr(key.size() + 1), out);
}

// "A+B" with numbers, or "A/B".
template <class A, class B>
bool pair(std::string_view s, char sep, A& a, B& b) {
    const auto at = s.find(sep);
    return at != std::string_view::npos && num(s.substr(0, at), a) && num(s.substr(at + 1), b);
}

const char* insn_name(unsigned insn) {
    static constexpr const char* names[] = {"load", "store", "movs", "stos"};
    return insn < std::size(names) ? names[insn] : "?";
}

const char* dir_name(unsigned dir) {
    static constexpr const char* names[] = {"bidirectional", "to-device", "from-device", "none"};
    return dir < std::size(names) ? names[dir] : "?";
}

const char* dma_kind_name(unsigned kind) {
    static constexpr const char* names[] = {"single", "sg", "coherent"};
    return kind < std::size(names) ? names[kind] : "?";
}

const char* dma_op_name(unsigned op) {
    static constexpr const char* names[] = {"?", "read", "write", "fetch-add", "swap", "cas"};
    return op < std::size(names) ? names[op] : "?";
}

const char* dma_fault_name(unsigned fault) {
    static constexpr const char* names[] = {"ok",     "bus-master", "unmapped",  "stale",
                                            "bounds", "direction",  "alignment", "injected"};
    return fault < std::size(names) ? names[fault] : "?";
}

const char* fn_state_name(int state) {
    static constexpr const char* names[] = {"new",      "adding", "on-bus", "removing",
                                            "detached", "pulled", "gone"};
    return state >= 0 && static_cast<size_t>(state) < std::size(names) ? names[state] : "?";
}

const char* fault_name(unsigned fault) {
    const pciem::FaultInfo* f =
        fault <= UINT16_MAX ? pciem::find_fault(static_cast<uint16_t>(fault)) : nullptr;
    return f != nullptr ? f->name.data() : "?"; // the catalog's names are literals
}

bool parse_pciem_body(const std::string& event, std::string_view body, Event& e) {
    const auto t = split(body);
    if (t.size() < 2) {
        return false;
    }
    e.function = std::string(t[0]);
    const std::string_view what = t[1];
    if (event == "pciem_config" && what == "cfg" && t.size() >= 6) {
        e.kind = Event::Kind::config;
        e.write = t[2] == "write";
        e.model = t.size() >= 7 && t[6] == "(model)";
        return pair(t[3], '/', e.offset, e.size) && num(t[5], e.value);
    }
    if (event == "pciem_mmio" && what == "mmio" && t.size() >= 9) {
        e.kind = Event::Kind::mmio;
        e.write = t[2] == "write";
        std::string_view where = t[3];
        if (!where.starts_with("BAR")) {
            return false;
        }
        where.remove_prefix(3);
        const auto plus = where.find('+');
        if (plus == std::string_view::npos || !num(where.substr(0, plus), e.bar) ||
            !pair(where.substr(plus + 1), '/', e.offset, e.size)) {
            return false;
        }
        std::string_view ns = t[8];
        if (!ns.ends_with("ns")) {
            return false;
        }
        ns.remove_suffix(2);
        e.source = std::string(t[7]);
        return num(t[5], e.value) && keyed(t[6], "insn", e.insn) && num(ns, e.ns);
    }
    if (event == "pciem_irq_raise" && what == "irq" && t.size() >= 7) {
        e.kind = Event::Kind::irq_raise;
        return num(t[4], e.vector) && num(t[6], e.result);
    }
    if (event == "pciem_irq_mask" && what == "irq" && t.size() >= 5) {
        e.kind = Event::Kind::irq_mask;
        e.masked = t[2] == "mask";
        return num(t[4], e.vector);
    }
    if (event == "pciem_irq_deliver" && what == "irq" && t.size() >= 8) {
        e.kind = Event::Kind::irq_deliver;
        e.intx = t[3] == "intx";
        return num(t[4], e.vector) && num(t[7], e.virq);
    }
    if (event == "pciem_dma_map" && what == "dma" && t.size() >= 6) {
        e.kind = Event::Kind::dma_map;
        e.map = t[2] == "map";
        return pair(t[3], '+', e.addr, e.len) && keyed(t[4], "dir", e.dir) &&
               keyed(t[5], "kind", e.dma_kind);
    }
    if (event == "pciem_dma_access" && what == "dma" && t.size() >= 5) {
        e.kind = Event::Kind::dma_access;
        return keyed(t[2], "op", e.op) && pair(t[3], '+', e.addr, e.len) &&
               keyed(t[4], "fault", e.dma_fault);
    }
    if (event == "pciem_ring_full" && what == "ring") {
        e.kind = Event::Kind::ring_full;
        return true;
    }
    if (event == "pciem_state" && what == "state" && t.size() >= 5) {
        e.kind = Event::Kind::state;
        return num(t[2], e.from) && num(t[4], e.to);
    }
    if (event == "pciem_fault" && what == "fault" && t.size() >= 7) {
        e.kind = Event::Kind::fault;
        return num(t[2], e.fault) && num(t[4], e.rule) && num(t[6], e.detail);
    }
    return false;
}

std::string hex(uint64_t v) {
    return fmt::format("{:#x}", v);
}

} // namespace

std::optional<TraceLine> parse_trace_line(std::string_view line) {
    line = trim(line);
    if (line.empty() || line.front() == '#') {
        return std::nullopt;
    }
    // "<comm>-<pid> [<cpu>]": the cpu field is the first "[digits]".
    size_t open = std::string_view::npos, close = 0;
    for (size_t i = line.find('['); i != std::string_view::npos; i = line.find('[', i + 1)) {
        size_t j = i + 1;
        while (j < line.size() && line[j] >= '0' && line[j] <= '9') {
            ++j;
        }
        if (j > i + 1 && j < line.size() && line[j] == ']') {
            open = i;
            close = j;
            break;
        }
    }
    if (open == std::string_view::npos) {
        return std::nullopt;
    }
    TraceLine out;
    std::string_view task = trim(line.substr(0, open));
    // With the record-tgid option a "(  tgid)" column follows the task.
    if (!task.empty() && task.back() == ')') {
        const auto paren = task.rfind('(');
        if (paren != std::string_view::npos) {
            task = trim(task.substr(0, paren));
        }
    }
    const auto dash = task.rfind('-');
    if (dash == std::string_view::npos || !num(task.substr(dash + 1), out.pid)) {
        return std::nullopt;
    }
    out.comm = std::string(task.substr(0, dash));
    if (!num(line.substr(open + 1, close - open - 1), out.cpu)) {
        return std::nullopt;
    }
    // Then an optional flags column and "<seconds>: ".
    std::string_view rest = trim(line.substr(close + 1));
    const auto colon = rest.find(": ");
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view head = rest.substr(0, colon);
    const auto space = head.rfind(' ');
    std::string_view stamp = space == std::string_view::npos ? head : head.substr(space + 1);
    const auto dot = stamp.find('.');
    uint64_t sec = 0, frac = 0;
    if (dot == std::string_view::npos || !num(stamp.substr(0, dot), sec) ||
        !num(stamp.substr(dot + 1), frac)) {
        return std::nullopt;
    }
    const size_t digits = stamp.size() - dot - 1;
    out.seconds = static_cast<double>(sec) +
                  static_cast<double>(frac) / std::pow(10.0, static_cast<double>(digits));
    std::string_view body = rest.substr(colon + 2);
    // "<event>: <fields>", or the function tracer's "<callee> <-<caller>".
    const auto ev = body.find(": ");
    if (ev != std::string_view::npos && body.find(' ') == ev + 1) {
        out.event = std::string(body.substr(0, ev));
        out.body = std::string(body.substr(ev + 2));
    } else if (body.find(" <-") != std::string_view::npos) {
        out.event = "function";
        out.body = std::string(body);
    } else {
        return std::nullopt;
    }
    return out;
}

uint64_t lost_events(std::string_view line) {
    line = trim(line);
    const auto at = line.find("[LOST ");
    if (!line.starts_with("CPU:") || at == std::string_view::npos) {
        return 0;
    }
    std::string_view n = line.substr(at + 6);
    n = n.substr(0, n.find(' '));
    uint64_t v = 0;
    return num(n, v) ? v : 0;
}

std::optional<Event> parse_event(const TraceLine& line) {
    Event e;
    e.ts_us = line.seconds * 1e6;
    e.cpu = line.cpu;
    e.pid = line.pid;
    e.comm = line.comm;
    if (line.event == "function") {
        const auto arrow = line.body.find(" <-");
        e.kind = Event::Kind::call;
        e.callee = std::string(trim(std::string_view(line.body).substr(0, arrow)));
        e.caller = arrow == std::string::npos ? "" : line.body.substr(arrow + 3);
        return e;
    }
    if (!line.event.starts_with("pciem_") || !parse_pciem_body(line.event, line.body, e)) {
        return std::nullopt;
    }
    return e;
}

std::string describe_event(const Event& e) {
    switch (e.kind) {
    case Event::Kind::config:
        return fmt::format("cfg {} {:#05x}/{} = {:#x}{}", e.write ? "write" : "read", e.offset,
                           e.size, e.value, e.model ? " (model)" : "");
    case Event::Kind::mmio:
        return fmt::format("mmio {} BAR{}+{:#x}/{} = {:#x} ({}, {}, {:.3f} us)",
                           e.write ? "write" : "read", e.bar, e.offset, e.size, e.value, e.source,
                           insn_name(e.insn), static_cast<double>(e.ns) / 1000.0);
    case Event::Kind::irq_raise:
        return fmt::format("irq raise vector {}{}", e.vector,
                           e.result == 1  ? " (pending: masked)"
                           : e.result < 0 ? fmt::format(" failed ({})", e.result)
                                          : "");
    case Event::Kind::irq_mask:
        return fmt::format("irq {} vector {}", e.masked ? "mask" : "unmask", e.vector);
    case Event::Kind::irq_deliver:
        return e.intx ? fmt::format("irq deliver intx as irq {}", e.virq)
                      : fmt::format("irq deliver vector {} as irq {}", e.vector, e.virq);
    case Event::Kind::dma_map:
        return fmt::format("dma {} {:#x}+{} {} {}", e.map ? "map" : "unmap", e.addr, e.len,
                           dir_name(e.dir), dma_kind_name(e.dma_kind));
    case Event::Kind::dma_access:
        return fmt::format("dma {} {:#x}+{}{}", dma_op_name(e.op), e.addr, e.len,
                           e.dma_fault ? fmt::format(" refused: {}", dma_fault_name(e.dma_fault))
                                       : "");
    case Event::Kind::ring_full:
        return "ring full (the model is behind: the driver waits)";
    case Event::Kind::state:
        return fmt::format("state {} -> {}", fn_state_name(e.from), fn_state_name(e.to));
    case Event::Kind::fault:
        return fmt::format("fault {}{} detail {:#x}", fault_name(e.fault),
                           e.rule ? fmt::format(" rule {}", e.rule) : "", e.detail);
    case Event::Kind::call:
        return fmt::format("call {} <- {}", e.callee, e.caller);
    }
    return "?";
}

std::string to_text(const std::vector<Event>& events) {
    std::string out;
    for (const Event& e : events) {
        out += fmt::format("{:17.6f} cpu{} {}-{} {} {}\n", e.ts_us / 1e6, e.cpu, e.comm, e.pid,
                           e.function.empty() ? "-" : e.function, describe_event(e));
    }
    return out;
}

nlohmann::ordered_json to_chrome_json(const std::vector<Event>& events, const JsonInfo& info) {
    using json = nlohmann::ordered_json;
    // Tracks: a process per PCI function in address order, the driver's
    // calls after them.
    std::set<std::string> functions;
    for (const Event& e : events) {
        if (!e.function.empty()) {
            functions.insert(e.function);
        }
    }
    std::map<std::string, int> pid_of;
    int next_pid = 1;
    for (const auto& f : functions) {
        pid_of[f] = next_pid++;
    }
    const int driver_pid = next_pid;
    constexpr int tid_config = 1, tid_dma = 2, tid_maps = 3, tid_life = 4, tid_intx = 999;
    constexpr int tid_mmio = 100, tid_vector = 1000;

    json trace = json::array();
    std::map<std::pair<int, int>, std::string> threads; // (pid, tid) -> name
    std::map<std::pair<int, int>, double> mmio_end;     // keeps a track's slices apart
    std::map<std::pair<int, uint32_t>, double> masked_since;
    double last_ts = 0;

    auto instant = [&](const Event& e, int pid, int tid, std::string name, json args) {
        trace.push_back(json{{"name", std::move(name)},
                             {"ph", "i"},
                             {"s", "t"},
                             {"ts", e.ts_us},
                             {"pid", pid},
                             {"tid", tid},
                             {"args", std::move(args)}});
    };
    auto task = [](const Event& e) {
        return fmt::format("{}-{}", e.comm, e.pid);
    };

    for (const Event& e : events) {
        last_ts = std::max(last_ts, e.ts_us);
        if (e.kind == Event::Kind::call) {
            threads[{driver_pid, e.pid}] = task(e);
            instant(e, driver_pid, e.pid, e.callee, json{{"caller", e.caller}, {"cpu", e.cpu}});
            continue;
        }
        const int pid = pid_of[e.function];
        switch (e.kind) {
        case Event::Kind::config:
            threads[{pid, tid_config}] = "config";
            instant(e, pid, tid_config,
                    fmt::format("cfg {} {:#05x}", e.write ? "write" : "read", e.offset),
                    json{{"size", e.size},
                         {"value", hex(e.value)},
                         {"handled by", e.model ? "model" : "kernel"},
                         {"task", task(e)}});
            break;
        case Event::Kind::mmio: {
            const int tid = tid_mmio + e.cpu;
            threads[{pid, tid}] = fmt::format("MMIO (CPU {})", e.cpu);
            const double dur = static_cast<double>(e.ns) / 1000.0;
            // tracefs prints microseconds: keep slices of a track from
            // overlapping by that rounding.
            double start = std::max(e.ts_us - dur, mmio_end[{pid, tid}]);
            const double end = std::max(start, e.ts_us);
            mmio_end[{pid, tid}] = end;
            trace.push_back(json{{"name", fmt::format("{} BAR{}+{:#x}", e.write ? "write" : "read",
                                                      e.bar, e.offset)},
                                 {"ph", "X"},
                                 {"ts", start},
                                 {"dur", end - start},
                                 {"pid", pid},
                                 {"tid", tid},
                                 {"args", json{{"size", e.size},
                                               {"value", hex(e.value)},
                                               {"answered by", e.source},
                                               {"instruction", insn_name(e.insn)},
                                               {"ns", e.ns},
                                               {"task", task(e)}}}});
            break;
        }
        case Event::Kind::irq_raise:
        case Event::Kind::irq_deliver:
        case Event::Kind::irq_mask: {
            const bool intx = e.kind == Event::Kind::irq_deliver && e.intx;
            const int tid = intx ? tid_intx : tid_vector + static_cast<int>(e.vector);
            threads[{pid, tid}] = intx ? std::string("INTx") : fmt::format("vector {}", e.vector);
            if (e.kind == Event::Kind::irq_raise) {
                instant(e, pid, tid, "raise",
                        json{{"result", e.result == 0   ? std::string("sent")
                                        : e.result == 1 ? std::string("pending (masked)")
                                                        : fmt::format("error {}", e.result)},
                             {"task", task(e)}});
            } else if (e.kind == Event::Kind::irq_deliver) {
                instant(e, pid, tid, "deliver",
                        json{{"linux irq", e.virq}, {"cpu", e.cpu}, {"task", task(e)}});
            } else if (e.masked) {
                masked_since.try_emplace({pid, e.vector}, e.ts_us);
            } else if (auto it = masked_since.find({pid, e.vector}); it != masked_since.end()) {
                trace.push_back(json{{"name", "masked"},
                                     {"ph", "X"},
                                     {"ts", it->second},
                                     {"dur", e.ts_us - it->second},
                                     {"pid", pid},
                                     {"tid", tid},
                                     {"args", json::object()}});
                masked_since.erase(it);
            }
            break;
        }
        case Event::Kind::dma_access:
            threads[{pid, tid_dma}] = "DMA";
            instant(e, pid, tid_dma,
                    fmt::format("dma {} {:#x}+{}", dma_op_name(e.op), e.addr, e.len),
                    json{{"op", dma_op_name(e.op)},
                         {"address", hex(e.addr)},
                         {"bytes", e.len},
                         {"fault", dma_fault_name(e.dma_fault)},
                         {"task", task(e)}});
            break;
        case Event::Kind::dma_map:
            threads[{pid, tid_maps}] = "DMA mappings";
            instant(e, pid, tid_maps,
                    fmt::format("{} {:#x}+{}", e.map ? "map" : "unmap", e.addr, e.len),
                    json{{"direction", dir_name(e.dir)},
                         {"kind", dma_kind_name(e.dma_kind)},
                         {"task", task(e)}});
            break;
        case Event::Kind::ring_full:
        case Event::Kind::state:
        case Event::Kind::fault:
            threads[{pid, tid_life}] = "state and faults";
            instant(e, pid, tid_life, describe_event(e), json{{"task", task(e)}});
            break;
        case Event::Kind::call:
            break;
        }
    }
    // Spans still masked when the trace ended.
    for (const auto& [key, since] : masked_since) {
        trace.push_back(json{{"name", "masked"},
                             {"ph", "X"},
                             {"ts", since},
                             {"dur", std::max(0.0, last_ts - since)},
                             {"pid", key.first},
                             {"tid", tid_vector + static_cast<int>(key.second)},
                             {"args", json{{"still masked at the end", true}}}});
    }

    json meta = json::array();
    for (const auto& [f, pid] : pid_of) {
        meta.push_back(json{{"name", "process_name"},
                            {"ph", "M"},
                            {"pid", pid},
                            {"tid", 0},
                            {"args", json{{"name", "PCIem " + f}}}});
        meta.push_back(json{{"name", "process_sort_index"},
                            {"ph", "M"},
                            {"pid", pid},
                            {"tid", 0},
                            {"args", json{{"sort_index", pid}}}});
    }
    const bool calls = std::any_of(events.begin(), events.end(),
                                   [](const Event& e) { return e.kind == Event::Kind::call; });
    if (calls) {
        meta.push_back(json{
            {"name", "process_name"},
            {"ph", "M"},
            {"pid", driver_pid},
            {"tid", 0},
            {"args", json{{"name", info.driver_module.empty() ? std::string("driver functions")
                                                              : "driver " + info.driver_module}}}});
    }
    for (const auto& [key, name] : threads) {
        meta.push_back(json{{"name", "thread_name"},
                            {"ph", "M"},
                            {"pid", key.first},
                            {"tid", key.second},
                            {"args", json{{"name", name}}}});
        meta.push_back(json{{"name", "thread_sort_index"},
                            {"ph", "M"},
                            {"pid", key.first},
                            {"tid", key.second},
                            {"args", json{{"sort_index", key.second}}}});
    }
    std::stable_sort(trace.begin(), trace.end(), [](const json& a, const json& b) {
        return a["ts"].get<double>() < b["ts"].get<double>();
    });
    for (auto& m : trace) {
        meta.push_back(std::move(m));
    }
    return json{{"traceEvents", std::move(meta)},
                {"displayTimeUnit", "ns"},
                {"otherData", json{{"tool", "pciemctl trace"},
                                   {"clock", "mono (CLOCK_MONOTONIC), microseconds"},
                                   {"command", info.command}}}};
}

} // namespace pciemctl::trace
