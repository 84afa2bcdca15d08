// SPDX-License-Identifier: MIT
#include "twin_script.hpp"

#include <cerrno>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

namespace pciem::twin {
namespace {

std::optional<uint64_t> number(std::string_view s) {
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        s.remove_prefix(2);
        base = 16;
    }
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

std::optional<Value> value(std::string_view s) {
    if (s == "BUF.hi") {
        return Value{Value::Kind::buf_hi, 0};
    }
    if (s.starts_with("BUF.lo")) {
        s.remove_prefix(6);
        if (s.empty()) {
            return Value{Value::Kind::buf_lo, 0};
        }
        if (s.front() != '+') {
            return std::nullopt;
        }
        auto n = number(s.substr(1));
        return n ? std::optional(Value{Value::Kind::buf_lo, *n}) : std::nullopt;
    }
    auto n = number(s);
    if (!n || *n > UINT32_MAX) {
        return std::nullopt;
    }
    return Value{Value::Kind::number, *n};
}

} // namespace

Result<std::vector<Step>> parse_script(std::string_view text, const std::string& origin) {
    std::vector<Step> steps;
    std::istringstream in{std::string(text)};
    std::string line;
    unsigned no = 0;
    while (std::getline(in, line)) {
        ++no;
        if (auto hash = line.find('#'); hash != std::string::npos) {
            line.erase(hash);
        }
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string s; words >> s;) {
            w.push_back(s);
        }
        if (w.empty()) {
            continue;
        }
        auto bad = [&](std::string_view why) {
            return fail(EINVAL, fmt::format("{}:{}: {}: '{}'", origin, no, why, line));
        };
        Step st;
        st.line = no;
        for (size_t i = 0; i < w.size(); ++i) {
            st.text += (i ? " " : "") + w[i];
        }
        const std::string& op = w[0];
        const std::optional<uint64_t> offset = w.size() > 1 ? number(w[1]) : std::optional<uint64_t>(0xffffffffu);
        if (op == "cfg_read" || op == "cfg_write") {
            const size_t want = op == "cfg_read" ? 3 : 4;
            if (w.size() != want) {
                return bad(fmt::format("{} takes {} arguments", op, want - 1));
            }
            auto size = number(w[2]);
            if (!offset || *offset >= 4096 || !size || (*size != 1 && *size != 2 && *size != 4) ||
                *offset % *size != 0) {
                return bad("needs an aligned offset below 4096 and a size of 1, 2 or 4");
            }
            st.op = op == "cfg_read" ? Op::cfg_read : Op::cfg_write;
            st.offset = static_cast<uint32_t>(*offset);
            st.size = static_cast<unsigned>(*size);
            if (st.op == Op::cfg_write) {
                auto v = value(w[3]);
                if (!v) {
                    return bad("the value is not a 32-bit number, BUF.lo[+N] or BUF.hi");
                }
                st.value = *v;
            }
        } else if (op == "read" || op == "write") {
            if (!offset || *offset % 4 != 0 || *offset >= (1u << 16)) {
                return bad("needs a 4-byte aligned BAR0 offset below 0x10000");
            }
            st.offset = static_cast<uint32_t>(*offset);
            if (op == "read") {
                st.op = Op::read;
                if (w.size() == 3 && (w[2] == "lo" || w[2] == "hi")) {
                    st.addr = w[2] == "lo" ? Step::Addr::lo : Step::Addr::hi;
                } else if (w.size() != 2) {
                    return bad("read takes OFF [lo|hi]");
                }
            } else {
                st.op = Op::write;
                auto v = w.size() == 3 ? value(w[2]) : std::nullopt;
                if (!v) {
                    return bad("write takes OFF VALUE (a 32-bit number, BUF.lo[+N] or BUF.hi)");
                }
                st.value = *v;
            }
        } else if (op == "dma_map") {
            if (w.size() != 2 || (w[1] != "to" && w[1] != "from" && w[1] != "bidi")) {
                return bad("dma_map takes to, from or bidi");
            }
            st.op = Op::dma_map;
            st.dir = w[1];
        } else if (op == "dma_unmap" || op == "dma_word") {
            if (w.size() != 1) {
                return bad(fmt::format("{} takes no argument", op));
            }
            st.op = op == "dma_unmap" ? Op::dma_unmap : Op::dma_word;
        } else {
            return bad("unknown operation");
        }
        steps.push_back(std::move(st));
    }
    if (steps.empty()) {
        return fail(EINVAL, fmt::format("{}: no steps", origin));
    }
    return steps;
}

uint32_t resolve(const Value& v, uint64_t buf) {
    switch (v.kind) {
    case Value::Kind::buf_lo:
        return static_cast<uint32_t>(buf + v.number);
    case Value::Kind::buf_hi:
        return static_cast<uint32_t>(buf >> 32);
    case Value::Kind::number:
        break;
    }
    return static_cast<uint32_t>(v.number);
}

std::string show_value(uint32_t v, Step::Addr addr, std::optional<uint64_t> buf) {
    if (addr == Step::Addr::hi && buf && v == static_cast<uint32_t>(*buf >> 32)) {
        return "BUF.hi";
    }
    if (addr == Step::Addr::lo && buf) {
        // Within the page and a page either side: faults report the first
        // refused byte, which may lie just past the buffer.
        const int64_t delta = static_cast<int64_t>(v) - static_cast<int64_t>(*buf & 0xffffffffu);
        if (delta >= -4096 && delta < 2 * 4096) {
            return delta < 0 ? fmt::format("BUF.lo-{:#x}", -delta)
                             : fmt::format("BUF.lo+{:#x}", delta);
        }
    }
    return fmt::format("{:#x}", v);
}

std::vector<std::string> play(const std::vector<Step>& steps, Driver& driver) {
    std::vector<std::string> out;
    std::optional<uint64_t> buf;
    for (const Step& st : steps) {
        std::string result;
        auto err = [](const Error& e) { return "error: " + e.message; };
        const uint64_t base = buf.value_or(0);
        switch (st.op) {
        case Op::cfg_read: {
            auto v = driver.cfg_read(st.offset, st.size);
            result = v ? fmt::format("{:#x}", *v) : err(v.error());
            break;
        }
        case Op::cfg_write: {
            auto r = driver.cfg_write(st.offset, st.size, resolve(st.value, base));
            result = r ? "ok" : err(r.error());
            break;
        }
        case Op::read: {
            auto v = driver.read(st.offset);
            result = v ? show_value(*v, st.addr, buf) : err(v.error());
            break;
        }
        case Op::write: {
            auto r = driver.write(st.offset, resolve(st.value, base));
            result = r ? "ok" : err(r.error());
            break;
        }
        case Op::dma_map: {
            auto a = driver.dma_map(st.dir);
            if (a) {
                buf = *a;
                result = "ok";
            } else {
                result = err(a.error());
            }
            break;
        }
        case Op::dma_unmap: {
            auto r = driver.dma_unmap();
            result = r ? "ok" : err(r.error());
            break;
        }
        case Op::dma_word: {
            auto v = driver.dma_word();
            result = v ? fmt::format("{:#x}", *v) : err(v.error());
            break;
        }
        }
        out.push_back(fmt::format("{}: {} = {}", st.line, st.text, result));
    }
    return out;
}

} // namespace pciem::twin
