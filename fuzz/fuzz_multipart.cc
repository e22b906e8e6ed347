// libFuzzer target: a multipart/form-data body (the boundary comes from the first bytes) read
// part by part with reads of varying sizes. Must never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/api/multipart.h"

namespace {

class FuzzBody : public trainyard::server::BodyReader {
 public:
  FuzzBody(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  trainyard::Result<size_t> Read(char* buffer, size_t capacity) override {
    // Piece sizes vary with the data, so boundaries split at every place.
    size_t piece = 1 + (offset_ < size_ ? data_[offset_] % 97 : 0);
    size_t count = std::min({capacity, piece, size_ - offset_});
    std::copy(data_ + offset_, data_ + offset_ + count, buffer);
    offset_ += count;
    return count;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t boundary_length = size > 0 ? 1 + data[0] % 16 : 1;
  if (size < 1 + boundary_length) return 0;
  std::string boundary(reinterpret_cast<const char*>(data + 1), boundary_length);
  FuzzBody body(data + 1 + boundary_length, size - 1 - boundary_length);
  trainyard::server::MultipartReader reader(body, "multipart/form-data; boundary=" + boundary);
  trainyard::server::MultipartPart part;
  char buffer[61];
  for (int parts = 0; parts < 64; ++parts) {
    auto next = reader.NextPart(part);
    if (!next.ok() || !*next) break;
    if (parts % 2 == 0) {
      (void)reader.ReadAll(4096);
      continue;
    }
    while (true) {
      auto got = reader.Read(buffer, sizeof buffer);
      if (!got.ok() || *got == 0) break;
    }
  }
  return 0;
}
