// Incremental SHA-256 (OpenSSL EVP), for hashing objects as they stream through.
// Not thread-safe: one hasher per stream.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>

namespace trainyard::storage {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  // Lowercase hex digest of everything given to Update. Call once.
  std::string FinishHex();

 private:
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context_;
};

}  // namespace trainyard::storage
