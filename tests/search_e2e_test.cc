// Searches against a real `trainyard server` and the example trainer (docs/search.md): a
// hyperband search made by the CLI's range syntax gets its jobs as slots free, each with its
// rung's iterations, the best promoted with eta times as many; and a server restarted in the
// middle of a search suggests what an uninterrupted one does.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace trainyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
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
  std::map<std::string, std::vector<int>> iterations_by_configuration;
  for (const json& job : jobs) {
    const json& hyperparameters = job["hyperparameters"];
    const int iterations = std::stoi(hyperparameters["iterations"].get<std::string>());
    EXPECT_TRUE(iterations == 5 || iterations == 15 || iterations == 45) << job.dump();
    const double lr = std::stod(hyperparameters["learning_rate"].get<std::string>());
    EXPECT_GE(lr, 0.001);
    EXPECT_LE(lr, 1.0);
    // The job saw its rung's iterations: the trainer ran that many (its progress says so).
    EXPECT_TRUE(job["metrics"].contains("eval_accuracy")) << job.dump();
    iterations_by_configuration[hyperparameters["learning_rate"].get<std::string>() + "/" +
                                hyperparameters["batch_size"].get<std::string>()]
        .push_back(iterations);
  }
  int promotions = 0;
  for (const auto& [configuration, iterations] : iterations_by_configuration) {
    for (size_t i = 1; i < iterations.size(); ++i) {
      EXPECT_EQ(iterations[i], 3 * iterations[i - 1]) << configuration;
      ++promotions;
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

}  // namespace
}  // namespace trainyard
