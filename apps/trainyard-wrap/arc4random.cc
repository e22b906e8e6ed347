// arc4random and arc4random_buf for the static libarchive inside trainyard-wrap (its temp-file
// names and its writers use them).
//
// glibc has it only since 2.36, so taking glibc's would make trainyard-wrap refuse to start in
// any image with an older glibc (Ubuntu 22.04, the CUDA images built on it). Defined here, the
// wrapper's newest glibc symbol is 2.35's. getrandom(2) is what glibc's own version uses.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

extern "C" uint32_t arc4random(void) {
  uint32_t value = 0;
  auto* bytes = reinterpret_cast<unsigned char*>(&value);
  size_t filled = 0;
  while (filled < sizeof(value)) {
    ssize_t got = getrandom(bytes + filled, sizeof(value) - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
    } else if (got < 0 && errno != EINTR) {
      std::abort();  // as glibc's: there is no safe value to return without entropy
    }
  }
  return value;
}

// The same for arc4random_buf, which libarchive's writers use (archive_random.c) once the
// wrapper packs its outputs (wrapper/staging.h).
extern "C" void arc4random_buf(void* buffer, size_t size) {
  auto* bytes = static_cast<unsigned char*>(buffer);
  size_t filled = 0;
  while (filled < size) {
    ssize_t got = getrandom(bytes + filled, size - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
    } else if (got < 0 && errno != EINTR) {
      std::abort();  // as glibc's: there is no safe value to return without entropy
    }
  }
}
