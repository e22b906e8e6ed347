// Several `trainyard server` replicas on one PostgreSQL (tests/support/postgres_fixture.h) and
// one object store: each queued job is claimed by one replica and its code runs once, the
// limits hold over all replicas, and a client of any replica sees every status change, resumable
// on another. Skipped, saying why, where PostgreSQL is not installed.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "server_fixture.h"
#include "support/http_test_server.h"
#include "support/postgres_fixture.h"
#include "support/slurm_cluster.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpAnswer;
using testing::ReadEvents;
using testing::ServerProcess;
using testing::SlurmCluster;
using testing::SseEvent;
using testing::WaitFor;

const auto* const kSlurmCluster =
    ::testing::AddGlobalTestEnvironment(new testing::SlurmClusterEnvironment);

class ServerReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::PostgresServer* postgres = testing::SharedPostgres();
    if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
    database_url_ = postgres->CreateDatabase();
    ASSERT_FALSE(database_url_.empty());
    ASSERT_TRUE(fs::create_directories(temp_.path() / "markers"));
  }

  // Replica `name`: its own data dir, the shared database and object store; with `slurm`,
  // the Slurm executor too, on the test cluster with a work dir all replicas share.
  std::unique_ptr<ServerProcess> StartReplica(const std::string& name, int max_running,
                                              bool slurm = false,
                                              std::vector<std::string> flags = {},
                                              std::map<std::string, std::string> environment = {}) {
    for (const std::string& flag :
         {std::string("--metadata"), database_url_, std::string("--objects"),
          "file://" + (temp_.path() / "objects").string(), std::string("--replica-id"), name,
          std::string("--lease-seconds"), std::string("3"), std::string("--max-running"),
          std::to_string(max_running)}) {
      flags.push_back(flag);
    }
    if (slurm) {
      SlurmCluster* cluster = SlurmCluster::Get();
      for (const std::string& flag :
           {std::string("--slurm-partition"), cluster->partition(),
            std::string("--slurm-poll-interval-ms"), std::string("200"),
            std::string("--slurm-work-dir"), (temp_.path() / "slurm-jobs").string()}) {
        flags.push_back(flag);
      }
      environment["SLURM_CONF"] = cluster->conf_file().string();
    }
    auto replica = std::make_unique<ServerProcess>(temp_.path() / name, flags, environment);
    replica->Start();
    return replica;
  }

  // The job's code: appends "<its model dir> <start ns> <end ns>" to markers/<job>, so that the
  // test sees which replica ran it, how often, and when.
  json MarkerTrainer(const std::string& seconds = "0.05") const {
    const std::string markers = (temp_.path() / "markers").string();
    return {
        {"command",
         {"sh", "-c",
          "s=$(date +%s%N); sleep " + seconds + "; echo \"$SM_MODEL_DIR $s $(date +%s%N)\" >> " +
              markers + "/$TRAINING_JOB_NAME"}}};
  }

  struct Run {
    std::string replica;
    int64_t start_ns = 0;
    int64_t end_ns = 0;
  };
  // Each job's runs, from the markers.
  std::map<std::string, std::vector<Run>> Runs() {
    std::map<std::string, std::vector<Run>> runs;
    for (const fs::directory_entry& entry : fs::directory_iterator(temp_.path() / "markers")) {
      std::ifstream file(entry.path());
      std::string model_dir;
      Run run;
      while (file >> model_dir >> run.start_ns >> run.end_ns) {
        // <temp>/<replica>/jobs/<job>/ml/model
        fs::path relative = fs::path(model_dir).lexically_relative(temp_.path());
        run.replica = relative.begin()->string();
        runs[entry.path().filename().string()].push_back(run);
      }
    }
    return runs;
  }

  // The most jobs whose code ran at one instant.
  static int MostAtOnce(const std::map<std::string, std::vector<Run>>& runs) {
    std::vector<std::pair<int64_t, int>> edges;
    for (const auto& [job, list] : runs) {
      for (const Run& run : list) {
        edges.push_back({run.start_ns, 1});
        edges.push_back({run.end_ns, -1});
      }
    }
    std::sort(edges.begin(), edges.end());  // an end before a start at the same instant
    int now = 0, most = 0;
    for (const auto& [time, change] : edges) most = std::max(most, now += change);
    return most;
  }

  static bool SweepEnded(ServerProcess& server, const std::string& id, int64_t jobs) {
    json sweep = server.Get("/api/v1/sweeps/" + id).Json();
    int64_t ended = 0;
    for (const char* status : {"Completed", "Failed", "Stopped"}) {
      ended += sweep["counts"].value(status, 0);
    }
    return ended == jobs;
  }

  testing::TempDir temp_;
  std::string database_url_;
};

TEST_F(ServerReplicasTest, TwoReplicasRacingOnAThousandQueuedJobsRunEachOnceWithinTheLimits) {
  constexpr int kJobs = 1000;
  constexpr int kMaxParallel = 6;
  // The same capacity on both: each counts the jobs of both against its --max-running. Each
  // claims at its own rounds, not when its own job ends, so that the slots its jobs free are
  // not always its own to fill (SchedulerOptions::spread_claims).
  auto a = StartReplica("a", 8);
  auto b = StartReplica("b", 8);
  json values = json::array();
  for (int i = 0; i < kJobs; ++i) values.push_back(i);
  // A sweep on b first (b, woken by it, claims its jobs at once), then the race on a; the two
  // together hold max_running.
  HttpAnswer beside = b->Post("/api/v1/sweeps", {{"name", "beside"},
                                                 {"trainer", MarkerTrainer()},
                                                 {"grid", {{"n", {0, 1, 2, 3, 4, 5, 6, 7}}}}});
  ASSERT_EQ(beside.status, 201) << beside.body;
  const std::string beside_sweep = beside.Json()["id"];
  HttpAnswer created = a->Post("/api/v1/sweeps", {{"name", "race"},
                                                  {"trainer", MarkerTrainer()},
                                                  {"grid", {{"n", values}}},
                                                  {"max_parallel", kMaxParallel}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];

  ASSERT_TRUE(WaitFor([&] { return SweepEnded(*b, sweep, kJobs); }, 900s))
      << b->Get("/api/v1/sweeps/" + sweep).body;
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(*a, beside_sweep, 8); }, 60s));
  json counts = a->Get("/api/v1/sweeps/" + sweep).Json()["counts"];
  EXPECT_EQ(counts.value("Completed", 0), kJobs) << counts.dump();

  std::map<std::string, std::vector<Run>> runs = Runs();
  ASSERT_EQ(runs.size(), static_cast<size_t>(kJobs + 8));
  std::map<std::string, int> by_replica, race_by_replica;
  std::map<std::string, std::vector<Run>> race_runs;
  for (const auto& [job, list] : runs) {
    EXPECT_EQ(list.size(), 1u) << job << " ran " << list.size() << " times";
    for (const Run& run : list) by_replica[run.replica] += 1;
    if (job.rfind("race-", 0) == 0) {
      race_runs[job] = list;
      for (const Run& run : list) race_by_replica[run.replica] += 1;
    }
  }
  EXPECT_EQ(race_runs.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(by_replica["a"] + by_replica["b"], kJobs + 8);
  // The claims spread over the two (equal capacity): each ran at least a fifth of the race.
  EXPECT_GE(race_by_replica["a"], kJobs / 5) << "replica a ran " << race_by_replica["a"];
  EXPECT_GE(race_by_replica["b"], kJobs / 5) << "replica b ran " << race_by_replica["b"];
  // The limits hold over both replicas: the sweep's max_parallel, and max_running in all.
  EXPECT_LE(MostAtOnce(race_runs), kMaxParallel);
  EXPECT_LE(MostAtOnce(runs), 8);
  std::printf("race jobs run by replica a: %d, b: %d; most at once: sweep %d, all %d\n",
              race_by_replica["a"], race_by_replica["b"], MostAtOnce(race_runs), MostAtOnce(runs));
  // Each job was claimed once: one start, as its first and only attempt.
  json first_page = a->Get("/api/v1/jobs?sweep=" + sweep + "&limit=1000").Json();
  for (const json& job : first_page["jobs"]) {
    EXPECT_EQ(job["attempt"], 0) << job.dump();
  }
}

TEST_F(ServerReplicasTest, AClientOfEitherReplicaSeesEveryStatusChangeAndResumesOnTheOther) {
  // max_running counts the jobs of both replicas. So that both run jobs, whoever polls first, b
  // is paused (SIGSTOP) while a claims its two; b, resumed, sees two of its six slots taken and
  // claims the other four jobs long before a's (of 3 s) end.
  auto a = StartReplica("a", 2);
  auto b = StartReplica("b", 6);
  // Status events of the sweep's jobs, as "<id> <job> <status>/<secondary status>".
  auto statuses = [](const std::vector<SseEvent>& events) {
    std::vector<std::string> keys;
    for (const SseEvent& event : events) {
      if (event.type != "job.status") continue;
      const std::string job = event.data.value("job_name", "");
      if (job.rfind("seen-", 0) != 0) continue;
      keys.push_back(std::to_string(event.id) + " " + job + " " +
                     event.data["data"].value("status", "") + "/" +
                     event.data["data"].value("secondary_status", ""));
    }
    return keys;
  };
  auto all_completed = [](const std::vector<SseEvent>& seen) {
    int ended = 0;
    for (const SseEvent& event : seen) {
      if (event.type == "job.status" && event.data["data"]["status"] == "Completed" &&
          event.data.value("job_name", "").rfind("seen-", 0) == 0) {
        ++ended;
      }
    }
    return ended == 6;
  };
  // A client of b, live from before the sweep exists; a creates the sweep, and both run it.
  std::vector<SseEvent> on_b;
  std::thread reader(
      [&] { on_b = ReadEvents(b->url() + "/api/v1/events", b->token(), "", all_completed, 120s); });
  std::this_thread::sleep_for(1s);  // connected
  ASSERT_EQ(kill(b->pid(), SIGSTOP), 0);
  HttpAnswer created = a->Post(
      "/api/v1/sweeps",
      {{"name", "seen"}, {"trainer", MarkerTrainer("3")}, {"grid", {{"n", {0, 1, 2, 3, 4, 5}}}}});
  auto a_runs_two = [&] {
    return a->Get("/api/v1/jobs?status=InProgress").Json()["jobs"].size() == 2;
  };
  const bool a_claimed = created.status == 201 && WaitFor(a_runs_two, 30s);
  ASSERT_EQ(kill(b->pid(), SIGCONT), 0);
  reader.join();
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_TRUE(a_claimed) << a->Get("/api/v1/jobs").body;
  const std::string sweep = created.Json()["id"];
  ASSERT_TRUE(all_completed(on_b)) << on_b.size() << " events";

  // The store's whole record of the sweep, replayed on a: b's client saw every status change.
  const std::vector<std::string> seen_on_b = statuses(on_b);
  std::vector<SseEvent> on_a = ReadEvents(
      a->url() + "/api/v1/events?sweep=" + sweep, a->token(), "0",
      [&](const std::vector<SseEvent>& seen) { return statuses(seen).size() >= seen_on_b.size(); },
      30s);
  EXPECT_EQ(statuses(on_a), seen_on_b);
  std::set<std::string> replicas;
  for (const auto& [job, list] : Runs()) {
    ASSERT_EQ(list.size(), 1u) << job;
    replicas.insert(list[0].replica);
  }
  EXPECT_EQ(replicas, (std::set<std::string>{"a", "b"})) << "both replicas ran jobs";

  // Resumed on b after an event in the middle, as a client that reconnects through a load
  // balancer to another replica: exactly the events after it.
  const size_t middle = on_a.size() / 2;
  std::vector<SseEvent> resumed = ReadEvents(
      b->url() + "/api/v1/events?sweep=" + sweep, b->token(), std::to_string(on_a[middle].id),
      [&](const std::vector<SseEvent>& seen) {
        return statuses(seen).size() >=
               statuses(
                   std::vector<SseEvent>(on_a.begin() + static_cast<long>(middle) + 1, on_a.end()))
                   .size();
      },
      30s);
  ASSERT_FALSE(resumed.empty());
  EXPECT_EQ(resumed.front().id, on_a[middle + 1].id);
  EXPECT_EQ(statuses(resumed), statuses(std::vector<SseEvent>(
                                   on_a.begin() + static_cast<long>(middle) + 1, on_a.end())));
}

// Every replica runs a webhook dispatcher over the shared event log: a receiver gets each job's
// end once, whichever replica made and sent the delivery, and both replicas list the same log.
TEST_F(ServerReplicasTest, AWebhookReceiverGetsEachJobsEndOnceFromTwoReplicas) {
  testing::HttpTestServer receiver(testing::HttpTestServer::Mode::kAnswer, 204);
  auto a = StartReplica("a", 2, /*slurm=*/false, {"--webhook-allow-private"});
  auto b = StartReplica("b", 2, /*slurm=*/false, {"--webhook-allow-private"});
  HttpAnswer hook = a->Post("/api/v1/webhooks", {{"url", receiver.url("/hook")},
                                                 {"secret", "0123456789abcdef-secret"},
                                                 {"events", {"job.completed"}}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  const std::string webhook = hook.Json()["id"];
  constexpr int kJobs = 8;
  HttpAnswer created = b->Post("/api/v1/sweeps", {{"name", "hooked"},
                                                  {"trainer", MarkerTrainer("0.2")},
                                                  {"grid", {{"n", {0, 1, 2, 3, 4, 5, 6, 7}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  b->WaitForSweepEnd(created.Json()["id"], kJobs, 120s);
  ASSERT_TRUE(receiver.WaitForRequests(kJobs, 60s)) << receiver.requests().size();
  // Time for a second sending, were a delivery made or sent by both.
  std::this_thread::sleep_for(3s);
  std::map<std::string, int> by_job;
  std::set<std::string> delivery_ids;
  for (const testing::RecordedRequest& request : receiver.requests()) {
    by_job[json::parse(request.body)["job"]["name"].get<std::string>()] += 1;
    delivery_ids.insert(request.headers.at("x-trainyard-delivery"));
  }
  EXPECT_EQ(by_job.size(), static_cast<size_t>(kJobs));
  for (const auto& [job, count] : by_job) EXPECT_EQ(count, 1) << job;
  EXPECT_EQ(delivery_ids.size(), static_cast<size_t>(kJobs));
  for (ServerProcess* replica : {a.get(), b.get()}) {
    json log = replica->Get("/api/v1/webhooks/" + webhook + "/deliveries").Json();
    ASSERT_EQ(log["deliveries"].size(), static_cast<size_t>(kJobs)) << log.dump();
    for (const json& delivery : log["deliveries"]) {
      EXPECT_EQ(delivery["status"], "succeeded") << delivery.dump();
      EXPECT_EQ(delivery["attempts"], 1) << delivery.dump();
    }
  }
}

// A replica killed while its Slurm jobs run: the other takes them over when their leases expire,
// follows them to their end and stores their outputs; every job completes, its code run once.
TEST_F(ServerReplicasTest, AKilledReplicasSlurmJobsAreTakenOverAndCompleteOnce) {
  if (SlurmCluster::Get() == nullptr) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
  }
  auto a = StartReplica("a", 3, /*slurm=*/true);
  const std::string markers = (temp_.path() / "markers").string();
  json body = {{"name", "taken"},
               {"executor", "slurm"},
               {"trainer",
                {{"command",
                  {"sh", "-c",
                   "s=$(date +%s%N); sleep 3; echo \"$SM_MODEL_DIR $s $(date +%s%N)\" >> " +
                       markers + "/$TRAINING_JOB_NAME; echo done > \"$SM_MODEL_DIR/model.txt\""}}}},
               {"grid", {{"n", {0, 1, 2, 3, 4, 5}}}}};
  HttpAnswer created = a->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];
  // a runs three jobs on Slurm; then it is killed, and b starts.
  ASSERT_TRUE(WaitFor(
      [&] {
        json jobs = a->Get("/api/v1/jobs?sweep=" + sweep).Json()["jobs"];
        int training = 0;
        for (const json& job : jobs) training += job["secondary_status"] == "Training" ? 1 : 0;
        return training >= 2;
      },
      120s))
      << a->Get("/api/v1/jobs?sweep=" + sweep).body << SlurmCluster::Get()->LogTails();
  a->Kill9();
  auto b = StartReplica("b", 3, /*slurm=*/true);
  json ended = b->WaitForSweepEnd(sweep, 6, 180s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), 6)
      << ended.dump() << "\n"
      << b->OutputSoFar() << SlurmCluster::Get()->LogTails();
  EXPECT_NE(b->OutputSoFar().find("taken over"), std::string::npos) << b->OutputSoFar();
  std::map<std::string, std::vector<Run>> runs = Runs();
  EXPECT_EQ(runs.size(), 6u);
  for (const auto& [job, list] : runs) EXPECT_EQ(list.size(), 1u) << job << " ran more than once";
  json jobs = b->Get("/api/v1/jobs?sweep=" + sweep).Json()["jobs"];
  ASSERT_EQ(jobs.size(), 6u);
  for (const json& job : jobs) {
    EXPECT_EQ(job["attempt"], 0) << job.dump();
    // The outputs of each, taken over or not, are stored.
    HttpAnswer model =
        b->Get("/api/v1/jobs/" + job["name"].get<std::string>() + "/artifacts/model");
    EXPECT_EQ(model.status, 200) << job["name"] << ": " << model.body;
  }
}

// A replica killed (SIGKILL) at a step of its local job's start, before it recorded anything past
// Starting: the replica that takes the job over knows whether the job's code may have started.
// Killed after staging, before the launch: the job runs again, as its next attempt, once, on the
// other replica. Killed just after the launch: its code ran on the killed replica's machine, so
// the job ends Failed, saying why, and never runs again.
class ServerReplicasKillAtStepTest : public ServerReplicasTest,
                                     public ::testing::WithParamInterface<std::string> {};

TEST_P(ServerReplicasKillAtStepTest, ALocalJobOfAReplicaKilledAsItStartsRunsAtMostOnce) {
  auto a = StartReplica("a", 1, /*slurm=*/false, {}, {{"TRAINYARD_TEST_KILL_AT", GetParam()}});
  // a may be killed before it answers: the sweep is read back from b.
  a->Post("/api/v1/sweeps",
          {{"name", "once"}, {"trainer", MarkerTrainer()}, {"grid", {{"n", {0}}}}});
  const std::string killed = a->WaitForExit(60s);
  ASSERT_NE(killed.find("killed at " + GetParam()), std::string::npos) << killed;
  auto b = StartReplica("b", 1);
  json sweeps = b->Get("/api/v1/sweeps").Json()["sweeps"];
  ASSERT_EQ(sweeps.size(), 1u) << sweeps.dump();
  const std::string sweep = sweeps[0]["id"];
  json ended = b->WaitForSweepEnd(sweep, 1, 60s);
  json job = b->Get("/api/v1/jobs?sweep=" + sweep).Json()["jobs"][0];
  const std::string name = job["name"];
  const bool launched = GetParam() == "executor.launched";
  // The code started on a writes its marker after a is gone.
  ASSERT_TRUE(WaitFor([&] { return Runs().size() == 1u; }, 30s)) << job.dump();
  std::map<std::string, std::vector<Run>> runs = Runs();
  if (launched) {
    EXPECT_EQ(job["status"], "Failed") << job.dump();
    EXPECT_NE(job["failure_reason"].get<std::string>().find("cannot be reached from another"),
              std::string::npos)
        << job.dump();
    ASSERT_EQ(runs.count(name), 1u);
    EXPECT_EQ(runs[name].size(), 1u);
    EXPECT_EQ(runs[name][0].replica, "a");
  } else {
    EXPECT_EQ(job["status"], "Completed") << job.dump() << "\n" << b->OutputSoFar();
    EXPECT_EQ(job["attempt"], 1) << job.dump();
    ASSERT_EQ(runs.count(name + "-r1"), 1u) << job.dump();
    EXPECT_EQ(runs[name + "-r1"].size(), 1u);
    EXPECT_EQ(runs[name + "-r1"][0].replica, "b");
  }
}

INSTANTIATE_TEST_SUITE_P(Steps, ServerReplicasKillAtStepTest,
                         ::testing::Values("executor.staged", "executor.launched"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

// Three replicas on Slurm; two are killed (SIGKILL) at random instants during a 20-job sweep.
// Every job completes, each job's code ran once, the sweep's max_parallel held at every instant
// (from the jobs' own start and end times), and an event-stream client of the surviving replica
// saw every status change the store recorded. A replica killed after packing a job's outputs
// leaves them in the shared Slurm work dir, where the replica that takes the job over stores
// them from.
TEST_F(ServerReplicasTest, TwentyJobsCompleteOnceWhileTwoOfThreeReplicasAreKilled) {
  if (SlurmCluster::Get() == nullptr) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << SlurmCluster::UnavailableReason();
  }
  constexpr int kJobs = 20;
  constexpr int kMaxParallel = 4;
  auto a = StartReplica("a", 4, /*slurm=*/true);
  auto b = StartReplica("b", 4, /*slurm=*/true);
  auto c = StartReplica("c", 4, /*slurm=*/true);
  const std::string markers = (temp_.path() / "markers").string();
  json values = json::array();
  for (int i = 0; i < kJobs; ++i) values.push_back(i);
  auto status_keys = [](const std::vector<SseEvent>& events) {
    std::vector<std::string> keys;
    for (const SseEvent& event : events) {
      if (event.type != "job.status") continue;
      keys.push_back(std::to_string(event.id) + " " + event.data.value("job_name", "") + " " +
                     event.data["data"].value("secondary_status", ""));
    }
    return keys;
  };
  auto all_completed = [&](const std::vector<SseEvent>& seen) {
    int ended = 0;
    for (const SseEvent& event : seen) {
      const json& status = event.data["data"]["status"];
      ended += event.type == "job.status" &&
                       (status == "Completed" || status == "Failed" || status == "Stopped")
                   ? 1
                   : 0;
    }
    return ended == kJobs;
  };
  std::vector<SseEvent> on_c;
  std::thread reader(
      [&] { on_c = ReadEvents(c->url() + "/api/v1/events", c->token(), "", all_completed, 300s); });
  std::this_thread::sleep_for(1s);  // connected
  HttpAnswer created =
      a->Post("/api/v1/sweeps",
              {{"name", "survive"},
               {"executor", "slurm"},
               {"trainer",
                {{"command",
                  {"sh", "-c",
                   "s=$(date +%s%N); sleep 2; echo \"$SM_MODEL_DIR $s $(date +%s%N)\" >> " +
                       markers + "/$TRAINING_JOB_NAME; echo done > \"$SM_MODEL_DIR/model.txt\""}}}},
               {"grid", {{"n", values}}},
               {"max_parallel", kMaxParallel}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];
  std::mt19937 random(std::random_device{}());
  const auto first_kill =
      std::chrono::milliseconds(std::uniform_int_distribution<int>(1'000, 8'000)(random));
  const auto second_kill =
      std::chrono::milliseconds(std::uniform_int_distribution<int>(1'000, 8'000)(random));
  std::printf("killing replica a after %lld ms, then b %lld ms later\n",
              static_cast<long long>(first_kill.count()),
              static_cast<long long>(second_kill.count()));
  std::this_thread::sleep_for(first_kill);
  a->Kill9();
  std::this_thread::sleep_for(second_kill);
  b->Kill9();
  json ended = c->WaitForSweepEnd(sweep, kJobs, 300s);
  reader.join();
  EXPECT_EQ(ended["counts"].value("Completed", 0), kJobs) << ended.dump();
  json jobs = c->Get("/api/v1/jobs?sweep=" + sweep + "&limit=100").Json()["jobs"];
  // What each replica logged about a job, for a job that did not complete.
  auto logged_about = [&](const std::string& job) {
    std::string lines;
    const std::map<std::string, ServerProcess*> replicas{
        {"a", a.get()}, {"b", b.get()}, {"c", c.get()}};
    for (const auto& [name, replica] : replicas) {
      std::istringstream output(replica->OutputSoFar());
      for (std::string line; std::getline(output, line);) {
        if (line.find(job) != std::string::npos) lines += name + ": " + line + "\n";
      }
    }
    return lines;
  };
  for (const json& job : jobs) {
    EXPECT_EQ(job["status"], "Completed") << job.dump() << "\n"
                                          << logged_about(job["name"].get<std::string>());
    EXPECT_EQ(job["attempt"], 0) << job.dump();
  }
  std::map<std::string, std::vector<Run>> runs = Runs();
  EXPECT_EQ(runs.size(), static_cast<size_t>(kJobs));
  for (const auto& [job, list] : runs) EXPECT_EQ(list.size(), 1u) << job << " ran more than once";
  EXPECT_LE(MostAtOnce(runs), kMaxParallel);
  std::printf("most jobs at once: %d\n", MostAtOnce(runs));
  // The survivor's client saw every status change the store recorded for the sweep.
  ASSERT_TRUE(all_completed(on_c)) << on_c.size() << " events";
  std::vector<SseEvent> replay = ReadEvents(
      c->url() + "/api/v1/events?sweep=" + sweep, c->token(), "0",
      [&](const std::vector<SseEvent>& seen) {
        return status_keys(seen).size() >= status_keys(on_c).size();
      },
      30s);
  EXPECT_EQ(status_keys(on_c), status_keys(replay));
}

}  // namespace
}  // namespace trainyard
