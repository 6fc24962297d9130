// base::StringIndex (store/base/string_index.h): the strings numbered in the
// order they were added, found again by their bytes, through growth and
// colliding hashes, within the size it says it holds.
#include "base/string_index.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_map>

namespace hearth::base {
namespace {

std::string Id(size_t i) { return "D" + std::to_string(i % 7) + std::string(1, '\0') + "P-" + std::to_string(i); }

TEST(StringIndexTest, NumbersStringsInOrderAndFindsEachAgainThroughGrowth) {
  StringIndex index;
  EXPECT_EQ(index.Find("anything"), StringIndex::kNone);
  constexpr size_t kCount = 100000;  // many doublings of the slots
  for (size_t i = 0; i < kCount; ++i) {
    bool added = false;
    ASSERT_EQ(index.Insert(Id(i), &added), i);
    ASSERT_TRUE(added);
  }
  EXPECT_EQ(index.size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(index.Find(Id(i)), i);
    ASSERT_EQ(index.Get(uint32_t(i)), Id(i));
    bool added = true;
    ASSERT_EQ(index.Insert(Id(i), &added), i);  // again: the same number, nothing added
    ASSERT_FALSE(added);
  }
  EXPECT_EQ(index.size(), kCount);
  EXPECT_EQ(index.Find(Id(kCount)), StringIndex::kNone);
  EXPECT_FALSE(index.Add(Id(5)));
  EXPECT_TRUE(index.Add(Id(kCount)));
}

TEST(StringIndexTest, EmptyPrefixesAndEmbeddedZerosAreDistinct) {
  StringIndex index;
  std::string with_zero("a\0b", 3), other_zero("a\0c", 3);
  for (const std::string& s : {std::string(), std::string("a"), std::string("ab"), with_zero, other_zero}) {
    EXPECT_TRUE(index.Add(s)) << s.size();
  }
  EXPECT_EQ(index.Find(""), 0u);
  EXPECT_EQ(index.Find("a"), 1u);
  EXPECT_EQ(index.Find(with_zero), 3u);
  EXPECT_EQ(index.Find(other_zero), 4u);
  EXPECT_EQ(index.Find(std::string("a\0", 2)), StringIndex::kNone);
}

TEST(StringIndexTest, MatchesAStdSetOnRandomStrings) {
  // Short strings from a small alphabet: many repeats, many equal prefixes.
  StringIndex index;
  std::unordered_map<std::string, uint32_t> reference;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::string s(1 + x % 6, 'a');
    for (size_t k = 0; k < s.size(); ++k) s[k] = char('a' + (x >> (8 + 3 * k)) % 5);
    bool added = false;
    uint32_t n = index.Insert(s, &added);
    auto [it, fresh] = reference.emplace(s, uint32_t(reference.size()));
    ASSERT_EQ(added, fresh) << s;
    ASSERT_EQ(n, it->second) << s;
  }
  EXPECT_EQ(index.size(), reference.size());
}

TEST(StringIndexTest, SaysWhatItWouldHoldAndGivesItBack) {
  StringIndex index;
  const size_t empty = index.HeldBytes();  // a string's own small buffer at most
  EXPECT_LT(empty, 64u);
  const size_t predicted = index.HeldBytesWith(1, 10);
  ASSERT_TRUE(index.Add("0123456789"));
  EXPECT_EQ(index.HeldBytes(), predicted);
  for (int i = 0; i < 5000; ++i) {
    size_t before = index.HeldBytesWith(1, 12);
    index.Add("s-" + std::to_string(1000000000 + i));
    EXPECT_LE(index.HeldBytes(), before) << i;  // never more than predicted
  }
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.HeldBytes(), empty);
  EXPECT_EQ(index.Find("0123456789"), StringIndex::kNone);
  EXPECT_TRUE(index.Add("0123456789"));
}

}  // namespace
}  // namespace hearth::base
