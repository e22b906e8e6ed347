#include "app/object_store_staging.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "aws/presigned_url.h"
#include "common/files.h"
#include "common/log.h"
#include "server/s3/s3_names.h"
#include "storage/sha256.h"
#include "storage/url_presigner.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The outputs trainyard-wrap sends back (wrapper/staging.h).
constexpr const char* kOutputs[] = {"model.tar.gz", "output.tar.gz", "training.log",
                                    "trainyard-exit.json"};

// Where a store that presigns its own URLs keeps the staging objects.
constexpr char kStorePrefix[] = "staging/";

Result<std::string> FileSha256(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Internal("cannot read '" + path.string() + "'");
  storage::Sha256 digest;
  std::vector<char> buffer(1 << 16);
  while (file.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) ||
         file.gcount() > 0) {
    digest.Update(buffer.data(), static_cast<size_t>(file.gcount()));
  }
  if (file.bad()) return Internal("cannot read '" + path.string() + "'");
  return digest.FinishHex();
}

}  // namespace

std::string ObjectStoreStaging::StoreKey(const std::string& staging_key) const {
  if (options_.signer == ObjectStoreStagingOptions::Signer::kStore) {
    return kStorePrefix + staging_key;
  }
  return server::s3::ObjectStoreKey(options_.bucket, staging_key);
}

std::string ObjectStoreStaging::StoreKey(const std::string& job_name,
                                         const std::string& relative) const {
  return StoreKey(options_.jobs_prefix + job_name + "/" + relative);
}

Result<std::string> ObjectStoreStaging::Presign(const std::string& staging_key,
                                                const std::string& method, TimePoint now,
                                                std::chrono::seconds expires) const {
  if (options_.signer == ObjectStoreStagingOptions::Signer::kS3Endpoint) {
    return aws::PresignObjectUrl({.endpoint = options_.endpoint_url,
                                  .bucket = options_.bucket,
                                  .key = staging_key,
                                  .method = method,
                                  .signed_at = now,
                                  .expires = expires},
                                 options_.credentials);
  }
  storage::UrlPresigner* presigner = storage::PresignerOf(*options_.objects);
  if (presigner == nullptr) return FailedPrecondition("the object store cannot presign URLs");
  return presigner->PresignedUrl(StoreKey(staging_key), method, expires, options_.endpoint_url);
}

bool ObjectStoreStaging::HandsStoredObjectsInPlace() const {
  if (options_.signer == ObjectStoreStagingOptions::Signer::kS3Endpoint) {
    return options_.datasets_view.has_value();
  }
  return storage::PresignerOf(*options_.objects) != nullptr;
}

Result<std::string> ObjectStoreStaging::PresignStored(const std::string& store_key, TimePoint now,
                                                      std::chrono::seconds expires) const {
  if (options_.signer == ObjectStoreStagingOptions::Signer::kStore) {
    storage::UrlPresigner* presigner = storage::PresignerOf(*options_.objects);
    if (presigner == nullptr) return FailedPrecondition("the object store cannot presign URLs");
    return presigner->PresignedUrl(store_key, "GET", expires, options_.endpoint_url);
  }
  const std::optional<server::S3ReadOnlyView>& view = options_.datasets_view;
  if (!view || !store_key.starts_with(view->objects_prefix)) {
    return FailedPrecondition("object '" + store_key +
                              "' is in no read-only view of the S3 endpoint: it cannot be handed "
                              "to the job where it lies");
  }
  return aws::PresignObjectUrl({.endpoint = options_.endpoint_url,
                                .bucket = view->bucket,
                                .key = store_key.substr(view->objects_prefix.size()),
                                .method = "GET",
                                .signed_at = now,
                                .expires = expires},
                               {view->access_key_id, view->secret_access_key, ""});
}

Result<json> ObjectStoreStaging::CheckpointUrls(const executor::CheckpointSpec& checkpoint,
                                                TimePoint now, std::chrono::seconds expires) const {
  auto archive_key = [&](const std::string& name) {
    return options_.checkpoints_prefix + name + "/checkpoints.tar.gz";
  };
  json urls;
  TY_ASSIGN_OR_RETURN(urls["get"], Presign(archive_key(checkpoint.name), "GET", now, expires));
  TY_ASSIGN_OR_RETURN(urls["put"], Presign(archive_key(checkpoint.name), "PUT", now, expires));
  if (!checkpoint.restore_from.empty()) {
    TY_ASSIGN_OR_RETURN(urls["restore_from"],
                        Presign(archive_key(checkpoint.restore_from), "GET", now, expires));
  }
  return urls;
}

Result<std::string> ObjectStoreStaging::PresignCheckpoint(
    const executor::CheckpointSpec& checkpoint, std::chrono::seconds expires) {
  TY_RETURN_IF_ERROR(EnsureBucket().WithContext("staging bucket '" + options_.bucket + "'"));
  TY_ASSIGN_OR_RETURN(json urls,
                      CheckpointUrls(checkpoint, std::chrono::system_clock::now(), expires));
  Logger("app").info("checkpoint={} kept under key={} (URLs valid {} s)", checkpoint.name,
                     StoreKey(options_.checkpoints_prefix + checkpoint.name + "/"),
                     expires.count());
  return urls.dump();
}

Status ObjectStoreStaging::EnsureBucket() {
  if (options_.signer != ObjectStoreStagingOptions::Signer::kS3Endpoint) return Status::Ok();
  const std::string marker = server::s3::BucketMarkerKey(options_.bucket);
  auto head = options_.objects->Head(marker);
  if (head.ok()) return Status::Ok();
  if (head.status().code() != StatusCode::kNotFound) return head.status();
  // As the S3 endpoint's CreateBucket records a bucket.
  std::string record =
      "{\"created\": \"" + server::s3::FormatXmlDate(std::chrono::system_clock::now()) + "\"}\n";
  std::istringstream source(record);
  storage::PutOptions put;
  put.content_type = "application/json";
  TY_RETURN_IF_ERROR(options_.objects->Put(marker, source, record.size(), put).status());
  Logger("app").info("staging bucket={} created", options_.bucket);
  return Status::Ok();
}

Result<std::string> ObjectStoreStaging::Publish(const std::string& job_name,
                                                const std::vector<InputFile>& inputs,
                                                std::chrono::seconds expires,
                                                const executor::CheckpointSpec& checkpoint) {
  TY_RETURN_IF_ERROR(EnsureBucket().WithContext("staging bucket '" + options_.bucket + "'"));
  const TimePoint now = std::chrono::system_clock::now();
  auto presign = [&](const std::string& relative, const std::string& method) {
    return Presign(options_.jobs_prefix + job_name + "/" + relative, method, now, expires);
  };
  json manifest_inputs = json::array();
  size_t in_place = 0;
  for (const InputFile& input : inputs) {
    if (input.stored) {
      // Where it lies: its record's size and digest, which the wrapper checks the bytes
      // against (a dataset changed or deleted since fails the job, naming the channel).
      TY_ASSIGN_OR_RETURN(std::string url, PresignStored(input.stored->key, now, expires));
      manifest_inputs.push_back({{"path", input.path},
                                 {"url", url},
                                 {"size", input.stored->size},
                                 {"sha256", input.stored->sha256_hex}});
      ++in_place;
      continue;
    }
    std::ifstream file(input.source, std::ios::binary);
    std::error_code error;
    uint64_t size = fs::file_size(input.source, error);
    if (!file || error) return Internal("cannot read '" + input.source.string() + "'");
    TY_ASSIGN_OR_RETURN(storage::ObjectInfo stored,
                        options_.objects->Put(StoreKey(job_name, "in/" + input.path), file, size));
    if (stored.sha256_hex.empty()) {
      // An S3 store knows no digest of a multipart upload (storage/s3/s3_object_store.h).
      TY_ASSIGN_OR_RETURN(stored.sha256_hex, FileSha256(input.source));
    }
    TY_ASSIGN_OR_RETURN(std::string url, presign("in/" + input.path, "GET"));
    manifest_inputs.push_back(
        {{"path", input.path}, {"url", url}, {"size", size}, {"sha256", stored.sha256_hex}});
  }
  json outputs = json::object();
  for (const char* name : kOutputs) {
    TY_ASSIGN_OR_RETURN(outputs[name], presign(std::string("out/") + name, "PUT"));
  }
  json manifest = {{"version", 1}, {"inputs", manifest_inputs}, {"outputs", outputs}};
  if (!checkpoint.name.empty()) {
    TY_ASSIGN_OR_RETURN(manifest["checkpoint"], CheckpointUrls(checkpoint, now, expires));
  }
  Logger("app").info(
      "job={} staged {} input files under key={}, {} where they lie (URLs valid {} s){}", job_name,
      inputs.size() - in_place, StoreKey(job_name, ""), in_place, expires.count(),
      checkpoint.name.empty() ? "" : " checkpoint=" + checkpoint.name);
  return manifest.dump();
}

Status ObjectStoreStaging::Fetch(const std::string& job_name, const std::string& name,
                                 const fs::path& target) {
  TY_RETURN_IF_ERROR(MakeDirectories(target.parent_path()));
  const fs::path temporary = target.string() + ".fetch";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return Internal("cannot write '" + temporary.string() + "'");
    Status got = options_.objects->Get(StoreKey(job_name, "out/" + name), file);
    file.close();
    if (!got.ok() || !file) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      return got.ok() ? Internal("cannot write '" + temporary.string() + "'") : got;
    }
  }
  std::error_code error;
  fs::rename(temporary, target, error);
  if (error) return Internal("cannot move '" + temporary.string() + "': " + error.message());
  return Status::Ok();
}

Status ObjectStoreStaging::Remove(const std::string& job_name) {
  const std::string prefix = StoreKey(job_name, "");
  while (true) {
    TY_ASSIGN_OR_RETURN(storage::ListPage page, options_.objects->List(prefix));
    for (const storage::ObjectInfo& info : page.objects) {
      TY_RETURN_IF_ERROR(options_.objects->Delete(info.key));
    }
    if (!page.truncated || page.objects.empty()) return Status::Ok();
  }
}

}  // namespace trainyard::app
