#include "server/api/http_helpers.h"

#include <charconv>

#include "control/sweep_request.h"

namespace trainyard::server {

using nlohmann::json;

void WriteJson(ResponseWriter& response, int status, const json& body) {
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  response.SetStatus(status);
  response.SetHeader("Content-Type", "application/json");
  response.SetContentLength(text.size());
  (void)response.Write(text);
}

void WriteError(ResponseWriter& response, const Status& status, int http_status) {
  json error = {{"code", StatusCodeName(status.code())}, {"message", status.message()}};
  if (std::string field = control::FieldOfError(status); !field.empty()) error["field"] = field;
  if (response.headers_sent()) return;  // too late to say it in the status line
  WriteJson(response, http_status ? http_status : ToHttpStatus(status), {{"error", error}});
}

Result<json> ReadJsonBody(BodyReader& body, size_t max_bytes, int max_depth) {
  auto text = body.ReadAll(max_bytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kResourceExhausted) {
      return ResourceExhausted("the request body is larger than " + std::to_string(max_bytes) +
                               " bytes");
    }
    return text.status();
  }
  bool too_deep = false;
  json::parser_callback_t limit_depth = [&](int depth, json::parse_event_t, json&) {
    if (depth > max_depth) too_deep = true;
    return !too_deep;
  };
  try {
    json parsed = json::parse(*text, limit_depth);
    if (too_deep) {
      return InvalidArgument("the JSON body nests deeper than " + std::to_string(max_depth));
    }
    return parsed;
  } catch (const json::parse_error& error) {
    if (too_deep) {
      return InvalidArgument("the JSON body nests deeper than " + std::to_string(max_depth));
    }
    return InvalidArgument(std::string("the body is not valid JSON: ") + error.what());
  }
}

std::string BearerToken(const HttpRequest& request) {
  const std::string& header = request.Header("authorization");
  const std::string prefix = "Bearer ";
  if (header.size() <= prefix.size() || header.compare(0, prefix.size(), prefix) != 0) return "";
  return header.substr(prefix.size());
}

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
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<RangeRequest>();
  std::optional<uint64_t> first = ParseNumber(spec.substr(0, dash));
  std::optional<uint64_t> last = ParseNumber(spec.substr(dash + 1));
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

std::vector<std::string> PathSegments(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

}  // namespace trainyard::server
