#include "server/api/multipart.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/ascii.h"

namespace trainyard::server {
namespace {

constexpr size_t kMaxPartHeaderBytes = 16 * 1024;

// The value of `parameter` in a header such as `form-data; name="file"; filename="a.csv"`.
std::string HeaderParameter(const std::string& header, const std::string& parameter) {
  std::string lower = AsciiLower(header);
  size_t at = 0;
  while ((at = lower.find(parameter + "=", at)) != std::string::npos) {
    bool starts_word = at == 0 || lower[at - 1] == ';' || lower[at - 1] == ' ';
    at += parameter.size() + 1;
    if (!starts_word) continue;
    if (at < header.size() && header[at] == '"') {
      std::string value;
      for (size_t i = at + 1; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      return value;
    }
    size_t end = header.find(';', at);
    std::string value = header.substr(at, end == std::string::npos ? std::string::npos : end - at);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    return value;
  }
  return "";
}

}  // namespace

std::string MultipartBoundary(const std::string& content_type) {
  if (AsciiLower(content_type).rfind("multipart/form-data", 0) != 0) return "";
  return HeaderParameter(content_type, "boundary");
}

MultipartReader::MultipartReader(BodyReader& body, const std::string& content_type) : body_(body) {
  std::string boundary = MultipartBoundary(content_type);
  if (boundary.empty() || boundary.size() > 70) {
    boundary_error_ = "multipart/form-data needs a boundary of 1 to 70 characters";
  }
  // The first delimiter has no leading CRLF: pretend the body starts with one.
  delimiter_ = "\r\n--" + boundary;
  pending_ = "\r\n";
}

Result<bool> MultipartReader::Fill() {
  char chunk[64 * 1024];
  TY_ASSIGN_OR_RETURN(size_t got, body_.Read(chunk, sizeof chunk));
  if (got == 0) return false;
  pending_.append(chunk, got);
  return true;
}

Result<bool> MultipartReader::NextPart(MultipartPart& part) {
  if (!boundary_error_.empty()) return InvalidArgument(boundary_error_);
  if (finished_) return false;
  char skip[64 * 1024];
  if (in_part_) {
    while (true) {
      TY_ASSIGN_OR_RETURN(size_t got, Read(skip, sizeof skip));
      if (got == 0) break;
    }
  } else if (!started_) {
    // Skip the preamble up to the first delimiter.
    while (pending_.find(delimiter_) == std::string::npos) {
      if (pending_.size() > kMaxPartHeaderBytes) {
        return InvalidArgument("multipart body: no boundary found");
      }
      TY_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return InvalidArgument("multipart body: no boundary found");
    }
    pending_.erase(0, pending_.find(delimiter_) + delimiter_.size());
    started_ = true;
  }
  // After a delimiter: "--" ends the body; otherwise CRLF and the part's headers.
  while (pending_.size() < 2) {
    TY_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return InvalidArgument("multipart body ends inside a delimiter");
  }
  if (pending_.compare(0, 2, "--") == 0) {
    finished_ = true;
    in_part_ = false;
    return false;
  }
  size_t headers_end;
  while ((headers_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (pending_.size() > kMaxPartHeaderBytes) {
      return InvalidArgument("multipart part headers are larger than 16 KiB");
    }
    TY_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return InvalidArgument("multipart body ends inside a part's headers");
  }
  std::string headers = pending_.substr(0, headers_end);
  pending_.erase(0, headers_end + 4);
  part = MultipartPart{};
  size_t line_start = 0;
  while (line_start < headers.size()) {
    size_t line_end = headers.find("\r\n", line_start);
    if (line_end == std::string::npos) line_end = headers.size();
    std::string line = headers.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = AsciiLower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (name == "content-disposition") {
      part.name = HeaderParameter(value, "name");
      part.filename = HeaderParameter(value, "filename");
    } else if (name == "content-type") {
      part.content_type = value;
    }
  }
  in_part_ = true;
  part_done_ = false;
  return true;
}

Result<size_t> MultipartReader::Read(char* buffer, size_t capacity) {
  if (!in_part_ || part_done_) return size_t{0};
  while (true) {
    size_t found = pending_.find(delimiter_);
    // Bytes that cannot be the start of a delimiter may go out now.
    size_t safe =
        found != std::string::npos
            ? found
            : (pending_.size() >= delimiter_.size() ? pending_.size() - delimiter_.size() + 1 : 0);
    if (safe > 0) {
      size_t count = std::min(safe, capacity);
      std::memcpy(buffer, pending_.data(), count);
      pending_.erase(0, count);
      return count;
    }
    if (found == 0) {
      pending_.erase(0, delimiter_.size());
      part_done_ = true;
      in_part_ = false;
      return size_t{0};
    }
    TY_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return InvalidArgument("multipart body ends inside a part (no closing boundary)");
  }
}

Result<std::string> MultipartReader::ReadAll(size_t limit) {
  std::string content;
  char chunk[4096];
  while (true) {
    TY_ASSIGN_OR_RETURN(size_t got, Read(chunk, sizeof chunk));
    if (got == 0) return content;
    content.append(chunk, got);
    if (content.size() > limit) {
      return InvalidArgument("a multipart field is larger than " + std::to_string(limit) +
                             " bytes");
    }
  }
}

}  // namespace trainyard::server
