// base::Writer and base::Reader (store/base/varint_codec.h), the form of
// every projection value: each varint, day and string reads back as
// written, whatever its length and whatever follows it, and bytes that end
// inside a value make the reader fail, never read past the end.
#include "base/varint_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::base {
namespace {

std::vector<uint64_t> Boundaries() {
  std::vector<uint64_t> v = {0, 1, 127, 128, 255, 300, 16383, 16384, 16385};
  for (int bits = 21; bits <= 63; bits += 7) {
    v.push_back((uint64_t(1) << bits) - 1);
    v.push_back(uint64_t(1) << bits);
  }
  v.push_back(UINT64_MAX);
  return v;
}

// Each value alone, at the end of the input (the slow path), and followed
// by a value of every length (the path that reads three bytes at once).
TEST(VarintCodecTest, EveryLengthReadsBackAloneAndFollowedByOthers) {
  for (uint64_t a : Boundaries()) {
    std::string alone;
    Writer(&alone).Var(a);
    Reader r(alone);
    EXPECT_EQ(r.Var(), a);
    EXPECT_TRUE(r.done()) << a;
    for (uint64_t b : Boundaries()) {
      std::string both;
      Writer w(&both);
      w.Var(a);
      w.Var(b);
      w.U8(0x80);  // a byte that would continue a varint, after both
      Reader r2(both);
      ASSERT_EQ(r2.Var(), a) << a << " then " << b;
      ASSERT_EQ(r2.Var(), b) << a << " then " << b;
      EXPECT_EQ(r2.U8(), 0x80);
      EXPECT_TRUE(r2.done());
    }
  }
}

TEST(VarintCodecTest, DaysOptionalDaysAndStringsReadBack) {
  std::string bytes;
  Writer w(&bytes);
  const Date days[] = {Date(std::chrono::days(0)), Date(std::chrono::days(17622)), Date(std::chrono::days(-1)),
                       Date(std::chrono::days(-100000)), Date(std::chrono::days(3000000))};
  for (Date d : days) {
    w.Day(d);
    w.OptDay(d);
    w.OptDay(std::nullopt);
    w.Str(std::string(size_t(d.time_since_epoch().count() & 0xff), 'x'));
  }
  Reader r(bytes);
  std::string s = "a buffer to reuse, longer than some of the strings";
  for (Date d : days) {
    EXPECT_EQ(r.Day(), d);
    EXPECT_EQ(r.OptDay(), std::optional<Date>(d));
    EXPECT_EQ(r.OptDay(), std::nullopt);
    r.Str(&s);
    EXPECT_EQ(s, std::string(size_t(d.time_since_epoch().count() & 0xff), 'x'));
  }
  EXPECT_TRUE(r.done());
}

// Cut anywhere inside a value, the input fails to read: the reader stops
// at the end, returns zero and is no longer ok.
TEST(VarintCodecTest, InputCutInsideAValueFails) {
  for (uint64_t a : Boundaries()) {
    std::string bytes;
    Writer(&bytes).Var(a);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      Reader r(std::string_view(bytes).substr(0, cut));
      EXPECT_EQ(r.Var(), 0u) << a << " cut at " << cut;
      EXPECT_FALSE(r.ok()) << a << " cut at " << cut;
    }
  }
  std::string bytes;
  Writer w(&bytes);
  w.Str("twelve bytes");
  std::string out = "kept?";
  Reader r(std::string_view(bytes).substr(0, 5));
  r.Str(&out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(out, "");
  // Eleven bytes of continuation: longer than any 64-bit value.
  const std::string eleven(11, '\x80');
  Reader long_one(eleven);
  long_one.Var();
  EXPECT_FALSE(long_one.ok());
}

}  // namespace
}  // namespace hearth::base
