// SPDX-License-Identifier: MIT
// pciem-proxy's pieces that need no kernel: the mirror of a server's
// config space (IDs, BARs, the capability chain at the server's offsets,
// what it leaves out and why) and the Client against a scripted server
// on a socketpair (posted writes stay ordered with reads; a reply with
// the wrong id, a refusal, silence).
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/pci_regs.h>

#include "client.hpp"
#include "mirror.hpp"
#include "pciem/vfio_user/server_wire.hpp"

namespace vu = pciem::vfio_user;
namespace px = pciem::proxy;
using namespace std::chrono_literals;

namespace {

void put16(std::vector<uint8_t>& c, size_t at, uint16_t v) {
    c[at] = v & 0xff;
    c[at + 1] = v >> 8;
}
void put32(std::vector<uint8_t>& c, size_t at, uint32_t v) {
    put16(c, at, v & 0xffff);
    put16(c, at + 2, v >> 16);
}

// QEMU's nvme as its server shows it: BAR0 64-bit 16 KiB holding the
// MSI-X table, MSI-X at 40h, PM at 60h, PCIe at 80h (RCiEP, FLR).
px::ServerDevice nvme_like() {
    px::ServerDevice d;
    d.config.assign(256, 0);
    auto& c = d.config;
    put16(c, PCI_VENDOR_ID, 0x1b36);
    put16(c, PCI_DEVICE_ID, 0x0010);
    put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
    put32(c, PCI_CLASS_REVISION, 0x01080202);
    put16(c, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    put16(c, PCI_SUBSYSTEM_ID, 0x1100);
    put32(c, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64);
    c[PCI_CAPABILITY_LIST] = 0x40;
    c[PCI_INTERRUPT_PIN] = 1;
    c[0x40] = PCI_CAP_ID_MSIX;
    c[0x41] = 0x60;
    put16(c, 0x42, 64); // 65 vectors
    put32(c, 0x44, 0x2000 | 0);
    put32(c, 0x48, 0x3000 | 0);
    c[0x60] = PCI_CAP_ID_PM;
    c[0x61] = 0x80;
    put16(c, 0x62, 0x0003);
    put16(c, 0x64, PCI_PM_CTRL_NO_SOFT_RESET);
    c[0x80] = PCI_CAP_ID_EXP;
    c[0x81] = 0;
    put16(c, 0x82, 0x0092); // v2, RCiEP
    put32(c, 0x84, PCI_EXP_DEVCAP_FLR);
    d.regions[0].size = 16384;
    d.regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 256;
    d.irq_counts = {1, 0, 65};
    return d;
}

} // namespace

TEST(ProxyMirror, CopiesIdentityBarsAndCapabilitiesAtTheirOffsets) {
    auto m = px::mirror_device(nvme_like());
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->spec.vendor_id(), 0x1b36);
    EXPECT_EQ(m->spec.device_id(), 0x0010);
    auto req = m->spec.build();
    ASSERT_TRUE(req) << req.error().message;
    const pciem_create& c = req->create();
    EXPECT_EQ(c.class_code, 0x010802u);
    EXPECT_EQ(c.revision, 2);
    EXPECT_EQ(c.subsys_vendor_id, 0x1af4);
    EXPECT_EQ(c.subsys_id, 0x1100);
    EXPECT_EQ(c.interrupt_pin, 1);
    EXPECT_EQ(c.bars[0].size, 16384u);
    EXPECT_EQ(c.bars[0].flags, PCIEM_BAR_MEM64);
    EXPECT_EQ(c.bars[1].size, 0u);
    ASSERT_EQ(req->records().size(), 3u);
    EXPECT_EQ(req->records()[0].type, PCIEM_CAP_MSIX);
    EXPECT_EQ(req->records()[0].offset, 0x40);
    EXPECT_EQ(req->records()[0].msix.vectors, 65u);
    EXPECT_EQ(req->records()[0].msix.table_offset, 0x2000u);
    EXPECT_EQ(req->records()[0].msix.pba_offset, 0x3000u);
    EXPECT_EQ(req->records()[1].type, PCIEM_CAP_PM);
    EXPECT_EQ(req->records()[1].offset, 0x60);
    EXPECT_EQ(req->records()[1].pm.flags, PCIEM_PM_NO_SOFT_RESET);
    EXPECT_EQ(req->records()[2].type, PCIEM_CAP_PCIE);
    EXPECT_EQ(req->records()[2].pcie.port_type, PCIEM_PCIE_RC_ENDPOINT);
    EXPECT_EQ(req->records()[2].pcie.flags, PCIEM_PCIE_FLR);
    ASSERT_TRUE(m->msix);
    EXPECT_EQ(m->msix->cap_offset, 0x40);
    EXPECT_EQ(m->msix->table_bar, 0u);
    EXPECT_FALSE(m->msi);
    // The server's BAR goes somewhere 64-bit and size-aligned.
    EXPECT_TRUE(m->bar_present[0]);
    EXPECT_EQ(m->server_bar_address[0] % 16384, 0u);
    EXPECT_GT(m->server_bar_address[0], 0xffffffffull);
    EXPECT_TRUE(m->notes.empty());
}

TEST(ProxyMirror, LeavesOutWhatPciemCannotShowAndSaysSo) {
    auto d = nvme_like();
    d.regions[2].size = 32;
    put32(d.config, PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_SPACE_IO);
    d.regions[3].size = 4096;
    put32(d.config, PCI_BASE_ADDRESS_3, 0); // 32-bit memory
    d.regions[VFIO_PCI_ROM_REGION_INDEX].size = 65536;
    d.regions[VFIO_PCI_ROM_REGION_INDEX].flags = VFIO_REGION_INFO_FLAG_READ;
    auto m = px::mirror_device(d, /*have_window32=*/false);
    ASSERT_TRUE(m) << m.error().message;
    auto req = m->spec.build();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->create().bars[2].size, 0u);
    EXPECT_EQ(req->create().bars[3].size, 4096u);
    EXPECT_EQ(req->create().bars[3].flags, PCIEM_BAR_MEM64); // no window below 4 GiB
    ASSERT_EQ(m->notes.size(), 3u);
    EXPECT_NE(m->notes[0].find("BAR 2 is an I/O BAR"), std::string::npos);
    EXPECT_NE(m->notes[1].find("BAR 3 is 32-bit"), std::string::npos);
    EXPECT_NE(m->notes[2].find("expansion ROM (65536 bytes) needs an address below 4 GiB"),
              std::string::npos)
        << m->notes[2];
    EXPECT_EQ(req->create().rom.size, 0u);
}

TEST(ProxyMirror, TheServersRomBecomesTheFunctionsRom) {
    auto d = nvme_like();
    d.regions[VFIO_PCI_ROM_REGION_INDEX].size = 256 * 1024;
    d.regions[VFIO_PCI_ROM_REGION_INDEX].flags = VFIO_REGION_INFO_FLAG_READ;
    auto m = px::mirror_device(d, /*have_window32=*/true);
    ASSERT_TRUE(m) << m.error().message;
    auto req = m->spec.build();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->create().rom.size, 256u * 1024);
    EXPECT_TRUE(m->notes.empty());
    // The server's ROM is placed below 4 GiB, size-aligned.
    EXPECT_NE(m->server_rom_address, 0u);
    EXPECT_LT(m->server_rom_address, 0x1'0000'0000ull);
    EXPECT_EQ(m->server_rom_address % (256 * 1024), 0u);

    // One the function cannot carry is left out with a sentence.
    d.regions[VFIO_PCI_ROM_REGION_INDEX].size = 3000;
    m = px::mirror_device(d, true);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->notes.size(), 1u);
    EXPECT_NE(m->notes[0].find("not a power of two"), std::string::npos) << m->notes[0];
    d.regions[VFIO_PCI_ROM_REGION_INDEX].size = 4096;
    d.regions[VFIO_PCI_ROM_REGION_INDEX].flags = 0;
    m = px::mirror_device(d, true);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->notes.size(), 1u);
    EXPECT_NE(m->notes[0].find("cannot be read"), std::string::npos) << m->notes[0];
    EXPECT_EQ(m->spec.rom_size(), 0u);
}

TEST(ProxyMirror, RefusesBrokenConfigSpaces) {
    auto d = nvme_like();
    d.config[0x81] = 0x40; // MSI-X points back at itself
    auto m = px::mirror_device(d);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("loops at 0x40"), std::string::npos) << m.error().message;
    d = nvme_like();
    d.config[0x61] = 0x20; // into the header
    m = px::mirror_device(d);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("outside 40h..FFh"), std::string::npos);
    d = nvme_like();
    d.config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;
    EXPECT_FALSE(px::mirror_device(d));
    d.config.resize(32);
    EXPECT_FALSE(px::mirror_device(d));
}

namespace {

// A server played by a function on the other end of a socketpair.
struct ScriptedServer {
    pciem::UniqueFd client_end;
    std::thread thread;

    explicit ScriptedServer(std::function<void(vu::Channel&)> script) {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        client_end.reset(sv[0]);
        thread = std::thread([fd = sv[1], script = std::move(script)] {
            vu::Channel ch{pciem::UniqueFd(fd)};
            script(ch);
        });
    }
    ~ScriptedServer() { thread.join(); }
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;
};

void answer_version(vu::Channel& ch) {
    auto m = ch.receive(2000ms);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->header.command, 1);
    uint16_t v[2] = {0, 1};
    vu::Bytes p(sizeof(v));
    std::memcpy(p.data(), v, sizeof(v));
    const std::string json = R"({"capabilities":{"max_msg_fds":8}})";
    for (char ch8 : json) {
        p.push_back(static_cast<std::byte>(ch8));
    }
    p.push_back(std::byte{0});
    ASSERT_TRUE(ch.send(vu::encode_reply(m->header, p)));
}

// Echoes a region access as the reply the spec gives (data for reads).
vu::Bytes access_reply(const vu::Message& m, uint32_t read_value) {
    auto req =
        vu::decode_region_access_request(m.payload, static_cast<vu::Command>(m.header.command));
    EXPECT_TRUE(req);
    vu::Bytes p(sizeof(vu::RegionAccess));
    std::memcpy(p.data(), &req->access, sizeof(req->access));
    if (m.header.command == static_cast<uint16_t>(vu::Command::region_read)) {
        p.resize(p.size() + req->access.count);
        std::memcpy(p.data() + sizeof(vu::RegionAccess), &read_value,
                    std::min<size_t>(4, req->access.count));
    }
    return vu::encode_reply(m.header, p);
}

} // namespace

TEST(ProxyClient, PostedWritesAreAnsweredBeforeTheReadThatFollows) {
    std::vector<uint16_t> order;
    {
        ScriptedServer s([&](vu::Channel& ch) {
            answer_version(ch);
            // Two writes, then a read: answer each in turn.
            uint32_t last = 0;
            for (int i = 0; i < 3; ++i) {
                auto m = ch.receive(2000ms);
                ASSERT_TRUE(m) << m.error().message;
                order.push_back(m->header.command);
                auto req = vu::decode_region_access_request(
                    m->payload, static_cast<vu::Command>(m->header.command));
                ASSERT_TRUE(req);
                if (m->header.command == static_cast<uint16_t>(vu::Command::region_write)) {
                    std::memcpy(&last, req->data.data(), 4);
                }
                ASSERT_TRUE(ch.send(access_reply(*m, last)));
            }
        });
        auto c = px::Client::negotiate(vu::Channel(std::move(s.client_end)), 2000ms);
        ASSERT_TRUE(c) << c.error().message;
        EXPECT_EQ(c->server_version().minor, 1);
        EXPECT_EQ(c->server_version().caps.max_msg_fds, 8u);
        const uint32_t a = 0x11, b = 0x22;
        ASSERT_TRUE(c->region_write(0, 0x14, std::as_bytes(std::span(&a, 1))));
        ASSERT_TRUE(c->region_write(0, 0x14, std::as_bytes(std::span(&b, 1))));
        auto r = c->region_read(0, 0x14, 4);
        ASSERT_TRUE(r) << r.error().message;
        uint32_t got = 0;
        std::memcpy(&got, r->data(), 4);
        EXPECT_EQ(got, 0x22u); // the read saw both writes
    }
    EXPECT_EQ(order, (std::vector<uint16_t>{10, 10, 9}));
}

TEST(ProxyClient, WrongIdRefusalAndSilenceAreFaultsInWords) {
    {
        ScriptedServer s([](vu::Channel& ch) {
            answer_version(ch);
            auto m = ch.receive(2000ms);
            ASSERT_TRUE(m);
            vu::Header h = m->header;
            h.id = static_cast<uint16_t>(h.id + 7);
            ASSERT_TRUE(ch.send(access_reply(vu::Message{h, m->payload, {}}, 0)));
        });
        auto c = px::Client::negotiate(vu::Channel(std::move(s.client_end)), 2000ms);
        ASSERT_TRUE(c);
        auto r = c->region_read(0, 0, 4);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum, EPROTO);
        EXPECT_NE(r.error().message.find("out of order"), std::string::npos) << r.error().message;
    }
    {
        ScriptedServer s([](vu::Channel& ch) {
            answer_version(ch);
            auto m = ch.receive(2000ms);
            ASSERT_TRUE(m);
            ASSERT_TRUE(ch.send(vu::encode_error_reply(m->header, EINVAL)));
        });
        auto c = px::Client::negotiate(vu::Channel(std::move(s.client_end)), 2000ms);
        ASSERT_TRUE(c);
        auto r = c->region_read(3, 0, 4);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum, EINVAL);
        EXPECT_NE(r.error().message.find("refused REGION_READ"), std::string::npos);
    }
    {
        ScriptedServer s([](vu::Channel& ch) {
            answer_version(ch);
            (void)ch.receive(2000ms); // and never answer
            std::this_thread::sleep_for(200ms);
        });
        auto c = px::Client::negotiate(vu::Channel(std::move(s.client_end)), 50ms);
        ASSERT_TRUE(c);
        auto r = c->region_read(0, 0, 4);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum, ETIMEDOUT);
        EXPECT_NE(r.error().message.find("did not answer REGION_READ"), std::string::npos);
    }
    {
        ScriptedServer s([](vu::Channel& ch) {
            auto m = ch.receive(2000ms);
            ASSERT_TRUE(m);
            uint16_t v[2] = {1, 0};
            vu::Bytes p(sizeof(v));
            std::memcpy(p.data(), v, sizeof(v));
            ASSERT_TRUE(ch.send(vu::encode_reply(m->header, p)));
        });
        auto c = px::Client::negotiate(vu::Channel(std::move(s.client_end)), 2000ms);
        ASSERT_FALSE(c);
        EXPECT_NE(c.error().message.find("speaks vfio-user 1.0"), std::string::npos);
    }
}

// A version 1 PCIe capability (QEMU's e1000e has one: 20 bytes at E0h)
// and AER at 100h: both left out, each with a note; the function is
// still made from the rest.
TEST(ProxyMirror, AVersion1PcieCapabilityIsLeftOut) {
    px::ServerDevice d = nvme_like();
    d.config.resize(4096, 0);
    put16(d.config, 0x82, 0x0001); // version 1, endpoint
    put32(d.config, 0x100, PCI_EXT_CAP_ID_ERR | (1u << 16));
    d.regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 4096;
    auto m = px::mirror_device(d);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_FALSE(m->pcie);
    auto req = m->spec.build();
    ASSERT_TRUE(req) << req.error().message;
    ASSERT_EQ(req->records().size(), 2u);
    EXPECT_EQ(req->records()[0].type, PCIEM_CAP_MSIX);
    EXPECT_EQ(req->records()[1].type, PCIEM_CAP_PM);
    EXPECT_THAT(m->notes, ::testing::Contains(::testing::HasSubstr("version 1")));
    EXPECT_THAT(m->notes, ::testing::Contains(::testing::HasSubstr("extended capabilities")));
}

// A region offered as mmap()able (VfioUserHost's RAM BARs, a BAR with a
// sparse mmap capability) comes with its fd beside the REGION_INFO reply:
// the client keeps it with the areas, where it used to refuse the reply.
// A descriptor beside any other reply is still a protocol fault.
TEST(ProxyClient, RegionInfoKeepsTheMmapFdAndOtherRepliesMayNotCarryOne) {
    ScriptedServer s([](vu::Channel& ch) {
        answer_version(ch);
        auto m = ch.receive(2000ms);
        ASSERT_TRUE(m);
        ASSERT_EQ(m->header.command, static_cast<uint16_t>(vu::Command::get_region_info));
        pciem::UniqueFd mem(::memfd_create("bar", MFD_CLOEXEC));
        ASSERT_TRUE(mem.valid());
        ASSERT_EQ(::ftruncate(mem.get(), 8192), 0);
        ASSERT_EQ(::pwrite(mem.get(), "vram", 4, 4096), 4);
        vfio_region_info info{};
        info.index = 2;
        info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                     VFIO_REGION_INFO_FLAG_MMAP;
        info.size = 8192;
        const vu::MmapArea areas[] = {{4096, 4096}};
        const uint32_t argsz = 256;
        const int fds[] = {mem.get()};
        ASSERT_TRUE(ch.send(vu::encode_region_info_reply(m->header, argsz, info, areas), fds));
        // A REGION_READ answered with a descriptor beside it.
        m = ch.receive(2000ms);
        ASSERT_TRUE(m);
        ASSERT_TRUE(ch.send(access_reply(*m, 0), fds));
    });
    auto c = px::Client::negotiate(vu::Channel(std::move(s.client_end)), 2000ms);
    ASSERT_TRUE(c) << c.error().message;
    pciem::UniqueFd fd;
    auto r = c->region_info(2, &fd);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->size, 8192u);
    EXPECT_EQ(r->mmap_areas, (std::vector<vu::MmapArea>{{4096, 4096}}));
    ASSERT_TRUE(fd.valid());
    char got[4] = {};
    EXPECT_EQ(::pread(fd.get(), got, 4, static_cast<off_t>(r->offset + 4096)), 4);
    EXPECT_EQ(std::string(got, 4), "vram"); // the server's memory, not a copy
    auto rd = c->region_read(2, 0, 4);
    ASSERT_FALSE(rd);
    EXPECT_EQ(rd.error().errnum, EPROTO);
    EXPECT_NE(rd.error().message.find("file descriptors"), std::string::npos)
        << rd.error().message;
}
