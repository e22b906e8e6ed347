// /api/v1/datasets: uploads stream straight into the object store when their length is known
// (a raw body with Content-Length); multipart and chunked bodies are spooled to a temp file
// first, because the object store takes an exact size up front.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "common/log.h"
#include "control/job_tokens.h"
#include "server/api/api_server.h"
#include "server/api/http_helpers.h"
#include "server/api/multipart.h"
#include "server/api/representations.h"

namespace trainyard::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status ValidateKind(const std::string& kind) {
  static const std::set<std::string> kinds = {"training", "evaluation", "pretrained", "config",
                                              "other"};
  if (kinds.count(kind)) return Status::Ok();
  return control::FieldError("kind", kind.empty() ? "is required (training, evaluation, "
                                                    "pretrained, config or other)"
                                                  : "'" + kind +
                                                        "' is not one of training, "
                                                        "evaluation, pretrained, "
                                                        "config, other");
}

// The file name a job sees in its channel directory: one path segment, never a way out of it.
Status ValidateFilename(const std::string& filename) {
  if (filename.empty()) return control::FieldError("filename", "is required");
  if (filename.size() > 255) return control::FieldError("filename", "is longer than 255 bytes");
  if (filename.find('/') != std::string::npos || filename.find('\\') != std::string::npos) {
    return control::FieldError("filename", "must be a file name, not a path");
  }
  if (Status key = storage::ValidateObjectKey(filename); !key.ok()) {
    return control::FieldError("filename", key.message());
  }
  return Status::Ok();
}

Status ValidateName(const std::string& name) {
  if (name.empty()) return control::FieldError("name", "is required");
  if (name.size() > 255) return control::FieldError("name", "is longer than 255 bytes");
  // A name is shown, never used as a path; it may hold '/', but no control characters.
  std::string probe = name;
  std::replace(probe.begin(), probe.end(), '/', '_');
  if (Status key = storage::ValidateObjectKey(probe); !key.ok()) {
    return control::FieldError("name", key.message());
  }
  return Status::Ok();
}

// A temp file that removes itself.
class SpoolFile {
 public:
  explicit SpoolFile(fs::path path) : path_(std::move(path)) {}
  ~SpoolFile() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A full disk's status, named after the upload's dataset for the log (WriteError logs it and
// tells the client less); any other status as it is, since the client sees those.
Status InDataset(const Status& status, const std::string& dataset_id) {
  return status.disk_full() ? status.WithContext("dataset '" + dataset_id + "'") : status;
}

template <typename Reader>
Result<uint64_t> Spool(Reader& reader, const fs::path& path) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return Internal("cannot create the upload spool file '" + path.string() + "'");
  std::vector<char> buffer(256 * 1024);
  uint64_t total = 0;
  while (true) {
    TY_ASSIGN_OR_RETURN(size_t got, reader.Read(buffer.data(), buffer.size()));
    if (got == 0) break;
    file.write(buffer.data(), static_cast<std::streamsize>(got));
    // A spool file that cannot be written means a full disk (507, the path only logged).
    if (!file) return DiskFull("cannot write the upload spool file '" + path.string() + "'");
    total += got;
  }
  file.close();
  if (!file) return DiskFull("cannot write the upload spool file '" + path.string() + "'");
  return total;
}

}  // namespace

void ApiServer::UploadDataset(const HttpRequest& request, BodyReader& body,
                              ResponseWriter& response) {
  metadata::DatasetRecord dataset;
  dataset.id = "ds-" + control::RandomHex(16);
  auto query = [&](const char* key) {
    auto it = request.query.find(key);
    return it == request.query.end() ? std::string() : it->second;
  };
  dataset.name = query("name");
  dataset.kind = query("kind");
  dataset.filename = query("filename");
  dataset.content_type = request.Header("content-type");
  storage::PutOptions put_options;
  if (std::string sha = request.Header("x-content-sha256"); !sha.empty()) {
    put_options.expected_sha256_hex = sha;
  }

  std::optional<SpoolFile> spool;
  Result<storage::ObjectInfo> stored = Internal("nothing was uploaded");
  auto finish_names = [&]() -> Status {
    if (dataset.filename.empty()) dataset.filename = dataset.name;
    if (dataset.name.empty()) dataset.name = dataset.filename;
    TY_RETURN_IF_ERROR(ValidateName(dataset.name));
    TY_RETURN_IF_ERROR(ValidateKind(dataset.kind));
    TY_RETURN_IF_ERROR(ValidateFilename(dataset.filename));
    dataset.object_key = "datasets/" + dataset.id + "/" + dataset.filename;
    return Status::Ok();
  };
  auto put_spooled = [&](uint64_t size) {
    std::ifstream file(spool->path(), std::ios::binary);
    put_options.content_type = dataset.content_type;
    stored = objects_.Put(dataset.object_key, file, size, put_options);
  };

  if (std::string boundary = MultipartBoundary(dataset.content_type); !boundary.empty()) {
    MultipartReader reader(body, dataset.content_type);
    MultipartPart part;
    std::optional<uint64_t> size;
    while (true) {
      auto next = reader.NextPart(part);
      if (!next.ok()) return WriteError(response, next.status());
      if (!*next) break;
      if (!part.filename.empty() || part.name == "file") {
        if (size) return WriteError(response, InvalidArgument("give one file part per upload"));
        if (dataset.filename.empty()) dataset.filename = part.filename;
        dataset.content_type =
            part.content_type.empty() ? "application/octet-stream" : part.content_type;
        spool.emplace(options_.upload_temp_dir / (dataset.id + ".upload"));
        auto spooled = Spool(reader, spool->path());
        if (!spooled.ok()) return WriteError(response, InDataset(spooled.status(), dataset.id));
        size = *spooled;
      } else if (part.name == "name" || part.name == "kind" || part.name == "filename") {
        auto value = reader.ReadAll(1024);
        if (!value.ok()) return WriteError(response, value.status());
        (part.name == "name"   ? dataset.name
         : part.name == "kind" ? dataset.kind
                               : dataset.filename) = *value;
      }
    }
    if (!size) return WriteError(response, control::FieldError("file", "no file part was sent"));
    if (Status names = finish_names(); !names.ok()) return WriteError(response, names);
    put_spooled(*size);
  } else {
    if (Status names = finish_names(); !names.ok()) return WriteError(response, names);
    if (dataset.content_type.empty()) dataset.content_type = "application/octet-stream";
    if (request.content_length) {
      BodyStreamBuffer buffer(body);
      std::istream source(&buffer);
      put_options.content_type = dataset.content_type;
      stored = objects_.Put(dataset.object_key, source, *request.content_length, put_options);
      if (!buffer.error().ok()) {
        return WriteError(response, buffer.error().WithContext("the upload was cut off"));
      }
    } else {
      spool.emplace(options_.upload_temp_dir / (dataset.id + ".upload"));
      auto spooled = Spool(body, spool->path());
      if (!spooled.ok()) return WriteError(response, InDataset(spooled.status(), dataset.id));
      put_spooled(*spooled);
    }
  }
  if (!stored.ok()) {
    // Body too large is 413; a full disk at the store is 507 (Status::disk_full), logged with
    // the dataset it belongs to.
    return WriteError(response, InDataset(stored.status(), dataset.id));
  }
  dataset.size = stored->size;
  dataset.sha256_hex = stored->sha256_hex;
  dataset.created_at = std::chrono::system_clock::now();
  if (Status created = metadata_.CreateDataset(dataset); !created.ok()) {
    WarnIfFailed("api", objects_.Delete(dataset.object_key),
                 "dataset={} was not created, and its object {} is left behind", dataset.id,
                 dataset.object_key);
    return WriteError(response, created);
  }
  response.SetHeader("Location", "/api/v1/datasets/" + dataset.id);
  WriteJson(response, 201, DatasetJson(dataset));
}

void ApiServer::ListDatasets(ResponseWriter& response) {
  auto datasets = metadata_.ListDatasets();
  if (!datasets.ok()) return WriteError(response, datasets.status());
  json list = json::array();
  for (const auto& dataset : *datasets) list.push_back(DatasetJson(dataset));
  WriteJson(response, 200, {{"datasets", list}});
}

void ApiServer::GetDataset(const std::string& id, ResponseWriter& response) {
  auto dataset = metadata_.GetDataset(id);
  if (!dataset.ok()) return WriteError(response, dataset.status());
  WriteJson(response, 200, DatasetJson(*dataset));
}

void ApiServer::DeleteDataset(const std::string& id, ResponseWriter& response) {
  auto dataset = metadata_.GetDataset(id);
  if (!dataset.ok()) return WriteError(response, dataset.status());
  // The record goes first: a crash between the two leaves an unreferenced object, never a
  // dataset without its bytes.
  if (Status deleted = metadata_.DeleteDataset(id); !deleted.ok()) {
    return WriteError(response, deleted);
  }
  WarnIfFailed("api", objects_.Delete(dataset->object_key),
               "dataset={} was deleted, but its object {} is left behind", id, dataset->object_key);
  response.SetStatus(204);
}

void ApiServer::DownloadDataset(const HttpRequest& request, const std::string& id,
                                ResponseWriter& response) {
  auto dataset = metadata_.GetDataset(id);
  if (!dataset.ok()) return WriteError(response, dataset.status());
  SendObject(request, dataset->object_key, dataset->content_type, dataset->filename, response);
}

}  // namespace trainyard::server
