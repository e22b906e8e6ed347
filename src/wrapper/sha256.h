// Incremental SHA-256 for trainyard-wrap, which checks each file it downloads as it streams in.
//
// Its own, rather than storage/sha256.h (OpenSSL): the wrapper goes into images it was not built
// for and must need nothing but glibc (docs/architecture.md, "Logging").
// Not thread-safe: one hasher per stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace trainyard::wrapper {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  // Lowercase hex digest of everything given to Update. Call once.
  std::string FinishHex();

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace trainyard::wrapper
