// SPDX-License-Identifier: MIT
// Namespace backings: memory and file, deallocation reads zeros.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backing.hpp"

namespace pciem::nvme {
namespace {

std::vector<std::byte> filled(size_t n, uint8_t v) {
    return std::vector<std::byte>(n, std::byte{v});
}

void check_deallocate(Backing& b) {
    const uint64_t size = b.size();
    ASSERT_EQ(b.write(0, filled(size, 0xab)), 0);
    // Unaligned at both ends, spanning whole pages in between.
    ASSERT_EQ(b.deallocate(100, 3 * 4096 + 50), 0);
    std::vector<std::byte> back(size);
    ASSERT_EQ(b.read(0, back), 0);
    for (uint64_t i = 0; i < size; ++i) {
        const bool hole = i >= 100 && i < 100 + 3 * 4096 + 50;
        ASSERT_EQ(back[i], std::byte{hole ? uint8_t{0} : uint8_t{0xab}}) << "byte " << i;
    }
    // Within one page.
    ASSERT_EQ(b.deallocate(5 * 4096 + 10, 20), 0);
    ASSERT_EQ(b.read(0, back), 0);
    EXPECT_EQ(back[5 * 4096 + 9], std::byte{0xab});
    EXPECT_EQ(back[5 * 4096 + 10], std::byte{0});
    EXPECT_EQ(back[5 * 4096 + 30], std::byte{0xab});
    EXPECT_EQ(b.flush(), 0);
}

TEST(NvmeBacking, MemoryReadsWrittenDataAndZerosWhereDeallocated) {
    auto b = make_memory_backing(8 * 4096);
    ASSERT_TRUE(b) << b.error().message;
    check_deallocate(**b);
}

TEST(NvmeBacking, FileIsSparseAndPunchesHoles) {
    char path[] = "/tmp/pciem-nvme-backing-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        // Two windows of one file, as two namespaces share it.
        auto first = open_file_backing(path, 0, 8 * 4096);
        auto second = open_file_backing(path, 8 * 4096, 8 * 4096);
        ASSERT_TRUE(first && second);
        struct stat st {};
        ASSERT_EQ(::stat(path, &st), 0);
        EXPECT_EQ(st.st_size, 16 * 4096) << "grown to cover both";
        ASSERT_EQ((*second)->write(0, filled(4096, 0x11)), 0);
        check_deallocate(**first);
        std::vector<std::byte> back(4096);
        ASSERT_EQ((*second)->read(0, back), 0);
        EXPECT_EQ(back, filled(4096, 0x11)) << "the other window is untouched";
    }
    ::unlink(path);
    auto missing_dir = open_file_backing("/nonexistent-dir/x", 0, 4096);
    ASSERT_FALSE(missing_dir);
    EXPECT_NE(missing_dir.error().message.find("/nonexistent-dir/x"), std::string::npos);
}

} // namespace
} // namespace pciem::nvme
