// `trainyard server` killed with SIGKILL at each named step of a job's way (common/step_hook.h),
// and 20 times at random instants during a 50-job sweep: after the restarts every job ends
// Completed with its outputs, its code ran exactly once, and nothing is left behind (no job
// process, no work dir, no job root, no half-written state file).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "common/files.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpAnswer;
using testing::JobProcesses;
using testing::ServerProcess;
using testing::WaitFor;

// Every run of a job's code appends the job's executor name to `runs` (one short O_APPEND write:
// whole lines), trains for `seconds`, and writes a model.
json SweepBody(const std::string& dataset, const fs::path& runs, int jobs,
               const std::string& seconds) {
  std::string script = "echo \"$TRAINING_JOB_NAME\" >> '" + runs.string() + "'; sleep " + seconds +
                       "; echo weights > \"$SM_MODEL_DIR/model.bin\"; echo trained";
  json values = json::array();
  for (int i = 1; i <= jobs; ++i) values.push_back(i);
  return {{"name", "once"},
          {"trainer", {{"command", {"sh", "-c", script}}}},
          {"channels", {{"training", dataset}}},
          {"grid", {{"n", values}}},
          {"max_parallel", 2}};
}

std::map<std::string, int> RunsByJob(const fs::path& runs) {
  std::map<std::string, int> counts;
  std::ifstream file(runs);
  for (std::string line; std::getline(file, line);) counts[line] += 1;
  return counts;
}

// What must not remain once every job has ended: the scheduler's work dirs, the executor's job
// roots and half-written state files.
std::vector<std::string> Leftovers(const fs::path& data_dir) {
  std::vector<std::string> found;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(data_dir / "work", error)) {
    found.push_back(entry.path().string());
  }
  for (const fs::directory_entry& job : fs::directory_iterator(data_dir / "jobs", error)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(job.path(), error)) {
      std::string name = entry.path().filename().string();
      if (name == "ml" || name.find(".tmp.") != std::string::npos) {
        found.push_back(entry.path().string());
      }
    }
  }
  return found;
}

void ExpectEveryJobCompletedOnce(ServerProcess& server, const std::string& sweep_id,
                                 const fs::path& runs, size_t jobs) {
  json page = server.Get("/api/v1/jobs?sweep=" + sweep_id + "&limit=100").Json();
  ASSERT_EQ(page["jobs"].size(), jobs) << page.dump();
  std::map<std::string, int> runs_by_job = RunsByJob(runs);
  for (const json& job : page["jobs"]) {
    std::string name = job["name"];
    EXPECT_EQ(job["status"], "Completed") << job.dump();
    EXPECT_EQ(job["attempt"], 0) << job.dump();
    EXPECT_EQ(runs_by_job[name], 1) << name << "'s code ran " << runs_by_job[name] << " times";
    HttpAnswer model = server.Get("/api/v1/jobs/" + name + "/artifacts/model");
    EXPECT_EQ(model.status, 200) << name << ": " << model.body;
    EXPECT_EQ(model.body.substr(0, 2), "\x1f\x8b") << name << ": model.tar.gz is not gzip";
    HttpAnswer log = server.Get("/api/v1/jobs/" + name + "/artifacts/log");
    EXPECT_NE(log.body.find("trained"), std::string::npos) << name << ": " << log.body;
  }
  EXPECT_EQ(runs_by_job.size(), jobs);  // no run under another name (a second attempt)
  const fs::path& data_dir = server.data_dir();
  EXPECT_TRUE(WaitFor([&] { return JobProcesses(data_dir).empty(); }, 10s))
      << "job processes left: " << JobProcesses(data_dir).size();
  EXPECT_TRUE(WaitFor([&] { return Leftovers(data_dir).empty(); }, 10s))
      << "left behind: " << json(Leftovers(data_dir)).dump();
}

class KillAtStepTest : public ::testing::TestWithParam<const char*> {
 protected:
  testing::TempDir dir_;
};

TEST_P(KillAtStepTest, EveryJobCompletesAndItsCodeRunsOnce) {
  constexpr int kJobs = 4;
  fs::path runs = dir_.path() / "runs.txt";
  ServerProcess server(dir_.path() / "data", {"--max-running", "2"},
                       {{"TRAINYARD_TEST_KILL_AT", GetParam()}});
  server.Start();
  std::string dataset = server.UploadExample("train.csv", "training");
  // With an idempotency key, as a client that may lose the answer sends it: the server can die
  // before it answers (the queue may reach the step first).
  json body = SweepBody(dataset, runs, kJobs, "0.5");
  body["idempotency_key"] = "kill-at-step";
  HttpAnswer created = server.Post("/api/v1/sweeps", body);
  ASSERT_TRUE(created.status == 201 || created.status == 0) << created.body;

  std::string output = server.WaitForExit(60s);
  ASSERT_NE(output.find(std::string("killed at ") + GetParam()), std::string::npos) << output;
  server.set_extra_environment({});
  server.Start();
  if (created.status == 0) created = server.Post("/api/v1/sweeps", body);  // the same sweep
  ASSERT_TRUE(created.status == 200 || created.status == 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server.WaitForSweepEnd(sweep_id, kJobs, 60s);
  EXPECT_EQ(sweep["counts"].value("Completed", 0), kJobs) << sweep.dump();
  ExpectEveryJobCompletedOnce(server, sweep_id, runs, kJobs);
}

INSTANTIATE_TEST_SUITE_P(Steps, KillAtStepTest,
                         ::testing::Values("scheduler.claimed", "executor.recorded",
                                           "executor.staged", "executor.launched",
                                           "scheduler.submitted", "scheduler.running",
                                           "executor.packed", "scheduler.storing",
                                           "scheduler.stored"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

TEST(ServerKillSoakTest, TwentyKillsAtRandomInstantsDuringAFiftyJobSweep) {
  constexpr int kJobs = 50;
  testing::TempDir dir;
  fs::path runs = dir.path() / "runs.txt";
  ServerProcess server(dir.path() / "data", {"--max-running", "2"});
  server.Start();
  std::string dataset = server.UploadExample("train.csv", "training");
  HttpAnswer created = server.Post("/api/v1/sweeps", SweepBody(dataset, runs, kJobs, "0.1"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];

  unsigned seed = std::random_device()();
  std::printf("kill instants from seed %u\n", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(20, 400);
  for (int kill = 0; kill < 20; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
    server.Kill9();
    server.Start();
  }
  json sweep = server.WaitForSweepEnd(sweep_id, kJobs, 120s);
  EXPECT_EQ(sweep["counts"].value("Completed", 0), kJobs)
      << "seed " << seed << ": " << sweep.dump();
  ExpectEveryJobCompletedOnce(server, sweep_id, runs, kJobs);
}

}  // namespace
}  // namespace trainyard
