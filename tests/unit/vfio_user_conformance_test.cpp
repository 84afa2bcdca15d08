// SPDX-License-Identifier: MIT
// vfio-user conformance of VfioUserHost, written from the protocol
// specification (QEMU's docs/interop/vfio-user.rst), message by message.
// The client here is deliberately naive and independent of PCIem's message
// layer: raw bytes on a UNIX socket, offsets from the spec's tables, its
// own header packing, so a mistake shared by PCIem's encoder and decoder
// cannot hide. The server is the public API only, on a real socket path.
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pciem/device_model.hpp"
#include "pciem/vfio_user_host.hpp"

namespace {

// ---- the spec's numbers, written out here on purpose -------------------
constexpr uint16_t VERSION = 1, DMA_MAP = 2, DMA_UNMAP = 3, DEVICE_GET_INFO = 4,
                   GET_REGION_INFO = 5, GET_IRQ_INFO = 7, SET_IRQS = 8, REGION_READ = 9,
                   REGION_WRITE = 10, DEVICE_RESET = 13;
constexpr uint32_t TYPE_REPLY = 1, NO_REPLY = 1u << 4, ERROR = 1u << 5;
constexpr uint32_t CONFIG_REGION = 7;

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) { b.push_back(v & 0xff); b.push_back(v >> 8); }
void put32(Bytes& b, uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back((v >> (8 * i)) & 0xff); }
void put64(Bytes& b, uint64_t v) { for (int i = 0; i < 8; ++i) b.push_back((v >> (8 * i)) & 0xff); }
uint16_t get16(const Bytes& b, size_t at) { return b.at(at) | (b.at(at + 1) << 8); }
uint32_t get32(const Bytes& b, size_t at) { return get16(b, at) | (uint32_t{get16(b, at + 2)} << 16); }
uint64_t get64(const Bytes& b, size_t at) { return get32(b, at) | (uint64_t{get32(b, at + 4)} << 32); }

struct Msg {
    uint16_t id = 0, command = 0;
    uint32_t size = 0, flags = 0, error = 0;
    Bytes data; // after the 16-byte header
    std::vector<int> fds;
};

// A one-BAR model: a 4 KiB register BAR with one scratch register, MSI-X.
class Plain : public pciem::DeviceModel {
public:
    Plain() { declare_bar(0, "BAR0", 4096).reg32(0x0, "SCRATCH").rw(0x5a5a5a5a); }
    [[nodiscard]] pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}
            .ids(0x1234, 0xabcd)
            .bar(0, pciem::Bar::mem32(4096))
            .msix(2, 0, 0x800, 0, 0xc00);
    }
};

class Conformance : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = ::testing::TempDir() + "vfu-conf-" + std::to_string(::getpid()) + ".sock";
        auto h = pciem::VfioUserHost::create(model_);
        ASSERT_TRUE(h) << h.error().message;
        host_ = std::move(*h);
        auto l = pciem::VfioUserHost::listen(path_);
        ASSERT_TRUE(l) << l.error().message;
        listener_ = std::move(*l);
        loop_ = std::thread([this] { (void)host_->run(listener_.get()); });
        connect_client();
    }
    // A new connection (the server takes it once the last one is closed).
    void connect_client() {
        sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
        ASSERT_EQ(::connect(sock_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    }
    void TearDown() override {
        ::close(sock_);
        host_->stop();
        loop_.join();
        ::unlink(path_.c_str());
    }

    void send(uint16_t id, uint16_t command, const Bytes& data, uint32_t flags = 0,
              std::vector<int> fds = {}) {
        Bytes m;
        put16(m, id);
        put16(m, command);
        put32(m, static_cast<uint32_t>(16 + data.size()));
        put32(m, flags); // type 0: command
        put32(m, 0);
        m.insert(m.end(), data.begin(), data.end());
        iovec iov{m.data(), m.size()};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * 8)] = {};
        if (!fds.empty()) {
            mh.msg_control = ctl;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
            cmsghdr* c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        }
        ASSERT_EQ(::sendmsg(sock_, &mh, MSG_NOSIGNAL), static_cast<ssize_t>(m.size()));
    }
    bool readable(int ms) {
        pollfd p{sock_, POLLIN, 0};
        return ::poll(&p, 1, ms) > 0;
    }
    // Exactly n bytes (fds collected), with a 5 s limit.
    bool read_n(uint8_t* out, size_t n, std::vector<int>& fds) {
        size_t got = 0;
        while (got < n) {
            if (!readable(5000)) {
                return false;
            }
            iovec iov{out + got, n - got};
            msghdr mh{};
            mh.msg_iov = &iov;
            mh.msg_iovlen = 1;
            alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * 8)];
            mh.msg_control = ctl;
            mh.msg_controllen = sizeof(ctl);
            const ssize_t r = ::recvmsg(sock_, &mh, MSG_CMSG_CLOEXEC);
            if (r <= 0) {
                return false;
            }
            for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                const size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    fds.push_back(fd);
                }
            }
            got += static_cast<size_t>(r);
        }
        return true;
    }
    Msg receive() {
        Msg m;
        uint8_t h[16];
        if (!read_n(h, 16, m.fds)) {
            ADD_FAILURE() << "no reply within 5 s";
            return m;
        }
        Bytes hb(h, h + 16);
        m.id = get16(hb, 0);
        m.command = get16(hb, 2);
        m.size = get32(hb, 4);
        m.flags = get32(hb, 8);
        m.error = get32(hb, 12);
        EXPECT_GE(m.size, 16u);
        m.data.resize(m.size - 16);
        EXPECT_TRUE(read_n(m.data.data(), m.data.size(), m.fds));
        return m;
    }
    // A command and its reply; the reply's header is checked here.
    Msg call(uint16_t id, uint16_t command, const Bytes& data, std::vector<int> fds = {}) {
        send(id, command, data, 0, std::move(fds));
        Msg r = receive();
        EXPECT_EQ(r.id, id) << "the reply echoes the message ID";
        EXPECT_EQ(r.command, command) << "the reply echoes the command";
        EXPECT_EQ(r.flags & 0xf, TYPE_REPLY) << "type: reply";
        EXPECT_EQ(r.size, 16 + r.data.size());
        if ((r.flags & ERROR) != 0) {
            EXPECT_TRUE(r.data.empty()) << "an error reply is the header alone";
        }
        return r;
    }
    Msg version(uint16_t major, uint16_t minor, const std::string& json) {
        Bytes d;
        put16(d, major);
        put16(d, minor);
        if (!json.empty()) {
            d.insert(d.end(), json.begin(), json.end());
            d.push_back(0);
        }
        return call(1, VERSION, d);
    }
    static Bytes region_info_request(uint32_t index, uint32_t argsz) {
        Bytes d;
        put32(d, argsz);
        put32(d, 0);
        put32(d, index);
        put32(d, 0);
        put64(d, 0);
        put64(d, 0);
        return d;
    }
    static Bytes access(uint32_t region, uint64_t offset, uint32_t count) {
        Bytes d;
        put64(d, offset);
        put32(d, region);
        put32(d, count);
        return d;
    }

    Plain model_;
    std::unique_ptr<pciem::VfioUserHost> host_;
    pciem::UniqueFd listener_;
    std::thread loop_;
    std::string path_;
    int sock_ = -1;
};

TEST_F(Conformance, VersionWithAMinor0Client) {
    Msg r = version(0, 0, R"({"capabilities":{"max_msg_fds":8}})");
    ASSERT_EQ(r.flags & ERROR, 0u);
    ASSERT_GE(r.data.size(), 5u);
    EXPECT_EQ(get16(r.data, 0), 0) << "major: the client's";
    EXPECT_EQ(get16(r.data, 2), 0) << "minor: at most the client's";
    EXPECT_EQ(r.data.back(), 0) << "the JSON is NUL-terminated";
    const std::string json(reinterpret_cast<const char*>(r.data.data()) + 4);
    EXPECT_NE(json.find("\"capabilities\""), std::string::npos) << json;
}

TEST_F(Conformance, VersionWithMinor1And2AndNewerClients) {
    Msg r = version(0, 2, "");
    ASSERT_EQ(r.flags & ERROR, 0u);
    EXPECT_EQ(get16(r.data, 2), 2);
    ::close(sock_);
    connect_client();
    r = version(0, 1, R"({"capabilities":{"max_data_xfer_size":65536}})");
    EXPECT_EQ(get16(r.data, 2), 1);
    ::close(sock_);
    connect_client();
    r = version(0, 9, "{}");
    EXPECT_LE(get16(r.data, 2), 9) << "never above the client's";
    EXPECT_EQ(get16(r.data, 0), 0);
}

TEST_F(Conformance, DeviceGetInfo) {
    version(0, 1, "");
    Bytes d;
    put32(d, 16);
    put32(d, 0);
    put32(d, 0);
    put32(d, 0);
    Msg r = call(2, DEVICE_GET_INFO, d);
    ASSERT_EQ(r.data.size(), 16u);
    EXPECT_EQ(get32(r.data, 0), 16u) << "argsz: the size of the full reply";
    EXPECT_NE(get32(r.data, 4) & 2u, 0u) << "VFIO_DEVICE_FLAGS_PCI";
    EXPECT_NE(get32(r.data, 4) & 1u, 0u) << "VFIO_DEVICE_FLAGS_RESET (the server handles RESET)";
    EXPECT_GE(get32(r.data, 8), 9u) << "BAR0-5, ROM, CONFIG, VGA";
    EXPECT_GE(get32(r.data, 12), 3u) << "INTx, MSI, MSI-X";
}

TEST_F(Conformance, RegionInfoForEveryPciRegion) {
    version(0, 1, "");
    for (uint32_t i = 0; i < 9; ++i) {
        Msg r = call(static_cast<uint16_t>(10 + i), GET_REGION_INFO, region_info_request(i, 32));
        ASSERT_EQ(r.flags & ERROR, 0u) << "region " << i;
        ASSERT_GE(r.data.size(), 32u);
        EXPECT_EQ(get32(r.data, 8), i) << "index echoed";
        EXPECT_GE(get32(r.data, 0), 32u) << "argsz covers the structure";
        const uint64_t size = get64(r.data, 16);
        if (i == 0) {
            EXPECT_EQ(size, 4096u);
            EXPECT_EQ(get32(r.data, 4) & 3u, 3u) << "readable and writable";
        } else if (i == CONFIG_REGION) {
            EXPECT_TRUE(size == 256 || size == 4096) << size;
        } else {
            EXPECT_EQ(size, 0u) << "region " << i << " does not exist";
        }
        EXPECT_TRUE(r.fds.empty()) << "no fd without the MMAP flag";
    }
    Msg bad = call(30, GET_REGION_INFO, region_info_request(64, 32));
    EXPECT_NE(bad.flags & ERROR, 0u);
    EXPECT_EQ(bad.error, static_cast<uint32_t>(EINVAL));
}

TEST_F(Conformance, IrqInfo) {
    version(0, 1, "");
    const uint32_t want[] = {0, 0, 2};
    for (uint32_t i = 0; i < 3; ++i) {
        Bytes d;
        put32(d, 16);
        put32(d, 0);
        put32(d, i);
        put32(d, 0);
        Msg r = call(static_cast<uint16_t>(40 + i), GET_IRQ_INFO, d);
        ASSERT_EQ(r.data.size(), 16u);
        EXPECT_EQ(get32(r.data, 8), i);
        EXPECT_EQ(get32(r.data, 12), want[i]) << "index " << i;
        if (want[i] != 0) {
            EXPECT_NE(get32(r.data, 4) & 1u, 0u) << "VFIO_IRQ_INFO_EVENTFD";
        }
    }
}

TEST_F(Conformance, RegionReadAndWriteEchoTheAccess) {
    version(0, 1, "");
    Msg r = call(50, REGION_READ, access(CONFIG_REGION, 0, 4));
    ASSERT_EQ(r.data.size(), 16u + 4u);
    EXPECT_EQ(get64(r.data, 0), 0u);
    EXPECT_EQ(get32(r.data, 8), CONFIG_REGION);
    EXPECT_EQ(get32(r.data, 12), 4u);
    EXPECT_EQ(get32(r.data, 16), 0xabcd1234u) << "vendor and device ID";

    Bytes w = access(0, 0, 4);
    put32(w, 0x01020304);
    Msg wr = call(51, REGION_WRITE, w);
    ASSERT_EQ(wr.data.size(), 16u) << "the write reply carries no data";
    EXPECT_EQ(get32(wr.data, 12), 4u);
    Msg rd = call(52, REGION_READ, access(0, 0, 4));
    EXPECT_EQ(get32(rd.data, 16), 0x01020304u);

    // No_reply: nothing comes back for the write, the read's reply is next.
    Bytes w2 = access(0, 0, 4);
    put32(w2, 0x0a0b0c0d);
    send(53, REGION_WRITE, w2, NO_REPLY);
    Msg after = call(54, REGION_READ, access(0, 0, 4));
    EXPECT_EQ(get32(after.data, 16), 0x0a0b0c0du);

    // Message IDs belong to the sender and may repeat.
    EXPECT_EQ(call(54, REGION_READ, access(0, 0, 4)).flags & ERROR, 0u);

    Msg past = call(55, REGION_READ, access(0, 4094, 4));
    EXPECT_NE(past.flags & ERROR, 0u);
    EXPECT_EQ(past.error, static_cast<uint32_t>(EINVAL));
}

TEST_F(Conformance, DmaMapAndUnmap) {
    version(0, 1, "");
    const int mem = ::memfd_create("conf", MFD_CLOEXEC);
    ASSERT_GE(mem, 0);
    ASSERT_EQ(::ftruncate(mem, 8192), 0);
    Bytes m;
    put32(m, 32);
    put32(m, 3); // readable, writeable
    put64(m, 0);
    put64(m, 0x100000);
    put64(m, 8192);
    Msg r = call(60, DMA_MAP, m, {mem});
    EXPECT_EQ(r.flags & ERROR, 0u);
    EXPECT_TRUE(r.data.empty()) << "no payload in the DMA_MAP reply";
    Msg again = call(61, DMA_MAP, m, {mem});
    EXPECT_NE(again.flags & ERROR, 0u);
    EXPECT_EQ(again.error, static_cast<uint32_t>(EEXIST)) << "mapping over a region: EEXIST";
    // Without an fd: accepted (reached by DMA_READ/DMA_WRITE).
    Bytes nofd;
    put32(nofd, 32);
    put32(nofd, 1);
    put64(nofd, 0);
    put64(nofd, 0x200000);
    put64(nofd, 4096);
    EXPECT_EQ(call(62, DMA_MAP, nofd).flags & ERROR, 0u);

    Bytes u;
    put32(u, 24);
    put32(u, 0);
    put64(u, 0x100000);
    put64(u, 8192);
    Msg un = call(63, DMA_UNMAP, u);
    ASSERT_EQ(un.flags & ERROR, 0u);
    EXPECT_EQ(un.data, u) << "the reply is the original DMA entry";
    Msg gone = call(64, DMA_UNMAP, u);
    EXPECT_NE(gone.flags & ERROR, 0u) << "address and size must match a mapping";
    EXPECT_NE(gone.error, 0u);
    ::close(mem);
}

TEST_F(Conformance, SetIrqsAndReset) {
    version(0, 1, "");
    const int e0 = ::eventfd(0, EFD_CLOEXEC), e1 = ::eventfd(0, EFD_CLOEXEC);
    Bytes s;
    put32(s, 20);
    put32(s, (1u << 2) | (1u << 5)); // DATA_EVENTFD | ACTION_TRIGGER
    put32(s, 2);                     // MSI-X
    put32(s, 0);
    put32(s, 2);
    Msg r = call(70, SET_IRQS, s, {e0, e1});
    EXPECT_EQ(r.flags & ERROR, 0u);
    EXPECT_TRUE(r.data.empty()) << "no payload in the SET_IRQS reply";
    // The client triggers vector 1 itself (DATA_NONE | ACTION_TRIGGER).
    Bytes t;
    put32(t, 20);
    put32(t, (1u << 0) | (1u << 5));
    put32(t, 2);
    put32(t, 1);
    put32(t, 1);
    EXPECT_EQ(call(71, SET_IRQS, t).flags & ERROR, 0u);
    uint64_t n = 0;
    EXPECT_EQ(::read(e1, &n, 8), 8);
    EXPECT_EQ(n, 1u);
    // Past the index's count: refused.
    Bytes bad = s;
    bad[12] = 2; // start 2 of 2 vectors
    EXPECT_EQ(call(72, SET_IRQS, bad, {e0, e1}).error, static_cast<uint32_t>(EINVAL));

    Bytes cmd = access(CONFIG_REGION, 4, 2);
    put16(cmd, 0x6);
    call(73, REGION_WRITE, cmd);
    Msg reset = call(74, DEVICE_RESET, {});
    EXPECT_EQ(reset.flags & ERROR, 0u);
    EXPECT_TRUE(reset.data.empty());
    Msg c = call(75, REGION_READ, access(CONFIG_REGION, 4, 2));
    EXPECT_EQ(get16(c.data, 16), 0) << "Command cleared by the reset";
    ::close(e0);
    ::close(e1);
}

} // namespace
