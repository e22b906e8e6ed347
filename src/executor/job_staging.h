// JobStaging: how an executor whose nodes share no filesystem with the server hands a job its
// input and gets its outputs back through an object store (docs/slurm.md, "Object-store
// staging"). The executor says which files; the staging stores them and mints, for this job
// alone, presigned URLs that trainyard-wrap uses (its staging manifest, wrapper/staging.h), and
// later reads back what the wrapper uploaded. The executor never sees the store or a credential.
//
// Implementations must be thread-safe (one executor's job threads share one).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "executor/executor.h"

namespace trainyard::executor {

class JobStaging {
 public:
  struct InputFile {
    std::string path;              // in the job's root: "input/data/train/train.csv"
    std::filesystem::path source;  // the file on this machine
  };

  virtual ~JobStaging() = default;

  // Stores `inputs` for job `job_name` and returns the staging manifest's JSON text: a GET URL
  // (with size and SHA-256) per input, a PUT URL per output the wrapper sends back, and, for a
  // `checkpoint` with a name, a GET and a PUT URL of its one archive (and a GET of the archive
  // of checkpoint.restore_from), each valid for `expires`. The checkpoint's archive outlives
  // Remove. Errors: a source that cannot be read, the store failing.
  virtual Result<std::string> Publish(const std::string& job_name,
                                      const std::vector<InputFile>& inputs,
                                      std::chrono::seconds expires,
                                      const CheckpointSpec& checkpoint) = 0;
  // Copies the output `name` that the job's wrapper uploaded ("trainyard-exit.json",
  // "model.tar.gz", ...) to `target`. NotFound when it never arrived.
  virtual Status Fetch(const std::string& job_name, const std::string& name,
                       const std::filesystem::path& target) = 0;
  // Removes every staging object of the job (its end is recorded).
  virtual Status Remove(const std::string& job_name) = 0;
};

}  // namespace trainyard::executor
