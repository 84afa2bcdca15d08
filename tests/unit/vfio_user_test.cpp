// SPDX-License-Identifier: MIT
// The vfio-user message layer: encoders against the layouts of the spec,
// every decoder's refusals, and Channel on a socketpair (descriptors,
// timeouts, a peer that stops half-way or hangs up).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pciem/vfio_user/channel.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace vu = pciem::vfio_user;
using namespace std::chrono_literals;

namespace {

vu::Header header_of(const vu::Bytes& msg) {
    return vu::decode_header(std::span<const std::byte, vu::header_size>(msg.data(), 16));
}

std::span<const std::byte> payload_of(const vu::Bytes& msg) {
    return std::span(msg).subspan(vu::header_size);
}

template <class T>
vu::Bytes bytes_of(const T& v) {
    vu::Bytes b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof(T));
    return b;
}

void put_at(vu::Bytes& b, size_t at, const void* p, size_t n) {
    if (b.size() < at + n) {
        b.resize(at + n);
    }
    std::memcpy(b.data() + at, p, n);
}

// A GET_REGION_INFO reply payload with a sparse mmap capability.
vu::Bytes region_reply(uint32_t index, uint64_t size, std::vector<vu::MmapArea> areas) {
    vfio_region_info info{};
    info.argsz = sizeof(info) + sizeof(vfio_region_info_cap_sparse_mmap) +
                 areas.size() * sizeof(vfio_region_sparse_mmap_area);
    info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                 VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
    info.index = index;
    info.cap_offset = sizeof(info);
    info.size = size;
    vu::Bytes b = bytes_of(info);
    vfio_region_info_cap_sparse_mmap cap{};
    cap.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
    cap.header.version = 1;
    cap.nr_areas = static_cast<uint32_t>(areas.size());
    put_at(b, sizeof(info), &cap, sizeof(cap));
    for (size_t i = 0; i < areas.size(); ++i) {
        vfio_region_sparse_mmap_area a{areas[i].offset, areas[i].size};
        put_at(b, sizeof(info) + sizeof(cap) + i * sizeof(a), &a, sizeof(a));
    }
    return b;
}

struct Pair {
    pciem::UniqueFd a, b;
    Pair() {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        a.reset(sv[0]);
        b.reset(sv[1]);
    }
};

// `bytes` in one sendmsg with `fds` attached (any number: Channel::send
// refuses more than max_fds_per_message).
void send_raw(int socket, std::span<const std::byte> bytes, const std::vector<int>& fds = {}) {
    iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    if (!fds.empty()) {
        mh.msg_control = control.data();
        mh.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ASSERT_EQ(::sendmsg(socket, &mh, 0), static_cast<ssize_t>(bytes.size()));
}

bool same_file(int a, int b) {
    struct stat sa {};
    struct stat sb {};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

size_t open_fds() {
    size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) {
            ++n;
        }
        ::closedir(d);
    }
    return n;
}

bool socket_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

} // namespace

TEST(VfioUserWire, HeaderLayoutIsTheSpecs) {
    const auto msg = vu::encode_region_read(0x1234, 2, 0x10, 4);
    ASSERT_EQ(msg.size(), 32u);
    // u16 id, u16 command, u32 size, u32 flags, u32 error
    EXPECT_EQ(std::to_integer<int>(msg[0]), 0x34);
    EXPECT_EQ(std::to_integer<int>(msg[1]), 0x12);
    EXPECT_EQ(std::to_integer<int>(msg[2]), 9);
    EXPECT_EQ(std::to_integer<int>(msg[4]), 32);
    const auto h = header_of(msg);
    EXPECT_EQ(h.flags, vu::type_command);
    EXPECT_TRUE(vu::check_header(h));
    // offset u64, region u32, count u32
    uint64_t off;
    uint32_t region, count;
    std::memcpy(&off, msg.data() + 16, 8);
    std::memcpy(&region, msg.data() + 24, 4);
    std::memcpy(&count, msg.data() + 28, 4);
    EXPECT_EQ(off, 0x10u);
    EXPECT_EQ(region, 2u);
    EXPECT_EQ(count, 4u);
}

TEST(VfioUserWire, PostedWriteCarriesNoReplyFlagAndData) {
    const std::array<std::byte, 4> data{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    const auto msg = vu::encode_region_write(7, 0, 0x100, data, true);
    const auto h = header_of(msg);
    EXPECT_EQ(h.size, 16u + 16u + 4u);
    EXPECT_EQ(h.flags, vu::flag_no_reply);
    auto req = vu::decode_region_access_request(payload_of(msg), vu::Command::region_write);
    ASSERT_TRUE(req) << req.error();
    EXPECT_EQ(req->access.count, 4u);
    EXPECT_EQ(std::memcmp(req->data.data(), data.data(), 4), 0);
}

TEST(VfioUserWire, CheckHeaderRefusals) {
    vu::Header h{1, 9, 15, 0, 0};
    auto r = vu::check_header(h);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("less than the 16-byte header"), std::string::npos) << r.error();
    h.size = 1u << 30;
    r = vu::check_header(h);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("more than the"), std::string::npos) << r.error();
    h.size = 16;
    h.flags = 5;
    r = vu::check_header(h);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("message type 5"), std::string::npos) << r.error();
    h.flags = vu::type_reply | (1u << 9);
    r = vu::check_header(h);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("unknown flag bits 0x200"), std::string::npos) << r.error();
}

TEST(VfioUserWire, CheckReplyNamesWhatWasDue) {
    vu::Header h{5, 9, 16, vu::type_reply, 0};
    EXPECT_TRUE(vu::check_reply(h, 5, vu::Command::region_read));
    auto r = vu::check_reply(h, 6, vu::Command::region_read);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("message id 5 came where the reply to REGION_READ (id 6)"),
              std::string::npos)
        << r.error();
    r = vu::check_reply(h, 5, vu::Command::region_write);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("is for REGION_READ, but that id was a REGION_WRITE"),
              std::string::npos)
        << r.error();
    h.flags = vu::type_command;
    EXPECT_FALSE(vu::check_reply(h, 5, vu::Command::region_read));
    // An error reply is a well-formed reply: its errno is the caller's.
    h.flags = vu::type_reply | vu::flag_error;
    EXPECT_TRUE(vu::check_reply(h, 5, vu::Command::region_read));
}

TEST(VfioUserWire, VersionRoundTripAndJson) {
    vu::Version v;
    v.minor = 1;
    v.caps.max_msg_fds = 8;
    v.caps.max_data_xfer_size = 1 << 20;
    const auto msg = vu::encode_version(1, v);
    auto d = vu::decode_version(payload_of(msg));
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(d->minor, 1);
    EXPECT_EQ(d->caps.max_msg_fds, 8u);
    EXPECT_EQ(d->caps.max_data_xfer_size, 1u << 20);
    EXPECT_FALSE(d->caps.migration_pgsize);

    auto with = [](const std::string& json, bool nul = true) {
        vu::Bytes p(4);
        p[2] = std::byte{1};
        for (char c : json) {
            p.push_back(static_cast<std::byte>(c));
        }
        if (nul) {
            p.push_back(std::byte{0});
        }
        return vu::decode_version(p);
    };
    EXPECT_TRUE(with(R"({"capabilities":{"migration":{"pgsize":4096}}})"));
    EXPECT_EQ(with(R"({"capabilities":{}})")->caps.max_msg_fds, vu::default_max_msg_fds);
    EXPECT_NE(with("{}", false).error().find("not NUL-terminated"), std::string::npos);
    EXPECT_NE(with("{\"capabilities\":").error().find("does not parse"), std::string::npos);
    EXPECT_NE(with("[1]").error().find("not an object"), std::string::npos);
    EXPECT_NE(with(R"({"capabilities":{"max_msg_fds":-1}})").error().find("max_msg_fds"),
              std::string::npos);
    EXPECT_NE(with(R"({"capabilities":{"max_msg_fds":"8"}})").error().find("not a non-negative"),
              std::string::npos);
    EXPECT_NE(with(R"({"capabilities":{"max_data_xfer_size":0}})").error().find("is 0"),
              std::string::npos);
    EXPECT_FALSE(vu::decode_version(vu::Bytes(3)));
}

TEST(VfioUserWire, RegionInfoWithSparseMmap) {
    const auto p = region_reply(2, 0x4000, {{0x1000, 0x1000}, {0x3000, 0x1000}});
    auto r = vu::decode_region_info(p, 2, 1);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size, 0x4000u);
    ASSERT_EQ(r->mmap_areas.size(), 2u);
    EXPECT_EQ(r->mmap_areas[1], (vu::MmapArea{0x3000, 0x1000}));

    EXPECT_NE(vu::decode_region_info(p, 3, 1).error().find("describes region 2"),
              std::string::npos);
    EXPECT_NE(vu::decode_region_info(p, 2, 0).error().find("no file descriptor"),
              std::string::npos);
    EXPECT_NE(vu::decode_region_info(p, 2, 2).error().find("2 file descriptors"),
              std::string::npos);
    // An area past the end of the region.
    EXPECT_NE(vu::decode_region_info(region_reply(2, 0x2000, {{0x1000, 0x2000}}), 2, 1)
                  .error()
                  .find("not inside"),
              std::string::npos);
    // More areas than bytes.
    auto lying = region_reply(2, 0x4000, {{0, 0x1000}});
    const uint32_t many = 1000;
    put_at(lying, sizeof(vfio_region_info) + sizeof(vfio_info_cap_header), &many, 4);
    EXPECT_NE(vu::decode_region_info(lying, 2, 1).error().find("1000 areas"), std::string::npos);
    // A chain that points back at itself.
    auto loop = region_reply(2, 0x4000, {{0, 0x1000}});
    const uint32_t self = sizeof(vfio_region_info);
    put_at(loop, sizeof(vfio_region_info) + 4, &self, 4);
    EXPECT_NE(vu::decode_region_info(loop, 2, 1).error().find("capability chain points"),
              std::string::npos);
    const uint32_t back = 8;
    put_at(loop, sizeof(vfio_region_info) + 4, &back, 4);
    EXPECT_FALSE(vu::decode_region_info(loop, 2, 1));
    const uint32_t out = 4000;
    auto wild = region_reply(2, 0x4000, {});
    put_at(wild, 12, &out, 4); // cap_offset
    EXPECT_NE(vu::decode_region_info(wild, 2, 1).error().find("capability chain points"),
              std::string::npos);
    EXPECT_NE(vu::decode_region_info(vu::Bytes(31), 2, 0).error().find("shorter than the 32"),
              std::string::npos);
}

TEST(VfioUserWire, PlainRegionAndIrqInfo) {
    vfio_region_info info{};
    info.argsz = sizeof(info);
    info.flags = VFIO_REGION_INFO_FLAG_READ;
    info.index = 7;
    info.size = 256;
    auto r = vu::decode_region_info(bytes_of(info), 7, 0);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->mmap_areas.empty());
    info.argsz = 8;
    EXPECT_NE(vu::decode_region_info(bytes_of(info), 7, 0).error().find("argsz"),
              std::string::npos);

    vfio_irq_info irq{sizeof(vfio_irq_info), VFIO_IRQ_INFO_EVENTFD, 2, 65};
    auto i = vu::decode_irq_info(bytes_of(irq), 2);
    ASSERT_TRUE(i) << i.error();
    EXPECT_EQ(i->count, 65u);
    EXPECT_NE(vu::decode_irq_info(bytes_of(irq), 1).error().find("index 2 where index 1"),
              std::string::npos);
    EXPECT_FALSE(vu::decode_irq_info(vu::Bytes(15), 2));
}

TEST(VfioUserWire, RegionAccessReplyIsChecked) {
    vu::Bytes ok = bytes_of(vu::RegionAccess{0x1c, 0, 4});
    ok.resize(ok.size() + 4, std::byte{0xab});
    auto d = vu::decode_region_access_reply(ok, vu::Command::region_read, 0, 0x1c, 4);
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(d->size(), 4u);
    EXPECT_EQ(std::to_integer<int>((*d)[3]), 0xab);
    EXPECT_NE(vu::decode_region_access_reply(ok, vu::Command::region_read, 1, 0x1c, 4)
                  .error()
                  .find("answers region 0"),
              std::string::npos);
    EXPECT_NE(vu::decode_region_access_reply(ok, vu::Command::region_read, 0, 0x1c, 8)
                  .error()
                  .find("4 bytes accessed of the 8"),
              std::string::npos);
    vu::Bytes longer = ok;
    longer.push_back(std::byte{0});
    EXPECT_NE(vu::decode_region_access_reply(longer, vu::Command::region_read, 0, 0x1c, 4)
                  .error()
                  .find("5 data bytes where 4"),
              std::string::npos);
    // A write's reply echoes the access without data.
    EXPECT_TRUE(vu::decode_region_access_reply(bytes_of(vu::RegionAccess{8, 1, 4}),
                                               vu::Command::region_write, 1, 8, 4));
    EXPECT_FALSE(vu::decode_region_access_reply(vu::Bytes(15), vu::Command::region_write, 1, 8, 4));
}

TEST(VfioUserWire, RequestsServersDecode) {
    const auto set = vu::encode_set_irqs(
        3, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 8, 4);
    auto s = vu::decode_set_irqs(payload_of(set), 4);
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->start, 8u);
    EXPECT_NE(vu::decode_set_irqs(payload_of(set), 3).error().find("3 file descriptors for 4"),
              std::string::npos);
    const auto bad = vu::encode_set_irqs(
        3, 2, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
        1);
    EXPECT_FALSE(vu::decode_set_irqs(payload_of(bad), 0));

    const auto map =
        vu::encode_dma_map(4, vu::dma_read_flag | vu::dma_write_flag, 0, 0x10000000, 64 << 20);
    auto m = vu::decode_dma_map(payload_of(map), 1);
    ASSERT_TRUE(m) << m.error();
    EXPECT_EQ(m->addr, 0x10000000u);
    EXPECT_FALSE(vu::decode_dma_map(payload_of(vu::encode_dma_map(4, 4, 0, 0, 4096)), 1));
    EXPECT_FALSE(vu::decode_dma_map(payload_of(vu::encode_dma_map(4, 1, 0, ~0ull, 4096)), 1));

    auto idx = vu::decode_info_request(payload_of(vu::encode_get_region_info(1, 5, 0)),
                                       vu::Command::get_region_info);
    ASSERT_TRUE(idx);
    EXPECT_EQ(*idx, 5u);
    EXPECT_EQ(*vu::decode_info_request(payload_of(vu::encode_get_irq_info(1, 2)),
                                       vu::Command::get_irq_info),
              2u);
}

TEST(VfioUserWire, ErrorReplyCarriesErrno) {
    const vu::Header req{9, 9, 32, 0, 0};
    const auto msg = vu::encode_error_reply(req, EINVAL);
    const auto h = header_of(msg);
    EXPECT_EQ(h.flags, vu::type_reply | vu::flag_error);
    EXPECT_EQ(h.error, static_cast<uint32_t>(EINVAL));
    EXPECT_TRUE(vu::check_reply(h, 9, vu::Command::region_read));
}

TEST(VfioUserChannel, MessagesAndDescriptorsCross) {
    Pair p;
    vu::Channel a(std::move(p.a)), b(std::move(p.b));
    pciem::UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
    const int fds[] = {efd.get(), efd.get()};
    ASSERT_TRUE(a.send(
        vu::encode_set_irqs(1, 2, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2),
        fds));
    auto m = b.receive(1000ms);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->header.command, 8);
    ASSERT_EQ(m->fds.size(), 2u);
    // The descriptor received is the same eventfd.
    const uint64_t one = 1;
    ASSERT_EQ(::write(m->fds[1].get(), &one, 8), 8);
    uint64_t got = 0;
    ASSERT_EQ(::read(efd.get(), &got, 8), 8);
    EXPECT_EQ(got, 1u);
    EXPECT_FALSE(b.readable());
}

// A message already there when the deadline has passed is received, not
// reported late: the proxy's thread may run only after its deadline (a CPU
// held by a driver spinning for the same answer).
TEST(VfioUserChannel, MessageThereAtTheDeadlineIsReceived) {
    Pair p;
    vu::Channel a(std::move(p.a)), b(std::move(p.b));
    ASSERT_TRUE(b.send(vu::encode_region_read(7, 0, 0, 4)));
    auto m = a.receive(0ms);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->header.id, 7);
    EXPECT_FALSE(a.readable());
}

// The slow note comes once, while still waiting, and the message that
// comes after it is received; a message there at once gets no note.
TEST(VfioUserChannel, SlowNoteWhileWaiting) {
    Pair p;
    vu::Channel a(std::move(p.a)), b(std::move(p.b));
    int notes = 0;
    const vu::Channel::Slow slow{10ms, [&] {
                                     ++notes;
                                 }};
    std::thread later([&] {
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(b.send(vu::encode_region_read(9, 0, 0, 4)));
    });
    auto m = a.receive(5000ms, slow);
    later.join();
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->header.id, 9);
    EXPECT_EQ(notes, 1);
    ASSERT_TRUE(b.send(vu::encode_region_read(10, 0, 0, 4)));
    m = a.receive(5000ms, slow);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(notes, 1);
    m = a.receive(30ms, slow);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().message, "no message came");
    EXPECT_EQ(notes, 2);
}

TEST(VfioUserChannel, TimeoutHalfMessageAndHangUp) {
    {
        Pair p;
        vu::Channel a(std::move(p.a));
        auto m = a.receive(50ms);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum, ETIMEDOUT);
        EXPECT_EQ(m.error().message, "no message came");
        // Half a message, then nothing.
        const auto msg = vu::encode_region_read(1, 0, 0, 4);
        ASSERT_EQ(::write(p.b.get(), msg.data(), 20), 20);
        m = a.receive(50ms);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum, ETIMEDOUT);
        EXPECT_NE(m.error().message.find("stopped after 20 of 32 bytes"), std::string::npos)
            << m.error().message;
    }
    {
        Pair p;
        vu::Channel a(std::move(p.a));
        const auto msg = vu::encode_region_read(1, 0, 0, 4);
        ASSERT_EQ(::write(p.b.get(), msg.data(), 10), 10);
        p.b.reset();
        auto m = a.receive(1000ms);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum, ECONNRESET);
        EXPECT_NE(m.error().message.find("in the middle of a message, after 10 of 16"),
                  std::string::npos)
            << m.error().message;
        m = a.receive(1000ms);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum, EPIPE);
        EXPECT_FALSE(a.send(msg));
    }
    {
        Pair p;
        vu::Channel a(std::move(p.a));
        vu::Header h{1, 9, 0x7fffffff, vu::type_reply, 0};
        vu::Bytes raw(16);
        vu::encode_header(h, std::span<std::byte, 16>(raw.data(), 16));
        ASSERT_EQ(::write(p.b.get(), raw.data(), raw.size()), 16);
        auto m = a.receive(1000ms);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum, EPROTO);
        EXPECT_NE(m.error().message.find("more than the"), std::string::npos);
    }
}

// Replies that came together (posted writes') cost one recvmsg for all;
// the second and later wait in the buffer, where readable() sees them and
// a poll() of the socket does not.
TEST(VfioUserChannel, MessagesThereTogetherCostOneRead) {
    Pair p;
    vu::Channel a(std::move(p.a)), b(std::move(p.b));
    for (uint16_t id = 0; id < 32; ++id) {
        ASSERT_TRUE(b.send(vu::encode_region_read(id, 0, id * 4u, 4)));
    }
    for (uint16_t id = 0; id < 32; ++id) {
        auto m = a.receive(1000ms);
        ASSERT_TRUE(m) << m.error().message;
        EXPECT_EQ(m->header.id, id);
        ASSERT_EQ(m->payload.size(), 16u);
        uint64_t offset = 0;
        std::memcpy(&offset, m->payload.data(), 8);
        EXPECT_EQ(offset, id * 4u);
        EXPECT_TRUE(m->fds.empty());
        if (id == 0) {
            EXPECT_TRUE(a.has_buffered());
            EXPECT_TRUE(a.readable());
            EXPECT_FALSE(socket_readable(a.fd()));
        }
    }
    EXPECT_EQ(a.receive_syscalls(), 1u);
    EXPECT_FALSE(a.has_buffered());
    EXPECT_FALSE(a.readable());
    // One waited for: a recvmsg that finds nothing, the poll, the recvmsg.
    std::thread later([&] {
        std::this_thread::sleep_for(50ms);
        ASSERT_TRUE(b.send(vu::encode_region_read(40, 0, 0, 4)));
    });
    auto m = a.receive(5000ms);
    later.join();
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->header.id, 40);
    EXPECT_EQ(a.receive_syscalls(), 4u);
}

// Descriptors go with the message they were sent with, whether a recvmsg
// read earlier messages before them or not.
TEST(VfioUserChannel, DescriptorsStayWithTheirMessage) {
    Pair p;
    vu::Channel a(std::move(p.a)), b(std::move(p.b));
    int x[2], y[2];
    ASSERT_EQ(::pipe2(x, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(y, O_CLOEXEC), 0);
    const pciem::UniqueFd x0(x[0]), x1(x[1]), y0(y[0]), y1(y[1]);
    const size_t before = open_fds();
    // none, {x0, x1}, none, none, {y1}, {x0}: all there before a read
    ASSERT_TRUE(b.send(vu::encode_region_read(1, 0, 0, 4)));
    const int two[] = {x0.get(), x1.get()};
    ASSERT_TRUE(b.send(vu::encode_region_read(2, 0, 0, 4), two));
    ASSERT_TRUE(b.send(vu::encode_region_read(3, 0, 0, 4)));
    ASSERT_TRUE(b.send(vu::encode_region_read(4, 0, 0, 4)));
    const int one[] = {y1.get()};
    ASSERT_TRUE(b.send(vu::encode_region_read(5, 0, 0, 4), one));
    const int last[] = {x0.get()};
    ASSERT_TRUE(b.send(vu::encode_region_read(6, 0, 0, 4), last));
    const std::vector<std::vector<int>> expected = {{}, {x0.get(), x1.get()}, {},
                                                    {}, {y1.get()},           {x0.get()}};
    for (uint16_t id = 1; id <= 6; ++id) {
        auto m = a.receive(1000ms);
        ASSERT_TRUE(m) << m.error().message;
        EXPECT_EQ(m->header.id, id);
        const auto& want = expected[id - 1];
        ASSERT_EQ(m->fds.size(), want.size()) << "message " << id;
        for (size_t i = 0; i < want.size(); ++i) {
            EXPECT_TRUE(same_file(m->fds[i].get(), want[i])) << "message " << id << " fd " << i;
        }
    }
    // A recvmsg ends after descriptors: here after the second, fifth and
    // sixth message.
    EXPECT_EQ(a.receive_syscalls(), 3u);
    EXPECT_FALSE(a.readable());
    EXPECT_EQ(open_fds(), before); // each received descriptor closed with its message
}

// More descriptors than a message may carry, after a message without:
// the first is received, the second refused, and no descriptor stays open.
TEST(VfioUserChannel, TooManyDescriptorsRefusedWithoutALeak) {
    Pair p;
    vu::Channel a(std::move(p.a));
    pciem::UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
    const size_t before = open_fds();
    send_raw(p.b.get(), vu::encode_region_read(1, 0, 0, 4));
    send_raw(p.b.get(), vu::encode_region_read(2, 0, 0, 4),
             std::vector<int>(vu::max_fds_per_message + 4, efd.get()));
    send_raw(p.b.get(), vu::encode_region_read(3, 0, 0, 4));
    auto m = a.receive(1000ms);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->header.id, 1);
    EXPECT_TRUE(m->fds.empty());
    m = a.receive(1000ms);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum, EPROTO);
    EXPECT_NE(m.error().message.find("more than 16 file descriptors"), std::string::npos)
        << m.error().message;
    EXPECT_EQ(open_fds(), before);
}

// A message in two pieces, the descriptor with the first, comes whole; a
// piece and a hang-up is the ECONNRESET it always was, then EPIPE.
TEST(VfioUserChannel, MessageInPieces) {
    Pair p;
    vu::Channel a(std::move(p.a));
    pciem::UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
    const auto msg = vu::encode_region_read(7, 1, 0x40, 4);
    const auto raw = std::span<const std::byte>(msg);
    std::thread sender([&] {
        send_raw(p.b.get(), raw.first(10), {efd.get()});
        std::this_thread::sleep_for(50ms);
        send_raw(p.b.get(), raw.subspan(10, 10));
        std::this_thread::sleep_for(20ms);
        send_raw(p.b.get(), raw.subspan(20));
        // and a half of the next, then the hang-up
        send_raw(p.b.get(), raw.first(20));
        p.b.reset();
    });
    auto m = a.receive(5000ms);
    sender.join();
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->header.id, 7);
    EXPECT_EQ(m->payload, vu::Bytes(msg.begin() + 16, msg.end()));
    ASSERT_EQ(m->fds.size(), 1u);
    EXPECT_TRUE(same_file(m->fds[0].get(), efd.get()));
    m = a.receive(1000ms);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum, ECONNRESET);
    EXPECT_NE(m.error().message.find("in the middle of a message, after 20 of 32 bytes"),
              std::string::npos)
        << m.error().message;
    m = a.receive(1000ms);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum, EPIPE);
}

// A message larger than the receive buffer's 64 KiB, with a descriptor,
// between small ones.
TEST(VfioUserChannel, MessageLargerThanTheBuffer) {
    Pair p;
    vu::Channel a(std::move(p.a)), b(std::move(p.b));
    pciem::UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
    vu::Bytes data(200 * 1024);
    for (size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::byte>(i * 7 + i / 256);
    }
    const auto big = vu::encode_region_write(2, 0, 0, data, false);
    ASSERT_LE(big.size(), vu::max_message_size);
    std::thread sender([&] {
        ASSERT_TRUE(b.send(vu::encode_region_read(1, 0, 0, 4)));
        const int fds[] = {efd.get()};
        ASSERT_TRUE(b.send(big, fds)); // blocks until the receiver reads
        ASSERT_TRUE(b.send(vu::encode_region_read(3, 0, 0, 4)));
    });
    auto m1 = a.receive(5000ms);
    auto m2 = a.receive(5000ms);
    auto m3 = a.receive(5000ms);
    sender.join();
    ASSERT_TRUE(m1) << m1.error().message;
    ASSERT_TRUE(m2) << m2.error().message;
    ASSERT_TRUE(m3) << m3.error().message;
    EXPECT_EQ(m1->header.id, 1);
    EXPECT_TRUE(m1->fds.empty());
    EXPECT_EQ(m2->header.id, 2);
    EXPECT_EQ(m2->header.size, big.size());
    EXPECT_EQ(m2->payload, vu::Bytes(big.begin() + 16, big.end()));
    ASSERT_EQ(m2->fds.size(), 1u);
    EXPECT_TRUE(same_file(m2->fds[0].get(), efd.get()));
    EXPECT_EQ(m3->header.id, 3);
    EXPECT_TRUE(m3->fds.empty());
}

TEST(VfioUserChannel, ConnectWaitsForTheServerThenGivesUp) {
    const std::string path = ::testing::TempDir() + "vfio-user-test.sock";
    ::unlink(path.c_str());
    auto c = vu::Channel::connect(path, 100ms);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().errnum, ENOENT);
    EXPECT_NE(c.error().message.find("waited 100 ms"), std::string::npos) << c.error().message;
    EXPECT_FALSE(vu::Channel::connect(std::string(200, 'x'), 10ms));
}
