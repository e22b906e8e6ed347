#include "wrapper/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace trainyard::wrapper {
namespace {

std::string Digest(const std::string& text) {
  Sha256 hash;
  hash.Update(text.data(), text.size());
  return hash.FinishHex();
}

// FIPS 180-2's examples, and the padding's edge cases (55, 56 and 64 bytes).
TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(Digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Digest(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Digest(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Digest(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256Test, ChunksMakeTheSameDigestAsOneUpdate) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 7);
  Sha256 hash;
  for (size_t offset = 0, step = 1; offset < text.size();
       offset += step, step = step * 3 % 97 + 1) {
    hash.Update(text.data() + offset, std::min(step, text.size() - offset));
  }
  EXPECT_EQ(hash.FinishHex(), Digest(text));
}

}  // namespace
}  // namespace trainyard::wrapper
