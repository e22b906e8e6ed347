// Object-store staging through an s3:// object store (docs/slurm.md): `trainyard server
// --objects s3://...` on s3rver (an S3 implementation nobody here wrote), with no S3 endpoint of
// its own (no --s3-listen), runs a job on the real one-node Slurm cluster
// (tests/support/slurm_cluster.h) whose input and outputs travel through presigned URLs of
// s3rver, signed with the store's credentials. As in slurm_e2e_test's object-store staging, the
// job runs as `nobody` and the test's directory (the server's data dir and work dir inside) is
// root's with mode 0700: the job can read nothing of the server's, so its input can only have
// come from s3rver, whose request log shows the job's GETs and PUTs: the datasets' own objects
// fetched where they lie, the server reading none of them. Skips, saying why, where Slurm or
// s3rver cannot run.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <sstream>

#include "server_fixture.h"
#include "storage/s3/s3_peer.h"
#include "support/slurm_cluster.h"
#include "support/test_paths.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using storage::S3rverPeer;
using testing::ServerProcess;
using testing::SlurmCluster;

const auto* const kSlurmCluster =
    ::testing::AddGlobalTestEnvironment(new testing::SlurmClusterEnvironment);

constexpr char kPrefix[] = "slurm-e2e";

TEST(SlurmS3StoreStagingTest, AJobsInputAndOutputsTravelThroughTheS3StoresPresignedUrls) {
  SlurmCluster* cluster = SlurmCluster::Get();
  if (!cluster) GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to run the job as nobody (sbatch --uid)";
  std::string why_not;
  std::unique_ptr<S3rverPeer> s3rver = S3rverPeer::Start(&why_not, /*log_requests=*/true);
  if (!s3rver) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  testing::TempDir temp;
  ASSERT_EQ(::chmod(temp.path().c_str(), 0700), 0);

  // The store's credentials as the SDKs find them, and nothing else of S3: no --s3-listen.
  ServerProcess server(
      temp.path() / "data",
      {"--objects",
       std::string("s3://") + S3rverPeer::kBucket + "/" + kPrefix +
           "?endpoint=" + s3rver->endpoint(),
       "--slurm-partition", cluster->partition(), "--slurm-poll-interval-ms", "200",
       "--slurm-staging", "object-store", "--slurm-sbatch-arg=--uid=nobody",
       "--slurm-sbatch-arg=--gid=" +
           std::to_string(getgrnam("nogroup") ? getgrnam("nogroup")->gr_gid : 65534)},
      {{"SLURM_CONF", cluster->conf_file().string()},
       {"AWS_ACCESS_KEY_ID", S3rverPeer::kAccessKeyId},
       {"AWS_SECRET_ACCESS_KEY", S3rverPeer::kSecretAccessKey},
       {"AWS_CONFIG_FILE", "/dev/null"},
       {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}});
  server.Start();
  json body = server.ExampleTrainerSweep("s3-staged", "slurm", {{"learning_rate", {0.1}}});
  auto created = server.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server.WaitForSweepEnd(sweep_id, 1, 180s);
  ASSERT_EQ(sweep["counts"]["Completed"], 1)
      << sweep.dump() << "\n"
      << server.Get("/api/v1/jobs?sweep=" + sweep_id).body << "\n"
      << server.OutputSoFar() << cluster->LogTails();
  const std::string job = server.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"][0]["name"];

  const std::string log = server.ExpectModelPredictionsAndLog(job, temp.path());
  EXPECT_NE(log.find("staging: downloaded input/data/training/train.csv"), std::string::npos)
      << log;
  EXPECT_NE(log.find("eval_accuracy"), std::string::npos) << log;

  // The job's own requests, by presigned URL, reached s3rver: its channels' GETs, of each
  // dataset's own object where it lies (neither read by the server nor copied into the job's
  // staging objects), and its outputs' PUTs (the exit record last).
  const std::string staged =
      std::string("/") + S3rverPeer::kBucket + "/" + kPrefix + "/staging/jobs/" + job + "/";
  const std::string requests = s3rver->RequestLog();
  auto store = s3rver->Store(kPrefix);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto datasets = (*store)->List("datasets/");
  ASSERT_TRUE(datasets.ok()) << datasets.status().ToString();
  ASSERT_EQ(datasets->objects.size(), 2u);  // train.csv and eval.csv
  for (const storage::ObjectInfo& dataset : datasets->objects) {
    const std::string path =
        std::string("/") + S3rverPeer::kBucket + "/" + kPrefix + "/" + dataset.key;
    // Every GET of it, signed in a header or in the URL: the job's alone.
    size_t gets = 0;
    std::istringstream lines(std::regex_replace(requests, std::regex("\x1b\\[[0-9;]*m"), ""));
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" GET " + path + "?") != std::string::npos ||
          line.find(" GET " + path + " ") != std::string::npos) {
        ++gets;
      }
    }
    EXPECT_EQ(gets, 1u) << dataset.key << "\n" << requests;
    EXPECT_EQ(s3rver->RequestsFor("GET", path).size(), 1u) << dataset.key << "\n" << requests;
  }
  EXPECT_EQ(requests.find(staged + "in/input/data/"), std::string::npos) << requests;
  EXPECT_NE(requests.find(staged + "in/input/config/hyperparameters.json"), std::string::npos)
      << requests;
  for (const char* output :
       {"model.tar.gz", "output.tar.gz", "training.log", "trainyard-exit.json"}) {
    EXPECT_EQ(s3rver->RequestsFor("PUT", staged + "out/" + output).size(), 1u) << output << "\n"
                                                                               << requests;
  }
  // No presigned URL's signature reached the server's log.
  EXPECT_EQ(server.OutputSoFar().find("X-Amz-Signature"), std::string::npos);

  // The job's staging objects are removed once its end is recorded (which the API may show
  // first); its checkpoint archive stays, for a retry (docs/checkpoints.md).
  EXPECT_EQ(S3rverPeer::ObjectsLeftUnder(**store, "staging/jobs/", 10s), 0u);
  EXPECT_TRUE((*store)->Head("staging/checkpoints/" + job + "/checkpoints.tar.gz").ok());
  // Slurm's output file of the job, on the node's /tmp.
  for (const auto& entry : fs::directory_iterator("/tmp")) {
    if (entry.path().filename().string().starts_with("trainyard-" + job + "-")) {
      fs::remove(entry.path());
    }
  }
}

}  // namespace
}  // namespace trainyard
