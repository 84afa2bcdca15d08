// SPDX-License-Identifier: MIT
#include "pciem/spec_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pciem/spec_number.hpp"

namespace pciem {

namespace {

using json = nlohmann::json;

// Thrown inside the parser only, so each check is one line; turned into
// an Error at the API boundary.
struct SpecError {
    std::string message;
};

std::string join(const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string index_path(const std::string& prefix, size_t i) {
    return fmt::format("{}[{}]", prefix, i);
}

// A short rendering of a JSON value for "got ..." in messages.
std::string shown(const json& v) {
    std::string s = v.dump();
    if (s.size() > 40) {
        s = s.substr(0, 37) + "...";
    }
    return s;
}

class SpecReader {
public:
    explicit SpecReader(std::string file) : file_(std::move(file)) {}

    std::vector<DeviceSpec> document(const json& root) {
        if (!root.is_object()) {
            fail_at("", "expected a device object or {\"devices\": [...]}", root);
        }
        if (!root.contains("devices")) {
            std::vector<DeviceSpec> one;
            one.push_back(device(root, "").origin(file_));
            return one;
        }
        keys(root, "", {"devices"});
        const json& list = root.at("devices");
        if (!list.is_array() || list.empty()) {
            fail_at("devices", "expected a non-empty array of device objects", list);
        }
        std::vector<DeviceSpec> out;
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string path = index_path("devices", i);
            if (!list[i].is_object()) {
                fail_at(path, "expected a device object", list[i]);
            }
            out.push_back(device(list[i], path).origin(fmt::format("{} {}", file_, path)));
        }
        return out;
    }

private:
    [[noreturn]] void fail_at(const std::string& path, std::string_view expected,
                              const json& got) const {
        throw SpecError{fmt::format("{}: {}: {}, got {}", file_, path.empty() ? "(top)" : path,
                                    expected, shown(got))};
    }
    [[noreturn]] void fail_msg(const std::string& path, std::string_view what) const {
        throw SpecError{fmt::format("{}: {}: {}", file_, path, what)};
    }

    // Refuses keys outside `allowed`: typos must not fall back to defaults.
    void keys(const json& obj, const std::string& prefix,
              std::initializer_list<std::string_view> allowed) const {
        for (const auto& [key, value] : obj.items()) {
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
                std::string list;
                for (auto a : allowed) {
                    list += (list.empty() ? "" : ", ") + std::string(a);
                }
                fail_msg(join(prefix, key), fmt::format("unknown key (expected one of: {})", list));
            }
        }
    }

    uint64_t number(const json& v, const std::string& path, uint64_t max) const {
        const std::string expected = fmt::format("expected an integer 0..{:#x} (or a string "
                                                 "like \"0x10\", \"4K\")",
                                                 max);
        uint64_t value = 0;
        if (v.is_number_unsigned()) {
            value = v.get<uint64_t>();
        } else if (v.is_string()) {
            auto parsed = parse_spec_number(v.get<std::string>());
            if (!parsed) {
                fail_at(path, fmt::format("{} ({})", expected, parsed.error()), v);
            }
            value = *parsed;
        } else {
            fail_at(path, expected, v);
        }
        if (value > max) {
            fail_at(path, expected, v);
        }
        return value;
    }

    uint64_t number_in(const json& obj, const std::string& prefix, std::string_view key,
                       uint64_t max, uint64_t fallback) const {
        const auto it = obj.find(key);
        return it == obj.end() ? fallback : number(*it, join(prefix, key), max);
    }

    uint64_t required_number(const json& obj, const std::string& prefix, std::string_view key,
                             uint64_t max) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            fail_msg(join(prefix, key), "missing (required)");
        }
        return number(*it, join(prefix, key), max);
    }

    bool boolean(const json& obj, const std::string& prefix, std::string_view key,
                 bool fallback) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            return fallback;
        }
        if (!it->is_boolean()) {
            fail_at(join(prefix, key), "expected true or false", *it);
        }
        return it->get<bool>();
    }

    // A string from a fixed set, returned as its index in `choices`.
    size_t choice(const json& obj, const std::string& prefix, std::string_view key,
                  std::initializer_list<std::string_view> choices, size_t fallback) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            return fallback;
        }
        std::string list;
        for (auto c : choices) {
            list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
        }
        const std::string expected = "expected one of " + list;
        if (!it->is_string()) {
            fail_at(join(prefix, key), expected, *it);
        }
        const auto s = it->get<std::string>();
        const auto found = std::find(choices.begin(), choices.end(), s);
        if (found == choices.end()) {
            fail_at(join(prefix, key), expected, *it);
        }
        return static_cast<size_t>(found - choices.begin());
    }

    // Flag names -> bit mask; flag i of `names` is bit `bits[i]`.
    uint32_t flags(const json& obj, const std::string& prefix,
                   std::initializer_list<std::pair<std::string_view, uint32_t>> names) const {
        const auto it = obj.find("flags");
        if (it == obj.end()) {
            return 0;
        }
        std::string list;
        for (const auto& [n, bit] : names) {
            list += (list.empty() ? "\"" : ", \"") + std::string(n) + "\"";
        }
        const std::string path = join(prefix, "flags");
        if (!it->is_array()) {
            fail_at(path, "expected an array of flag names from " + list, *it);
        }
        uint32_t mask = 0;
        for (size_t i = 0; i < it->size(); ++i) {
            const json& f = (*it)[i];
            const auto match = std::find_if(names.begin(), names.end(), [&](const auto& n) {
                return f.is_string() && f.get<std::string>() == n.first;
            });
            if (match == names.end()) {
                fail_at(index_path(path, i), "expected one of " + list, f);
            }
            mask |= match->second;
        }
        return mask;
    }

    // Body bytes: [1, 2, 0xff] or "de ad be ef" / "deadbeef".
    std::vector<uint8_t> data(const json& obj, const std::string& prefix) const {
        const auto it = obj.find("data");
        if (it == obj.end()) {
            return {};
        }
        const std::string path = join(prefix, "data");
        std::vector<uint8_t> out;
        if (it->is_array()) {
            for (size_t i = 0; i < it->size(); ++i) {
                out.push_back(static_cast<uint8_t>(number((*it)[i], index_path(path, i), 0xff)));
            }
            return out;
        }
        const std::string expected =
            "expected an array of byte values or a hex string like \"de ad be ef\"";
        if (!it->is_string()) {
            fail_at(path, expected, *it);
        }
        std::string hex;
        for (char ch : it->get<std::string>()) {
            if (ch == ' ') {
                continue;
            }
            if (!std::isxdigit(static_cast<unsigned char>(ch))) {
                fail_at(path, expected, *it);
            }
            hex += ch;
        }
        if (hex.size() % 2 != 0) {
            fail_at(path, expected + " (odd number of hex digits)", *it);
        }
        for (size_t i = 0; i < hex.size(); i += 2) {
            out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
        }
        return out;
    }

    DeviceSpec device(const json& obj, const std::string& prefix) const {
        keys(obj, prefix,
             {"vendor", "device", "subsystem_vendor", "subsystem", "class", "revision",
              "interrupt_pin", "slot", "function", "multi_function", "bars", "capabilities"});
        // Fields are read one statement at a time, in document order, so
        // the first error reported is the first one a reader meets
        // (function arguments would be evaluated in unspecified order).
        DeviceSpec spec;
        const auto vendor = static_cast<uint16_t>(required_number(obj, prefix, "vendor", 0xffff));
        const auto device = static_cast<uint16_t>(required_number(obj, prefix, "device", 0xffff));
        spec.ids(vendor, device);
        const auto sub_vendor =
            static_cast<uint16_t>(number_in(obj, prefix, "subsystem_vendor", 0xffff, 0));
        const auto sub_id = static_cast<uint16_t>(number_in(obj, prefix, "subsystem", 0xffff, 0));
        spec.subsystem(sub_vendor, sub_id);
        // ff0000h: "device does not fit any defined class".
        spec.class_code(static_cast<uint32_t>(number_in(obj, prefix, "class", 0xffffff, 0xff0000)));
        spec.revision(static_cast<uint8_t>(number_in(obj, prefix, "revision", 0xff, 0)));
        spec.multi_function(boolean(obj, prefix, "multi_function", false));
        spec.interrupt_pin(static_cast<InterruptPin>(
            choice(obj, prefix, "interrupt_pin", {"none", "a", "b", "c", "d"}, 0)));
        if (obj.contains("slot")) {
            const auto slot = static_cast<unsigned>(required_number(obj, prefix, "slot", 31));
            spec.devfn(slot, static_cast<unsigned>(number_in(obj, prefix, "function", 7, 0)));
        } else if (obj.contains("function")) {
            fail_msg(join(prefix, "function"), "given without \"slot\": give both, or neither "
                                               "to let PCIem choose");
        }
        if (const auto it = obj.find("bars"); it != obj.end()) {
            bars(spec, *it, join(prefix, "bars"));
        }
        if (const auto it = obj.find("capabilities"); it != obj.end()) {
            capabilities(spec, *it, join(prefix, "capabilities"));
        }
        return spec;
    }

    void bars(DeviceSpec& spec, const json& list, const std::string& path) const {
        if (!list.is_array()) {
            fail_at(path, "expected an array of BAR objects", list);
        }
        if (list.size() > PCIEM_MAX_BARS) {
            fail_msg(path, fmt::format("{} BARs given: a function has at most {} (BAR 0..5)",
                                       list.size(), PCIEM_MAX_BARS));
        }
        std::vector<int> where(PCIEM_MAX_BARS, -1);
        for (size_t i = 0; i < list.size(); ++i) {
            const json& b = list[i];
            const std::string p = index_path(path, i);
            if (!b.is_object()) {
                fail_at(p, "expected a BAR object {\"index\", \"size\", ...}", b);
            }
            keys(b, p, {"index", "size", "type", "prefetchable", "ram"});
            const auto index =
                static_cast<unsigned>(required_number(b, p, "index", PCIEM_MAX_BARS - 1));
            if (where[index] >= 0) {
                fail_msg(join(p, "index"),
                         fmt::format("BAR {} is already given at {}", index,
                                     index_path(path, static_cast<size_t>(where[index]))));
            }
            where[index] = static_cast<int>(i);
            const uint64_t size = required_number(b, p, "size", UINT64_MAX);
            // mem64 by default: PCIem's 64-bit window always exists, a
            // 32-bit one may not (see pciemctl info).
            const bool is64 = choice(b, p, "type", {"mem32", "mem64"}, 1) == 1;
            const Bar bar = (is64 ? Bar::mem64(size) : Bar::mem32(size))
                                .prefetchable(boolean(b, p, "prefetchable", false))
                                .ram(boolean(b, p, "ram", false));
            spec.bar(index, bar);
        }
    }

    void capabilities(DeviceSpec& spec, const json& list, const std::string& path) const {
        if (!list.is_array()) {
            fail_at(path, "expected an array of capability objects", list);
        }
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string p = index_path(path, i);
            if (!list[i].is_object()) {
                fail_at(p, "expected a capability object {\"type\": ...}", list[i]);
            }
            capability(spec, list[i], p);
        }
    }

    void capability(DeviceSpec& spec, const json& c, const std::string& p) const {
        if (!c.contains("type")) {
            fail_msg(join(p, "type"), "missing (required)");
        }
        const size_t kind =
            choice(c, p, "type",
                   {"pm", "msi", "msix", "pcie", "vendor", "raw", "dsn", "aer", "ext_raw"}, 0);
        const auto offset =
            static_cast<uint16_t>(number_in(c, p, "offset", PCIEM_CFG_SPACE_SIZE - 1, 0));
        switch (kind) {
        case 0: // pm
            keys(c, p, {"type", "offset", "flags"});
            spec.pm(flags(c, p,
                          {{"d1", PCIEM_PM_D1},
                           {"d2", PCIEM_PM_D2},
                           {"pme", PCIEM_PM_PME},
                           {"no_soft_reset", PCIEM_PM_NO_SOFT_RESET}}),
                    offset);
            break;
        case 1: // msi
            keys(c, p, {"type", "offset", "vectors", "addr64", "maskable"});
            {
                const auto vectors = static_cast<uint32_t>(required_number(c, p, "vectors", 32));
                const bool addr64 = boolean(c, p, "addr64", true);
                spec.msi(vectors, addr64, boolean(c, p, "maskable", false), offset);
                break;
            }
        case 2: // msix
            keys(c, p,
                 {"type", "offset", "vectors", "table_bar", "table_offset", "pba_bar",
                  "pba_offset"});
            {
                const auto vectors = static_cast<uint32_t>(required_number(c, p, "vectors", 2048));
                const auto table_bar = static_cast<uint32_t>(required_number(c, p, "table_bar", 5));
                const auto table_off =
                    static_cast<uint32_t>(required_number(c, p, "table_offset", UINT32_MAX));
                const auto pba_bar = static_cast<uint32_t>(required_number(c, p, "pba_bar", 5));
                const auto pba_off =
                    static_cast<uint32_t>(required_number(c, p, "pba_offset", UINT32_MAX));
                spec.msix(vectors, table_bar, table_off, pba_bar, pba_off, offset);
                break;
            }
        case 3: // pcie
            pcie(spec, c, p, offset);
            break;
        case 4: // vendor
            keys(c, p, {"type", "offset", "data"});
            spec.vendor(data(c, p), offset);
            break;
        case 5: // raw
            keys(c, p, {"type", "offset", "id", "data"});
            {
                const auto id = static_cast<uint8_t>(required_number(c, p, "id", 0xff));
                spec.raw(id, data(c, p), offset);
                break;
            }
        case 6: // dsn
            keys(c, p, {"type", "offset", "serial"});
            spec.dsn(required_number(c, p, "serial", UINT64_MAX), offset);
            break;
        case 7: // aer
            keys(c, p, {"type", "offset"});
            spec.aer(offset);
            break;
        default: // ext_raw
            keys(c, p, {"type", "offset", "id", "version", "data"});
            {
                const auto id = static_cast<uint16_t>(required_number(c, p, "id", 0xffff));
                const auto version = static_cast<uint8_t>(number_in(c, p, "version", 0xf, 1));
                spec.ext_raw(id, version, data(c, p), offset);
                break;
            }
        }
    }

    void pcie(DeviceSpec& spec, const json& c, const std::string& p, uint16_t offset) const {
        keys(c, p,
             {"type", "offset", "port_type", "max_payload", "link_speed", "link_width", "flags"});
        static constexpr uint8_t port_types[] = {PCIEM_PCIE_ENDPOINT, PCIEM_PCIE_LEGACY_ENDPOINT,
                                                 PCIEM_PCIE_RC_ENDPOINT};
        const size_t port =
            choice(c, p, "port_type", {"endpoint", "legacy_endpoint", "rc_endpoint"}, 0);
        // Bytes in the file, the 128 << n encoding in the ABI.
        const uint64_t payload = number_in(c, p, "max_payload", 4096, 128);
        uint8_t encoded = 0;
        while ((uint64_t{128} << encoded) < payload && encoded < 5) {
            ++encoded;
        }
        if ((uint64_t{128} << encoded) != payload) {
            fail_at(join(p, "max_payload"), "expected 128, 256, 512, 1024, 2048 or 4096 (bytes)",
                    c.at("max_payload"));
        }
        const auto speed = static_cast<uint8_t>(number_in(c, p, "link_speed", 0xff, 1));
        const auto width = static_cast<uint8_t>(number_in(c, p, "link_width", 0xff, 1));
        spec.pcie(port_types[port], encoded, speed, width,
                  flags(c, p, {{"flr", PCIEM_PCIE_FLR}, {"ext_tag", PCIEM_PCIE_EXT_TAG}}), offset);
    }

    std::string file_;
};

} // namespace

Result<std::vector<DeviceSpec>> parse_spec(std::string_view text, const std::string& origin) {
    json root;
    try {
        root = json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/true,
                           /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        return fail(EINVAL, fmt::format("{}: not valid JSON: {}", origin, e.what()));
    }
    try {
        return SpecReader{origin}.document(root);
    } catch (const SpecError& e) {
        return fail(EINVAL, e.message);
    }
}

Result<std::vector<DeviceSpec>> load_spec_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        const int e = errno;
        return fail(e, fmt::format("{}: cannot open spec file: {}", path, std::strerror(e)));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_spec(text.str(), path);
}

} // namespace pciem
