//===- KernelArtifactTest.cpp - KernelArtifact serialization --------------===//

#include "runtime/KernelArtifact.h"

#include <gtest/gtest.h>

using namespace linac;

namespace {

KernelArtifact sampleArtifact() {
  KernelArtifact artifact;
  artifact.symbol = "chunk_gla_fwd";
  artifact.target = "sm_90";
  artifact.metadata = R"({"op":"gla","args":["q","k","v","scale"]})";
  artifact.object = std::string("\x7f"
                                "ELF\0\0\x01",
                                7);
  artifact.ptx = ".version 8.0\n.target sm_90\n";
  artifact.cubin = std::string("\0\xff\0\x01", 4);
  artifact.ptxasLog = "ptxas info    : Used 128 registers";
  return artifact;
}

void expectEqual(const KernelArtifact &a, const KernelArtifact &b) {
  EXPECT_EQ(a.symbol, b.symbol);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.object, b.object);
  EXPECT_EQ(a.ptx, b.ptx);
  EXPECT_EQ(a.cubin, b.cubin);
  EXPECT_EQ(a.ptxasLog, b.ptxasLog);
}

TEST(KernelArtifactTest, RoundTripsEveryField) {
  KernelArtifact artifact = sampleArtifact();
  std::optional<KernelArtifact> restored =
      KernelArtifact::deserialize(artifact.serialize());
  ASSERT_TRUE(restored);
  expectEqual(*restored, artifact);
}

TEST(KernelArtifactTest, RoundTripsEmptyFields) {
  std::optional<KernelArtifact> restored =
      KernelArtifact::deserialize(KernelArtifact().serialize());
  ASSERT_TRUE(restored);
  expectEqual(*restored, KernelArtifact());
}

TEST(KernelArtifactTest, StartsWithMagic) {
  EXPECT_EQ(sampleArtifact().serialize().substr(0, 8), "LINACART");
}

TEST(KernelArtifactTest, RejectsEveryTruncation) {
  std::string bytes = sampleArtifact().serialize();
  for (std::size_t length = 0; length < bytes.size(); ++length)
    EXPECT_FALSE(KernelArtifact::deserialize(bytes.substr(0, length)))
        << "accepted the first " << length << " of " << bytes.size()
        << " bytes";
}

TEST(KernelArtifactTest, RejectsTrailingGarbage) {
  std::string bytes = sampleArtifact().serialize();
  EXPECT_FALSE(KernelArtifact::deserialize(bytes + '\0'));
  EXPECT_FALSE(KernelArtifact::deserialize(bytes + bytes));
}

TEST(KernelArtifactTest, RejectsUnknownMagic) {
  std::string bytes = sampleArtifact().serialize();
  bytes[0] = 'X';
  EXPECT_FALSE(KernelArtifact::deserialize(bytes));
}

TEST(KernelArtifactTest, RejectsUnknownVersion) {
  std::string bytes = sampleArtifact().serialize();
  // The format version follows the 8-byte magic.
  ++bytes[8];
  EXPECT_FALSE(KernelArtifact::deserialize(bytes));
}

TEST(KernelArtifactTest, RejectsRenamedField) {
  std::string bytes = sampleArtifact().serialize();
  std::size_t at = bytes.find("symbol");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'S';
  EXPECT_FALSE(KernelArtifact::deserialize(bytes));
}

TEST(KernelArtifactTest, RejectsOversizedLength) {
  std::string bytes = sampleArtifact().serialize();
  // The first field name's u64 length starts at 12; its top byte set makes
  // the length far exceed the input.
  bytes[12 + 7] = '\x80';
  EXPECT_FALSE(KernelArtifact::deserialize(bytes));
}

} // namespace
