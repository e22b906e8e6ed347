// The slurm executor following a job it submitted, or one that another server submitted, and
// what it submits for a job with an image, over a Slurm played by the test (FakeSlurm): no Slurm
// needed.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/files.h"
#include "executor/slurm/slurm_executor.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// One Slurm shared by several executors (the servers sharing its work dir): every job it is
// given stays PENDING.
struct FakeSlurm {
  std::mutex mutex;
  std::condition_variable listed;
  std::vector<SlurmJobInfo> jobs;
  int next_id = 1;
  int listings = 0;
  // A submission of this job answers only after a listing made while it was being submitted
  // (an sbatch slower than another job's squeue).
  std::string slow_submission;
  // How long each listing takes (a controller slow to answer), and when each began and ended.
  std::chrono::milliseconds listing_takes{0};
  std::vector<
      std::pair<std::chrono::steady_clock::time_point, std::chrono::steady_clock::time_point>>
      listing_times;
  std::vector<SlurmSubmission> submissions;
  // Jobs as slurmrestd submits them: no batch script path in Slurm, only the job's comment and
  // working directory to know them by.
  bool rest = false;
};

// Object-store staging that keeps what it was asked to publish: no store, no URL to fetch.
class RecordingStaging : public JobStaging {
 public:
  Result<std::string> Publish(const std::string& job_name, const std::vector<InputFile>&,
                              std::chrono::seconds, const CheckpointSpec& checkpoint) override {
    std::lock_guard lock(mutex_);
    checkpoints_[job_name] = checkpoint;
    return std::string(R"({"version": 1, "inputs": [], "outputs": {"trainyard-exit.json": )"
                       R"("http://10.0.0.5:9000/x"}, "checkpoint": {}})");
  }
  Status Fetch(const std::string& job_name, const std::string& name, const fs::path&) override {
    return NotFound(name + " of " + job_name + " never came");
  }
  Status Remove(const std::string&) override { return Status::Ok(); }
  CheckpointSpec CheckpointOf(const std::string& job_name) {
    std::lock_guard lock(mutex_);
    return checkpoints_[job_name];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, CheckpointSpec> checkpoints_;
};

class FakeTransport : public SlurmTransport {
 public:
  explicit FakeTransport(FakeSlurm& slurm) : slurm_(slurm) {}
  std::string name() const override { return "fake"; }
  Status CheckUser(const std::string&) const override { return Status::Ok(); }
  Result<std::string> Submit(const SlurmSubmission& submission) override {
    std::unique_lock lock(slurm_.mutex);
    slurm_.submissions.push_back(submission);
    SlurmJobInfo job;
    for (const std::string& option : submission.options) {
      if (option.rfind("--job-name=", 0) == 0) job.name = option.substr(11);
    }
    if (job.name == slurm_.slow_submission) {
      const int seen = slurm_.listings;
      slurm_.listed.wait_for(lock, 5s, [&] { return slurm_.listings > seen; });
    }
    job.id = std::to_string(slurm_.next_id++);
    job.command = slurm_.rest ? "" : submission.script.string();
    for (const std::string& option : submission.options) {
      if (!slurm_.rest) break;
      if (option.rfind("--comment=", 0) == 0) job.comment = option.substr(10);
      if (option.rfind("--chdir=", 0) == 0) job.working_directory = option.substr(8);
    }
    job.state = "PENDING";
    job.reason = "Priority";
    slurm_.jobs.push_back(job);
    return job.id;
  }
  Result<std::vector<SlurmJobInfo>> ListJobs(const std::string&) override {
    const auto began = std::chrono::steady_clock::now();
    std::chrono::milliseconds takes;
    {
      std::lock_guard lock(slurm_.mutex);
      takes = slurm_.listing_takes;
    }
    std::this_thread::sleep_for(takes);
    std::lock_guard lock(slurm_.mutex);
    slurm_.listing_times.emplace_back(began, std::chrono::steady_clock::now());
    slurm_.listings += 1;
    slurm_.listed.notify_all();
    return slurm_.jobs;
  }
  Status Signal(const std::string&, const std::string&, const std::string&) override {
    return Status::Ok();
  }
  Status Cancel(const std::string&, const std::string&) override { return Status::Ok(); }

 private:
  FakeSlurm& slurm_;
};

class SlurmAdoptionTest : public ::testing::Test {
 protected:
  // `poll_interval`: long enough that a listing taken at a job's first look is still fresh
  // when the next job is looked at.
  // `staging`: object-store staging through it; null: the shared work dir.
  std::unique_ptr<SlurmExecutor> NewExecutor(std::chrono::milliseconds poll_interval = 2s,
                                             std::shared_ptr<JobStaging> staging = nullptr) {
    SlurmExecutorOptions options;
    options.work_dir = temp_.path() / "slurm-jobs";
    options.wrapper_path = "/usr/local/bin/trainyard-wrap";
    options.detach_jobs = true;
    options.poll_interval = poll_interval;
    if (staging) {
      options.staging = StagingMode::kObjectStore;
      options.job_staging = std::move(staging);
    }
    options.image_inspector = inspector_;
    return std::make_unique<SlurmExecutor>(options, std::make_unique<FakeTransport>(slurm_));
  }

  // A job of the image `localhost/trainer:1` whose checkpoint restores from its parent's.
  JobSpec CheckpointedImageSpec(const std::string& name) {
    JobSpec spec = Spec(name);
    spec.definition.training_image = "localhost/trainer:1";
    spec.checkpoint = {.name = name, .restore_from = name + "-parent"};
    return spec;
  }

  // The batch script of the job's submission.
  std::string SubmittedScript(const std::string& name) {
    WaitForSubmission(name);
    auto script = ReadFile(temp_.path() / "slurm-jobs" / name / SlurmExecutor::kScriptFileName);
    EXPECT_TRUE(script.ok()) << script.status().ToString();
    return script.ok() ? *script : "";
  }

  JobSpec Spec(const std::string& name) {
    JobSpec spec;
    spec.definition.job_name = name;
    spec.command = {"true"};
    spec.artifact_dir = temp_.path() / "artifacts" / name;
    return spec;
  }

  // Waits until the executor submitted the job to Slurm (its id recorded).
  void WaitForSubmission(const std::string& name) {
    const fs::path id_file = temp_.path() / "slurm-jobs" / name / SlurmExecutor::kJobIdFileName;
    for (int i = 0; i < 200 && !fs::exists(id_file); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(fs::exists(id_file)) << name << " was not submitted";
  }

  testing::TempDir temp_;
  FakeSlurm slurm_;
  RegistryInspector inspector_;  // none: images run as given
};

// The adopting executor listed Slurm (for a job of its own) just before the other server
// submitted the job it adopts: that listing predates the job, and must not make the job look
// forgotten by Slurm (which ended it Failed: "trainyard-wrap did not finish ... no longer known").
TEST_F(SlurmAdoptionTest, AListingOlderThanTheAdoptionIsNotTrustedForTheAdoptedJob) {
  auto adopter = NewExecutor();
  ASSERT_TRUE(adopter->Submit(Spec("its-own")).ok());
  WaitForSubmission("its-own");
  // Its own job's first look lists Slurm (a Describe until it shows the listing's message).
  for (int i = 0; i < 200; ++i) {
    auto own = adopter->Describe("its-own");
    ASSERT_TRUE(own.ok());
    if (own->status.transitions().back().message.find("Waiting in Slurm's queue") !=
        std::string::npos)
      break;
    std::this_thread::sleep_for(10ms);
  }
  auto submitter = NewExecutor();
  ASSERT_TRUE(submitter->Submit(Spec("taken-over")).ok());
  WaitForSubmission("taken-over");

  ASSERT_TRUE(adopter->Adopt("taken-over", temp_.path() / "artifacts" / "taken-over").ok());
  std::this_thread::sleep_for(300ms);  // its first look at Slurm
  auto adopted = adopter->Describe("taken-over");
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(adopted->status.status(), core::JobStatus::kInProgress)
      << adopted->status.ToJson().dump();
  EXPECT_NE(adopted->status.transitions().back().message.find("Waiting in Slurm's queue"),
            std::string::npos)
      << adopted->status.ToJson().dump();
}

// A server killed after slurmrestd took a job but before it recorded the job's Slurm id: the
// server that adopts the job finds it in Slurm by its name, its comment (job and sweep) and its
// working directory, and submits nothing again.
TEST_F(SlurmAdoptionTest, ARestJobWhoseIdWasNotRecordedIsFoundByItsComment) {
  slurm_.rest = true;
  auto submitter = NewExecutor();
  JobSpec spec = Spec("unrecorded");
  spec.sweep_id = "sweep-7";
  ASSERT_TRUE(submitter->Submit(spec).ok());
  WaitForSubmission("unrecorded");
  const fs::path id_file =
      temp_.path() / "slurm-jobs" / "unrecorded" / SlurmExecutor::kJobIdFileName;
  fs::remove(id_file);

  auto adopter = NewExecutor();
  ASSERT_TRUE(adopter->Adopt("unrecorded", temp_.path() / "artifacts" / "unrecorded").ok());
  for (int i = 0; i < 300 && !fs::exists(id_file); ++i) std::this_thread::sleep_for(10ms);
  auto id = ReadFile(id_file);
  ASSERT_TRUE(id.ok()) << "the adopter did not find the job: " << id.status().ToString();
  EXPECT_EQ(*id, "1\n");
  std::lock_guard lock(slurm_.mutex);
  EXPECT_EQ(slurm_.submissions.size(), 1u) << "submitted again";
}

// Another job's thread lists Slurm while sbatch of this one runs: that listing, taken after
// sbatch was called but before Slurm had the job, must not make the job look forgotten.
TEST_F(SlurmAdoptionTest, AListingTakenWhileTheJobWasSubmittedIsNotTrustedForIt) {
  auto executor = NewExecutor(100ms);
  ASSERT_TRUE(executor->Submit(Spec("lists")).ok());
  WaitForSubmission("lists");
  {
    std::lock_guard lock(slurm_.mutex);
    slurm_.slow_submission = "slow";
  }
  ASSERT_TRUE(executor->Submit(Spec("slow")).ok());
  WaitForSubmission("slow");
  std::this_thread::sleep_for(300ms);  // its first looks at Slurm
  auto slow = executor->Describe("slow");
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->status.status(), core::JobStatus::kInProgress) << slow->status.ToJson().dump();
}

// A controller slow to answer (here 150 ms a listing, against a poll interval of 10 ms) gets as
// long to itself between two listings as the last one took: the job threads share listings
// instead of keeping one running at all times.
TEST_F(SlurmAdoptionTest, ASlowListingIsFollowedByAPauseAsLong) {
  slurm_.listing_takes = 150ms;
  auto executor = NewExecutor(10ms);
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(executor->Submit(Spec(name)).ok());
  auto listings = [&] {
    std::lock_guard lock(slurm_.mutex);
    return slurm_.listing_times;
  };
  for (int i = 0; i < 500 && listings().size() < 5; ++i) std::this_thread::sleep_for(10ms);
  const auto times = listings();
  ASSERT_GE(times.size(), 5u);
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i].first - times[i - 1].second, 150ms) << "listing " << i;
  }
  for (const char* name : {"a", "b", "c"}) {
    auto described = executor->Describe(name);
    ASSERT_TRUE(described.ok());
    EXPECT_EQ(described->status.status(), core::JobStatus::kInProgress) << name;
  }
}

// An image run by podman on a shared work dir keeps its checkpoints there as a command does:
// its store (made before sbatch, since podman mounts only what exists) and its parent's, read
// only, mounted as the container executor mounts them, and named to trainyard-wrap inside.
TEST_F(SlurmAdoptionTest, AnImageJobGetsTheCheckpointStoresOfTheSharedWorkDirMounted) {
  auto executor = NewExecutor(100ms);
  ASSERT_TRUE(executor->Submit(CheckpointedImageSpec("ck-image")).ok());
  const std::string script = SubmittedScript("ck-image");
  const fs::path stores = fs::absolute(temp_.path() / "slurm-jobs" / ".checkpoints");
  const std::string inside = "/opt/trainyard/checkpoint-stores/";
  for (const std::string& word :
       {"'" + (stores / "ck-image").string() + ":" + inside + "ck-image'",
        "'" + (stores / "ck-image-parent").string() + ":" + inside + "ck-image-parent:ro'",
        "'TRAINYARD_CHECKPOINT_STORE=" + inside + "ck-image'",
        "'TRAINYARD_CHECKPOINT_RESTORE_FROM=" + inside + "ck-image-parent'"}) {
    EXPECT_NE(script.find(word), std::string::npos) << word << " not in:\n" << script;
  }
  EXPECT_TRUE(fs::is_directory(stores / "ck-image"));
}

// In object-store staging an image's checkpoint travels as a command's does: the staging is
// asked for its URLs, and nothing of the work dir is mounted or named.
TEST_F(SlurmAdoptionTest, AnImageJobInObjectStoreStagingHasItsCheckpointStaged) {
  auto staging = std::make_shared<RecordingStaging>();
  auto executor = NewExecutor(100ms, staging);
  ASSERT_TRUE(executor->Submit(CheckpointedImageSpec("ck-staged")).ok());
  const std::string script = SubmittedScript("ck-staged");
  EXPECT_EQ(staging->CheckpointOf("ck-staged").name, "ck-staged");
  EXPECT_EQ(staging->CheckpointOf("ck-staged").restore_from, "ck-staged-parent");
  EXPECT_EQ(script.find("checkpoint"), std::string::npos) << script;
  EXPECT_NE(script.find("'--env' \\\n  'TRAINYARD_STAGING'"), std::string::npos) << script;
  std::lock_guard lock(slurm_.mutex);
  ASSERT_EQ(slurm_.submissions.size(), 1u);
  EXPECT_TRUE(slurm_.submissions[0].exported.contains("TRAINYARD_STAGING"));
}

// A sweep's image named by its registry host runs by the digest the registry served for the
// sweep's first job (registry_digest.h), asked with skopeo (a stand-in here that answers from a
// file, and counts its calls): the sweep's later jobs run that digest after the tag moved, a
// restarted executor too (image-pins.json); another sweep gets the tag's new digest. A name each
// node resolves itself runs as given, and a digest the registry cannot give fails the job.
TEST_F(SlurmAdoptionTest, ASweepsImageRunsByTheDigestItsFirstJobWasSubmittedWith) {
  const fs::path answer = temp_.path() / "digest";
  const fs::path calls = temp_.path() / "skopeo-calls";
  inspector_.skopeo = temp_.path() / "skopeo";
  std::ofstream(inspector_.skopeo)
      << "#!/bin/sh\necho \"$*\" >> '" << calls.string() << "'\ncat '" << answer.string() << "'\n";
  fs::permissions(inspector_.skopeo, fs::perms::owner_all);
  auto moves_to = [&](const std::string& digest) { std::ofstream(answer) << digest << "\n"; };
  const std::string image = "registry.example.com:5000/team/trainer:v1";
  const std::string first = "registry.example.com:5000/team/trainer@sha256:" + std::string(64, 'a');
  const std::string moved = "registry.example.com:5000/team/trainer@sha256:" + std::string(64, 'b');
  auto submit = [&](SlurmExecutor& executor, const std::string& name, const std::string& sweep,
                    const std::string& job_image) {
    JobSpec spec = Spec(name);
    spec.sweep_id = sweep;
    spec.definition.training_image = job_image;
    EXPECT_TRUE(executor.Submit(spec).ok());
    return SubmittedScript(name);
  };
  auto runs = [](const std::string& script, const std::string& reference) {
    return script.find("'" + reference + "' \\\n  'train'") != std::string::npos;
  };

  moves_to("sha256:" + std::string(64, 'a'));
  {
    auto executor = NewExecutor(100ms);
    EXPECT_TRUE(runs(submit(*executor, "pin-1", "sw-1", image), first));
    auto described = executor->Describe("pin-1");
    ASSERT_TRUE(described.ok());
    EXPECT_EQ(described->image, image);
    EXPECT_EQ(described->image_digest, first);
    moves_to("sha256:" + std::string(64, 'b'));
    EXPECT_TRUE(runs(submit(*executor, "pin-2", "sw-1", image), first));
    EXPECT_TRUE(runs(submit(*executor, "pin-3", "sw-2", image), moved));
  }
  auto restarted = NewExecutor(100ms);
  EXPECT_TRUE(runs(submit(*restarted, "pin-4", "sw-1", image), first));
  // Each node resolves these itself: nothing to ask a registry.
  EXPECT_TRUE(runs(submit(*restarted, "short-name", "sw-1", "trainer:v1"), "trainer:v1"));
  EXPECT_TRUE(runs(submit(*restarted, "own-store", "sw-1", "localhost/trainer:v1"),
                   "localhost/trainer:v1"));
  EXPECT_TRUE(runs(submit(*restarted, "by-digest", "sw-1", first), first));
  auto asked = ReadFile(calls);
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(*asked, "inspect --no-tags --format {{.Digest}} docker://" + image + "\n" +
                        "inspect --no-tags --format {{.Digest}} docker://" + image + "\n");

  // The registry has no such tag: the job fails with its reason, and is never submitted.
  std::ofstream(inspector_.skopeo)
      << "#!/bin/sh\necho 'FATA[0000] Error parsing image name: reading manifest v9 in "
         "registry.example.com:5000/team/trainer: manifest unknown' >&2\nexit 1\n";
  auto executor = NewExecutor(100ms);
  JobSpec spec = Spec("unknown-tag");
  spec.sweep_id = "sw-3";
  spec.definition.training_image = "registry.example.com:5000/team/trainer:v9";
  ASSERT_TRUE(executor->Submit(spec).ok());
  Result<JobDescription> ended = NotFound("not yet");
  for (int i = 0; i < 300; ++i) {
    ended = executor->Describe("unknown-tag");
    if (ended.ok() && ended->status.status() != core::JobStatus::kInProgress) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->status.status(), core::JobStatus::kFailed);
  EXPECT_NE(ended->status.failure_reason().find(
                "training image not found: registry.example.com:5000/team/trainer:v9"),
            std::string::npos)
      << ended->status.failure_reason();
  EXPECT_FALSE(
      fs::exists(temp_.path() / "slurm-jobs" / "unknown-tag" / SlurmExecutor::kJobIdFileName));
}

}  // namespace
}  // namespace trainyard::executor
