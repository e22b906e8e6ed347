// The request/response stream adapters and the Range header (see body_streams.h).
#include "server/http/body_streams.h"

#include <algorithm>
#include <charconv>

namespace trainyard::server {

namespace {
std::optional<uint64_t> ParseNumber(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}
}  // namespace

Result<std::optional<RangeRequest>> ParseRange(const std::string& header, uint64_t size) {
  const std::string prefix = "bytes=";
  if (header.compare(0, prefix.size(), prefix) != 0) return std::optional<RangeRequest>();
  std::string_view spec = std::string_view(header).substr(prefix.size());
  if (spec.find(',') != std::string_view::npos) return std::optional<RangeRequest>();
  // RFC 9110 §14.1.1: a range-spec is digits, '-', digits (either side may be empty), with
  // optional whitespace around it as a list element; anything else is not a range and is
  // ignored (the whole object is answered), never read as some other range.
  const size_t begin = spec.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return std::optional<RangeRequest>();
  spec = spec.substr(begin, spec.find_last_not_of(" \t") - begin + 1);
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<RangeRequest>();
  std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  std::optional<uint64_t> first = ParseNumber(first_text);
  std::optional<uint64_t> last = ParseNumber(last_text);
  if ((!first_text.empty() && !first) || (!last_text.empty() && !last)) {
    return std::optional<RangeRequest>();
  }
  auto unsatisfiable = [&] {
    return InvalidArgument("range '" + header + "' is outside the object's " +
                           std::to_string(size) + " bytes");
  };
  if (!first && !last) return std::optional<RangeRequest>();
  if (!first) {  // the last N bytes
    if (*last == 0 || size == 0) return unsatisfiable();
    uint64_t length = std::min(*last, size);
    return std::optional<RangeRequest>(RangeRequest{size - length, length});
  }
  if (*first >= size) return unsatisfiable();
  if (last && *last < *first) return std::optional<RangeRequest>();  // invalid: ignored
  uint64_t end = last ? std::min(*last, size - 1) : size - 1;
  return std::optional<RangeRequest>(RangeRequest{*first, end - *first + 1});
}

BodyStreamBuffer::int_type BodyStreamBuffer::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (!error_.ok()) return traits_type::eof();
  auto got = body_.Read(buffer_.data(), buffer_.size());
  if (!got.ok()) {
    error_ = got.status();
    return traits_type::eof();
  }
  if (*got == 0) return traits_type::eof();
  bytes_read_ += *got;
  setg(buffer_.data(), buffer_.data(), buffer_.data() + *got);
  return traits_type::to_int_type(*gptr());
}

bool ResponseStreamBuffer::Flush() {
  if (failed_) return false;
  size_t pending = static_cast<size_t>(pptr() - pbase());
  if (pending > 0) {
    if (!response_.Write(std::string_view(pbase(), pending)).ok()) failed_ = true;
    bytes_written_ += pending;
  }
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return !failed_;
}

ResponseStreamBuffer::int_type ResponseStreamBuffer::overflow(int_type ch) {
  if (!Flush()) return traits_type::eof();
  if (!traits_type::eq_int_type(ch, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(ch);
    pbump(1);
  }
  return traits_type::not_eof(ch);
}

int ResponseStreamBuffer::sync() {
  return Flush() ? 0 : -1;
}

}  // namespace trainyard::server
