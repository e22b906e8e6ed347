// Images as teams ship them: examples/container/Dockerfile built with `podman build` FROM a base
// image made here (examples/container/build-base-image.sh: no registry on the internet is
// reachable), pushed to a real registry (tests/support/registry_fixture.h: docker-registry on
// loopback, TLS, htpasswd basic auth), then pulled by `trainyard server --container-runtime
// podman --container-auth-file ...`: a 2×2 sweep pulls it once and runs its digest; wrong
// credentials, a missing tag and `--container-pull never` fail as a person can act on; a sweep
// on Slurm runs the digest the server pinned. Skips, saying why, where podman or the registry
// (or Slurm and skopeo) cannot run.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "common/files.h"
#include "server_fixture.h"
#include "support/registry_fixture.h"
#include "support/slurm_cluster.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ServerProcess;

// For the test on Slurm: the binary's one-node cluster, started before the first test.
const auto* const kSlurmCluster =
    ::testing::AddGlobalTestEnvironment(new testing::SlurmClusterEnvironment);

// The image pushed once per test binary: its reference (by tag) and the registry's digest.
struct PushedImage {
  std::string unavailable;  // why the tests skip
  std::string repository;   // "team-PID/trainer"
  std::string reference;    // "127.0.0.1:PORT/team-PID/trainer:v1"
  std::string digest;       // "sha256:..."
};

const PushedImage& Pushed() {
  static const PushedImage pushed = [] {
    PushedImage result;
    testing::RegistryServer* registry = testing::SharedRegistry();
    if (registry == nullptr) {
      result.unavailable = "no registry: " + testing::RegistryUnavailableReason();
      return result;
    }
    std::map<std::string, std::string> environment = registry->PodmanEnvironment();
    auto podman = [&](std::vector<std::string> arguments, std::chrono::seconds timeout = 300s) {
      arguments.insert(arguments.begin(), "podman");
      return testing::RunProcess(arguments, environment, timeout);
    };
    if (auto info = podman({"info", "--format", "{{.Version.Version}}"}, 60s);
        info.exit_code != 0) {
      result.unavailable = "podman cannot run here: " + info.output;
      return result;
    }
    const std::string suffix = std::to_string(::getpid());
    const std::string base = "localhost/trainyard-base:test";
    fs::path wrap = testing::BuildDir() / "apps" / "trainyard-wrap";
    fs::path trainer = testing::BuildDir() / "examples" / "trainer" / "trainyard-example-trainer";
    auto made = testing::RunProcess(
        {"/bin/sh",
         (testing::SourceDir() / "examples" / "container" / "build-base-image.sh").string(), base,
         wrap.string(), trainer.string()},
        environment, 300s);
    if (made.exit_code != 0) {
      result.unavailable = "build-base-image.sh failed: " + made.output;
      return result;
    }
    // The build context as the Dockerfile expects it (a build directory), holding only what it
    // copies.
    static testing::TempDir context;
    fs::create_directories(context.path() / "apps");
    fs::create_directories(context.path() / "examples" / "trainer");
    fs::copy_file(wrap, context.path() / "apps" / "trainyard-wrap",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(trainer, context.path() / "examples" / "trainer" / "trainyard-example-trainer",
                  fs::copy_options::overwrite_existing);
    result.repository = "team-" + suffix + "/trainer";
    result.reference = registry->host() + "/" + result.repository + ":v1";
    auto built = podman({"build", "--quiet", "-f",
                         (testing::SourceDir() / "examples" / "container" / "Dockerfile").string(),
                         "--build-arg", "BASE_IMAGE=" + base, "--build-arg", "APT_PACKAGES=", "-t",
                         result.reference, context.path().string()});
    if (built.exit_code != 0) {
      result.unavailable = "podman build of examples/container/Dockerfile failed: " + built.output;
      return result;
    }
    auto pushed_now =
        podman({"push", "--authfile", registry->AuthFile().string(), result.reference});
    // Off this host again: the server must pull it.
    auto removed = podman({"rmi", result.reference}, 60s);
    if (pushed_now.exit_code != 0 || removed.exit_code != 0) {
      result.unavailable = "podman push or rmi failed: " + pushed_now.output + removed.output;
      return result;
    }
    result.digest = registry->ManifestDigest(result.repository, "v1");
    return result;
  }();
  return pushed;
}

class ContainerRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Pushed().unavailable.empty()) GTEST_SKIP() << Pushed().unavailable;
    registry_ = testing::SharedRegistry();
  }

  void TearDown() override {
    // The pulled image goes, so that a test run later on this host pulls again.
    if (server_) server_->Stop();
    if (registry_ != nullptr && !Pushed().reference.empty()) {
      testing::RunProcess({"podman", "rmi", "--force", Pushed().reference},
                          registry_->PodmanEnvironment(), 60s);
    }
  }

  void StartServer(std::vector<std::string> flags,
                   std::map<std::string, std::string> environment = {}) {
    flags.insert(flags.end(), {"--container-runtime", "podman", "--executor-limit", "container=2"});
    environment.merge(registry_->PodmanEnvironment());
    server_ = std::make_unique<ServerProcess>(temp_.path() / "data", flags, environment);
    server_->Start();
  }

  // A sweep of the pushed image's example trainer; its id.
  std::string CreateSweep(const std::string& image, json grid) {
    json body = {{"name", "pulled"},
                 {"executor", "container"},
                 {"trainer", {{"image", image}}},
                 {"channels",
                  {{"training", server_->UploadExample("train.csv", "training")},
                   {"evaluation", server_->UploadExample("eval.csv", "evaluation")}}},
                 {"hyperparameters", {{"iterations", 50}}},
                 {"grid", std::move(grid)},
                 {"max_parallel", 2}};
    auto created = server_->Post("/api/v1/sweeps", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.status == 201 ? created.Json()["id"].get<std::string>() : "";
  }

  json Jobs(const std::string& sweep_id) {
    return server_->Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
  }

  // A sweep of one job of the pushed image on `executor` that has no training channel, so
  // that the example trainer fails and the sweep has a job to retry; its id, once it failed.
  std::string FailedSweep(const std::string& executor) {
    json body = {{"name", "moved"},
                 {"executor", executor},
                 {"trainer", {{"image", Pushed().reference}}},
                 {"hyperparameters", {{"iterations", 5}}}};
    auto created = server_->Post("/api/v1/sweeps", body);
    EXPECT_EQ(created.status, 201) << created.body;
    if (created.status != 201) return "";
    const std::string sweep_id = created.Json()["id"];
    json sweep = server_->WaitForSweepEnd(sweep_id, 1, 240s);
    EXPECT_EQ(sweep["counts"]["Failed"], 1) << sweep.dump();
    return sweep_id;
  }

  // Moves the tag (MoveTag; its new digest in `*moved_digest`), retries the sweep's job and
  // waits for the retry's end; the retry.
  json RetryAfterTheTagMoved(const std::string& sweep_id, std::string* moved_digest) {
    *moved_digest = MoveTag();
    auto retried = server_->Post("/api/v1/sweeps/" + sweep_id + "/retry", json::object());
    EXPECT_LT(retried.status, 300) << retried.body;
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          json job = Jobs(sweep_id)[0];
          return job["attempt"] == 1 && job["status"] != "InProgress";
        },
        240s))
        << Jobs(sweep_id).dump();
    return Jobs(sweep_id)[0];
  }

  // Runs podman with the registry's settings.
  testing::ProcessResult Podman(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "podman");
    return testing::RunProcess(arguments, registry_->PodmanEnvironment(), 300s);
  }

  // Moves the tag :v1 to another image (the same Dockerfile on top of the first, with a label
  // of its own), pushed; its digest.
  std::string MoveTag() {
    // FROM the first image, which this host may have only by its digest, or not at all.
    EXPECT_EQ(Podman({"pull", "--authfile", registry_->AuthFile().string(), Pushed().reference})
                  .exit_code,
              0);
    testing::TempDir context;
    std::ofstream(context.path() / "Dockerfile")
        << "FROM " << Pushed().reference << "\nLABEL trainyard.test.moved=" << ::getpid() << "\n";
    EXPECT_EQ(
        Podman({"build", "--quiet", "-t", Pushed().reference, context.path().string()}).exit_code,
        0);
    auto pushed =
        Podman({"push", "--authfile", registry_->AuthFile().string(), Pushed().reference});
    EXPECT_EQ(pushed.exit_code, 0) << pushed.output;
    const std::string moved_digest = registry_->ManifestDigest(Pushed().repository, "v1");
    EXPECT_NE(moved_digest, Pushed().digest);
    return moved_digest;
  }

  // Moves :v1 back to the first image, for the tests after this one.
  void RestoreTag() {
    const std::string first = registry_->host() + "/" + Pushed().repository + "@" + Pushed().digest;
    Podman({"rmi", "--force", Pushed().reference});
    ASSERT_EQ(Podman({"pull", "--authfile", registry_->AuthFile().string(), first}).exit_code, 0);
    ASSERT_EQ(Podman({"tag", first, Pushed().reference}).exit_code, 0);
    ASSERT_EQ(Podman({"push", "--authfile", registry_->AuthFile().string(), Pushed().reference})
                  .exit_code,
              0);
    EXPECT_EQ(registry_->ManifestDigest(Pushed().repository, "v1"), Pushed().digest);
  }

  testing::TempDir temp_;
  testing::RegistryServer* registry_ = nullptr;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ContainerRegistryTest, SweepPullsTheImageOncePerHostAndRunsItsDigest) {
  StartServer({"--container-auth-file", registry_->AuthFile().string()});
  int downloads_before = registry_->ManifestDownloads(Pushed().repository);
  std::string sweep_id =
      CreateSweep(Pushed().reference, {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}});
  ASSERT_FALSE(sweep_id.empty());
  json sweep = server_->WaitForSweepEnd(sweep_id, 4, 300s);
  EXPECT_EQ(sweep["counts"]["Completed"], 4) << sweep.dump();
  // One pull for four jobs, two of them starting at once.
  EXPECT_EQ(registry_->ManifestDownloads(Pushed().repository) - downloads_before, 1)
      << registry_->Log();
  const std::string ran = registry_->host() + "/" + Pushed().repository + "@" + Pushed().digest;
  json jobs = Jobs(sweep_id);
  ASSERT_EQ(jobs.size(), 4u) << jobs.dump();
  int pulled = 0;
  for (const json& job : jobs) {
    std::string training_message;
    for (const json& transition : job["transitions"]) {
      if (transition["status"] == "Training") training_message = transition["status_message"];
    }
    // Every job names the digest it ran; the one pull's jobs say it was downloaded.
    EXPECT_NE(training_message.find(ran), std::string::npos) << job.dump();
    if (training_message.rfind("Training image download completed: ", 0) == 0) ++pulled;
    // And records it: the image as requested and what exactly ran.
    EXPECT_EQ(job["image"], Pushed().reference) << job.dump();
    EXPECT_EQ(job["image_digest"], ran) << job.dump();
  }
  EXPECT_GE(pulled, 1);
  // The record outlives the server: a restarted one shows the same digests.
  server_->Stop();
  server_->Start();
  for (const json& job : Jobs(sweep_id)) EXPECT_EQ(job["image_digest"], ran) << job.dump();
  auto shown = server_->Cli({"job", "show", jobs[0]["name"].get<std::string>()});
  EXPECT_NE(shown.output.find("Digest:       " + ran + "\n"), std::string::npos) << shown.output;
  // The credentials never reached the log.
  EXPECT_EQ(server_->OutputSoFar().find(registry_->password()), std::string::npos);
}

// A retried job runs the digest its sweep first ran, even after the tag was pushed again.
TEST_F(ContainerRegistryTest, ARetryRunsTheSameDigestAfterTheTagMoved) {
  StartServer({"--container-auth-file", registry_->AuthFile().string()});
  const std::string sweep_id = FailedSweep("container");
  ASSERT_FALSE(sweep_id.empty());
  std::string moved_digest;
  json job = RetryAfterTheTagMoved(sweep_id, &moved_digest);
  std::string training_message;
  for (const json& transition : job["transitions"]) {
    if (transition["status"] == "Training") training_message = transition["status_message"];
  }
  const std::string repository = registry_->host() + "/" + Pushed().repository;
  EXPECT_NE(training_message.find(repository + "@" + Pushed().digest), std::string::npos)
      << job.dump();
  EXPECT_EQ(training_message.find(moved_digest), std::string::npos) << job.dump();
  EXPECT_EQ(job["image"], Pushed().reference) << job.dump();
  EXPECT_EQ(job["image_digest"], repository + "@" + Pushed().digest) << job.dump();
  RestoreTag();
}

TEST_F(ContainerRegistryTest, WrongCredentialsFailTheJobAsUnauthorized) {
  fs::path wrong = registry_->WriteAuthFile(temp_.path() / "wrong-auth.json", registry_->user(),
                                            "not-the-password");
  StartServer({"--container-auth-file", wrong.string()});
  std::string sweep_id = CreateSweep(Pushed().reference, {{"learning_rate", {0.1}}});
  ASSERT_FALSE(sweep_id.empty());
  json sweep = server_->WaitForSweepEnd(sweep_id, 1, 180s);
  EXPECT_EQ(sweep["counts"]["Failed"], 1) << sweep.dump();
  json job = Jobs(sweep_id)[0];
  EXPECT_EQ(job["failure_reason"],
            "ClientError: unauthorized to pull the training image " + Pushed().reference +
                " (the registry " + registry_->host() +
                " refused the credentials: check its entry in --container-auth-file)")
      << job.dump();
}

TEST_F(ContainerRegistryTest, AMissingTagFailsTheJobAsNotFound) {
  StartServer({"--container-auth-file", registry_->AuthFile().string()});
  const std::string missing = registry_->host() + "/" + Pushed().repository + ":no-such-tag";
  std::string sweep_id = CreateSweep(missing, {{"learning_rate", {0.1}}});
  ASSERT_FALSE(sweep_id.empty());
  json sweep = server_->WaitForSweepEnd(sweep_id, 1, 180s);
  EXPECT_EQ(sweep["counts"]["Failed"], 1) << sweep.dump();
  json job = Jobs(sweep_id)[0];
  EXPECT_EQ(job["failure_reason"], "ClientError: training image not found: " + missing +
                                       " (its registry has no such repository or tag)")
      << job.dump();
}

TEST_F(ContainerRegistryTest, PullNeverRefusesAMissingImageAtSubmit) {
  StartServer({"--container-pull", "never"});
  json body = {{"name", "offline"},
               {"executor", "container"},
               {"trainer", {{"image", Pushed().reference}}},
               {"hyperparameters", {{"iterations", 10}}}};
  auto created = server_->Post("/api/v1/sweeps", body);
  EXPECT_EQ(created.status, 400) << created.body;
  EXPECT_NE(created.body.find("field 'trainer.image': training image " + Pushed().reference +
                              " is not on this host"),
            std::string::npos)
      << created.body;
  // Nothing was pulled for it.
  EXPECT_NE(testing::RunProcess({"podman", "image", "exists", Pushed().reference},
                                registry_->PodmanEnvironment(), 60s)
                .exit_code,
            0);
}

// A SageMaker request written for AWS names its image in ECR; with --container-ecr-registry the
// endpoint's container executor pulls the same repository and tag from the site's registry.
TEST_F(ContainerRegistryTest, AnEcrImageOfASageMakerRequestIsPulledFromTheSitesRegistry) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
  const std::string key_id = "AKIDREGISTRYTEST", secret = "registry-test-secret";
  const std::string s3 = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  const std::string sagemaker = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  StartServer({"--container-auth-file", registry_->AuthFile().string(), "--container-ecr-registry",
               registry_->host(), "--s3-listen", s3, "--sagemaker-listen", sagemaker,
               "--sagemaker-endpoint-executor", "container"},
              {{"TRAINYARD_S3_ACCESS_KEY_ID", key_id}, {"TRAINYARD_S3_SECRET_ACCESS_KEY", secret}});
  auto aws = [&](const std::string& endpoint, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(),
                     {"/usr/bin/aws", "--endpoint-url", "http://" + endpoint, "--no-cli-pager"});
    return testing::RunProcess(
        arguments, testing::AwsClientEnvironment(temp_.path() / "home", key_id, secret), 120s);
  };
  int downloads_before = registry_->ManifestDownloads(Pushed().repository);
  ASSERT_EQ(aws(s3, {"s3", "mb", "s3://digits"}).exit_code, 0);
  fs::path digits = testing::SourceDir() / "examples" / "data" / "digits";
  auto copied = aws(s3, {"s3", "cp", (digits / "train.csv").string(), "s3://digits/train/"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  const std::string ecr_image =
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + Pushed().repository + ":v1";
  json channel = {{"ChannelName", "training"},
                  {"DataSource",
                   {{"S3DataSource",
                     {{"S3DataType", "S3Prefix"},
                      {"S3Uri", "s3://digits/train/"},
                      {"S3DataDistributionType", "FullyReplicated"}}}}}};
  auto created = aws(
      sagemaker,
      {"sagemaker", "create-training-job", "--training-job-name", "from-ecr",
       "--algorithm-specification",
       json{{"TrainingImage", ecr_image}, {"TrainingInputMode", "File"}}.dump(), "--role-arn",
       "arn:aws:iam::123456789012:role/test", "--input-data-config", json::array({channel}).dump(),
       "--output-data-config", "S3OutputPath=s3://digits/out/", "--resource-config",
       "InstanceType=ml.m5.large,InstanceCount=1,VolumeSizeInGB=1", "--stopping-condition",
       "MaxRuntimeInSeconds=600", "--hyper-parameters", "iterations=20"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  testing::ProcessResult described;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        described = aws(sagemaker,
                        {"sagemaker", "describe-training-job", "--training-job-name", "from-ecr"});
        return described.output.find("\"TrainingJobStatus\": \"InProgress\"") == std::string::npos;
      },
      180s))
      << described.output;
  EXPECT_NE(described.output.find("\"TrainingJobStatus\": \"Completed\""), std::string::npos)
      << described.output;
  // Named as the request named it (the document keeps SageMaker's own messages), pulled from
  // the site's registry: one manifest served there.
  EXPECT_NE(described.output.find(ecr_image), std::string::npos) << described.output;
  EXPECT_EQ(registry_->ManifestDownloads(Pushed().repository) - downloads_before, 1)
      << registry_->Log();
}

// An ECR-form image pulled as given, with a token from ECR: the server asks a stand-in for ECR
// (tests/support/ecr_stand_in.py: botocore's ecr model and SigV4 checked) with its AWS
// credentials; the token it hands out is the test registry's password. podman reaches the ECR
// host through the stand-in's HTTPS proxy, which connects it to the test registry, so it
// authenticates as to ECR: with the ECR host's entry of the server's auth file, the token (no
// --container-auth-file is given, and a registries.conf remap would use the location's entry).
TEST_F(ContainerRegistryTest, AnEcrImageIsPulledWithATokenFromGetAuthorizationToken) {
  auto probe = testing::RunProcess({"/usr/bin/python3", "-c", "import botocore.auth"}, {}, 60s);
  if (probe.exit_code != 0) GTEST_SKIP() << "no python3-botocore: " << probe.output;
  const fs::path state = temp_.path() / "ecr";
  fs::create_directories(state);
  const std::string key_id = "AKIDECRTEST", secret = "ecr-test-secret-key";
  {
    std::ofstream(state / "config.json") << json{
        {"access_key_id", key_id},
        {"secret_access_key", secret},
        {"username", registry_->user()},
        {"password", registry_->password()},
        {"numbered", false},
        {"expires_in", 43200},
        {"mode", "ok"}}.dump();
  }
  testing::Process stand_in({"/usr/bin/python3",
                             (testing::SourceDir() / "tests/support/ecr_stand_in.py").string(),
                             state.string(), "--tunnel-to", registry_->host()});
  ASSERT_TRUE(testing::WaitFor(
      [&] { return fs::exists(state / "port") && fs::exists(state / "tunnel_port"); }, 60s))
      << stand_in.OutputSoFar();
  auto read = [](const fs::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string ecr_host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
  // The test registry's own entry, and the ECR host's: TLS with a certificate podman cannot
  // verify (the test registry's), so insecure as the registry's own entry is.
  const fs::path registries_conf = temp_.path() / "registries.conf";
  std::ofstream(registries_conf) << read(registry_->RegistriesConf())
                                 << "\n[[registry]]\nlocation = \"" << ecr_host
                                 << "\"\ninsecure = true\n";
  int downloads_before = registry_->ManifestDownloads(Pushed().repository);
  StartServer({}, {{"CONTAINERS_REGISTRIES_CONF", registries_conf.string()},
                   {"HTTPS_PROXY", "http://127.0.0.1:" + read(state / "tunnel_port")},
                   {"AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:" + read(state / "port")},
                   {"AWS_ACCESS_KEY_ID", key_id},
                   {"AWS_SECRET_ACCESS_KEY", secret},
                   {"AWS_EC2_METADATA_DISABLED", "true"}});
  const std::string image = ecr_host + "/" + Pushed().repository + ":v1";
  std::string sweep_id = CreateSweep(image, {{"learning_rate", {0.1, 0.05}}});
  ASSERT_FALSE(sweep_id.empty());
  json sweep = server_->WaitForSweepEnd(sweep_id, 2, 300s);
  EXPECT_EQ(sweep["counts"]["Completed"], 2) << sweep.dump() << Jobs(sweep_id).dump();
  testing::RunProcess({"podman", "rmi", "--force", image}, registry_->PodmanEnvironment(), 60s);

  // One token request, as botocore's model and signer want it; one pull through the tunnel.
  std::string requests = read(state / "requests.jsonl");
  ASSERT_EQ(std::count(requests.begin(), requests.end(), '\n'), 1) << requests;
  json request = json::parse(requests);
  EXPECT_EQ(request["target"], "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  EXPECT_EQ(request["model_errors"], "");
  EXPECT_EQ(request["signature_error"], "");
  EXPECT_EQ(request["region"], "eu-west-1");
  EXPECT_NE(read(state / "tunnels.log").find("CONNECT " + ecr_host + ":443"), std::string::npos);
  EXPECT_EQ(registry_->ManifestDownloads(Pushed().repository) - downloads_before, 1)
      << registry_->Log();
  // The server's auth file: private, the ECR host's entry; the password in no log.
  const fs::path auth_file = temp_.path() / "data" / "registry-auth" / "config.json";
  EXPECT_EQ(fs::status(auth_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(json::parse(read(auth_file))["auths"].contains(ecr_host));
  EXPECT_EQ(server_->OutputSoFar().find(registry_->password()), std::string::npos);
  stand_in.Signal(SIGKILL);
}

// On Slurm (docs/slurm.md, "Images"): the node's podman pulls the image itself, by the digest
// the server read from the registry (skopeo) when the sweep's first job was submitted; a retry
// after the tag moved runs that digest again, not the tag's new one.
TEST_F(ContainerRegistryTest, OnSlurmARetryRunsTheSweepsDigestAfterTheTagMoved) {
  testing::SlurmCluster* cluster = testing::SlurmCluster::Get();
  if (cluster == nullptr) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << testing::SlurmCluster::UnavailableReason();
  }
  if (!fs::exists("/usr/bin/skopeo")) {
    GTEST_SKIP() << "skopeo is not installed (scripts/install-deps.sh installs it)";
  }
  std::map<std::string, std::string> environment = registry_->PodmanEnvironment();
  environment["SLURM_CONF"] = cluster->conf_file().string();
  environment["REGISTRY_AUTH_FILE"] = registry_->AuthFile().string();
  server_ = std::make_unique<ServerProcess>(
      temp_.path() / "data",
      std::vector<std::string>{"--slurm-partition", cluster->partition(),
                               "--slurm-poll-interval-ms", "200"},
      environment);
  server_->Start();
  const std::string sweep_id = FailedSweep("slurm");
  ASSERT_FALSE(sweep_id.empty()) << cluster->LogTails();

  const std::string pinned = registry_->host() + "/" + Pushed().repository + "@" + Pushed().digest;
  // What the node ran: the pinned digest, and the trainer in it (its own failure).
  auto expect_ran_pinned = [&](const json& job) {
    EXPECT_EQ(job["image"], Pushed().reference) << job.dump();
    EXPECT_EQ(job["image_digest"], pinned) << job.dump();
    EXPECT_NE(job.value("failure_reason", "").find("channel 'training'"), std::string::npos)
        << job.dump();
    auto script = ReadFile(temp_.path() / "data" / "slurm-jobs" / job["name"].get<std::string>() /
                           "slurm-job.sh");
    ASSERT_TRUE(script.ok()) << script.status().ToString();
    EXPECT_NE(script->find("'" + pinned + "' \\\n  'train'"), std::string::npos) << *script;
  };
  expect_ran_pinned(Jobs(sweep_id)[0]);

  std::string moved_digest;
  json retry = RetryAfterTheTagMoved(sweep_id, &moved_digest);
  expect_ran_pinned(retry);
  EXPECT_EQ(retry.dump().find(moved_digest), std::string::npos) << retry.dump();
  Podman({"rmi", "--force", pinned});
  RestoreTag();
}

}  // namespace
}  // namespace trainyard
