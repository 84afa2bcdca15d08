// SPDX-License-Identifier: MIT
#include "pciem/recording.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "pciem/device.hpp"
#include "pciem/dma.hpp"
#include "pciem/faults.hpp"

namespace pciem {

namespace {

uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// The first layout of struct pciem_create ended with `error`: a kernel of
// that time wrote no more, and later fields read as zero.
constexpr size_t first_create_layout = offsetof(pciem_create, label);

// The least a record of each known type holds; 0 for unknown types.
size_t min_len(uint16_t type) {
    switch (type) {
    case PCIEM_REC_CREATE:
        return sizeof(pciem_rec) + first_create_layout;
    case PCIEM_REC_CFG_READ:
    case PCIEM_REC_CFG_WRITE:
    case PCIEM_REC_MMIO_READ:
    case PCIEM_REC_MMIO_WRITE:
        return sizeof(pciem_rec_access);
    case PCIEM_REC_IRQ:
        return sizeof(pciem_rec_irq);
    case PCIEM_REC_DMA:
        return sizeof(pciem_rec_dma);
    case PCIEM_REC_STATE:
        return sizeof(pciem_rec_state);
    case PCIEM_REC_LOST:
        return sizeof(pciem_rec_lost);
    case PCIEM_REC_FAULT:
        return sizeof(pciem_rec_fault);
    default:
        return 0;
    }
}

bool cap_has_body(uint16_t type) {
    return type == PCIEM_CAP_VENDOR || type == PCIEM_CAP_RAW || type == PCIEM_CAP_EXT_RAW;
}

std::string size_text(uint64_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) {
        return fmt::format("{}M", bytes >> 20);
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
        return fmt::format("{}K", bytes >> 10);
    }
    return std::to_string(bytes);
}

std::string errno_text(int neg) {
    const char* name = strerrorname_np(-neg);
    return name != nullptr ? name : fmt::format("errno {}", -neg);
}

std::string hex_bytes(std::span<const std::byte> data, size_t max) {
    std::string out;
    const size_t n = std::min(data.size(), max);
    for (size_t i = 0; i < n; ++i) {
        out += fmt::format("{}{:02x}", i ? " " : "", static_cast<unsigned>(data[i]));
    }
    if (data.size() > n) {
        out += fmt::format(" ... ({} bytes)", data.size());
    }
    return out;
}

std::string describe_create(const Record& r) {
    auto c = parse_create_record(r);
    if (!c) {
        return "create (" + c.error().message + ")";
    }
    const pciem_create& q = c->create;
    std::string out =
        fmt::format("create {:04x}:{:04x} class {:06x}", q.vendor_id, q.device_id, q.class_code);
    if (q.subsys_vendor_id != 0 || q.subsys_id != 0) {
        out += fmt::format(" subsystem {:04x}:{:04x}", q.subsys_vendor_id, q.subsys_id);
    }
    if (q.revision != 0) {
        out += fmt::format(" rev {:02x}", q.revision);
    }
    if (q.interrupt_pin >= 1 && q.interrupt_pin <= 4) {
        out += fmt::format(" INT{}", static_cast<char>('A' + q.interrupt_pin - 1));
    }
    if ((q.header_type & 0x80) != 0) {
        out += " multi-function";
    }
    if ((q.flags & PCIEM_CREATE_F_DEVFN) != 0) {
        out += fmt::format(" at {:02x}.{}", devfn_slot(q.devfn), devfn_function(q.devfn));
    }
    for (unsigned i = 0; i < PCIEM_MAX_BARS; ++i) {
        const pciem_bar& b = q.bars[i];
        if (b.size == 0) {
            continue;
        }
        out += fmt::format(", BAR{} {} {}{}{}", i, size_text(b.size),
                           (b.flags & PCIEM_BAR_MEM64) ? "mem64" : "mem32",
                           (b.flags & PCIEM_BAR_PREFETCH) ? " prefetchable" : "",
                           (b.flags & PCIEM_BAR_RAM) ? " ram" : "");
    }
    if (q.rom.size != 0) {
        out += fmt::format(", ROM {}", size_text(q.rom.size));
    }
    if (!c->caps.empty()) {
        out += ", caps";
        for (const auto& cap : c->caps) {
            out += fmt::format(" {}{}", capability_name(cap.type),
                               (cap.flags & PCIEM_CAP_F_MODEL) ? "(model)" : "");
        }
    }
    return out;
}

std::string describe_access(const Record& r) {
    const auto a = r.as<pciem_rec_access>();
    const char* who = (r.flags & PCIEM_REC_F_ABORT)   ? "abort"
                      : (r.flags & PCIEM_REC_F_MODEL) ? "model"
                      : r.type <= PCIEM_REC_CFG_WRITE ? "emulated"
                                                      : "kernel";
    const bool cfg = r.type == PCIEM_REC_CFG_READ || r.type == PCIEM_REC_CFG_WRITE;
    const std::string where =
        cfg ? fmt::format("{:#05x}", a.offset) : fmt::format("BAR{}+{:#x}", a.bar, a.offset);
    return fmt::format("{} {}/{} = {:#x} ({})", record_type_name(r.type), where, a.size, a.value,
                       who);
}

std::string describe_dma(const Record& r) {
    const auto d = r.as<pciem_rec_dma>();
    static constexpr const char* ops[] = {"dma-?",         "dma-read", "dma-write",
                                          "dma-fetch-add", "dma-swap", "dma-cas"};
    const char* op = d.op < std::size(ops) ? ops[d.op] : ops[0];
    std::string out;
    if (d.op == PCIEM_DMA_READ || d.op == PCIEM_DMA_WRITE) {
        out = fmt::format("{} {:#x}+{}", op, d.addr, d.len);
    } else {
        out = fmt::format("{} {:#x}/{} operand {:#x}", op, d.addr, d.len, d.operand);
        if (d.op == PCIEM_DMA_CAS) {
            out += fmt::format(" compare {:#x}", d.compare);
        }
    }
    if (d.fault != 0) {
        // Unknown faults (a newer kernel's) by number.
        return out + (d.fault <= PCIEM_DMA_F_INJECTED
                          ? fmt::format(" refused: {}", dma_fault_name(dma_fault_kind(d.fault)))
                          : fmt::format(" refused: fault {}", d.fault));
    }
    if (d.op == PCIEM_DMA_READ || d.op == PCIEM_DMA_WRITE) {
        const auto data = r.dma_data();
        if (!data.empty()) {
            out += ": " + hex_bytes(data, 16);
        }
        if ((r.flags & PCIEM_REC_F_TRUNCATED) != 0) {
            out += fmt::format(" (truncated: {} of {} bytes kept)", d.data_len, d.len);
        }
    } else {
        out += fmt::format(" -> old {:#x}", d.result);
    }
    return out;
}

} // namespace

RecordingHeader make_recording_header(const PciAddress& at, uint32_t abi_version,
                                      uint32_t buffer_kb) {
    RecordingHeader h{};
    std::memcpy(h.magic, recording_magic, sizeof(h.magic));
    h.version = recording_version;
    h.header_len = sizeof(RecordingHeader);
    h.abi_version = abi_version;
    h.domain = at.domain;
    h.bus = at.bus;
    h.devfn = at.devfn;
    h.buffer_kb = buffer_kb;
    h.start_realtime_ns = clock_ns(CLOCK_REALTIME);
    h.start_monotonic_ns = clock_ns(CLOCK_MONOTONIC);
    utsname u{};
    if (uname(&u) == 0) {
        std::memcpy(h.kernel, u.release, std::min(std::strlen(u.release), sizeof(h.kernel) - 1));
    }
    return h;
}

std::string recording_start_text(const RecordingHeader& header) {
    const time_t when = static_cast<time_t>(header.start_realtime_ns / 1'000'000'000u);
    tm t{};
    char text[64] = "?";
    if (gmtime_r(&when, &t) != nullptr) {
        std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &t);
    }
    return text;
}

std::string recording_kernel(const RecordingHeader& header) {
    return {header.kernel, strnlen(header.kernel, sizeof(header.kernel))};
}

std::span<const std::byte> Record::dma_data() const {
    if (type != PCIEM_REC_DMA || bytes.size() < sizeof(pciem_rec_dma)) {
        return {};
    }
    const auto d = as<pciem_rec_dma>();
    return bytes.subspan(sizeof(pciem_rec_dma),
                         std::min<uint64_t>(d.data_len, bytes.size() - sizeof(pciem_rec_dma)));
}

DeviceSpec CreateRecord::spec() const {
    const pciem_create& q = create;
    DeviceSpec s;
    s.ids(q.vendor_id, q.device_id)
        .subsystem(q.subsys_vendor_id, q.subsys_id)
        .class_code(q.class_code)
        .revision(q.revision)
        .multi_function((q.header_type & 0x80) != 0)
        .interrupt_pin(static_cast<InterruptPin>(q.interrupt_pin));
    if ((q.flags & PCIEM_CREATE_F_DEVFN) != 0) {
        s.devfn(devfn_slot(q.devfn), devfn_function(q.devfn));
    }
    for (unsigned i = 0; i < PCIEM_MAX_BARS; ++i) {
        const pciem_bar& b = q.bars[i];
        if (b.size == 0) {
            continue;
        }
        Bar bar = (b.flags & PCIEM_BAR_MEM64) ? Bar::mem64(b.size) : Bar::mem32(b.size);
        s.bar(i, bar.prefetchable((b.flags & PCIEM_BAR_PREFETCH) != 0)
                     .ram((b.flags & PCIEM_BAR_RAM) != 0));
    }
    if (q.rom.size != 0) {
        s.rom(q.rom.size);
    }
    for (size_t i = 0; i < caps.size(); ++i) {
        s.capability(caps[i], bodies[i]);
    }
    return s;
}

Result<CreateRecord> parse_create_record(const Record& r) {
    if (r.type != PCIEM_REC_CREATE || r.bytes.size() < min_len(PCIEM_REC_CREATE)) {
        return fail(EINVAL, fmt::format("record #{} is not a creation record", r.index));
    }
    // The kernel writes its own sizeof(struct pciem_create), which may be
    // an older, shorter layout or a newer, longer one: caps follow that.
    uint32_t create_size = 0;
    std::memcpy(&create_size, r.bytes.data() + sizeof(pciem_rec), sizeof(create_size));
    if (create_size < first_create_layout || create_size > r.bytes.size() - sizeof(pciem_rec)) {
        return fail(EINVAL, fmt::format("record #{} (create): a request of {} bytes does not fit "
                                        "a record of {} bytes",
                                        r.index, create_size, r.bytes.size()));
    }
    CreateRecord c;
    std::memcpy(&c.create, r.bytes.data() + sizeof(pciem_rec),
                std::min<size_t>(create_size, sizeof(pciem_create)));
    size_t at = sizeof(pciem_rec) + create_size;
    const size_t caps_len = c.create.caps_len;
    if (caps_len % sizeof(pciem_cap) != 0 || at + caps_len > r.bytes.size()) {
        return fail(EINVAL,
                    fmt::format("record #{} (create): {} bytes of capability records do not fit "
                                "a record of {} bytes",
                                r.index, caps_len, r.bytes.size()));
    }
    const size_t n = caps_len / sizeof(pciem_cap);
    size_t body_at = at + caps_len;
    for (size_t i = 0; i < n; ++i) {
        pciem_cap cap{};
        std::memcpy(&cap, r.bytes.data() + at + i * sizeof(pciem_cap), sizeof(pciem_cap));
        std::vector<uint8_t> body;
        if (cap_has_body(cap.type) && cap.body.len != 0) {
            if (body_at + cap.body.len > r.bytes.size()) {
                return fail(EINVAL, fmt::format("record #{} (create): the body of capability {} "
                                                "runs past the record",
                                                r.index, i));
            }
            const auto* p = reinterpret_cast<const uint8_t*>(r.bytes.data()) + body_at;
            body.assign(p, p + cap.body.len);
            body_at += cap.body.len;
        }
        cap.body.data_ptr = cap_has_body(cap.type) ? 0 : cap.body.data_ptr;
        c.caps.push_back(cap);
        c.bodies.push_back(std::move(body));
    }
    c.create.caps_ptr = 0;
    c.create.caps_len = 0;
    return c;
}

Result<Recording> Recording::parse(std::vector<std::byte> bytes, const std::string& origin) {
    const std::string who = origin.empty() ? "recording" : origin;
    Recording rec;
    rec.bytes_ = std::move(bytes);
    const auto& b = rec.bytes_;
    if (b.size() < sizeof(RecordingHeader) ||
        std::memcmp(b.data(), recording_magic, sizeof(recording_magic)) != 0) {
        return fail(EINVAL, fmt::format("{}: not a PCIem recording (no PCIEMREC header); "
                                        "pciemctl record makes them",
                                        who));
    }
    std::memcpy(&rec.header_, b.data(), sizeof(RecordingHeader));
    const RecordingHeader& h = rec.header_;
    if (h.version != recording_version) {
        return fail(EINVAL, fmt::format("{}: recording format version {}, this build reads "
                                        "version {}",
                                        who, h.version, recording_version));
    }
    if (h.header_len < sizeof(RecordingHeader) || h.header_len % 8 != 0 ||
        h.header_len > b.size()) {
        return fail(EINVAL, fmt::format("{}: header length {} is wrong", who, h.header_len));
    }
    size_t at = h.header_len;
    while (at < b.size()) {
        const size_t index = rec.records_.size();
        const size_t left = b.size() - at;
        pciem_rec hdr{};
        if (left < sizeof(hdr)) {
            return fail(EINVAL, fmt::format("{}: the file ends {} bytes into record #{} (at byte "
                                            "{:#x}): it was cut short",
                                            who, left, index, at));
        }
        std::memcpy(&hdr, b.data() + at, sizeof(hdr));
        if (hdr.len < sizeof(hdr) || hdr.len % 8 != 0) {
            return fail(EINVAL, fmt::format("{}: record #{} (at byte {:#x}) has length {}: a "
                                            "record is a multiple of 8 bytes, at least 16",
                                            who, index, at, hdr.len));
        }
        if (hdr.len > left) {
            return fail(EINVAL, fmt::format("{}: record #{} (at byte {:#x}) is {} bytes long but "
                                            "only {} remain: the file was cut short",
                                            who, index, at, hdr.len, left));
        }
        if (hdr.len < min_len(hdr.type)) {
            return fail(EINVAL, fmt::format("{}: record #{} (at byte {:#x}, {}) is {} bytes, too "
                                            "short for its type ({} bytes)",
                                            who, index, at, record_type_name(hdr.type), hdr.len,
                                            min_len(hdr.type)));
        }
        Record r;
        r.index = index;
        r.file_offset = at;
        r.type = hdr.type;
        r.flags = hdr.flags;
        r.len = hdr.len;
        r.ns = hdr.ns;
        r.bytes = std::span<const std::byte>(b.data() + at, hdr.len);
        if (r.type == PCIEM_REC_DMA) {
            const auto d = r.as<pciem_rec_dma>();
            if (d.data_len > r.len - sizeof(pciem_rec_dma) || d.data_len > d.len) {
                return fail(EINVAL,
                            fmt::format("{}: record #{} (at byte {:#x}, dma) says {} "
                                        "bytes of data follow, but the record has room "
                                        "for {}",
                                        who, index, at, d.data_len, r.len - sizeof(pciem_rec_dma)));
            }
        }
        if (r.type == PCIEM_REC_CREATE) {
            if (auto c = parse_create_record(r); !c) {
                return fail(EINVAL, fmt::format("{}: {}", who, c.error().message));
            }
        }
        rec.records_.push_back(r);
        at += hdr.len;
    }
    return rec;
}

Result<Recording> Recording::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int e = errno;
        return fail(e, fmt::format("cannot open {}: {}", path, std::strerror(e)));
    }
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        return fail(EIO, fmt::format("cannot read {}", path));
    }
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return parse(std::move(bytes), path);
}

uint64_t Recording::start_ns() const {
    return records_.empty() ? header_.start_monotonic_ns : records_.front().ns;
}

Result<CreateRecord> Recording::create() const {
    for (const Record& r : records_) {
        if (r.type == PCIEM_REC_CREATE) {
            return parse_create_record(r);
        }
    }
    return fail(EINVAL, "the recording has no creation record (PCIEM_REC_CREATE): the kernel "
                        "writes one first, so the file is not a whole recording");
}

std::string record_type_name(uint16_t type) {
    switch (type) {
    case PCIEM_REC_CREATE:
        return "create";
    case PCIEM_REC_CFG_READ:
        return "cfg-read";
    case PCIEM_REC_CFG_WRITE:
        return "cfg-write";
    case PCIEM_REC_MMIO_READ:
        return "mmio-read";
    case PCIEM_REC_MMIO_WRITE:
        return "mmio-write";
    case PCIEM_REC_IRQ:
        return "irq";
    case PCIEM_REC_DMA:
        return "dma";
    case PCIEM_REC_STATE:
        return "state";
    case PCIEM_REC_LOST:
        return "lost";
    case PCIEM_REC_FAULT:
        return "fault";
    default:
        return fmt::format("type-{}", type);
    }
}

std::string describe_record(const Record& r) {
    switch (r.type) {
    case PCIEM_REC_CREATE:
        return describe_create(r);
    case PCIEM_REC_CFG_READ:
    case PCIEM_REC_CFG_WRITE:
    case PCIEM_REC_MMIO_READ:
    case PCIEM_REC_MMIO_WRITE:
        return describe_access(r);
    case PCIEM_REC_IRQ: {
        const auto q = r.as<pciem_rec_irq>();
        std::string out = (r.flags & PCIEM_REC_F_INTX) ? fmt::format("intx {}", q.value)
                                                       : fmt::format("irq vector {}", q.value);
        if (q.result < 0) {
            out += " failed: " + errno_text(q.result);
        }
        return out;
    }
    case PCIEM_REC_DMA:
        return describe_dma(r);
    case PCIEM_REC_STATE:
        return fmt::format("state {}", state_name(r.as<pciem_rec_state>().state));
    case PCIEM_REC_LOST:
        return fmt::format("lost {} records (the recording buffer was full)",
                           r.as<pciem_rec_lost>().count);
    case PCIEM_REC_FAULT: {
        const auto f = r.as<pciem_rec_fault>();
        const FaultInfo* info = find_fault(static_cast<uint16_t>(f.fault));
        std::string name = info ? std::string(info->name) : fmt::format("fault-{}", f.fault);
        return f.id != 0 ? fmt::format("fault {} rule {} detail {:#x}", name, f.id, f.detail)
                         : fmt::format("fault {} detail {:#x}", name, f.detail);
    }
    default:
        return fmt::format("{} ({} bytes)", record_type_name(r.type), r.len);
    }
}

std::string format_record_line(const Record& r, uint64_t start_ns) {
    const bool before = r.ns < start_ns;
    const uint64_t d = before ? start_ns - r.ns : r.ns - start_ns;
    return fmt::format("#{} {}{}.{:09} {}", r.index, before ? '-' : '+', d / 1'000'000'000u,
                       d % 1'000'000'000u, describe_record(r));
}

// ---- building ------------------------------------------------------------------

RecordingBuilder::RecordingBuilder(const RecordingHeader& header) {
    append(&header, sizeof(header));
}

namespace {

// GCC 12 sees overflows in vector::insert of bytes that are not there.
void put(std::vector<std::byte>& v, const void* data, size_t len) {
    const size_t at = v.size();
    v.resize(at + len);
    if (len != 0) {
        std::memcpy(v.data() + at, data, len);
    }
}

} // namespace

void RecordingBuilder::append(const void* data, size_t len) {
    put(bytes_, data, len);
}

RecordingBuilder& RecordingBuilder::raw(std::span<const std::byte> record) {
    std::vector<std::byte> r;
    put(r, record.data(), record.size());
    r.resize((r.size() + 7) / 8 * 8);
    pciem_rec h{};
    std::memcpy(&h, r.data(), std::min(sizeof(h), r.size()));
    h.len = static_cast<uint32_t>(r.size());
    std::memcpy(r.data(), &h, std::min(sizeof(h), r.size()));
    append(r.data(), r.size());
    return *this;
}

RecordingBuilder& RecordingBuilder::create(const AbiRequest& request, uint64_t ns) {
    std::vector<std::byte> r(sizeof(pciem_rec) + sizeof(pciem_create));
    pciem_rec h{PCIEM_REC_CREATE, 0, 0, ns};
    pciem_create c = request.create();
    c.caps_ptr = 0;
    c.caps_len = static_cast<uint32_t>(request.records().size() * sizeof(pciem_cap));
    std::memset(&c.error, 0, sizeof(c.error));
    std::memcpy(r.data(), &h, sizeof(h));
    std::memcpy(r.data() + sizeof(h), &c, sizeof(c));
    std::vector<std::byte> bodies;
    for (pciem_cap cap : request.records()) {
        if (cap_has_body(cap.type) && cap.body.len != 0) {
            put(bodies, reinterpret_cast<const void*>(cap.body.data_ptr), cap.body.len);
            cap.body.data_ptr = 0;
        }
        put(r, &cap, sizeof(cap));
    }
    put(r, bodies.data(), bodies.size());
    return raw(r);
}

RecordingBuilder& RecordingBuilder::access(uint16_t type, uint16_t flags, unsigned bar,
                                           uint64_t offset, unsigned size, uint64_t value,
                                           uint64_t ns) {
    pciem_rec_access a{};
    a.hdr = {type, flags, sizeof(a), ns};
    a.bar = bar;
    a.size = size;
    a.offset = offset;
    a.value = value;
    append(&a, sizeof(a));
    return *this;
}

RecordingBuilder& RecordingBuilder::irq(uint32_t vector, int32_t result, uint64_t ns) {
    pciem_rec_irq q{};
    q.hdr = {PCIEM_REC_IRQ, 0, sizeof(q), ns};
    q.value = vector;
    q.result = result;
    append(&q, sizeof(q));
    return *this;
}

RecordingBuilder& RecordingBuilder::intx(bool level, uint64_t ns) {
    pciem_rec_irq q{};
    q.hdr = {PCIEM_REC_IRQ, PCIEM_REC_F_INTX, sizeof(q), ns};
    q.value = level ? 1 : 0;
    append(&q, sizeof(q));
    return *this;
}

RecordingBuilder& RecordingBuilder::dma(uint32_t op, uint64_t addr, std::span<const std::byte> data,
                                        uint32_t fault, uint64_t ns) {
    pciem_rec_dma d{};
    d.hdr = {PCIEM_REC_DMA, 0, 0, ns};
    d.op = op;
    d.fault = fault;
    d.addr = addr;
    d.len = data.size();
    d.data_len = fault != 0 ? 0 : data.size();
    std::vector<std::byte> r(sizeof(d));
    std::memcpy(r.data(), &d, sizeof(d));
    if (fault == 0) {
        put(r, data.data(), data.size());
    }
    return raw(r);
}

RecordingBuilder& RecordingBuilder::state(uint32_t state, uint64_t ns) {
    pciem_rec_state q{};
    q.hdr = {PCIEM_REC_STATE, 0, sizeof(q), ns};
    q.state = state;
    append(&q, sizeof(q));
    return *this;
}

RecordingBuilder& RecordingBuilder::lost(uint64_t count, uint64_t ns) {
    pciem_rec_lost q{};
    q.hdr = {PCIEM_REC_LOST, 0, sizeof(q), ns};
    q.count = count;
    append(&q, sizeof(q));
    return *this;
}

RecordingBuilder& RecordingBuilder::fault(uint32_t fault, uint32_t id, uint64_t detail,
                                          uint64_t ns) {
    pciem_rec_fault q{};
    q.hdr = {PCIEM_REC_FAULT, 0, sizeof(q), ns};
    q.fault = fault;
    q.id = id;
    q.detail = detail;
    append(&q, sizeof(q));
    return *this;
}

} // namespace pciem
