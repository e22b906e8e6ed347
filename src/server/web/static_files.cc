#include "server/web/static_files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

namespace trainyard::server {
namespace fs = std::filesystem;

namespace {

// The built page runs only its own bundled files; styles may be inline (uPlot sets them).
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'";
constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kRevalidate[] = "no-cache";

void SendText(ResponseWriter& response, int status, const std::string& content_type,
              const std::string& text) {
  response.SetStatus(status);
  response.SetHeader("Content-Type", content_type);
  response.SetHeader("Cache-Control", kRevalidate);
  response.WriteBody(text);
}

std::string HtmlEscape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string NotBuiltPage(const fs::path& root) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<title>trainyard: the web UI was not built</title></head>\n<body>"
         "<h1>The trainyard web UI was not built</h1>\n"
         "<p>This server looked for it in <code>" +
         HtmlEscape(root.string()) +
         "</code> and found no <code>index.html</code> there.</p>\n"
         "<p>Build it with <code>cmake --build build --target trainyard_web_assets</code> "
         "(it needs Node.js and npm: <code>scripts/install-deps.sh</code>), or point the server "
         "at a built copy with <code>--web-dir</code>, <code>TRAINYARD_WEB_DIR</code> or the "
         "config key <code>web_dir</code>. The REST API at <code>/api/v1</code> works "
         "without it (docs/api.md).</p>\n</body></html>\n";
}

// The path's segments, or nothing for a path that tries to leave the directory or names a
// hidden file: "..", ".", ".git", a backslash or a NUL anywhere.
std::optional<std::vector<std::string>> SafeSegments(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string segment = path.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) continue;
    if (segment.front() == '.' || segment.find('\\') != std::string::npos ||
        segment.find('\0') != std::string::npos) {
      return std::nullopt;
    }
    segments.push_back(std::move(segment));
  }
  return segments;
}

// True when `file` (which exists) is inside `root` once symbolic links are resolved.
bool Inside(const fs::path& root, const fs::path& file) {
  std::error_code error;
  fs::path real_root = fs::canonical(root, error);
  if (error) return false;
  fs::path real_file = fs::canonical(file, error);
  if (error) return false;
  auto [root_end, file_position] =
      std::mismatch(real_root.begin(), real_root.end(), real_file.begin(), real_file.end());
  return root_end == real_root.end();
}

bool IsRegularFile(const fs::path& file) {
  std::error_code error;
  return fs::is_regular_file(file, error);
}

}  // namespace

std::string ContentTypeOf(const fs::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"}};
  std::string extension = file.extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = kTypes.find(extension);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

StaticFiles::StaticFiles(StaticFilesOptions options) : options_(std::move(options)) {}

void StaticFiles::Handle(const HttpRequest& request, ResponseWriter& response) const {
  if (request.method != "GET" && request.method != "HEAD") {
    response.SetHeader("Allow", "GET, HEAD");
    return SendText(response, 405, "text/plain; charset=utf-8",
                    request.method + " is not allowed on '" + request.path + "'\n");
  }
  auto segments = SafeSegments(request.path);
  if (!segments) {
    return SendText(response, 400, "text/plain; charset=utf-8",
                    "the path '" + request.path + "' is not allowed\n");
  }
  fs::path index = options_.root / "index.html";
  fs::path file = options_.root;
  for (const std::string& segment : *segments) file /= segment;
  if (!segments->empty() && IsRegularFile(file)) {
    if (!Inside(options_.root, file)) {
      return SendText(response, 404, "text/plain; charset=utf-8",
                      "no such file: '" + request.path + "'\n");
    }
    bool hashed = segments->size() > 1 && segments->front() == "assets";
    return SendFile(request, file, hashed ? kImmutable : kRevalidate, response);
  }
  // Not a file. Assets and anything with an extension are files that are missing; the rest
  // are the UI's own pages.
  bool looks_like_file = !segments->empty() && (segments->front() == "assets" ||
                                                segments->back().find('.') != std::string::npos);
  if (looks_like_file) {
    return SendText(response, 404, "text/plain; charset=utf-8",
                    "no such file: '" + request.path + "'\n");
  }
  if (!IsRegularFile(index)) {
    return SendText(response, 404, "text/html; charset=utf-8", NotBuiltPage(options_.root));
  }
  SendFile(request, index, kRevalidate, response);
}

void StaticFiles::SendFile(const HttpRequest& request, const fs::path& file,
                           const std::string& cache_control, ResponseWriter& response) const {
  std::error_code error;
  uint64_t size = fs::file_size(file, error);
  auto modified = fs::last_write_time(file, error);
  std::ifstream in(file, std::ios::binary);
  if (error || !in) {
    return SendText(response, 500, "text/plain; charset=utf-8",
                    "cannot read '" + file.filename().string() + "'\n");
  }
  // Size and modification time: enough to tell a rebuilt file from the cached one.
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(modified.time_since_epoch().count()));
  response.SetHeader("Cache-Control", cache_control);
  response.SetHeader("ETag", etag);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  bool html = file.extension() == ".html";
  if (html) response.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
  const std::string& if_none_match = request.Header("if-none-match");
  if (!if_none_match.empty() && if_none_match.find(etag) != std::string::npos) {
    response.SetStatus(304);
    return;
  }
  response.SetStatus(200);
  response.SetHeader("Content-Type", ContentTypeOf(file));
  response.SetContentLength(size);
  if (request.method == "HEAD") return;
  std::array<char, 64 * 1024> buffer;
  while (in) {
    in.read(buffer.data(), buffer.size());
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    // A client that went away ends the copy; the length mismatch tells a cut-short body.
    if (!response.Write(std::string_view(buffer.data(), static_cast<size_t>(got))).ok()) return;
  }
}

}  // namespace trainyard::server
