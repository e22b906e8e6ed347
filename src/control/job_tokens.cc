#include "control/job_tokens.h"

#include <sys/random.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "storage/sha256.h"

namespace trainyard::control {

std::string RandomHex(size_t digits) {
  std::vector<uint8_t> bytes(digits / 2);
  size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t got = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (got < 0) throw std::runtime_error("getrandom failed");  // only without a kernel RNG
    filled += static_cast<size_t>(got);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (uint8_t byte : bytes) {
    token += kHex[byte >> 4];
    token += kHex[byte & 15];
  }
  return token;
}

std::string NewJobToken() {
  return RandomHex(64);
}

std::string TokenSha256(const std::string& token) {
  storage::Sha256 hash;
  hash.Update(token.data(), token.size());
  return hash.FinishHex();
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

}  // namespace trainyard::control
