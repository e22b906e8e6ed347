// SageMakerExecutor: runs each job as an Amazon SageMaker training job (or on any service that
// answers SageMaker's API, trainyard's own endpoint included: docs/sagemaker-endpoint.md).
//
// Submit uploads each channel's data to S3 (content-addressed: a dataset shared by a sweep's
// jobs goes up once), checks the CreateTrainingJob request against botocore's model (bad input
// fails here, naming the field, not minutes later in AWS) and sends it. A retried create that
// finds its own job already there adopts it; a different job under the name is AlreadyExists.
//
// One thread follows every job with DescribeTrainingJob, each job polled again `poll_min` after
// it changed and less often (up to `poll_max`) while it does not, so that a sweep of 100 jobs
// stays within SageMaker's rate limits. When a job ends, the thread downloads
// <S3OutputPath>/<job>/output/model.tar.gz and output.tar.gz, extracts predictions* from the
// latter, and reads the log from CloudWatch Logs, all into the job's artifact_dir; only then does
// Describe report the end (the scheduler stores the artifacts at that moment).
//
// Jobs live in AWS, not in this process: Describe of a name this executor does not know asks
// SageMaker, and follows the job from then on (a server restarted while its jobs ran finds them
// again). Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "aws/json_client.h"
#include "executor/executor.h"
#include "executor/sagemaker/sagemaker_options.h"
#include "storage/object_store.h"

namespace trainyard::executor {

class SageMakerExecutor : public Executor {
 public:
  // Checks the options and makes the SageMaker, CloudWatch Logs and S3 clients (nothing is
  // sent yet). `s3` may be given (tests, or a store the server already has for that bucket);
  // null: one is made from the options.
  static Result<std::unique_ptr<SageMakerExecutor>> Make(SageMakerExecutorOptions options,
                                                         storage::ObjectStorePtr s3 = nullptr);
  ~SageMakerExecutor() override;  // stops following; the jobs go on in SageMaker

  std::string name() const override { return "sagemaker"; }
  // SageMaker keeps every job, and names are unique: a job it does not know was never created,
  // and a create whose answer was lost adopts the job it finds under its name.
  bool RemembersJobsAcrossRestarts() const override { return true; }
  // Jobs live in AWS: any server describes them by name, and follows them from then on (their
  // artifacts go to <work_dir>/<job>/artifacts, where that server's scheduler expects them).
  bool ReachableFromAnyServer() const override { return true; }
  Status Adopt(const std::string& job_name, const std::filesystem::path& artifact_dir) override;
  // An image, or a command run by trainyard-wrap in the default image (docs/sagemaker.md).
  TrainerKind AcceptedTrainer() const override { return TrainerKind::kImageOrCommand; }
  bool RunsImageItself() const override { return true; }
  Status Submit(const JobSpec& spec) override;
  Result<JobDescription> Describe(const std::string& job_name) override;
  // StopTrainingJob; a job that already ended is left as it is.
  Status Stop(const std::string& job_name) override;

 private:
  struct Job;
  SageMakerExecutor(SageMakerExecutorOptions options, storage::ObjectStorePtr s3);

  Result<std::string> UploadChannel(const std::string& job_name, const std::string& channel,
                                    const std::filesystem::path& source);
  Status Create(const nlohmann::json& request);
  void Follow();
  // One DescribeTrainingJob of `job`, outside the lock; true when the job changed.
  bool Poll(Job& job);
  void CollectArtifacts(Job& job);
  std::shared_ptr<Job> Find(const std::string& job_name);

  SageMakerExecutorOptions options_;
  storage::ObjectStorePtr s3_;
  aws::JsonServiceClient sagemaker_;
  aws::JsonServiceClient logs_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::thread follower_;
};

}  // namespace trainyard::executor
