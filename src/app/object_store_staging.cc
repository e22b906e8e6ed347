#include "app/object_store_staging.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/presigned_url.h"
#include "common/files.h"
#include "common/log.h"
#include "server/s3/s3_names.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The outputs trainyard-wrap sends back (wrapper/staging.h).
constexpr const char* kOutputs[] = {"model.tar.gz", "output.tar.gz", "training.log",
                                    "trainyard-exit.json"};

}  // namespace

std::string ObjectStoreStaging::StoreKey(const std::string& job_name,
                                         const std::string& relative) const {
  return server::s3::ObjectStoreKey(options_.bucket,
                                    options_.jobs_prefix + job_name + "/" + relative);
}

Status ObjectStoreStaging::EnsureBucket() {
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
                                                std::chrono::seconds expires) {
  TY_RETURN_IF_ERROR(EnsureBucket().WithContext("staging bucket '" + options_.bucket + "'"));
  const TimePoint now = std::chrono::system_clock::now();
  auto presign = [&](const std::string& relative, const std::string& method) {
    return aws::PresignObjectUrl({.endpoint = options_.endpoint_url,
                                  .bucket = options_.bucket,
                                  .key = options_.jobs_prefix + job_name + "/" + relative,
                                  .method = method,
                                  .signed_at = now,
                                  .expires = expires},
                                 options_.credentials);
  };
  json manifest_inputs = json::array();
  for (const InputFile& input : inputs) {
    std::ifstream file(input.source, std::ios::binary);
    std::error_code error;
    uint64_t size = fs::file_size(input.source, error);
    if (!file || error) return Internal("cannot read '" + input.source.string() + "'");
    TY_ASSIGN_OR_RETURN(storage::ObjectInfo stored,
                        options_.objects->Put(StoreKey(job_name, "in/" + input.path), file, size));
    if (stored.sha256_hex.empty()) {
      return Internal("the object store gave no SHA-256 for '" + stored.key + "'");
    }
    TY_ASSIGN_OR_RETURN(std::string url, presign("in/" + input.path, "GET"));
    manifest_inputs.push_back(
        {{"path", input.path}, {"url", url}, {"size", size}, {"sha256", stored.sha256_hex}});
  }
  json outputs = json::object();
  for (const char* name : kOutputs) {
    TY_ASSIGN_OR_RETURN(outputs[name], presign(std::string("out/") + name, "PUT"));
  }
  Logger("app").info("job={} staged {} input files in bucket={} (URLs valid {} s)", job_name,
                     inputs.size(), options_.bucket, expires.count());
  return json{{"version", 1}, {"inputs", manifest_inputs}, {"outputs", outputs}}.dump();
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
