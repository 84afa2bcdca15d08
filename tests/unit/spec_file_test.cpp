// SPDX-License-Identifier: MIT
// Spec files: every example parses; malformed specs are refused with the
// file, the JSON path and what was expected.
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pciem/spec_file.hpp"

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string examples = PCIEM_EXAMPLES_DIR;

// Builds the ABI request from the first device, asserting on the way.
pciem::AbiRequest first_request(const std::string& file) {
    auto specs = pciem::load_spec_file(examples + "/" + file);
    EXPECT_TRUE(specs) << (specs ? "" : specs.error().message);
    auto req = specs->at(0).build();
    EXPECT_TRUE(req);
    return std::move(*req);
}

std::string parse_error(const std::string& text) {
    auto specs = pciem::parse_spec(text, "t.json");
    EXPECT_FALSE(specs) << "accepted: " << text;
    return specs ? std::string() : specs.error().message;
}

TEST(SpecFile, EveryExampleParsesAndBuilds) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(examples)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        ++count;
        auto specs = pciem::load_spec_file(entry.path().string());
        ASSERT_TRUE(specs) << specs.error().message;
        for (const auto& spec : *specs) {
            EXPECT_TRUE(spec.build()) << spec.origin();
        }
    }
    EXPECT_GE(count, 4);
}

TEST(SpecFile, Minimal) {
    auto req = first_request("minimal.json");
    EXPECT_EQ(req.create().vendor_id, 0x1b36);
    EXPECT_EQ(req.create().device_id, 0x7e00);
    EXPECT_EQ(req.create().class_code, 0xff0000u);
    EXPECT_EQ(req.create().bars[0].size, 4096u);
    EXPECT_EQ(req.create().bars[0].flags, PCIEM_BAR_MEM64); // mem64 is the default
    EXPECT_EQ(req.create().caps_len, 0u);
}

TEST(SpecFile, NicLike) {
    auto req = first_request("nic-like.json");
    const auto& c = req.create();
    EXPECT_EQ(c.class_code, 0x020000u);
    EXPECT_EQ(c.interrupt_pin, 1);
    EXPECT_EQ(c.subsys_id, 0x0001);
    EXPECT_EQ(c.bars[0].size, 128u * 1024);
    EXPECT_EQ(c.bars[2].size, 1u << 20);
    EXPECT_EQ(c.bars[2].flags, PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH);
    const auto& r = req.records();
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].type, PCIEM_CAP_PM);
    EXPECT_EQ(r[0].pm.flags, PCIEM_PM_PME);
    EXPECT_EQ(r[1].type, PCIEM_CAP_MSIX);
    EXPECT_EQ(r[1].msix.vectors, 16u);
    EXPECT_EQ(r[1].msix.table_bar, 4u);
    EXPECT_EQ(r[1].msix.pba_offset, 0x2000u);
    EXPECT_EQ(r[2].type, PCIEM_CAP_PCIE);
    EXPECT_EQ(r[2].pcie.max_payload, 1); // 256 bytes
    EXPECT_EQ(r[2].pcie.link_speed, 3);
    EXPECT_EQ(r[2].pcie.link_width, 4);
    EXPECT_EQ(r[2].pcie.flags, PCIEM_PCIE_FLR | PCIEM_PCIE_EXT_TAG);
    EXPECT_EQ(r[3].type, PCIEM_CAP_EXT_AER);
    EXPECT_EQ(r[4].type, PCIEM_CAP_EXT_DSN);
    EXPECT_EQ(r[4].dsn.serial, 0x0011223344556677ull);
}

TEST(SpecFile, MultiFunction) {
    auto specs = pciem::load_spec_file(examples + "/multifunction.json");
    ASSERT_TRUE(specs);
    ASSERT_EQ(specs->size(), 2u);
    auto f0 = (*specs)[0].build();
    auto f1 = (*specs)[1].build();
    ASSERT_TRUE(f0 && f1);
    EXPECT_EQ(f0->create().header_type, 0x80);
    EXPECT_EQ(f0->create().devfn, 4 << 3);
    EXPECT_EQ(f0->create().flags, PCIEM_CREATE_F_DEVFN);
    EXPECT_EQ(f1->create().header_type, 0x00);
    EXPECT_EQ(f1->create().devfn, (4 << 3) | 1);
    EXPECT_THAT((*specs)[1].origin(), HasSubstr("multifunction.json devices[1]"));
}

TEST(SpecFile, AllCaps) {
    auto req = first_request("all-caps.json");
    EXPECT_EQ(req.create().revision, 0x10);
    EXPECT_EQ(req.create().interrupt_pin, 2);
    EXPECT_EQ(req.create().bars[0].flags, 0u); // mem32
    EXPECT_EQ(req.create().bars[0].size, 4096u);
    const auto& r = req.records();
    ASSERT_EQ(r.size(), 9u);
    EXPECT_EQ(r[0].offset, 0x40);
    EXPECT_EQ(r[0].pm.flags, PCIEM_PM_FLAGS_ALL);
    EXPECT_EQ(r[1].msi.flags, PCIEM_MSI_64BIT | PCIEM_MSI_MASKABLE);
    EXPECT_EQ(r[1].msi.vectors, 4u);
    EXPECT_EQ(r[3].pcie.max_payload, 2); // 512 bytes
    EXPECT_EQ(r[4].type, PCIEM_CAP_VENDOR);
    EXPECT_EQ(r[4].body.len, 4);
    EXPECT_EQ(reinterpret_cast<const uint8_t*>(r[4].body.data_ptr)[3], 0xef);
    EXPECT_EQ(r[5].type, PCIEM_CAP_RAW);
    EXPECT_EQ(r[5].body.id, 0x0a);
    EXPECT_EQ(r[5].body.len, 2);
    EXPECT_EQ(r[7].dsn.serial, 1234605616436508552ull);
    EXPECT_EQ(r[8].type, PCIEM_CAP_EXT_RAW);
    EXPECT_EQ(r[8].body.id, 0x000b);
    EXPECT_EQ(r[8].body.version, 1);
    EXPECT_EQ(r[8].body.len, 8);
}

TEST(SpecFile, RamBar) {
    auto specs = pciem::parse_spec(
        R"({"vendor": 1, "device": 2, "bars": [
              {"index": 0, "size": 4096},
              {"index": 2, "size": "2M", "prefetchable": true, "ram": true},
              {"index": 4, "size": "64K", "type": "mem32", "ram": false}]})",
        "t.json");
    ASSERT_TRUE(specs) << specs.error().message;
    auto req = specs->at(0).build();
    ASSERT_TRUE(req) << req.error().message;
    EXPECT_EQ(req->create().bars[0].flags, PCIEM_BAR_MEM64);
    EXPECT_EQ(req->create().bars[2].size, 2u << 20);
    EXPECT_EQ(req->create().bars[2].flags, PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH | PCIEM_BAR_RAM);
    EXPECT_EQ(req->create().bars[4].flags, 0u);
    EXPECT_TRUE(specs->at(0).bar_at(2)->is_ram());
}

TEST(SpecFileErrors, RamMustBeABool) {
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2,
                                "bars": [{"index": 0, "size": 4096, "ram": 1}]})"),
                HasSubstr("bars[0].ram"));
}

TEST(SpecFileErrors, UnknownKeyIsNamedWithItsPath) {
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "bars": [{"index": 0, "sise": 16}]})"),
                StartsWith("t.json: bars[0].sise: unknown key (expected one of: index, size, "
                           "type, prefetchable, ram)"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "vendr": 3})"),
                StartsWith("t.json: vendr: unknown key"));
}

TEST(SpecFileErrors, BadNumber) {
    EXPECT_THAT(parse_error(R"({"vendor": "0x1zz", "device": 2})"),
                StartsWith("t.json: vendor: expected an integer 0..0xffff"));
    EXPECT_THAT(parse_error(R"({"vendor": 65536, "device": 2})"),
                HasSubstr("vendor: expected an integer 0..0xffff (or a string like \"0x10\", "
                          "\"4K\"), got 65536"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": -2})"), HasSubstr("device: expected"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "bars": [{"index": 0, "size": "4Q"}]})"),
                HasSubstr("t.json: bars[0].size: expected an integer"));
}

TEST(SpecFileErrors, BarIndexSix) {
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "bars": [{"index": 6, "size": 16}]})"),
                StartsWith("t.json: bars[0].index: expected an integer 0..0x5"));
}

TEST(SpecFileErrors, SevenBars) {
    EXPECT_EQ(parse_error(R"({"vendor": 1, "device": 2, "bars": [
        {"index": 0, "size": 16}, {"index": 1, "size": 16}, {"index": 2, "size": 16},
        {"index": 3, "size": 16}, {"index": 4, "size": 16}, {"index": 5, "size": 16},
        {"index": 0, "size": 16}]})"),
              "t.json: bars: 7 BARs given: a function has at most 6 (BAR 0..5)");
}

TEST(SpecFileErrors, DuplicateBarIndex) {
    EXPECT_EQ(parse_error(R"({"vendor": 1, "device": 2, "bars": [
        {"index": 1, "size": 16}, {"index": 1, "size": 32}]})"),
              "t.json: bars[1].index: BAR 1 is already given at bars[0]");
}

TEST(SpecFileErrors, UnknownCapabilityType) {
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2,
                                "capabilities": [{"type": "pm"}, {"type": "msi-x"}]})"),
                StartsWith("t.json: capabilities[1].type: expected one of \"pm\", \"msi\", "
                           "\"msix\""));
}

TEST(SpecFileErrors, CapabilityParameterKeysAreChecked) {
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2,
                                "capabilities": [{"type": "msi", "vector": 4}]})"),
                StartsWith("t.json: capabilities[0].vector: unknown key"));
    EXPECT_EQ(parse_error(R"({"vendor": 1, "device": 2, "capabilities": [{"type": "msix"}]})"),
              "t.json: capabilities[0].vectors: missing (required)");
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2,
                                "capabilities": [{"type": "pcie", "max_payload": 300}]})"),
                StartsWith("t.json: capabilities[0].max_payload: expected 128, 256"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2,
                                "capabilities": [{"type": "pm", "flags": ["d1", "d4"]}]})"),
                StartsWith("t.json: capabilities[0].flags[1]: expected one of"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2,
                                "capabilities": [{"type": "vendor", "data": "abc"}]})"),
                HasSubstr("capabilities[0].data: expected an array of byte values"));
}

TEST(SpecFileErrors, MissingRequiredAndStructural) {
    EXPECT_EQ(parse_error(R"({"device": 2})"), "t.json: vendor: missing (required)");
    EXPECT_THAT(parse_error("[1, 2]"), StartsWith("t.json: (top): expected a device object"));
    EXPECT_THAT(parse_error(R"({"devices": []})"),
                StartsWith("t.json: devices: expected a non-empty array"));
    EXPECT_THAT(parse_error(R"({"devices": [{"vendor": 1, "device": 2}, {"vendor": "x"}]})"),
                StartsWith("t.json: devices[1].vendor: expected an integer"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "function": 1})"),
                StartsWith("t.json: function: given without \"slot\""));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "slot": 32})"),
                StartsWith("t.json: slot: expected an integer 0..0x1f"));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "interrupt_pin": "e"})"),
                StartsWith("t.json: interrupt_pin: expected one of \"none\", \"a\""));
    EXPECT_THAT(parse_error(R"({"vendor": 1, "device": 2, "multi_function": 1})"),
                StartsWith("t.json: multi_function: expected true or false"));
}

TEST(SpecFileErrors, InvalidJsonAndMissingFile) {
    EXPECT_THAT(parse_error("{\"vendor\": 1,"), StartsWith("t.json: not valid JSON: "));
    auto missing = pciem::load_spec_file("/nonexistent/x.json");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().errnum, ENOENT);
    EXPECT_THAT(missing.error().message, StartsWith("/nonexistent/x.json: cannot open spec file"));
}

TEST(SpecFile, CommentsAndDataForms) {
    auto specs = pciem::parse_spec(R"(// leading comment
        { /* block */ "vendor": "0x10", "device": "0x20",
          "capabilities": [{"type": "vendor", "data": [1, "0x02", 255]},
                           {"type": "raw", "id": 10, "data": "0a0B 0c"}] })",
                                   "c.json");
    ASSERT_TRUE(specs) << specs.error().message;
    const auto& caps = specs->at(0).capabilities();
    ASSERT_EQ(caps.size(), 2u);
    EXPECT_EQ(caps[0].body, (std::vector<uint8_t>{1, 2, 255}));
    EXPECT_EQ(caps[1].body, (std::vector<uint8_t>{0x0a, 0x0b, 0x0c}));
}

} // namespace
