// Searches against a real `trainyard server` and the example trainer (docs/search.md): a
// hyperband search made by the CLI's range syntax gets its jobs as slots free, each with its
// rung's iterations, the best promoted with eta times as many; a server restarted in the
// middle of a search suggests what an uninterrupted one does; and early stopping auto stops a
// job that learns nothing: it gets SIGTERM, keeps its model and ends Stopped saying why.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "server_fixture.h"

namespace trainyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpAnswer;
using testing::ServerProcess;

class SearchTest : public ::testing::Test {
 protected:
  // `trainyard sweep create` of a hyperband search over the learning rate, one job at a time so
  // that each suggestion sees every earlier result; its id.
  std::string CreateSearch(ServerProcess& server, const std::string& name) {
    const std::string train = server.UploadExample("train.csv", "training");
    const std::string eval = server.UploadExample("eval.csv", "evaluation");
    auto created = server.Cli({"sweep",          "create",
                               "--name",         name,
                               "--command",      "trainyard-example-trainer",
                               "--train",        train,
                               "--eval",         eval,
                               "--strategy",     "hyperband",
                               "--param",        "learning_rate=log:0.001..1",
                               "--param",        "batch_size=16,64",
                               "--resource",     "iterations=5..45",
                               "--eta",          "3",
                               "--max-jobs",     std::to_string(kJobs),
                               "--max-parallel", "1",
                               "--random-seed",  "2026",
                               "--objective",    "eval_accuracy:max",
                               "--output",       "json"});
    EXPECT_EQ(created.exit_code, 0) << created.output;
    created_ = json::parse(created.output.substr(created.output.find('{')), nullptr, false);
    return created_.is_object() ? created_.value("id", "") : "";
  }

  // The jobs of the sweep in index order.
  std::vector<json> Jobs(ServerProcess& server, const std::string& sweep) {
    json page = server.Get("/api/v1/jobs?sweep=" + sweep + "&limit=100").Json();
    std::vector<json> jobs(page["jobs"].begin(), page["jobs"].end());
    std::sort(jobs.begin(), jobs.end(),
              [](const json& a, const json& b) { return a["index"] < b["index"]; });
    return jobs;
  }

  static constexpr int kJobs = 9;
  testing::TempDir temp_;
  json created_;  // what the last CreateSearch printed
};

TEST_F(SearchTest, HyperbandGivesEachJobItsRungsIterationsAndPromotesTheBest) {
  ServerProcess server(temp_.path() / "data");
  server.Start();
  const std::string sweep = CreateSearch(server, "hb");
  ASSERT_FALSE(sweep.empty());
  // One job at first (max_parallel 1); the others appear as jobs end.
  EXPECT_EQ(created_["job_count"], 1) << created_.dump();
  json ended = server.WaitForSweepEnd(sweep, kJobs, 300s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), kJobs) << ended.dump();

  std::vector<json> jobs = Jobs(server, sweep);
  ASSERT_EQ(jobs.size(), static_cast<size_t>(kJobs));
  std::map<std::string, std::vector<std::pair<int, std::string>>> runs_by_configuration;
  for (const json& job : jobs) {
    const json& hyperparameters = job["hyperparameters"];
    const int iterations = std::stoi(hyperparameters["iterations"].get<std::string>());
    EXPECT_TRUE(iterations == 5 || iterations == 15 || iterations == 45) << job.dump();
    const double lr = std::stod(hyperparameters["learning_rate"].get<std::string>());
    EXPECT_GE(lr, 0.001);
    EXPECT_LE(lr, 1.0);
    // The job saw its rung's iterations: the trainer ran that many (its progress says so).
    EXPECT_TRUE(job["metrics"].contains("eval_accuracy")) << job.dump();
    EXPECT_EQ(job["progress"].value("total_steps", -1), iterations) << job.dump();
    EXPECT_EQ(job["progress"].value("step", -1), iterations) << job.dump();
    runs_by_configuration[hyperparameters["learning_rate"].get<std::string>() + "/" +
                          hyperparameters["batch_size"].get<std::string>()]
        .emplace_back(iterations, job["name"].get<std::string>());
  }
  int promotions = 0;
  for (const auto& [configuration, runs] : runs_by_configuration) {
    for (size_t i = 1; i < runs.size(); ++i) {
      EXPECT_EQ(runs[i].first, 3 * runs[i - 1].first) << configuration;
      ++promotions;
      // A promotion starts from the checkpoint of the job it was promoted from: it trains only
      // the iterations it adds (docs/search.md, "Hyperband").
      HttpAnswer log = server.Get("/api/v1/jobs/" + runs[i].second + "/artifacts/log");
      EXPECT_NE(log.body.find("resuming from iteration " + std::to_string(runs[i - 1].first)),
                std::string::npos)
          << runs[i].second << ":\n"
          << log.body;
    }
  }
  EXPECT_GT(promotions, 0) << "the best of a rung went on with 3 times the iterations";
}

TEST_F(SearchTest, ASearchGoesOnAfterARestartAsItWouldHaveWithout) {
  std::vector<json> uninterrupted;
  {
    ServerProcess server(temp_.path() / "first");
    server.Start();
    const std::string sweep = CreateSearch(server, "once");
    ASSERT_FALSE(sweep.empty());
    server.WaitForSweepEnd(sweep, kJobs, 300s);
    uninterrupted = Jobs(server, sweep);
  }
  ASSERT_EQ(uninterrupted.size(), static_cast<size_t>(kJobs));

  ServerProcess server(temp_.path() / "second");
  server.Start();
  const std::string sweep = CreateSearch(server, "twice");
  ASSERT_FALSE(sweep.empty());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        int completed = 0;
        for (const json& job : Jobs(server, sweep)) completed += job["status"] == "Completed";
        return completed >= 4;
      },
      300s));
  server.Stop();
  server.Start();
  server.WaitForSweepEnd(sweep, kJobs, 300s);
  std::vector<json> restarted = Jobs(server, sweep);
  ASSERT_EQ(restarted.size(), static_cast<size_t>(kJobs));
  for (size_t i = 0; i < restarted.size(); ++i) {
    EXPECT_EQ(restarted[i]["hyperparameters"], uninterrupted[i]["hyperparameters"]) << i;
    EXPECT_EQ(restarted[i]["status"], "Completed") << restarted[i].dump();
  }
}

TEST_F(SearchTest, EarlyStoppingAutoStopsAJobThatLearnsNothingWhichKeepsItsModel) {
  ServerProcess server(temp_.path() / "data");
  server.Start();
  const std::string train = server.UploadExample("train.csv", "training");
  // Three jobs that learn (300 steps), run first, one at a time; then one whose learning rate
  // leaves its loss where it started, with enough steps to run for minutes if nothing stops it.
  json combinations = json::array();
  for (double learning_rate : {0.5, 0.4, 0.3}) {
    combinations.push_back({{"learning_rate", learning_rate}, {"iterations", 300}});
  }
  combinations.push_back({{"learning_rate", 1e-9}, {"iterations", 20000000}});
  HttpAnswer created =
      server.Post("/api/v1/sweeps", {{"name", "es"},
                                     {"trainer", {{"command", {"trainyard-example-trainer"}}}},
                                     {"channels", {{"training", train}}},
                                     {"combinations", combinations},
                                     {"max_parallel", 1},
                                     {"objective", {{"metric", "loss"}, {"goal", "min"}}},
                                     {"early_stopping", "auto"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];
  EXPECT_EQ(created.Json()["spec"]["early_stopping"], "auto") << created.body;
  json ended = server.WaitForSweepEnd(sweep, 4, 300s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), 3) << ended.dump();
  EXPECT_EQ(ended["counts"].value("Stopped", 0), 1) << ended.dump();
  EXPECT_EQ(ended.value("stopped_early", -1), 1) << ended.dump();
  // A sweep whose only stop was early stopping's succeeded: `sweep wait` exits 0 and says so.
  auto waited = server.Cli({"sweep", "wait", sweep});
  EXPECT_EQ(waited.exit_code, 0) << waited.output;
  EXPECT_NE(waited.output.find("3 Completed, 1 Stopped (1 stopped early)"), std::string::npos)
      << waited.output;

  std::vector<json> jobs = Jobs(server, sweep);
  ASSERT_EQ(jobs.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(jobs[i]["status"], "Completed") << jobs[i].dump();
    EXPECT_EQ(jobs[i]["stop_reason"], "") << jobs[i].dump();
  }
  const json& stopped = jobs[3];
  ASSERT_EQ(stopped["status"], "Stopped") << stopped.dump();
  // The reason names the rule, the step and the values compared.
  const std::string reason = stopped["stop_reason"];
  std::cout << "stopped early: " << reason << "\n";
  EXPECT_EQ(reason.rfind("Early stopping (median rule): at step ", 0), 0u) << reason;
  EXPECT_NE(reason.find("the best loss so far, 2.3"), std::string::npos) << reason;
  EXPECT_NE(reason.find(", the median of the running averages of 3 other jobs at step "),
            std::string::npos)
      << reason;
  EXPECT_EQ(stopped["transitions"].back()["status"], "Stopped") << stopped.dump();
  EXPECT_EQ(stopped["transitions"].back()["status_message"], reason) << stopped.dump();
  // It really got SIGTERM: the trainer says so in its log, and exits 143 after saving.
  const std::string name = stopped["name"];
  HttpAnswer log = server.Get("/api/v1/jobs/" + name + "/logs");
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("stopped by SIGTERM after "), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("of 20000000 steps; wrote "), std::string::npos) << log.body;
  // And its model was stored as any stopped job's is.
  const fs::path model = temp_.path() / "stopped-model.tar.gz";
  auto downloaded =
      server.Cli({"job", "download", name, "--artifact", "model", "-o", model.string()});
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.output;
  const fs::path unpacked = temp_.path() / "stopped-model";
  fs::create_directories(unpacked);
  auto unpacked_files = archive::Unpack(model, unpacked);
  ASSERT_TRUE(unpacked_files.ok()) << unpacked_files.status().ToString();
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
}

}  // namespace
}  // namespace trainyard
