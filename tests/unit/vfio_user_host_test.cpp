// SPDX-License-Identifier: MIT
// VfioUserHost (lib/src/vfio_user_host) on a socketpair, no kernel: a small
// model served to a client the test plays with the shared message layer.
// Version negotiation, region and IRQ info, config space, BAR registers
// and a RAM BAR reaching the model, interrupts through eventfds with
// masking, DMA through an mmap()ed region and through DMA_READ/DMA_WRITE,
// and clients that misbehave: refused requests keep the connection, a
// broken stream ends it with a sentence, and the host serves the next.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>
#include <linux/pci_regs.h>

#include "pciem/device_model.hpp"
#include "pciem/vfio_user/channel.hpp"
#include "pciem/vfio_user/server_wire.hpp"
#include "pciem/vfio_user_host.hpp"

namespace vu = pciem::vfio_user;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t model_id = 0x12345678;
enum : uint64_t { ID = 0x00, SCRATCH = 0x04, RAISE = 0x08, INTX = 0x0c, DMA_ADDR = 0x10,
                  DMA_GO = 0x18, DMA_STATUS = 0x1c };
constexpr uint64_t table_off = 0x800, pba_off = 0xc00;

// BAR0 registers; BAR2 RAM. DMA_GO reads the 8 bytes at DMA_ADDR, adds one
// and writes the sum 8 bytes further on; DMA_STATUS is 0 or 1 + the fault.
class Tiny : public pciem::DeviceModel {
public:
    Tiny() {
        auto& r = declare_bar(0, "BAR0", 4096);
        r.reg32(ID, "ID").ro(model_id);
        r.reg32(SCRATCH, "SCRATCH").rw();
        r.reg32(RAISE, "RAISE").wo().on_write([this](uint64_t, uint64_t v) {
            raised_ok = irq().raise(static_cast<unsigned>(v)).has_value();
        });
        r.reg32(INTX, "INTX").wo().on_write(
            [this](uint64_t, uint64_t v) { (void)irq().set_intx(v != 0); });
        r.reg64(DMA_ADDR, "DMA_ADDR").rw();
        r.reg32(DMA_GO, "DMA_GO").wo().on_write([this, &r](uint64_t, uint64_t) { go(r); });
        r.reg32(DMA_STATUS, "DMA_STATUS").ro([this] { return status_; });
        declare_rom({0x55, 0xaa, 0x08, 0x11});
    }
    [[nodiscard]] pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}
            .ids(0x1b36, 0x7e99)
            .bar(0, pciem::Bar::mem32(4096))
            .bar(2, pciem::Bar::mem64(65536).ram())
            .rom(4096)
            .interrupt_pin(pciem::InterruptPin::a)
            .msi(4)
            .msix(4, 0, table_off, 0, pba_off);
    }
    void on_command(uint16_t v) override { last_command = v; }
    void on_irq_config(const pciem::IrqConfigEvent& e) override { events.push_back(e); }

    bool raised_ok = false;
    uint16_t last_command = 0;
    std::vector<pciem::IrqConfigEvent> events;

private:
    void go(pciem::RegisterMap& r) {
        const uint64_t addr = r.peek(DMA_ADDR, 8);
        uint64_t v = 0;
        if (auto ok = dma().read(addr, std::as_writable_bytes(std::span(&v, 1))); !ok) {
            status_ = 1 + static_cast<uint32_t>(ok.error().kind);
            return;
        }
        ++v;
        auto ok = dma().write(addr + 8, std::as_bytes(std::span(&v, 1)));
        status_ = ok ? 0 : 1 + static_cast<uint32_t>(ok.error().kind);
    }
    uint32_t status_ = 0;
};

vu::Header header_of(const vu::Bytes& m) {
    return vu::decode_header(std::span<const std::byte, vu::header_size>(m.data(), 16));
}

template <class T>
T load(std::span<const std::byte> b, size_t at = 0) {
    T v{};
    std::memcpy(&v, b.data() + at, sizeof(T));
    return v;
}

class VfioUserHostTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto h = pciem::VfioUserHost::create(model);
        ASSERT_TRUE(h) << h.error().message;
        host = std::move(*h);
        connect();
    }
    void TearDown() override { disconnect(); }

    void connect() {
        int sv[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        client.emplace(pciem::UniqueFd{sv[0]});
        served = {};
        server = std::thread([this, fd = sv[1]] { served = host->serve_client(pciem::UniqueFd{fd}); });
    }
    // Closes the client's end and waits for the server to finish with it.
    void disconnect() {
        client.reset();
        if (server.joinable()) {
            server.join();
        }
    }

    // Sends msg and returns the reply (checked against id and command).
    vu::Message call(const vu::Bytes& msg, std::span<const int> fds = {}) {
        EXPECT_TRUE(client->send(msg, fds));
        auto r = client->receive(5000ms);
        EXPECT_TRUE(r) << r.error().message;
        if (!r) {
            return {};
        }
        const vu::Header h = header_of(msg);
        auto ok = vu::check_reply(r->header, h.id, static_cast<vu::Command>(h.command));
        EXPECT_TRUE(ok) << ok.error();
        return std::move(*r);
    }
    // The errno of a reply (0: success).
    static uint32_t err(const vu::Message& m) {
        return (m.header.flags & vu::flag_error) != 0 ? m.header.error : 0;
    }
    vu::Message negotiate(uint16_t minor = 2) {
        vu::Version v;
        v.minor = minor;
        return call(vu::encode_version(1, v));
    }
    uint64_t read(uint32_t region, uint64_t off, uint32_t n) {
        auto r = call(vu::encode_region_read(id++, region, off, n));
        EXPECT_EQ(err(r), 0u);
        auto d = vu::decode_region_access_reply(r.payload, vu::Command::region_read, region, off, n);
        EXPECT_TRUE(d) << (d ? "" : d.error());
        uint64_t v = 0;
        if (d) {
            std::memcpy(&v, d->data(), std::min<size_t>(n, 8));
        }
        return v;
    }
    uint32_t write(uint32_t region, uint64_t off, uint64_t v, uint32_t n) {
        std::byte b[8];
        std::memcpy(b, &v, 8);
        return err(call(vu::encode_region_write(id++, region, off, std::span(b, n), false)));
    }
    // A negotiated connection whose DMA goes through messages (a map
    // with no fd, 0x2000-0x2fff), bus mastering on, DMA_ADDR 0x2100.
    void start_message_dma() {
        negotiate();
        const uint32_t rw = vu::dma_read_flag | vu::dma_write_flag;
        ASSERT_EQ(err(call(vu::encode_dma_map(80, rw, 0, 0x2000, 0x1000))), 0u);
        write(7, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
        write(0, DMA_ADDR, 0x2100, 8);
    }
    static pciem::UniqueFd efd() { return pciem::UniqueFd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)}; }
    static uint64_t count(const pciem::UniqueFd& fd) {
        uint64_t n = 0;
        return ::read(fd.get(), &n, 8) == 8 ? n : 0;
    }

    Tiny model;
    std::unique_ptr<pciem::VfioUserHost> host;
    std::optional<vu::Channel> client;
    std::thread server;
    pciem::Result<void> served;
    uint16_t id = 10;
};

TEST_F(VfioUserHostTest, NegotiatesTheClientsMinorUpToOurs) {
    for (uint16_t minor : {0, 1, 2, 7}) {
        disconnect();
        connect();
        auto r = negotiate(minor);
        ASSERT_EQ(err(r), 0u);
        auto v = vu::decode_version(r.payload);
        ASSERT_TRUE(v) << v.error();
        EXPECT_EQ(v->major, 0);
        EXPECT_EQ(v->minor, std::min<uint16_t>(minor, 2));
        EXPECT_EQ(v->caps.max_data_xfer_size, 1u << 20);
        EXPECT_EQ(v->caps.max_msg_fds, 8u);
    }
    // Once per connection.
    EXPECT_EQ(err(negotiate()), static_cast<uint32_t>(EINVAL));
}

TEST_F(VfioUserHostTest, RefusesCommandsBeforeVersionAndOtherMajors) {
    EXPECT_EQ(err(call(vu::encode_device_get_info(1))), static_cast<uint32_t>(EINVAL));
    vu::Version v;
    v.major = 1;
    EXPECT_EQ(err(call(vu::encode_version(2, v))), static_cast<uint32_t>(ENOTSUP));
    EXPECT_EQ(err(negotiate(0)), 0u); // the connection goes on
}

TEST_F(VfioUserHostTest, DescribesRegionsAndInterrupts) {
    negotiate();
    auto di = vu::decode_device_info(call(vu::encode_device_get_info(2)).payload);
    ASSERT_TRUE(di);
    EXPECT_EQ(di->flags, unsigned{VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET});
    EXPECT_EQ(di->num_regions, 9u);
    EXPECT_EQ(di->num_irqs, 5u);

    auto bar0 = call(vu::encode_get_region_info(3, 0, 64));
    auto r0 = vu::decode_region_info(bar0.payload, 0, bar0.fds.size());
    ASSERT_TRUE(r0) << r0.error();
    EXPECT_EQ(r0->size, 4096u);
    EXPECT_EQ(r0->flags, unsigned{VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE});

    // The RAM BAR: mmap()able, one sparse area over it all, its memfd beside.
    auto bar2 = call(vu::encode_get_region_info(4, 2, 256));
    ASSERT_EQ(bar2.fds.size(), 1u);
    auto r2 = vu::decode_region_info(bar2.payload, 2, 1);
    ASSERT_TRUE(r2) << r2.error();
    EXPECT_EQ(r2->size, 65536u);
    EXPECT_NE(r2->flags & VFIO_REGION_INFO_FLAG_MMAP, 0u);
    EXPECT_EQ(r2->mmap_areas, (std::vector<vu::MmapArea>{{0, 65536}}));
    // Too small an argsz: the size needed, no capability.
    auto small = call(vu::encode_get_region_info(5, 2, 32));
    auto rs = vu::decode_region_info(small.payload, 2, small.fds.size());
    ASSERT_TRUE(rs) << rs.error();
    EXPECT_GT(rs->argsz, 32u);
    EXPECT_EQ(rs->flags & VFIO_REGION_INFO_FLAG_CAPS, 0u);

    auto cfg = vu::decode_region_info(call(vu::encode_get_region_info(6, 7, 32)).payload, 7, 0);
    ASSERT_TRUE(cfg);
    EXPECT_TRUE(cfg->size == 256 || cfg->size == 4096);
    auto rom = vu::decode_region_info(call(vu::encode_get_region_info(7, 6, 32)).payload, 6, 0);
    ASSERT_TRUE(rom);
    EXPECT_EQ(rom->size, 4096u);
    EXPECT_EQ(rom->flags, unsigned{VFIO_REGION_INFO_FLAG_READ}) << "a ROM is read-only";
    EXPECT_EQ(err(call(vu::encode_get_region_info(8, 9, 32))), static_cast<uint32_t>(EINVAL));

    const uint32_t counts[] = {1, 4, 4, 0, 0};
    for (uint32_t i = 0; i < 5; ++i) {
        auto q = vu::decode_irq_info(call(vu::encode_get_irq_info(9, i)).payload, i);
        ASSERT_TRUE(q) << q.error();
        EXPECT_EQ(q->count, counts[i]) << "index " << i;
    }
    EXPECT_EQ(err(call(vu::encode_get_irq_info(10, 5))), static_cast<uint32_t>(EINVAL));
}

TEST_F(VfioUserHostTest, ConfigSpaceReadsAndWrites) {
    negotiate();
    EXPECT_EQ(read(7, 0, 4), 0x7e991b36u);
    // A whole header at once, cut into dwords by the host.
    auto r = call(vu::encode_region_read(20, 7, 0, 64));
    auto d = vu::decode_region_access_reply(r.payload, vu::Command::region_read, 7, 0, 64);
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(load<uint16_t>(*d, PCI_DEVICE_ID), 0x7e99);
    EXPECT_EQ(load<uint8_t>(*d, PCI_INTERRUPT_PIN), 1);

    EXPECT_EQ(write(7, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2), 0u);
    EXPECT_EQ(read(7, PCI_COMMAND, 2), unsigned{PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER});
    EXPECT_EQ(model.last_command, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    // BAR sizing as a driver does it.
    EXPECT_EQ(write(7, PCI_BASE_ADDRESS_0, 0xffffffff, 4), 0u);
    EXPECT_EQ(read(7, PCI_BASE_ADDRESS_0, 4) & ~0xfu, 0xfffff000u);
    // Past the end: refused, the connection goes on.
    EXPECT_EQ(err(call(vu::encode_region_read(21, 7, 4090, 16))), static_cast<uint32_t>(EINVAL));
    // DEVICE_RESET: the header as it came out of reset.
    EXPECT_EQ(err(call(vu::encode_device_reset(22))), 0u);
    EXPECT_EQ(read(7, PCI_COMMAND, 2), 0u);
    EXPECT_EQ(model.last_command, 0);
}

TEST_F(VfioUserHostTest, BarAccessesReachTheModel) {
    negotiate();
    EXPECT_EQ(read(0, ID, 4), model_id);
    EXPECT_EQ(write(0, SCRATCH, 0xcafef00d, 4), 0u);
    EXPECT_EQ(read(0, SCRATCH, 4), 0xcafef00du);
    EXPECT_EQ(read(0, ID, 8), 0xcafef00d'00000000ull | model_id);
    EXPECT_EQ(read(0, SCRATCH + 2, 2), 0xcafeu);
    EXPECT_EQ(err(call(vu::encode_region_read(30, 0, 4092, 8))), static_cast<uint32_t>(EINVAL));
    EXPECT_EQ(err(call(vu::encode_region_read(31, 1, 0, 4))), static_cast<uint32_t>(EINVAL));

    // The RAM BAR: the same bytes through REGION_WRITE, the model's ram()
    // and the client's mmap() of the memfd.
    EXPECT_EQ(write(2, 0x100, 0x1122334455667788, 8), 0u);
    uint64_t v = 0;
    std::memcpy(&v, model.ram(2).data() + 0x100, 8);
    EXPECT_EQ(v, 0x1122334455667788u);
    auto info = call(vu::encode_get_region_info(32, 2, 256));
    ASSERT_EQ(info.fds.size(), 1u);
    void* p = ::mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, info.fds[0].get(), 0);
    ASSERT_NE(p, MAP_FAILED);
    std::memcpy(&v, static_cast<std::byte*>(p) + 0x100, 8);
    EXPECT_EQ(v, 0x1122334455667788u);
    std::memcpy(static_cast<std::byte*>(p) + 0x200, "mmap", 4);
    EXPECT_EQ(read(2, 0x200, 4), 0x70616d6du);
    ::munmap(p, 65536);
}

TEST_F(VfioUserHostTest, TheRomIsReadFromTheModelsImage) {
    negotiate();
    EXPECT_EQ(read(VFIO_PCI_ROM_REGION_INDEX, 0, 4), 0x1108aa55u);
    EXPECT_EQ(read(VFIO_PCI_ROM_REGION_INDEX, 2, 8), 0x1108u) << "zeros past the image";
    EXPECT_EQ(write(VFIO_PCI_ROM_REGION_INDEX, 0, 0, 4), static_cast<uint32_t>(EINVAL));
    EXPECT_EQ(read(VFIO_PCI_ROM_REGION_INDEX, 0, 2), 0xaa55u) << "the write changed nothing";
    EXPECT_EQ(err(call(vu::encode_region_read(40, VFIO_PCI_ROM_REGION_INDEX, 4094, 4))),
              static_cast<uint32_t>(EINVAL));
}

TEST_F(VfioUserHostTest, MsixVectorsSignalEventfdsAndHonourMasks) {
    negotiate();
    // Nothing wired: the model cannot signal.
    write(0, RAISE, 0, 4);
    EXPECT_FALSE(model.raised_ok);
    std::vector<pciem::UniqueFd> fds;
    std::vector<int> raw;
    for (int i = 0; i < 4; ++i) {
        fds.push_back(efd());
        raw.push_back(fds.back().get());
    }
    auto set = vu::encode_set_irqs(40, VFIO_PCI_MSIX_IRQ_INDEX,
                                   VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 4);
    ASSERT_EQ(err(call(set, raw)), 0u);
    ASSERT_FALSE(model.events.empty());
    EXPECT_EQ(model.events.back().kind, pciem::IrqConfigEvent::Kind::msix);
    EXPECT_TRUE(model.events.back().enabled);

    write(0, RAISE, 2, 4);
    EXPECT_TRUE(model.raised_ok);
    EXPECT_EQ(count(fds[2]), 1u);
    EXPECT_EQ(count(fds[1]), 0u);
    write(0, RAISE, 4, 4); // past the table
    EXPECT_FALSE(model.raised_ok);

    // Masked: pending (the PBA shows it), fires once on UNMASK.
    ASSERT_EQ(err(call(vu::encode_set_irqs(41, VFIO_PCI_MSIX_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 1, 1))),
              0u);
    write(0, RAISE, 1, 4);
    EXPECT_EQ(count(fds[1]), 0u);
    EXPECT_EQ(read(0, pba_off, 8), 0x2u);
    ASSERT_EQ(err(call(vu::encode_set_irqs(42, VFIO_PCI_MSIX_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 1, 1))),
              0u);
    EXPECT_EQ(count(fds[1]), 1u);
    EXPECT_EQ(read(0, pba_off, 8), 0u);

    // The table is the client's memory, whatever it writes there.
    EXPECT_EQ(write(0, table_off + 16 + 8, 0xabcd, 4), 0u);
    EXPECT_EQ(read(0, table_off + 16 + 8, 4), 0xabcdu);

    // TRIGGER with BOOL data: the client fires vectors 0 and 3 itself.
    vu::Bytes trig = vu::encode_set_irqs(43, VFIO_PCI_MSIX_IRQ_INDEX,
                                         VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 4);
    const std::byte bools[4] = {std::byte{1}, std::byte{0}, std::byte{0}, std::byte{1}};
    trig.insert(trig.end(), bools, bools + 4);
    vu::Header th = header_of(trig);
    th.size = static_cast<uint32_t>(trig.size());
    vu::encode_header(th, std::span<std::byte, 16>(trig.data(), 16));
    ASSERT_EQ(err(call(trig)), 0u);
    EXPECT_EQ(count(fds[0]), 1u);
    EXPECT_EQ(count(fds[3]), 1u);

    // Disabled as a whole: no more signals, the model hears MSI-X is off.
    ASSERT_EQ(err(call(vu::encode_set_irqs(44, VFIO_PCI_MSIX_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0))),
              0u);
    EXPECT_FALSE(model.events.back().enabled);
    write(0, RAISE, 2, 4);
    EXPECT_FALSE(model.raised_ok);
    EXPECT_EQ(count(fds[2]), 0u);
}

TEST_F(VfioUserHostTest, RefusesDescriptorsThatAreNotEventfds) {
    negotiate();
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    const int fds[1] = {p[1]};
    auto set = vu::encode_set_irqs(50, VFIO_PCI_MSI_IRQ_INDEX,
                                   VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1);
    EXPECT_EQ(err(call(set, fds)), static_cast<uint32_t>(EINVAL));
    // Past the index's vectors, and an index the device lacks.
    auto e = efd();
    const int one[1] = {e.get()};
    EXPECT_EQ(err(call(vu::encode_set_irqs(51, VFIO_PCI_MSI_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 4, 1),
                       one)),
              static_cast<uint32_t>(EINVAL));
    EXPECT_EQ(err(call(vu::encode_set_irqs(52, VFIO_PCI_ERR_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1))),
              static_cast<uint32_t>(EINVAL));
    ::close(p[0]);
    ::close(p[1]);
}

TEST_F(VfioUserHostTest, IntxIsLevelTriggeredAndAutomasked) {
    negotiate();
    auto e = efd();
    const int fds[1] = {e.get()};
    ASSERT_EQ(err(call(vu::encode_set_irqs(60, VFIO_PCI_INTX_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1),
                       fds)),
              0u);
    write(0, INTX, 1, 4);
    EXPECT_EQ(count(e), 1u);
    EXPECT_NE(read(7, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0u);
    write(0, INTX, 0, 4);
    write(0, INTX, 1, 4); // automasked until UNMASK
    EXPECT_EQ(count(e), 0u);
    ASSERT_EQ(err(call(vu::encode_set_irqs(61, VFIO_PCI_INTX_IRQ_INDEX,
                                           VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1))),
              0u);
    EXPECT_EQ(count(e), 1u); // still high: signals again
    write(0, INTX, 0, 4);
    EXPECT_EQ(read(7, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0u);
}

TEST_F(VfioUserHostTest, DmaThroughAnMmapedRegion) {
    negotiate();
    pciem::UniqueFd mem{::memfd_create("dma", MFD_CLOEXEC)};
    ASSERT_EQ(::ftruncate(mem.get(), 1 << 20), 0);
    auto* p = static_cast<uint64_t*>(
        ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, mem.get(), 0));
    ASSERT_NE(p, MAP_FAILED);
    p[2] = 41;
    const int fds[1] = {mem.get()};
    const uint32_t rw = vu::dma_read_flag | vu::dma_write_flag;
    ASSERT_EQ(err(call(vu::encode_dma_map(70, rw, 0, 0x10'0000, 1 << 20), fds)), 0u);
    write(0, DMA_ADDR, 0x10'0010, 8);
    // Bus mastering off: refused, nothing written.
    write(0, DMA_GO, 1, 4);
    EXPECT_EQ(read(0, DMA_STATUS, 4), 1u + static_cast<uint32_t>(pciem::DmaFaultKind::bus_master_off));
    write(7, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    write(0, DMA_GO, 1, 4);
    EXPECT_EQ(read(0, DMA_STATUS, 4), 0u);
    EXPECT_EQ(p[3], 42u);
    // Running past the region's end.
    write(0, DMA_ADDR, 0x10'0000 + (1 << 20) - 4, 8);
    write(0, DMA_GO, 1, 4);
    EXPECT_EQ(read(0, DMA_STATUS, 4), 1u + static_cast<uint32_t>(pciem::DmaFaultKind::bounds));
    // Overlapping maps are refused; unmapping needs the exact region.
    EXPECT_EQ(err(call(vu::encode_dma_map(71, rw, 0, 0x18'0000, 4096), fds)),
              static_cast<uint32_t>(EEXIST));
    EXPECT_EQ(err(call(vu::encode_dma_unmap(72, 0x10'0000, 4096))), static_cast<uint32_t>(ENOENT));
    auto un = call(vu::encode_dma_unmap(73, 0x10'0000, 1 << 20));
    EXPECT_EQ(err(un), 0u);
    EXPECT_EQ(un.payload.size(), sizeof(vu::DmaUnmap)); // the region echoed
    // The region is gone: the device's next access is refused.
    write(0, DMA_ADDR, 0x10'0010, 8);
    write(0, DMA_GO, 1, 4);
    EXPECT_EQ(read(0, DMA_STATUS, 4), 1u + static_cast<uint32_t>(pciem::DmaFaultKind::unmapped));
    // A read-only region: the device may not write it.
    ASSERT_EQ(err(call(vu::encode_dma_map(74, vu::dma_read_flag, 0, 0x10'0000, 1 << 20), fds)), 0u);
    write(0, DMA_GO, 1, 4);
    EXPECT_EQ(read(0, DMA_STATUS, 4), 1u + static_cast<uint32_t>(pciem::DmaFaultKind::direction));
    // A file too short for the region is refused before it can fault.
    pciem::UniqueFd small{::memfd_create("small", MFD_CLOEXEC)};
    ASSERT_EQ(::ftruncate(small.get(), 4096), 0);
    const int sfd[1] = {small.get()};
    EXPECT_EQ(err(call(vu::encode_dma_map(75, rw, 0, 0x40'0000, 8192), sfd)),
              static_cast<uint32_t>(EINVAL));
    ::munmap(p, 1 << 20);
}

TEST_F(VfioUserHostTest, DmaWithoutAnFdGoesThroughMessages) {
    ASSERT_NO_FATAL_FAILURE(start_message_dma());
    // DMA_GO: the server asks for 8 bytes, then writes 8 back, then
    // answers the write.
    std::byte go[4] = {};
    ASSERT_TRUE(client->send(vu::encode_region_write(81, 0, DMA_GO, go, false)));
    auto rd = client->receive(5000ms);
    ASSERT_TRUE(rd) << rd.error().message;
    ASSERT_EQ(rd->header.command, static_cast<uint16_t>(vu::Command::dma_read));
    EXPECT_EQ(load<uint64_t>(rd->payload, 0), 0x2100u);
    EXPECT_EQ(load<uint64_t>(rd->payload, 8), 8u);
    vu::Bytes data(24);
    const uint64_t addr = 0x2100, n = 8, val = 99;
    std::memcpy(data.data(), &addr, 8);
    std::memcpy(data.data() + 8, &n, 8);
    std::memcpy(data.data() + 16, &val, 8);
    ASSERT_TRUE(client->send(vu::encode_reply(rd->header, data)));
    auto wr = client->receive(5000ms);
    ASSERT_TRUE(wr) << wr.error().message;
    ASSERT_EQ(wr->header.command, static_cast<uint16_t>(vu::Command::dma_write));
    EXPECT_EQ(load<uint64_t>(wr->payload, 0), 0x2108u);
    EXPECT_EQ(load<uint64_t>(wr->payload, 16), 100u);
    ASSERT_TRUE(client->send(vu::encode_reply(wr->header, std::span(wr->payload).first(16))));
    auto done = client->receive(5000ms);
    ASSERT_TRUE(done);
    EXPECT_TRUE(vu::check_reply(done->header, 81, vu::Command::region_write));
    EXPECT_EQ(read(0, DMA_STATUS, 4), 0u);

    // The client refuses the read: the model sees a fault, the link stays.
    ASSERT_TRUE(client->send(vu::encode_region_write(82, 0, DMA_GO, go, false)));
    rd = client->receive(5000ms);
    ASSERT_TRUE(rd);
    ASSERT_TRUE(client->send(vu::encode_error_reply(rd->header, EFAULT)));
    done = client->receive(5000ms);
    ASSERT_TRUE(done);
    EXPECT_EQ(read(0, DMA_STATUS, 4), 1u + static_cast<uint32_t>(pciem::DmaFaultKind::no_host));
}

TEST_F(VfioUserHostTest, BadRequestsGetAnErrnoAndTheConnectionGoesOn) {
    negotiate();
    // A GET_REGION_INFO cut short.
    vu::Bytes m = vu::encode_get_region_info(90, 0, 32);
    m.resize(vu::header_size + 8);
    vu::Header h = header_of(m);
    h.size = static_cast<uint32_t>(m.size());
    vu::encode_header(h, std::span<std::byte, 16>(m.data(), 16));
    EXPECT_EQ(err(call(m)), static_cast<uint32_t>(EINVAL));
    // An unknown command.
    vu::Header u{91, 99, vu::header_size, vu::type_command, 0};
    vu::Bytes um(vu::header_size);
    vu::encode_header(u, std::span<std::byte, 16>(um.data(), 16));
    EXPECT_EQ(err(call(um)), static_cast<uint32_t>(ENOSYS));
    // Descriptors with a command that takes none.
    auto e = efd();
    const int fds[1] = {e.get()};
    EXPECT_EQ(err(call(vu::encode_region_read(92, 0, 0, 4), fds)), static_cast<uint32_t>(EINVAL));
    // DMA_UNMAP flags this server does not do.
    vu::Bytes un = vu::encode_dma_unmap(93, 0, 4096);
    un[vu::header_size + 4] = std::byte{1};
    EXPECT_EQ(err(call(un)), static_cast<uint32_t>(ENOTSUP));
    EXPECT_EQ(read(0, ID, 4), model_id);
}

TEST_F(VfioUserHostTest, ABrokenStreamEndsTheConnectionWithASentence) {
    negotiate();
    // A header whose size is below the header's own.
    vu::Header h{1, static_cast<uint16_t>(vu::Command::device_get_info), 8, vu::type_command, 0};
    vu::Bytes m(vu::header_size);
    vu::encode_header(h, std::span<std::byte, 16>(m.data(), 16));
    ASSERT_TRUE(client->send(m));
    server.join();
    ASSERT_FALSE(served);
    EXPECT_EQ(served.error().errnum, EPROTO);
    EXPECT_NE(served.error().message.find("less than the 16-byte header"), std::string::npos)
        << served.error().message;

    // Oversized.
    connect();
    negotiate();
    h.size = 64u << 20;
    vu::encode_header(h, std::span<std::byte, 16>(m.data(), 16));
    ASSERT_TRUE(client->send(m));
    server.join();
    ASSERT_FALSE(served);
    EXPECT_NE(served.error().message.find("more than the"), std::string::npos)
        << served.error().message;

    // Gone in the middle of a message.
    connect();
    negotiate();
    vu::Bytes w = vu::encode_region_write(2, 0, SCRATCH, std::as_bytes(std::span("abcd", 4)), false);
    w.resize(w.size() - 2);
    ASSERT_TRUE(client->send(w));
    client.reset();
    server.join();
    ASSERT_FALSE(served);
    EXPECT_EQ(served.error().errnum, ECONNRESET);
    EXPECT_NE(served.error().message.find("the client closed the socket in the middle"),
              std::string::npos)
        << served.error().message;

    // A reply to nothing.
    connect();
    negotiate();
    ASSERT_TRUE(client->send(vu::encode_reply(vu::Header{5, 4, 16, 0, 0}, {})));
    server.join();
    ASSERT_FALSE(served);
    EXPECT_EQ(served.error().errnum, EPROTO);
}

TEST_F(VfioUserHostTest, TheNextClientStartsClean) {
    negotiate();
    pciem::UniqueFd mem{::memfd_create("dma", MFD_CLOEXEC)};
    ASSERT_EQ(::ftruncate(mem.get(), 4096), 0);
    const int fds[1] = {mem.get()};
    ASSERT_EQ(err(call(vu::encode_dma_map(1, vu::dma_read_flag, 0, 0x1000, 4096), fds)), 0u);
    write(7, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    disconnect();
    EXPECT_TRUE(served) << served.error().message; // a hang-up between messages
    connect();
    negotiate();
    EXPECT_EQ(read(7, PCI_COMMAND, 2), 0u);
    // The old region is gone: mapping the same range again works.
    EXPECT_EQ(err(call(vu::encode_dma_map(2, vu::dma_read_flag, 0, 0x1000, 4096), fds)), 0u);
    EXPECT_EQ(host->stats().clients, 2u);
}

// Commands that come together wait in the channel's buffer, where a poll()
// of the socket does not see them: the loop takes them without sleeping.
TEST_F(VfioUserHostTest, PipelinedWritesAreAllAnswered) {
    negotiate();
    write(7, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    vu::Bytes all;
    for (uint32_t i = 0; i < 32; ++i) {
        std::byte b[4];
        std::memcpy(b, &i, 4);
        auto m = vu::encode_region_write(static_cast<uint16_t>(200 + i), 0, SCRATCH, b, false);
        all.insert(all.end(), m.begin(), m.end());
    }
    ASSERT_EQ(::write(client->fd(), all.data(), all.size()), static_cast<ssize_t>(all.size()));
    for (uint32_t i = 0; i < 32; ++i) {
        auto r = client->receive(5000ms);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_TRUE(vu::check_reply(r->header, static_cast<uint16_t>(200 + i),
                                    vu::Command::region_write));
    }
    EXPECT_EQ(read(0, SCRATCH, 4), 31u);
}

// Commands that come in one write with the replies to the model's DMA
// requests: the transfer stashes or buffers them, and the loop serves them
// in order.
TEST_F(VfioUserHostTest, CommandsArrivingWithDmaRepliesAreServed) {
    ASSERT_NO_FATAL_FAILURE(start_message_dma());
    write(0, SCRATCH, 0x77, 4);
    std::byte go[4] = {};
    ASSERT_TRUE(client->send(vu::encode_region_write(81, 0, DMA_GO, go, false)));
    auto rd = client->receive(5000ms);
    ASSERT_TRUE(rd) << rd.error().message;
    vu::Bytes data(24);
    const uint64_t addr = 0x2100, n = 8, val = 99;
    std::memcpy(data.data(), &addr, 8);
    std::memcpy(data.data() + 8, &n, 8);
    std::memcpy(data.data() + 16, &val, 8);
    auto both = vu::encode_reply(rd->header, data);
    auto r90 = vu::encode_region_read(90, 0, SCRATCH, 4);
    both.insert(both.end(), r90.begin(), r90.end());
    ASSERT_EQ(::write(client->fd(), both.data(), both.size()), static_cast<ssize_t>(both.size()));
    auto wr = client->receive(5000ms);
    ASSERT_TRUE(wr) << wr.error().message;
    ASSERT_EQ(wr->header.command, static_cast<uint16_t>(vu::Command::dma_write));
    auto both2 = vu::encode_reply(wr->header, std::span(wr->payload).first(16));
    auto r91 = vu::encode_region_read(91, 0, SCRATCH, 4);
    both2.insert(both2.end(), r91.begin(), r91.end());
    ASSERT_EQ(::write(client->fd(), both2.data(), both2.size()), static_cast<ssize_t>(both2.size()));
    for (uint16_t want : {81, 90, 91}) {
        auto m = client->receive(5000ms);
        ASSERT_TRUE(m) << m.error().message;
        EXPECT_EQ(m->header.id, want);
    }
    EXPECT_EQ(read(0, DMA_STATUS, 4), 0u);
}

} // namespace
