// SigV4 task 1: the canonical request. The rules, and why each exists:
// - Header names are case-insensitive in HTTP, so they are lower-cased and sorted; a header that
//   appears several times is one header whose values are joined with ',' in the order given
//   (RFC 9110 field combination) - reordering them would change the meaning.
// - Proxies may re-fold or re-space header values, so values are trimmed, obsolete line folding
//   (a continuation line) becomes a space, and inner runs of whitespace collapse to one space -
//   even inside quotes.
// - Query parameters are sorted by encoded name then encoded value, both encoded with the
//   unreserved set only ('/' too); a parameter without a value is "name=".
// - Every service but S3 normalises the path ("." / ".." / "//") and then URI-encodes the wire
//   path once more, so each %XX on the wire appears as %25XX: "double encoding". S3 keys are
//   opaque, so S3 signs the path as sent, neither normalised nor re-encoded.
#include <algorithm>
#include <cctype>
#include <map>

#include "aws/sigv4.h"
#include "aws/uri_encode.h"
#include "common/ascii.h"

namespace trainyard::aws {
namespace {

// Hop-by-hop or routinely rewritten by proxies and tracing agents: signing them would make
// the signature break in transit. Authorization cannot sign itself.
bool IsUnsignedHeader(const std::string& lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" ||
         lower_name == "x-amzn-trace-id" || lower_name == "expect" || lower_name == "connection" ||
         lower_name == "transfer-encoding";
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims, and turns every run of whitespace (including the CRLF + indent of a folded line) into
// one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string result;
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !result.empty();
      continue;
    }
    if (pending_space) result.push_back(' ');
    pending_space = false;
    result.push_back(c);
  }
  return result;
}

// Lower-cased name -> values joined with ',' in the order given; std::map sorts by name.
std::map<std::string, std::string> CanonicalHeaders(const HeaderList& headers) {
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : headers) {
    std::string lower_name = AsciiLower(name);
    if (IsUnsignedHeader(lower_name)) continue;
    auto [it, inserted] = canonical.try_emplace(lower_name, CanonicalHeaderValue(value));
    if (!inserted) it->second += "," + CanonicalHeaderValue(value);
  }
  return canonical;
}

// S3 signs the path as sent; bytes that are not legal in a request-target (a raw space or UTF-8
// given by mistake) are encoded so that the result is still what goes on the wire, while
// existing %XX escapes are kept rather than encoded a second time.
std::string EncodeOnceKeepingEscapes(std::string_view path) {
  std::string result;
  for (size_t i = 0; i < path.size(); ++i) {
    bool escape = path[i] == '%' && i + 2 < path.size() &&
                  std::isxdigit(static_cast<unsigned char>(path[i + 1])) &&
                  std::isxdigit(static_cast<unsigned char>(path[i + 2]));
    if (escape) {
      result.push_back('%');
    } else {
      result += UriEncode(path.substr(i, 1), false);
    }
  }
  return result;
}

std::string CanonicalPath(const std::string& path, const SigningParams& params) {
  std::string wire_path = path.empty() ? "/" : path;
  if (params.s3_rules) return EncodeOnceKeepingEscapes(wire_path);
  if (params.normalize_path) wire_path = NormalizePath(wire_path);
  return UriEncode(wire_path, /*encode_slash=*/false);
}

}  // namespace

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  // Sorted after encoding: the order is that of the encoded bytes, not the decoded ones.
  std::sort(encoded.begin(), encoded.end());
  std::string result;
  for (const auto& [name, value] : encoded) {
    if (!result.empty()) result.push_back('&');
    result += name + "=" + value;
  }
  return result;
}

std::string SignedHeaderSet::ToString() const {
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined.push_back(';');
    joined += name;
  }
  return joined;
}

SignedHeaderSet SignedHeadersOf(const HeaderList& headers) {
  SignedHeaderSet set;
  for (const auto& [name, value] : CanonicalHeaders(headers)) set.names.push_back(name);
  return set;
}

std::string CanonicalRequest(const HttpRequestToSign& request, const SigningParams& params,
                             SignedHeaderSet* signed_headers) {
  std::string result = request.method + "\n";
  result += CanonicalPath(request.path, params) + "\n";
  result += CanonicalQueryString(request.query) + "\n";
  SignedHeaderSet names;
  for (const auto& [name, value] : CanonicalHeaders(request.headers)) {
    result += name + ":" + value + "\n";
    names.names.push_back(name);
  }
  result += "\n" + names.ToString() + "\n";
  result += request.payload_sha256_hex;
  if (signed_headers != nullptr) *signed_headers = std::move(names);
  return result;
}

}  // namespace trainyard::aws
