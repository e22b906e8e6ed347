// StaticFiles: serves the built web UI (docs/web-ui.md) from one directory, as `trainyard server`
// does at `/`. GET and HEAD only. A file under the directory is sent as itself; any other path
// without a file extension gets index.html (the UI routes in the browser: /sweeps/sw-1 is a
// page, not a file); a missing file with an extension (/assets/x.js) is 404. When the directory
// holds no index.html, pages answer a short HTML note saying the UI was not built.
//
// Caching: vite names the files under assets/ by their content hash, so they are cached for a
// year as immutable; everything else (index.html above all) is `no-cache`, revalidated by ETag.
//
// Thread-safe: it keeps only its options and reads the files anew for each request.
#pragma once

#include <filesystem>
#include <string>

#include "server/http/http_server.h"

namespace trainyard::server {

struct StaticFilesOptions {
  std::filesystem::path root;  // the directory vite built: index.html, assets/
};

class StaticFiles {
 public:
  explicit StaticFiles(StaticFilesOptions options);

  // Answers the request in full: 200 (or 304 for a matching If-None-Match) with the file or
  // index.html; 400 for a path with '..' or a hidden segment; 404 for a missing asset or, with
  // an HTML note, when the UI was not built; 405 for methods other than GET and HEAD.
  void Handle(const HttpRequest& request, ResponseWriter& response) const;

  const std::filesystem::path& root() const { return options_.root; }

 private:
  void SendFile(const HttpRequest& request, const std::filesystem::path& file,
                const std::string& cache_control, ResponseWriter& response) const;

  StaticFilesOptions options_;
};

// "text/javascript; charset=utf-8" for "index-3f2a.js": the Content-Type of a file by its
// extension, application/octet-stream for one not known.
std::string ContentTypeOf(const std::filesystem::path& file);

}  // namespace trainyard::server
