// The SageMaker SDK's way of shipping code: entry_point and source_dir packed into
// sourcedir.tar.gz, uploaded to S3, and named by the hyperparameter sagemaker_submit_directory
// (with sagemaker_program the script to run). AWS's training toolkit downloads it and unpacks it
// into /opt/ml/code before running the script, unless /opt/ml/code already holds code. Here the
// scheduler fetches the object from its own store (where the S3-compatible endpoint keeps its
// buckets), as it fetches channels, and the executor unpacks it (JobSpec::code_source), so that
// a job's image needs no toolkit, no S3 client and no credentials.
#include <fstream>

#include "common/files.h"
#include "common/log.h"
#include "control/scheduler.h"
#include "core/hyperparameters.h"

namespace trainyard::control {
namespace fs = std::filesystem;

Result<fs::path> Scheduler::StageSubmitDirectory(const metadata::JobRecord& job) {
  auto given = job.hyperparameters.find("sagemaker_submit_directory");
  if (given == job.hyperparameters.end() || !options_.submit_directory_key) return fs::path();
  // The SDK sends it JSON-encoded ("\"s3://b/k\""), as every hyperparameter; a REST client's
  // plain string arrives as it is.
  const nlohmann::json decoded = core::DecodeHyperparameter(given->second);
  const std::string uri = decoded.is_string() ? decoded.get<std::string>() : given->second;
  if (uri.rfind("s3://", 0) != 0) return fs::path();  // a path in the image: the job's own
  const std::string field = "hyperparameter sagemaker_submit_directory '" + uri + "'";
  Result<std::string> key = options_.submit_directory_key(uri);
  if (!key.ok()) return key.status().WithContext(field);
  const fs::path directory = JobWorkDir(job.executor_job_name) / "code";
  TY_RETURN_IF_ERROR(MakeDirectories(directory));
  const fs::path target = directory / "sourcedir.tar.gz";
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  if (!out) return Internal("cannot write '" + target.string() + "'");
  if (Status fetched = objects_.Get(*key, out); !fetched.ok()) {
    if (fetched.code() == StatusCode::kNotFound) return NotFound(field + ": no such object");
    return fetched.WithContext(field);
  }
  out.close();
  if (!out) return Internal("cannot write '" + target.string() + "'");
  Logger("control").info("job={} code from {} staged", job.name, uri);
  return target;
}

}  // namespace trainyard::control
