// `trainyard server --slurm` end to end on a real one-node Slurm cluster
// (tests/support/slurm_cluster.h): a 2×2 sweep of the example trainer, each job one Slurm batch
// job running trainyard-wrap on the node over a job root in the shared directory, reporting its
// progress to the server through the callback URL; the model, predictions and log come back
// through the API. Skips, saying why, where the cluster cannot run.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "archive/archive.h"
#include "common/files.h"
#include "server_fixture.h"
#include "support/free_port.h"
#include "support/slurm_cluster.h"
#include "support/test_paths.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ServerProcess;
using testing::SlurmCluster;

const auto* const kSlurmCluster =
    ::testing::AddGlobalTestEnvironment(new testing::SlurmClusterEnvironment);

class SlurmServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SlurmCluster* cluster = SlurmCluster::Get();
    if (!cluster)
      GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
    server_ = std::make_unique<ServerProcess>(
        temp_.path() / "data",
        std::vector<std::string>{"--slurm-partition", cluster->partition(),
                                 "--slurm-poll-interval-ms", "200", "--executor-limit", "slurm=2",
                                 "--max-running", "4"},
        std::map<std::string, std::string>{{"SLURM_CONF", cluster->conf_file().string()}});
    server_->Start();
  }

  testing::TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SlurmServerTest, TwoByTwoSweepOnSlurmCompletesWithModelPredictionsAndLog) {
  json body = {{"name", "cluster"},
               {"executor", "slurm"},
               {"trainer", {{"command", {"trainyard-example-trainer"}}}},
               {"channels",
                {{"training", server_->UploadExample("train.csv", "training")},
                 {"evaluation", server_->UploadExample("eval.csv", "evaluation")}}},
               {"hyperparameters", {{"iterations", 100}}},
               {"grid", {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}}},
               {"max_parallel", 2},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  auto created = server_->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server_->WaitForSweepEnd(sweep_id, 4, 180s);
  EXPECT_EQ(sweep["counts"]["Completed"], 4)
      << sweep.dump() << "\n"
      << server_->Get("/api/v1/jobs?sweep=" + sweep_id + "&status=Failed").body << "\n"
      << SlurmCluster::Get()->LogTails();
  ASSERT_TRUE(sweep["best_job"].is_object()) << sweep.dump();
  std::string job = sweep["best_job"]["name"];
  json described = server_->Get("/api/v1/jobs/" + job).Json();
  EXPECT_EQ(described["exit_code"], 0) << described.dump();
  // Slurm's part of the way: Starting while queued, then Downloading and Training on the node.
  std::vector<std::string> seen;
  for (const json& transition : described["transitions"]) seen.push_back(transition["status"]);
  EXPECT_EQ(seen, (std::vector<std::string>{"Starting", "Downloading", "Training", "Uploading",
                                            "Completed"}))
      << described.dump();
  // The Slurm job id is named on whichever step the executor saw it (queued or running).
  bool names_slurm_job = false;
  for (const json& transition : described["transitions"]) {
    names_slurm_job = names_slurm_job || transition["status_message"].get<std::string>().find(
                                             "(Slurm job ") != std::string::npos;
  }
  EXPECT_TRUE(names_slurm_job) << described.dump();
  // Metrics came through the callback from the job on the node.
  json metrics = server_->Get("/api/v1/jobs/" + job + "/metrics?name=loss").Json();
  EXPECT_GT(metrics["metrics"].size(), 0u) << metrics.dump();

  fs::path model = temp_.path() / "model.tar.gz";
  auto download =
      server_->Cli({"job", "download", job, "--artifact", "model", "-o", model.string()});
  ASSERT_EQ(download.exit_code, 0) << download.output;
  fs::path unpacked = temp_.path() / "model";
  fs::create_directories(unpacked);
  auto files = archive::Unpack(model, unpacked);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
  testing::HttpAnswer predictions = server_->Get("/api/v1/jobs/" + job + "/artifacts/predictions");
  EXPECT_EQ(predictions.status, 200);
  EXPECT_FALSE(predictions.body.empty());
  testing::HttpAnswer log = server_->Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("eval_accuracy"), std::string::npos) << log.body;
}

// Over Slurm's commands every job is the server's Unix user's: a sweep naming its own Slurm user
// is refused at creation, naming the field and why, rather than run as someone else.
TEST_F(SlurmServerTest, ASweepsOwnUserIsRefusedOverSlurmsCommands) {
  json body = {{"name", "as-alice"},
               {"executor", "slurm"},
               {"trainer", {{"command", {"true"}}}},
               {"slurm", {{"user", "alice"}}}};
  auto refused = server_->Post("/api/v1/sweeps", body);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(refused.Json()["error"]["field"], "slurm.user") << refused.body;
  EXPECT_NE(refused.body.find("needs slurm_transport rest"), std::string::npos) << refused.body;
  EXPECT_EQ(server_->Get("/api/v1/sweeps").Json()["sweeps"].size(), 0u);
}

// Object-store staging (docs/slurm.md): the same sweep with nothing shared between the server's
// data dir and the jobs. How the test proves it: the jobs run as `nobody` (sbatch --uid, which
// root may give), and the test's whole directory, the server's data dir and its slurm work dir
// inside, is root's with mode 0700, so that the job's user can open nothing there; the node's
// root is made in /tmp by the batch script. The job can reach only the server's callback URL and
// its S3 endpoint (HTTP): that every job completes with its model, predictions and log, and that
// its staging objects are gone after, shows that its input and outputs travelled that way.
class SlurmObjectStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SlurmCluster::Get())
      GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to run the jobs as nobody (sbatch --uid)";
    ASSERT_EQ(::chmod(temp_.path().c_str(), 0700), 0);
  }

  // `trainyard server` in object-store staging, its jobs run as nobody.
  std::unique_ptr<ServerProcess> StartServer(std::vector<std::string> extra_flags = {},
                                             std::map<std::string, std::string> environment = {}) {
    std::vector<std::string> flags = StagingFlags();
    flags.insert(flags.end(),
                 {"--slurm-sbatch-arg=--uid=nobody",
                  "--slurm-sbatch-arg=--gid=" +
                      std::to_string(getgrnam("nogroup") ? getgrnam("nogroup")->gr_gid : 65534)});
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    return Launch(flags, std::move(environment));
  }
  // The flags of object-store staging on the test's cluster, with an S3 endpoint of its own.
  std::vector<std::string> StagingFlags() {
    s3_address_ = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    return {"--slurm-partition",
            SlurmCluster::Get()->partition(),
            "--slurm-poll-interval-ms",
            "200",
            "--executor-limit",
            "slurm=2",
            "--max-running",
            "4",
            "--slurm-staging",
            "object-store",
            "--s3-listen",
            s3_address_};
  }
  std::unique_ptr<ServerProcess> Launch(const std::vector<std::string>& flags,
                                        std::map<std::string, std::string> environment) {
    environment["SLURM_CONF"] = SlurmCluster::Get()->conf_file();
    auto server = std::make_unique<ServerProcess>(temp_.path() / "data", flags, environment);
    server->Start();
    return server;
  }
  // Where the staging bucket's objects lie in the server's local store.
  fs::path StagedJobs() const {
    return temp_.path() / "data" / "objects" / "objects" / "s3" / "objects" / "trainyard-staging" /
           "jobs";
  }
  // Slurm's output files of `job` in the node's /tmp, removed; whether there was one.
  static bool RemoveNodeOutput(const std::string& job) {
    bool found = false;
    for (const auto& entry : fs::directory_iterator("/tmp")) {
      if (entry.path().filename().string().starts_with("trainyard-" + job + "-")) {
        found = true;
        fs::remove(entry.path());
      }
    }
    return found;
  }

  testing::TempDir temp_;
  std::string s3_address_;  // the S3 endpoint of the last server started
};

TEST_F(SlurmObjectStagingTest, TwoByTwoSweepWithNoSharedDirectoryCompletes) {
  testing::TempDir& temp = temp_;
  SlurmCluster* cluster = SlurmCluster::Get();
  std::unique_ptr<ServerProcess> started = StartServer();
  ServerProcess& server = *started;
  json body = server.ExampleTrainerSweep(
      "staged", "slurm", {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}});
  auto created = server.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server.WaitForSweepEnd(sweep_id, 4, 180s);
  EXPECT_EQ(sweep["counts"]["Completed"], 4)
      << sweep.dump() << "\n"
      << server.Get("/api/v1/jobs?sweep=" + sweep_id + "&status=Failed").body << "\n"
      << cluster->LogTails();
  ASSERT_TRUE(sweep["best_job"].is_object()) << sweep.dump();
  json jobs = server.Get("/api/v1/jobs?sweep=" + sweep_id).Json();
  for (const json& listed : jobs["jobs"]) {
    std::string job = listed["name"];
    const std::string log = server.ExpectModelPredictionsAndLog(job, temp.path());
    // The wrapper downloaded the channel over HTTP, and ran as nobody.
    EXPECT_NE(log.find("staging: downloaded input/data/training/train.csv"), std::string::npos)
        << log;
    EXPECT_NE(log.find("eval_accuracy"), std::string::npos) << log;
    // Slurm's output file went to the node's /tmp, not to the server's work dir.
    EXPECT_TRUE(RemoveNodeOutput(job)) << job;
  }
  // A job that fails says why through its exit record: the exit code and the end of stderr,
  // labelled as the wrapper labelled it, and its log still comes back.
  json failing = {{"name", "staged-failure"},
                  {"executor", "slurm"},
                  {"trainer", {{"command", {"sh", "-c", "echo out of ideas >&2; exit 3"}}}},
                  {"channels", {{"training", server.UploadExample("train.csv", "training")}}},
                  {"objective", {{"metric", "loss"}, {"goal", "min"}}}};
  created = server.Post("/api/v1/sweeps", failing);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string failing_sweep = created.Json()["id"];
  server.WaitForSweepEnd(failing_sweep, 1, 120s);
  json failed = server.Get("/api/v1/jobs?sweep=" + failing_sweep).Json()["jobs"][0];
  EXPECT_EQ(failed["status"], "Failed") << failed.dump();
  std::string reason = failed.value("failure_reason", "");
  EXPECT_TRUE(reason.starts_with("AlgorithmError: exit code: 3")) << reason;
  EXPECT_NE(reason.find("out of ideas"), std::string::npos) << reason;
  testing::HttpAnswer failed_log =
      server.Get("/api/v1/jobs/" + failed["name"].get<std::string>() + "/artifacts/log");
  EXPECT_NE(failed_log.body.find("out of ideas"), std::string::npos) << failed_log.body;
  RemoveNodeOutput(failed["name"]);

  // Every job's staging objects are removed once its end is recorded.
  // (The store prunes the directories it empties: none left is none left.)
  // The executor removes them just after it records the end, which the API may show first.
  std::vector<std::string> left;
  testing::WaitFor(
      [&] {
        left.clear();
        std::error_code error;
        for (auto it = fs::recursive_directory_iterator(StagedJobs(), error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
          if (it->is_regular_file()) left.push_back(fs::relative(it->path(), StagedJobs()));
        }
        return left.empty();
      },
      10s);
  EXPECT_TRUE(left.empty()) << "staging objects left under " << StagedJobs() << ": "
                            << ::testing::PrintToString(left);
}

// The server killed (SIGKILL) while a job runs on the node, and started again: it follows the
// job again by its Slurm id, and the outputs, which the wrapper uploads to the restarted
// server's S3 endpoint (retrying while it is down), come back from the store.
TEST_F(SlurmObjectStagingTest, AJobOutlivesAServerKilledWhileItRuns) {
  std::unique_ptr<ServerProcess> server = StartServer();
  json body = {
      {"name", "outlives"},
      {"executor", "slurm"},
      {"trainer", {{"command", {"sh", "-c", "sleep 4; echo kept > \"$SM_MODEL_DIR/model.txt\""}}}},
      {"channels", {{"training", server->UploadExample("train.csv", "training")}}},
      {"objective", {{"metric", "loss"}, {"goal", "min"}}}};
  auto created = server->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::string job;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        json listed = server->Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        if (listed.empty()) return false;
        job = listed[0]["name"];
        // Its root on the node exists once the batch script runs.
        for (const auto& entry : fs::directory_iterator("/tmp")) {
          if (entry.path().filename().string().starts_with("trainyard-" + job + ".")) return true;
        }
        return false;
      },
      60s))
      << "the job never started on the node";
  server->Kill9();
  server->Start();
  json sweep = server->WaitForSweepEnd(sweep_id, 1, 120s);
  EXPECT_EQ(sweep["counts"]["Completed"], 1) << sweep.dump() << "\n"
                                             << server->Get("/api/v1/jobs?sweep=" + sweep_id).body;
  testing::HttpAnswer model = server->Get("/api/v1/jobs/" + job + "/artifacts/model");
  ASSERT_EQ(model.status, 200);
  fs::path archive = temp_.path() / "model.tar.gz";
  std::ofstream(archive, std::ios::binary) << model.body;
  fs::path unpacked = temp_.path() / "model";
  fs::create_directories(unpacked);
  ASSERT_TRUE(archive::Unpack(archive, unpacked).ok());
  auto kept = ReadFile(unpacked / "model.txt");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(*kept, "kept\n");
  RemoveNodeOutput(job);
}

// An input that is not what the server staged (the dataset changed in the store after the job
// was submitted) is refused by its SHA-256 on the node: the job fails before its command runs,
// as ClientError naming the channel. The job waits in Slurm's queue a few seconds (--begin)
// while the test changes one byte of the dataset's file, which the job fetches where it lies
// (the S3 endpoint's read-only view of the datasets): it is not copied into the job's staging
// objects, where its config files are.
TEST_F(SlurmObjectStagingTest, AChangedInputFailsTheJobNamingTheChannel) {
  std::unique_ptr<ServerProcess> server = StartServer({"--slurm-sbatch-arg=--begin=now+4"});
  const std::string dataset = server->UploadExample("train.csv", "training");
  json body = {{"name", "tampered"},
               {"executor", "slurm"},
               {"trainer", {{"command", {"sh", "-c", "echo ran"}}}},
               {"channels", {{"training", dataset}}},
               {"objective", {{"metric", "loss"}, {"goal", "min"}}}};
  auto created = server->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::vector<std::string> staged;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        staged.clear();
        std::error_code error;
        for (auto it = fs::recursive_directory_iterator(StagedJobs(), error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
          if (it->is_regular_file()) staged.push_back(it->path().filename().string());
        }
        return std::find(staged.begin(), staged.end(), "hyperparameters.json") != staged.end();
      },
      30s))
      << "the job's config files were never staged under " << StagedJobs();
  EXPECT_EQ(std::find(staged.begin(), staged.end(), "train.csv"), staged.end())
      << "the dataset was copied into the job's staging objects: "
      << ::testing::PrintToString(staged);
  const fs::path stored =
      temp_.path() / "data" / "objects" / "objects" / "datasets" / dataset / "train.csv";
  ASSERT_TRUE(fs::exists(stored)) << stored;
  {
    std::fstream file(stored, std::ios::in | std::ios::out | std::ios::binary);
    char first = 0;
    file.get(first);
    file.seekp(0);
    file.put(static_cast<char>(first ^ 1));
  }
  server->WaitForSweepEnd(sweep_id, 1, 120s);
  json job = server->Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"][0];
  EXPECT_EQ(job["status"], "Failed") << job.dump();
  std::string reason = job.value("failure_reason", "");
  EXPECT_TRUE(reason.starts_with("ClientError: ")) << reason;
  EXPECT_NE(reason.find("channel 'training': downloading 'train.csv' failed: "), std::string::npos)
      << reason;
  EXPECT_NE(reason.find("SHA-256 "), std::string::npos) << reason;
  testing::HttpAnswer log =
      server->Get("/api/v1/jobs/" + job["name"].get<std::string>() + "/artifacts/log");
  EXPECT_EQ(log.body.find("ran\n"), std::string::npos) << "the command ran: " << log.body;
  RemoveNodeOutput(job["name"]);
}

// The proof of checkpoints (docs/checkpoints.md): `scontrol requeue` of a running job of
// the example trainer. Slurm stops it (SIGTERM: the trainer writes its checkpoint; the wrapper
// stores it through the staging manifest's PUT URL, in the staging bucket, outside the job's own
// objects) and runs it again, in a new root on the node: the wrapper restores the checkpoint
// before the trainer starts, and the trainer continues its iteration count instead of starting
// over. No directory is shared with the node.
TEST_F(SlurmObjectStagingTest, ARequeuedJobResumesFromItsCheckpoint) {
  std::unique_ptr<ServerProcess> server = StartServer();
  json body = {{"name", "requeued"},
               {"executor", "slurm"},
               {"trainer", {{"command", {"trainyard-example-trainer"}}}},
               {"channels",
                {{"training", server->UploadExample("train.csv", "training")},
                 {"evaluation", server->UploadExample("eval.csv", "evaluation")}}},
               {"hyperparameters", {{"iterations", 400}, {"step_delay_ms", 40}}},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  auto created = server->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::string job;
  int64_t step_before = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        json listed = server->Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        if (listed.empty()) return false;
        job = listed[0]["name"];
        step_before = listed[0]["progress"].value("step", int64_t{0});
        return step_before >= 40;
      },
      120s))
      << "the job never got to step 40: " << server->Get("/api/v1/jobs?sweep=" + sweep_id).body;
  testing::ProcessResult id =
      SlurmCluster::Get()->Run({"squeue", "--noheader", "--format=%i", "--name=" + job});
  ASSERT_EQ(id.exit_code, 0) << id.output;
  std::string slurm_id = id.output.substr(0, id.output.find('\n'));
  ASSERT_FALSE(slurm_id.empty());
  testing::ProcessResult requeued = SlurmCluster::Get()->Run({"scontrol", "requeue", slurm_id});
  ASSERT_EQ(requeued.exit_code, 0) << requeued.output;

  json sweep = server->WaitForSweepEnd(sweep_id, 1, 300s);
  json ended = server->Get("/api/v1/jobs/" + job).Json();
  ASSERT_EQ(ended["status"], "Completed") << ended.dump() << "\n"
                                          << SlurmCluster::Get()->LogTails();
  EXPECT_EQ(ended["progress"].value("step", 0), 400) << ended.dump();
  // The log is the second run's: restored, then resumed where the first run stopped.
  testing::HttpAnswer log = server->Get("/api/v1/jobs/" + job + "/artifacts/log");
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("checkpoint: restored 1 files from http://"), std::string::npos)
      << log.body;
  testing::ExpectResumedFromCheckpoint(log.body, step_before, 400);
  // The checkpoint outlives the job's staging objects, for a later run of the same name.
  fs::path archive = StagedJobs().parent_path() / "checkpoints" / job / "checkpoints.tar.gz";
  EXPECT_TRUE(fs::exists(archive)) << archive;
  RemoveNodeOutput(job);
}

// boto3 code written for SageMaker, unchanged, against the SageMaker-compatible endpoint with
// Slurm behind it (--sagemaker-endpoint-executor slurm), its jobs staged through the S3 endpoint
// and run as nobody (so by Slurm: the server runs as root): tests/sagemaker_boto3_check.py
// creates a job that reads its training channel and writes a model, waits for Completed, reads
// the job's log and stops a long job.
TEST_F(SlurmObjectStagingTest, Boto3TrainingJobsRunOnSlurmThroughTheSageMakerEndpoint) {
  constexpr char kPython[] = "/usr/bin/python3";
  if (testing::RunProcess({kPython, "-c", "import boto3"}, {}, 30s).exit_code != 0)
    GTEST_SKIP() << "python3-boto3 is not installed";
  constexpr char kAwsCli[] = "/usr/bin/aws";
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << "Debian's awscli is not installed";
  if (SlurmCluster::Get()->memory_mb() < 8192) {
    GTEST_SKIP() << "the test node has " << SlurmCluster::Get()->memory_mb()
                 << " MB: the check's ml.m5.large jobs ask for 8 GiB";
  }
  constexpr char kKeyId[] = "AKIDSLURMSAGEMAKER";
  constexpr char kSecret[] = "slurm-sagemaker-secret";
  const std::string sagemaker = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  std::unique_ptr<ServerProcess> server = StartServer(
      {"--sagemaker-listen", sagemaker, "--sagemaker-endpoint-executor", "slurm"},
      {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId}, {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
  const auto client = testing::AwsClientEnvironment(temp_.path() / "home", kKeyId, kSecret);
  const std::string s3 = s3_address_;
  auto aws = [&](std::vector<std::string> arguments) {
    std::vector<std::string> argv = {kAwsCli, "--endpoint-url", "http://" + s3, "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return testing::RunProcess(argv, client, 120s);
  };
  testing::ProcessResult bucket = aws({"s3", "mb", "s3://ml-data"});
  ASSERT_EQ(bucket.exit_code, 0) << bucket.output;
  const fs::path data = temp_.path() / "data.csv";
  std::ofstream(data) << "x,y\n1,2\n";
  ASSERT_EQ(aws({"s3", "cp", data.string(), "s3://ml-data/train/data.csv"}).exit_code, 0);

  testing::ProcessResult checked = testing::RunProcess(
      {kPython, (testing::SourceDir() / "tests" / "sagemaker_boto3_check.py").string(),
       "http://" + sagemaker, "us-east-1", kKeyId, kSecret, "s3://ml-data/train/",
       "test \"$(id -un)\" = nobody && test -f $SM_CHANNEL_TRAINING/data.csv && "
       "echo w > $SM_MODEL_DIR/w.txt && echo trained"},
      client, 300s);
  EXPECT_EQ(checked.exit_code, 0) << checked.output << "\n"
                                  << server->OutputSoFar() << SlurmCluster::Get()->LogTails();
}

// `trainyard run --executor slurm`, no server: a 2×1 sweep of the example trainer, each job a
// Slurm batch job over its job root in OUT/.work (shared with the node, here the same machine);
// the results land in OUT as for local jobs, and the jobs saw Slurm's variables.
// Images on Slurm (docs/slurm.md, "Images"): a sweep that names the container tests' image (built
// locally by examples/container/build-image.sh, nothing pulled) runs in it on the node, its batch
// script running podman as the container executor would, in either staging mode (object-store:
// the node's own root is what is mounted). The model comes back through the API. Skips, saying
// why, where podman cannot run a container inside a Slurm job.
constexpr char kImage[] = "localhost/trainyard-example-trainer:test";

// Why podman cannot run the image inside a Slurm job of `cluster`; empty when it can.
std::string PodmanInSlurmUnavailable(SlurmCluster& cluster) {
  std::string unavailable = testing::BuildPodmanTestImage(kImage);
  if (!unavailable.empty()) return unavailable;
  // sbatch exports this process's environment (CONTAINERS_CONF included) to the job.
  testing::TempDir temp;
  fs::path output = temp.path() / "probe.out";
  auto probe = cluster.Run(
      {"sbatch", "--wait", "--partition=" + cluster.partition(), "--output=" + output.string(),
       std::string("--wrap=podman run --rm --pull never --network none "
                   "--entrypoint /bin/true ") +
           kImage},
      180s);
  if (probe.exit_code != 0) {
    auto text = ReadFile(output);
    return "podman cannot run a container inside a Slurm job here: " + probe.output +
           (text.ok() ? *text : "");
  }
  return "";
}

class SlurmImageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    SlurmCluster* cluster = SlurmCluster::Get();
    if (!cluster)
      GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
    static const std::string unavailable = PodmanInSlurmUnavailable(*cluster);
    if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  }
  testing::TempDir temp_;
};

TEST_P(SlurmImageTest, AJobNamingAnImageRunsInItOnTheNode) {
  SlurmCluster* cluster = SlurmCluster::Get();
  const bool object_store = GetParam() == "object-store";
  std::vector<std::string> flags = {"--slurm-partition",
                                    cluster->partition(),
                                    "--slurm-poll-interval-ms",
                                    "200",
                                    "--max-running",
                                    "2"};
  if (object_store) {
    flags.insert(flags.end(), {"--slurm-staging", "object-store", "--s3-listen",
                               "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort())});
  }
  ServerProcess server(temp_.path() / "data", flags,
                       {{"SLURM_CONF", cluster->conf_file().string()}});
  server.Start();
  json sweep = server.RunImageJob("slurm", kImage, 240s);
  ASSERT_EQ(sweep["counts"]["Completed"], 1)
      << sweep.dump() << "\n"
      << server.Get("/api/v1/jobs?sweep=" + sweep.value("id", "")).body << "\n"
      << cluster->LogTails();
  std::string job = sweep["best_job"]["name"];
  // Its batch script ran the image with podman, the root mounted at /opt/ml.
  auto script = ReadFile(temp_.path() / "data" / "slurm-jobs" / job / "slurm-job.sh");
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_NE(script->find("'podman' \\\n  'run' \\\n  '--rm'"), std::string::npos) << *script;
  EXPECT_NE(script->find("'--volume' \\\n  \"$root\"':/opt/ml'"), std::string::npos) << *script;
  EXPECT_NE(script->find(std::string("'") + kImage + "' \\\n  'train'"), std::string::npos)
      << *script;
  if (!object_store) {
    // Inside the container the job's paths are SageMaker's.
    json job_json = server.Get("/api/v1/jobs/" + job + "/artifacts/job.json").Json();
    EXPECT_EQ(job_json["model_dir"], "/opt/ml/model") << job_json.dump();
  }
  testing::HttpAnswer model = server.Get("/api/v1/jobs/" + job + "/artifacts/model");
  ASSERT_EQ(model.status, 200) << job;
  fs::path archive = temp_.path() / "model.tar.gz";
  std::ofstream(archive, std::ios::binary) << model.body;
  fs::path unpacked = temp_.path() / "model";
  fs::create_directories(unpacked);
  auto files = archive::Unpack(archive, unpacked);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
  testing::HttpAnswer log = server.Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_NE(log.body.find("eval_accuracy"), std::string::npos) << log.body;
  if (object_store) {
    EXPECT_NE(log.body.find("staging: downloaded input/data/training/train.csv"), std::string::npos)
        << log.body;
  }
  // The checkpoint the trainer wrote in its container is kept where a command's would be
  // (docs/checkpoints.md): podman mounted its store from the shared work dir, or it went
  // through the staging manifest's URL.
  const fs::path data = temp_.path() / "data";
  const fs::path checkpoint =
      object_store ? data / "objects" / "objects" / "s3" / "objects" / "trainyard-staging" /
                         "checkpoints" / job / "checkpoints.tar.gz"
                   : data / "slurm-jobs" / ".checkpoints" / job / "checkpoints.tar.gz";
  EXPECT_TRUE(fs::exists(checkpoint)) << checkpoint << "\n" << log.body;
}

INSTANTIATE_TEST_SUITE_P(Staging, SlurmImageTest, ::testing::Values("shared", "object-store"),
                         [](const auto& info) {
                           return info.param == "shared" ? std::string("Shared")
                                                         : std::string("ObjectStore");
                         });

// A sweep's own Slurm user (docs/slurm.md, "Identity"): over slurmrestd, with tokens minted from
// the cluster's key, the server submits, follows and stops each sweep's jobs as that sweep's
// user. The server's own user is `nobody` (slurm_rest_user) and it may also act as `daemon`
// (slurm_allowed_users): Slurm itself shows each job's owner. Object-store staging as above:
// the jobs read nothing of the test's directory (root's, mode 0700).
class SlurmIdentityTest : public SlurmObjectStagingTest {
 protected:
  void SetUp() override {
    SlurmObjectStagingTest::SetUp();
    if (IsSkipped()) return;
    if (SlurmCluster::Get()->rest_url().empty())
      GTEST_SKIP() << "no slurmrestd: " << SlurmCluster::Get()->RestUnavailableReason();
  }
  std::unique_ptr<ServerProcess> StartRestServer() {
    SlurmCluster* cluster = SlurmCluster::Get();
    std::vector<std::string> flags = StagingFlags();
    flags.insert(flags.end(),
                 {"--slurm-transport", "rest", "--slurm-rest-url", cluster->rest_url(),
                  "--slurm-rest-user", "nobody", "--slurm-jwt-key-file",
                  cluster->jwt_key_file().string(), "--slurm-allowed-users", "daemon"});
    return Launch(flags, {});
  }
  // A sweep of one job running `script` (sh -c) as Slurm user `user` ("": the server's).
  static json Sweep(const std::string& name, const std::string& script, const std::string& user) {
    json body = {
        {"name", name}, {"executor", "slurm"}, {"trainer", {{"command", {"sh", "-c", script}}}}};
    if (!user.empty()) body["slurm"] = {{"user", user}};
    return body;
  }
  // squeue's `format` field of the job named `job`, as Slurm sees it ("" when it does not know
  // it): %u its user, %T its state.
  static std::string SlurmField(const std::string& job, const std::string& format) {
    testing::ProcessResult listed = SlurmCluster::Get()->Run(
        {"squeue", "--states=all", "--noheader", "--name=" + job, "--format=" + format});
    std::string field = listed.output;
    while (!field.empty() && std::isspace(static_cast<unsigned char>(field.back()))) {
      field.pop_back();
    }
    return field;
  }
  static std::string OnlyJob(ServerProcess& server, const std::string& sweep_id) {
    json jobs = server.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
    return jobs.size() == 1 ? jobs[0]["name"].get<std::string>() : "";
  }
};

TEST_F(SlurmIdentityTest, EachSweepRunsAsItsOwnSlurmUser) {
  std::unique_ptr<ServerProcess> server = StartRestServer();
  const std::string who = "echo \"running as $(id -un)\"";
  std::map<std::string, std::string> sweeps;  // sweep id: the user its job must run as
  for (const auto& [name, user, expected] :
       {std::tuple<std::string, std::string, std::string>{"as-daemon", "daemon", "daemon"},
        {"as-rest-user", "", "nobody"}}) {
    auto created = server->Post("/api/v1/sweeps", Sweep(name, who, user));
    ASSERT_EQ(created.status, 201) << created.body;
    sweeps[created.Json()["id"]] = expected;
  }
  // A user the server may not act as is refused at creation, naming the field and why.
  auto refused = server->Post("/api/v1/sweeps", Sweep("as-root", who, "root"));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(refused.Json()["error"]["field"], "slurm.user") << refused.body;
  EXPECT_NE(refused.body.find("slurm_allowed_users: daemon"), std::string::npos) << refused.body;
  // And so is a user on an executor that has no users of its own.
  json local = Sweep("local-user", who, "daemon");
  local["executor"] = "local";
  auto refused_local = server->Post("/api/v1/sweeps", local);
  EXPECT_EQ(refused_local.status, 400) << refused_local.body;
  EXPECT_EQ(refused_local.Json()["error"]["field"], "slurm.user") << refused_local.body;

  for (const auto& [sweep_id, user] : sweeps) {
    json sweep = server->WaitForSweepEnd(sweep_id, 1, 120s);
    EXPECT_EQ(sweep["counts"]["Completed"], 1)
        << sweep.dump() << "\n"
        << server->Get("/api/v1/jobs?sweep=" + sweep_id).body << "\n"
        << SlurmCluster::Get()->LogTails();
    const std::string job = OnlyJob(*server, sweep_id);
    ASSERT_FALSE(job.empty()) << sweep_id;
    // Slurm's owner of the job, and the job's own Unix user on the node.
    EXPECT_EQ(SlurmField(job, "%u"), user) << job;
    testing::HttpAnswer log = server->Get("/api/v1/jobs/" + job + "/artifacts/log");
    EXPECT_NE(log.body.find("running as " + user), std::string::npos) << log.body;
    RemoveNodeOutput(job);
  }
  // No token in the server's log (a JWT's header, base64url of {"alg":...).
  EXPECT_EQ(server->OutputSoFar().find("eyJhbGci"), std::string::npos);
}

// A server killed while a sweep's job runs as its own user follows it again as that user: a stop
// after the restart reaches the job, which would otherwise run its 300 s (Slurm refuses to
// signal one user's job for another).
TEST_F(SlurmIdentityTest, ARestartKeepsTheSweepsSlurmUser) {
  std::unique_ptr<ServerProcess> server = StartRestServer();
  auto created =
      server->Post("/api/v1/sweeps",
                   Sweep("kept-user", "echo \"running as $(id -un)\"; exec sleep 300", "daemon"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep_id = created.Json()["id"];
  std::string job;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        job = OnlyJob(*server, sweep_id);
        return !job.empty() && SlurmField(job, "%T") == "RUNNING";
      },
      60s))
      << "the job never ran: " << server->Get("/api/v1/jobs?sweep=" + sweep_id).body;
  server->Kill9();
  server->Start();
  auto stopped = server->Post("/api/v1/sweeps/" + sweep_id + "/stop", json::object());
  ASSERT_EQ(stopped.status / 100, 2) << stopped.body;
  json sweep = server->WaitForSweepEnd(sweep_id, 1, 90s);
  EXPECT_EQ(sweep["counts"]["Stopped"], 1) << sweep.dump() << "\n"
                                           << server->Get("/api/v1/jobs?sweep=" + sweep_id).body;
  EXPECT_EQ(SlurmField(job, "%u"), "daemon");
  EXPECT_EQ(server->OutputSoFar().find("eyJhbGci"), std::string::npos);
  RemoveNodeOutput(job);
}

TEST(SlurmRunTest, ARunsJobsRunAsSlurmBatchJobsWithTheirResultsInOut) {
  SlurmCluster* cluster = SlurmCluster::Get();
  if (cluster == nullptr) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
  }
  testing::TempDir temp;
  const fs::path out = temp.path() / "out";
  const fs::path data = testing::SourceDir() / "examples" / "data" / "digits";
  const std::string trainer =
      (testing::BuildDir() / "examples" / "trainer" / "trainyard-example-trainer").string();
  testing::ProcessResult run =
      testing::RunProcess({(testing::BuildDir() / "apps" / "trainyard").string(),
                           "run",
                           "--name",
                           "onslurm",
                           "--executor",
                           "slurm",
                           "--slurm-partition",
                           cluster->partition(),
                           "--train",
                           (data / "train.csv").string(),
                           "--eval",
                           (data / "eval.csv").string(),
                           "--param",
                           "learning_rate=0.1,0.02",
                           "--hp",
                           "iterations=50",
                           "--parallel",
                           "2",
                           "--out",
                           out.string(),
                           "--",
                           "sh",
                           "-c",
                           "echo \"slurm job $SLURM_JOB_ID\"; exec " + trainer},
                          {{"SLURM_CONF", cluster->conf_file().string()}}, 180s);
  ASSERT_EQ(run.exit_code, 0) << run.output << cluster->LogTails();
  for (const char* name : {"onslurm-001", "onslurm-002"}) {
    for (const char* file : {"model.tar.gz", "predictions.csv", "training.log", "status.json"}) {
      EXPECT_TRUE(fs::exists(out / name / file)) << name << "/" << file;
    }
    auto status = ReadFile(out / name / "status.json");
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(json::parse(*status)["status"], "Completed") << *status;
    auto log = ReadFile(out / name / "training.log");
    ASSERT_TRUE(log.ok());
    const size_t said = log->find("slurm job ");
    ASSERT_NE(said, std::string::npos) << *log;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>((*log)[said + 10])))
        << "not a Slurm job: " << *log;
  }
  // A --slurm-* setting with the local executor is refused, naming it.
  testing::ProcessResult refused = testing::RunProcess(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "run", "--executor", "local",
       "--slurm-partition", "gpu", "--out", (temp.path() / "refused").string(), "--", "true"},
      {}, 30s);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--slurm-* settings are for --executor slurm"), std::string::npos)
      << refused.output;
}

// A `trainyard run --executor slurm` killed (SIGKILL) while its jobs run in Slurm: `--resume`
// follows them to their end, starts the one that never started, and runs each job's code once.
// `trainyard run --executor slurm --slurm-transport rest`: its jobs go through slurmrestd, with
// tokens minted from the cluster's key, as `trainyard server`'s do. Slurm's commands cannot be
// what ran them: there are none where --slurm-bin-dir points, and SLURM_CONF names no file.
TEST(SlurmRunTest, ARunReachesSlurmThroughSlurmrestd) {
  SlurmCluster* cluster = SlurmCluster::Get();
  if (cluster == nullptr) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
  }
  if (cluster->rest_url().empty()) {
    GTEST_SKIP() << "no slurmrestd: " << cluster->RestUnavailableReason();
  }
  testing::TempDir temp;
  const fs::path out = temp.path() / "out";
  const std::string user = getpwuid(geteuid())->pw_name;
  testing::ProcessResult run =
      testing::RunProcess({(testing::BuildDir() / "apps" / "trainyard").string(),
                           "run",
                           "--name",
                           "restrun",
                           "--executor",
                           "slurm",
                           "--slurm-partition",
                           cluster->partition(),
                           "--slurm-transport",
                           "rest",
                           "--slurm-rest-url",
                           cluster->rest_url(),
                           "--slurm-rest-user",
                           user,
                           "--slurm-jwt-key-file",
                           cluster->jwt_key_file().string(),
                           "--slurm-bin-dir",
                           (temp.path() / "no-slurm-here").string(),
                           "--param",
                           "n=1,2",
                           "--out",
                           out.string(),
                           "--",
                           "sh",
                           "-c",
                           "echo \"slurm job $SLURM_JOB_ID of $(id -un)\""},
                          {{"SLURM_CONF", (temp.path() / "no-slurm.conf").string()}}, 180s);
  ASSERT_EQ(run.exit_code, 0) << run.output << cluster->LogTails();
  for (const char* name : {"restrun-001", "restrun-002"}) {
    auto status = ReadFile(out / name / "status.json");
    ASSERT_TRUE(status.ok()) << name;
    EXPECT_EQ(json::parse(*status)["status"], "Completed") << *status;
    auto log = ReadFile(out / name / "training.log");
    ASSERT_TRUE(log.ok()) << name;
    const size_t said = log->find("slurm job ");
    ASSERT_NE(said, std::string::npos) << *log;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>((*log)[said + 10])))
        << "not a Slurm job: " << *log;
    EXPECT_NE(log->find(" of " + user), std::string::npos) << *log;
  }
  // No token on the run's output (a JWT's header, base64url of {"alg":...).
  EXPECT_EQ(run.output.find("eyJhbGci"), std::string::npos) << run.output;
}

TEST(SlurmRunTest, AKilledRunResumesItsSlurmJobsRunningEachOnce) {
  SlurmCluster* cluster = SlurmCluster::Get();
  if (cluster == nullptr) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
  }
  testing::TempDir temp;
  const fs::path out = temp.path() / "out";
  const fs::path markers = temp.path() / "markers";
  fs::create_directories(markers);
  const std::string trainyard = (testing::BuildDir() / "apps" / "trainyard").string();
  const std::map<std::string, std::string> environment = {
      {"SLURM_CONF", cluster->conf_file().string()}};
  testing::Process run({trainyard, "run", "--name", "resumed", "--executor", "slurm", "--param",
                        "n=1,2,3", "--parallel", "2", "--out", out.string(), "--", "sh", "-c",
                        "echo ran >> " + markers.string() + "/$TRAINING_JOB_NAME; sleep 3; " +
                            "echo done > $SM_MODEL_DIR/model.txt"},
                       environment);
  // Killed once two jobs' code runs: the third has not started.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        size_t started = 0;
        for (const auto& entry : fs::directory_iterator(markers))
          started += entry.is_regular_file();
        return started >= 2;
      },
      120s))
      << run.OutputSoFar() << cluster->LogTails();
  run.Signal(SIGKILL);
  run.Wait(30s);
  testing::ProcessResult resumed =
      testing::RunProcess({trainyard, "run", "--resume", out.string()}, environment, 180s);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output << cluster->LogTails();
  for (const char* name : {"resumed-001", "resumed-002", "resumed-003"}) {
    auto ran = ReadFile(markers / name);
    ASSERT_TRUE(ran.ok()) << name << " never ran";
    EXPECT_EQ(*ran, "ran\n") << name << "'s code ran more than once";
    auto status = ReadFile(out / name / "status.json");
    ASSERT_TRUE(status.ok()) << name;
    EXPECT_EQ(json::parse(*status)["status"], "Completed") << *status;
    EXPECT_TRUE(fs::exists(out / name / "model.tar.gz")) << name;
  }
}

// Needs no cluster: without Slurm's commands the server refuses to start, saying so.
TEST(SlurmServerStartTest, FailsClearlyWithoutSlurmsCommands) {
  testing::TempDir temp;
  auto result = testing::RunProcess(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "server", "--data-dir",
       (temp.path() / "data").string(), "--listen", "127.0.0.1:0", "--slurm"},
      {{"PATH", (temp.path() / "nowhere").string()}}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("slurm executor: Slurm's 'sbatch' not found"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace trainyard
