// SPDX-License-Identifier: MIT
//
// pciem_guest_trace_check FILE [--print] [--expect REGEX]...: checks a
// `pciemctl trace --format json` file the way a trace viewer needs it:
// strict JSON (nlohmann::json, no comments, no trailing bytes), the Trace
// Event Format's fields on every event (ph, name, pid, tid; ts on all but
// metadata; dur >= 0 on slices; scope on instants), slices of one track
// nested or apart, and every track named. Then renders each event as
//     <process>|<thread>|<name>|<args as JSON>
// in time order and checks that lines matching the REGEXes occur in that
// order (a subsequence). Exit 0 when all holds; what failed on stderr.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

int problems = 0;

void problem(const std::string& what) {
    std::fprintf(stderr, "trace_check: %s\n", what.c_str());
    ++problems;
}

} // namespace

int main(int argc, char** argv) {
    std::string file;
    bool print = false;
    std::vector<std::string> expect;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--print") {
            print = true;
        } else if (a == "--expect" && i + 1 < argc) {
            expect.emplace_back(argv[++i]);
        } else if (file.empty() && a[0] != '-') {
            file = a;
        } else {
            std::fprintf(stderr, "usage: %s FILE [--print] [--expect REGEX]...\n", argv[0]);
            return 2;
        }
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "trace_check: cannot open %s\n", file.c_str());
        return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(ss.str(), nullptr, true, false);
    } catch (const nlohmann::json::parse_error& e) {
        std::fprintf(stderr, "trace_check: %s is not valid JSON: %s\n", file.c_str(), e.what());
        return 1;
    }
    if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
        std::fprintf(stderr, "trace_check: no traceEvents array at the top\n");
        return 1;
    }
    std::map<long, std::string> processes;
    std::map<std::pair<long, long>, std::string> threads;
    struct Ev {
        double ts;
        double dur;
        long pid, tid;
        std::string ph, name, args;
    };
    std::vector<Ev> evs;
    size_t index = 0;
    for (const auto& e : doc["traceEvents"]) {
        const std::string at = "event " + std::to_string(index++);
        if (!e.is_object() || !e.contains("ph") || !e["ph"].is_string() || !e.contains("name") ||
            !e["name"].is_string() || !e.contains("pid") || !e["pid"].is_number_integer() ||
            !e.contains("tid") || !e["tid"].is_number_integer()) {
            problem(at + ": needs ph, name (strings), pid and tid (integers): " + e.dump());
            continue;
        }
        const std::string ph = e["ph"];
        const long pid = e["pid"], tid = e["tid"];
        if (ph == "M") {
            if (!e.contains("args") || !e["args"].is_object()) {
                problem(at + ": metadata without args");
            } else if (e["name"] == "process_name") {
                processes[pid] = e["args"].value("name", "");
            } else if (e["name"] == "thread_name") {
                threads[{pid, tid}] = e["args"].value("name", "");
            }
            continue;
        }
        if (!e.contains("ts") || !e["ts"].is_number() || e["ts"].get<double>() < 0) {
            problem(at + ": no timestamp: " + e.dump());
            continue;
        }
        double dur = 0;
        if (ph == "X") {
            if (!e.contains("dur") || !e["dur"].is_number() || e["dur"].get<double>() < 0) {
                problem(at + ": a slice needs dur >= 0: " + e.dump());
                continue;
            }
            dur = e["dur"];
        } else if (ph == "i") {
            if (!e.contains("s") || !e["s"].is_string()) {
                problem(at + ": an instant needs its scope s: " + e.dump());
            }
        } else {
            problem(at + ": phase '" + ph + "' is not one pciemctl writes");
        }
        evs.push_back(Ev{e["ts"], dur, pid, tid, ph, e["name"],
                         e.contains("args") ? e["args"].dump() : "{}"});
    }
    std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.ts < b.ts; });
    // Slices of one track: each starts after the previous ended or ends
    // within it (nesting), as viewers need.
    std::map<std::pair<long, long>, std::vector<double>> open; // end times, innermost last
    for (const Ev& e : evs) {
        if (!processes.contains(e.pid)) {
            problem("pid " + std::to_string(e.pid) + " has no process_name");
            processes[e.pid] = "?";
        }
        if (!threads.contains({e.pid, e.tid})) {
            problem("track " + std::to_string(e.pid) + "/" + std::to_string(e.tid) +
                    " has no thread_name");
            threads[{e.pid, e.tid}] = "?";
        }
        if (e.ph != "X") {
            continue;
        }
        auto& stack = open[{e.pid, e.tid}];
        while (!stack.empty() && stack.back() <= e.ts + 1e-9) {
            stack.pop_back();
        }
        if (!stack.empty() && e.ts + e.dur > stack.back() + 1e-6) {
            problem("slice '" + e.name + "' at " + std::to_string(e.ts) +
                    " overlaps the slice it starts in on track " + threads[{e.pid, e.tid}]);
        }
        stack.push_back(e.ts + e.dur);
    }
    std::vector<std::string> lines;
    for (const Ev& e : evs) {
        lines.push_back(processes[e.pid] + "|" + threads[{e.pid, e.tid}] + "|" + e.name + "|" +
                        e.args);
    }
    if (print) {
        for (const auto& l : lines) {
            std::printf("%s\n", l.c_str());
        }
    }
    size_t from = 0;
    for (const auto& re_text : expect) {
        const std::regex re(re_text);
        size_t i = from;
        while (i < lines.size() && !std::regex_search(lines[i], re)) {
            ++i;
        }
        if (i == lines.size()) {
            problem("no event matching /" + re_text + "/ after event " + std::to_string(from) +
                    (from ? " (" + lines[from - 1] + ")" : ""));
            break;
        }
        std::printf("found: %s\n", lines[i].c_str());
        from = i + 1;
    }
    std::printf("trace_check: %zu events, %zu processes, %zu tracks, %d problem(s)\n", evs.size(),
                processes.size(), threads.size(), problems);
    return problems ? 1 : 0;
}
