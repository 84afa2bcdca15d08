// SPDX-License-Identifier: MIT
// Recordings (lib/include/pciem/recording.hpp): the file format written by
// `pciemctl record`, read back by `pciemctl dump` and `pciem-replay`.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "pciem/recording.hpp"

namespace {

using pciem::Recording;
using pciem::RecordingBuilder;

pciem::RecordingHeader header() {
    return pciem::make_recording_header(pciem::PciAddress{0x10000, 0, 0x18}, PCIEM_ABI_VERSION, 0);
}

pciem::DeviceSpec spec() {
    return pciem::DeviceSpec{}
        .ids(0x104c, 0xb500)
        .subsystem(0x1b36, 0x0001)
        .class_code(0xff0000)
        .revision(2)
        .interrupt_pin(pciem::InterruptPin::a)
        .bar(0, pciem::Bar::mem32(64 * 1024))
        .bar(2, pciem::Bar::mem64(1 << 20).prefetchable().ram())
        .msi(32, true, true)
        .msix(2048, 0, 0x1000, 0, 0x9000)
        .vendor({1, 2, 3, 4, 5})
        .pcie()
        .ext_raw(0x23, 1, {9, 8, 7, 6, 5, 4, 3, 2});
}

std::vector<std::byte> bytes(std::initializer_list<uint8_t> v) {
    std::vector<std::byte> out;
    for (uint8_t b : v) {
        out.push_back(std::byte{b});
    }
    return out;
}

std::vector<std::byte> sample() {
    auto req = spec().build();
    EXPECT_TRUE(req);
    RecordingBuilder b(header());
    b.create(*req, 1000)
        .state(PCIEM_STATE_PRESENT, 1000)
        .access(PCIEM_REC_CFG_READ, 0, 0, 0x0, 4, 0xb500104c, 2000)
        .access(PCIEM_REC_MMIO_WRITE, PCIEM_REC_F_MODEL, 0, 0x4, 4, 0x2, 3000)
        .access(PCIEM_REC_MMIO_READ, PCIEM_REC_F_MODEL, 0, 0x8, 4, 0x40, 4000)
        .access(PCIEM_REC_MMIO_WRITE, 0, 0, 0x100c, 4, 0, 4500)
        .irq(3, 0, 5000)
        .intx(true, 5100)
        .dma(PCIEM_DMA_WRITE, 0x100000, bytes({1, 2, 3, 4, 5}), 0, 6000)
        .dma(PCIEM_DMA_READ, 0x200000, bytes({}), PCIEM_DMA_F_UNMAPPED, 6500)
        .lost(7, 7000)
        .fault(PCIEM_FAULT_IRQ_DROP, 2, 3, 8000);
    return b.bytes();
}

TEST(Recording, RoundTripsEveryRecordType) {
    auto rec = Recording::parse(sample(), "sample");
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->address().domain, 0x10000u);
    EXPECT_EQ(rec->address().devfn, 0x18);
    EXPECT_EQ(rec->header().abi_version, unsigned{PCIEM_ABI_VERSION});
    const auto& r = rec->records();
    ASSERT_EQ(r.size(), 12u);
    EXPECT_EQ(r[0].type, PCIEM_REC_CREATE);
    EXPECT_EQ(r[0].file_offset, sizeof(pciem::RecordingHeader));
    for (const auto& x : r) {
        EXPECT_EQ(x.len % 8, 0u);
        EXPECT_EQ(x.bytes.size(), x.len);
    }
    EXPECT_EQ(r[1].file_offset, r[0].file_offset + r[0].len);
    EXPECT_EQ(r[3].as<pciem_rec_access>().value, 0x2u);
    EXPECT_EQ(r[8].dma_data().size(), 5u);
    EXPECT_EQ(r[8].len, sizeof(pciem_rec_dma) + 8); // padded to 8
    EXPECT_EQ(rec->start_ns(), 1000u);

    EXPECT_EQ(pciem::describe_record(r[1]), "state present");
    EXPECT_EQ(pciem::describe_record(r[2]), "cfg-read 0x000/4 = 0xb500104c (emulated)");
    EXPECT_EQ(pciem::describe_record(r[3]), "mmio-write BAR0+0x4/4 = 0x2 (model)");
    EXPECT_EQ(pciem::describe_record(r[4]), "mmio-read BAR0+0x8/4 = 0x40 (model)");
    EXPECT_EQ(pciem::describe_record(r[5]), "mmio-write BAR0+0x100c/4 = 0x0 (kernel)");
    EXPECT_EQ(pciem::describe_record(r[6]), "irq vector 3");
    EXPECT_EQ(pciem::describe_record(r[7]), "intx 1");
    EXPECT_EQ(pciem::describe_record(r[8]), "dma-write 0x100000+5: 01 02 03 04 05");
    EXPECT_EQ(pciem::describe_record(r[9]), "dma-read 0x200000+0 refused: address not mapped");
    EXPECT_EQ(pciem::describe_record(r[10]), "lost 7 records (the recording buffer was full)");
    EXPECT_EQ(pciem::describe_record(r[11]), "fault irq-drop rule 2 detail 0x3");
    EXPECT_EQ(pciem::format_record_line(r[4], rec->start_ns()),
              "#4 +0.000003000 mmio-read BAR0+0x8/4 = 0x40 (model)");
    const std::string create = pciem::describe_record(r[0]);
    EXPECT_NE(create.find("create 104c:b500 class ff0000 subsystem 1b36:0001 rev 02 INTA"),
              std::string::npos)
        << create;
    EXPECT_NE(create.find("BAR0 64K mem32, BAR2 1M mem64 prefetchable ram"), std::string::npos)
        << create;
    EXPECT_NE(create.find("caps msi msix vendor pcie ext_raw"), std::string::npos) << create;
}

TEST(Recording, CreateRecordGivesBackTheSameRequest) {
    auto rec = Recording::parse(sample());
    ASSERT_TRUE(rec) << rec.error().message;
    auto c = rec->create();
    ASSERT_TRUE(c) << c.error().message;
    auto again = c->spec().build();
    auto orig = spec().build();
    ASSERT_TRUE(again && orig);
    pciem_create a = again->create(), b = orig->create();
    a.caps_ptr = b.caps_ptr = 0;
    EXPECT_EQ(std::memcmp(&a, &b, sizeof(a)), 0);
    ASSERT_EQ(again->records().size(), orig->records().size());
    for (size_t i = 0; i < orig->records().size(); ++i) {
        pciem_cap x = again->records()[i], y = orig->records()[i];
        const bool body = x.type == PCIEM_CAP_VENDOR || x.type == PCIEM_CAP_EXT_RAW;
        if (body) {
            ASSERT_EQ(x.body.len, y.body.len);
            EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(x.body.data_ptr),
                                  reinterpret_cast<const void*>(y.body.data_ptr), x.body.len),
                      0);
            x.body.data_ptr = y.body.data_ptr = 0;
        }
        EXPECT_EQ(std::memcmp(&x, &y, sizeof(x)), 0) << "capability " << i;
    }
}

TEST(Recording, RefusesWhatIsNotOne) {
    auto r = Recording::parse(bytes({1, 2, 3}), "junk");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "junk: not a PCIem recording (no PCIEMREC header); pciemctl record makes them");
    auto v = sample();
    v[8] = std::byte{2}; // version
    r = Recording::parse(v, "f");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "f: recording format version 2, this build reads version 1");
}

TEST(Recording, NamesTheRecordThatIsBroken) {
    // Cut in the middle of the last record.
    auto v = sample();
    v.resize(v.size() - 8);
    auto r = Recording::parse(v, "f");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("record #11"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("cut short"), std::string::npos) << r.error().message;

    // A length that is no multiple of 8, in record #2.
    v = sample();
    Recording ok = std::move(*Recording::parse(sample()));
    const size_t at = ok.records()[2].file_offset;
    const uint32_t bad = 12;
    std::memcpy(v.data() + at + 4, &bad, 4);
    r = Recording::parse(v, "f");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.substr(0, 24), "f: record #2 (at byte 0x");
    EXPECT_NE(r.error().message.find("has length 12"), std::string::npos) << r.error().message;

    // A DMA record whose data_len says more than it holds.
    v = sample();
    const size_t dma = ok.records()[8].file_offset;
    const uint64_t big = 4096;
    std::memcpy(v.data() + dma + offsetof(pciem_rec_dma, data_len), &big, 8);
    r = Recording::parse(v, "f");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("record #8"), std::string::npos) << r.error().message;

    // A record too short for its type.
    RecordingBuilder b(header());
    pciem_rec tiny{PCIEM_REC_MMIO_READ, 0, 16, 0};
    b.raw(std::as_bytes(std::span(&tiny, 1)));
    r = Recording::parse(b.bytes(), "f");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("too short for its type"), std::string::npos)
        << r.error().message;
}

TEST(Recording, WithoutCreateRecordThereIsNoSpec) {
    RecordingBuilder b(header());
    b.access(PCIEM_REC_MMIO_READ, PCIEM_REC_F_MODEL, 0, 0, 4, 1);
    auto rec = Recording::parse(b.bytes());
    ASSERT_TRUE(rec);
    EXPECT_FALSE(rec->create());
}

TEST(Recording, UnknownTypesAreKeptAndNamed) {
    RecordingBuilder b(header());
    pciem_rec future[3]{};
    future[0] = {99, 0, sizeof(future), 5};
    b.raw(std::as_bytes(std::span(future)));
    auto rec = Recording::parse(b.bytes());
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(pciem::describe_record(rec->records()[0]), "type-99 (48 bytes)");
}

TEST(Recording, HeaderSaysWhereAndWhen) {
    const auto h = header();
    EXPECT_EQ(std::memcmp(h.magic, "PCIEMREC", 8), 0);
    EXPECT_EQ(h.header_len, 96);
    EXPECT_GT(h.start_realtime_ns, 0u);
    EXPECT_GT(h.start_monotonic_ns, 0u);
    EXPECT_NE(h.kernel[0], 0);
}

TEST(Recording, StartAndKernelInWords) {
    auto h = header();
    h.start_realtime_ns = 1'764'825'508'123'456'789u; // 2025-12-04 05:18:28 UTC
    EXPECT_EQ(pciem::recording_start_text(h), "2025-12-04 05:18:28 UTC");
    std::memset(h.kernel, 'k', sizeof(h.kernel)); // full: no NUL
    EXPECT_EQ(pciem::recording_kernel(h), std::string(48, 'k'));
    std::memcpy(h.kernel, "6.1.0-57-amd64\0", 15);
    EXPECT_EQ(pciem::recording_kernel(h), "6.1.0-57-amd64");
}

} // namespace
