// A streaming reader of multipart/form-data bodies (RFC 7578): parts come one at a time, and a
// part's content is read in pieces, so a file part of any size passes in constant memory.
// Not thread-safe.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server {

struct MultipartPart {
  std::string name;      // Content-Disposition's name
  std::string filename;  // Content-Disposition's filename, "" for a plain field
  std::string content_type;
};

class MultipartReader {
 public:
  // `content_type` is the request's header; InvalidArgument (via Start) without a boundary.
  MultipartReader(BodyReader& body, const std::string& content_type);

  // Moves to the next part (skipping what is left of the current one). false after the last.
  // InvalidArgument for a malformed body; the body reader's errors as they are.
  Result<bool> NextPart(MultipartPart& part);
  // Reads the current part's content; 0 at its end.
  Result<size_t> Read(char* buffer, size_t capacity);
  // The rest of the current part, refused above `limit` bytes.
  Result<std::string> ReadAll(size_t limit);

 private:
  Result<bool> Fill();  // false at the end of the body
  BodyReader& body_;
  std::string boundary_error_;
  std::string delimiter_;  // "\r\n--" + boundary
  std::string pending_;
  bool started_ = false;
  bool in_part_ = false;
  bool part_done_ = false;
  bool finished_ = false;
};

// The boundary parameter of a multipart Content-Type, or "".
std::string MultipartBoundary(const std::string& content_type);

}  // namespace trainyard::server
