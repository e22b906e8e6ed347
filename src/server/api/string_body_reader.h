// For tests: a request body held in a string, handed out `chunk` bytes at a time as a slow
// network would, so that readers meet every split.
#pragma once

#include <algorithm>
#include <string>

#include "server/http/http_server.h"

namespace trainyard::server {

class StringBodyReader : public BodyReader {
 public:
  explicit StringBodyReader(std::string text, size_t chunk = 3)
      : text_(std::move(text)), chunk_(chunk) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    size_t count = std::min({capacity, chunk_, text_.size() - offset_});
    text_.copy(buffer, count, offset_);
    offset_ += count;
    return count;
  }

 private:
  std::string text_;
  size_t chunk_;
  size_t offset_ = 0;
};

}  // namespace trainyard::server
