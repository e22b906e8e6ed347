// `trainyard server` end to end over real HTTP on 127.0.0.1: the built binaries, the example
// trainer, the sample digits data, and the CLI as a user would type it.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "archive/archive.h"
#include "common/files.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::Call;
using testing::HttpAnswer;
using testing::ReadEvents;
using testing::RunProcess;
using testing::ServerProcess;
using testing::SseEvent;
using testing::WaitFor;

std::string Digits(const std::string& name) {
  return (testing::SourceDir() / "examples" / "data" / "digits" / name).string();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.Start(); }

  std::string Upload(const std::string& path, const std::string& kind) {
    auto result = server_.Cli({"dataset", "upload", path, "--kind", kind, "--output", "json"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    json dataset = json::parse(result.output.substr(result.output.find('{')), nullptr, false);
    return dataset.is_object() ? dataset.value("id", "") : "";
  }

  json DigitsSweep(const std::string& name, const json& grid) {
    return {{"name", name},
            {"trainer", {{"command", {"trainyard-example-trainer"}}}},
            {"channels",
             {{"training", Upload(Digits("train.csv"), "training")},
              {"evaluation", Upload(Digits("eval.csv"), "evaluation")},
              {"pretrained", Upload(Digits("pretrained/model.json"), "pretrained")}}},
            {"hyperparameters", {{"iterations", 200}}},
            {"grid", grid},
            {"max_parallel", 2},
            {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  }

  json Sweep(const std::string& id) { return server_.Get("/api/v1/sweeps/" + id).Json(); }

  bool SweepEnded(const std::string& id) {
    json sweep = Sweep(id);
    int64_t ended = 0;
    for (const char* status : {"Completed", "Failed", "Stopped"}) {
      ended += sweep["counts"].value(status, 0);
    }
    return ended == sweep.value("job_count", -1);
  }

  testing::TempDir temp_;
  ServerProcess server_{temp_.path() / "data"};
};

TEST_F(ServerTest, RefusesCallsWithoutAValidToken) {
  HttpAnswer none = Call({"GET", server_.url() + "/api/v1/datasets"});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer realm=\"trainyard\"");
  EXPECT_EQ(none.Json()["error"]["code"], "Unauthenticated");
  EXPECT_EQ(Call({"GET", server_.url() + "/api/v1/datasets", "", "", {}, "wrong"}).status, 401);
  EXPECT_EQ(Call({"GET", server_.url() + "/healthz"}).status, 200);
  EXPECT_EQ(Call({"GET", server_.url() + "/api/v1/openapi.json"}).Json()["openapi"], "3.1.0");
  auto cli = server_.Cli({"dataset", "list", "--token", "wrong"});
  EXPECT_EQ(cli.exit_code, 6) << cli.output;
}

TEST_F(ServerTest, DatasetRoundTripWithRangesAndChecksums) {
  fs::path file = temp_.path() / "blob.bin";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 3'000'000; ++i) out.put(static_cast<char>(i * 7 % 251));
  }
  std::string id = Upload(file.string(), "training");
  ASSERT_FALSE(id.empty());
  json dataset = server_.Get("/api/v1/datasets/" + id).Json();
  EXPECT_EQ(dataset["size"], 3'000'000);
  EXPECT_EQ(dataset["filename"], "blob.bin");
  auto sha = RunProcess({"sha256sum", file.string()}, {});
  EXPECT_EQ(dataset["sha256"], sha.output.substr(0, 64));

  HttpAnswer range = Call({"GET",
                           server_.url() + "/api/v1/datasets/" + id + "/content",
                           "",
                           "",
                           {{"Range", "bytes=1000-1009"}},
                           server_.token()});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.headers["content-range"], "bytes 1000-1009/3000000");
  ASSERT_EQ(range.body.size(), 10u);
  EXPECT_EQ(range.body[0], static_cast<char>(1000 * 7 % 251));
  EXPECT_EQ(Call({"GET",
                  server_.url() + "/api/v1/datasets/" + id + "/content",
                  "",
                  "",
                  {{"Range", "bytes=3000000-"}},
                  server_.token()})
                .status,
            416);

  fs::path copy = temp_.path() / "copy.bin";
  auto download = server_.Cli({"dataset", "download", id, "-o", copy.string()});
  ASSERT_EQ(download.exit_code, 0) << download.output;
  EXPECT_EQ(ReadFile(copy).value(), ReadFile(file).value());

  // A wrong checksum keeps nothing; a bad kind names the field.
  HttpAnswer bad = Call({"POST",
                         server_.url() + "/api/v1/datasets?name=x&kind=training",
                         "abc",
                         "",
                         {{"X-Content-SHA256", std::string(64, '0')}},
                         server_.token()});
  EXPECT_EQ(bad.status, 400);
  HttpAnswer kind = Call({"POST",
                          server_.url() + "/api/v1/datasets?name=x&kind=weights",
                          "abc",
                          "",
                          {},
                          server_.token()});
  EXPECT_EQ(kind.status, 400);
  EXPECT_EQ(kind.Json()["error"]["field"], "kind");
  HttpAnswer traversal = Call({"POST",
                               server_.url() + "/api/v1/datasets?kind=training&filename=..%2Fx",
                               "abc",
                               "",
                               {},
                               server_.token()});
  EXPECT_EQ(traversal.status, 400);
  EXPECT_EQ(server_.Get("/api/v1/datasets").Json()["datasets"].size(), 1u);

  EXPECT_EQ(server_.Cli({"dataset", "rm", id}).exit_code, 0);
  EXPECT_EQ(server_.Get("/api/v1/datasets/" + id).status, 404);
}

TEST_F(ServerTest, MultipartUploadKeepsTheFileName) {
  fs::path file = temp_.path() / "train.csv";
  ASSERT_TRUE(WriteFileAtomic(file, "a,b\n1,2\n").ok());
  auto curl = RunProcess(
      {"curl", "-sS", "-H", "Authorization: Bearer " + server_.token(), "-F", "kind=training", "-F",
       "file=@" + file.string(), server_.url() + "/api/v1/datasets"},
      {});
  ASSERT_EQ(curl.exit_code, 0) << curl.output;
  json dataset = json::parse(curl.output);
  EXPECT_EQ(dataset["filename"], "train.csv");
  EXPECT_EQ(dataset["size"], 8);
  EXPECT_EQ(dataset["kind"], "training");
}

TEST_F(ServerTest, TwoByTwoSweepCompletesWithLiveEventsAndArtifacts) {
  json body = DigitsSweep("digits", {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}});
  std::string after = std::to_string(0);
  HttpAnswer created = server_.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  EXPECT_EQ(created.Json()["job_count"], 4);

  // Every status change of every job arrives, in order, on the sweep's event stream.
  std::vector<SseEvent> events = ReadEvents(
      server_.url() + "/api/v1/events?sweep=" + sweep_id, server_.token(), "0",
      [](const std::vector<SseEvent>& seen) {
        int ended = 0;
        for (const auto& event : seen) {
          if (event.type == "job.status" && event.data["data"]["status"] == "Completed") ++ended;
        }
        return ended == 4;
      },
      120s);
  int64_t previous = 0;
  std::map<std::string, int> created_events, progress_events;
  for (const auto& event : events) {
    EXPECT_GT(event.id, previous);
    previous = event.id;
    EXPECT_EQ(event.data["sweep_id"], sweep_id);
    if (event.type == "job.created") created_events[event.data["job_name"]]++;
    if (event.type == "job.progress") progress_events[event.data["job_name"]]++;
  }
  EXPECT_EQ(created_events.size(), 4u);
  EXPECT_EQ(progress_events.size(), 4u) << "every job reported progress through the callback";
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 60s));

  json sweep = Sweep(sweep_id);
  EXPECT_EQ(sweep["counts"]["Completed"], 4) << sweep.dump();
  EXPECT_DOUBLE_EQ(sweep["progress"].get<double>(), 1.0);
  ASSERT_TRUE(sweep["best_job"].is_object());
  double best = sweep["best_job"]["value"];
  EXPECT_GT(best, 0.7);

  // Reconnecting after event N gets exactly the events after N.
  int64_t middle = events[events.size() / 2].id;
  std::vector<SseEvent> replay = ReadEvents(
      server_.url() + "/api/v1/events?sweep=" + sweep_id, server_.token(), std::to_string(middle),
      [&](const std::vector<SseEvent>& seen) { return seen.size() >= events.size() / 2; }, 10s);
  ASSERT_FALSE(replay.empty());
  EXPECT_EQ(replay.front().id, events[events.size() / 2 + 1].id);

  // The best job's artifacts: a model that unpacks, predictions, the log, metrics.
  std::string job = sweep["best_job"]["name"];
  json described = server_.Get("/api/v1/jobs/" + job).Json();
  EXPECT_EQ(described["status"], "Completed");
  EXPECT_EQ(described["secondary_status"], "Completed");
  EXPECT_EQ(described["exit_code"], 0);
  EXPECT_GE(described["transitions"].size(), 4u);
  EXPECT_NEAR(described["metrics"]["eval_accuracy"].get<double>(), best, 1e-12);
  fs::path model = temp_.path() / "model.tar.gz";
  auto download =
      server_.Cli({"job", "download", job, "--artifact", "model", "-o", model.string()});
  ASSERT_EQ(download.exit_code, 0) << download.output;
  fs::path unpacked = temp_.path() / "model";
  fs::create_directories(unpacked);
  auto unpacked_status = archive::Unpack(model, unpacked);
  ASSERT_TRUE(unpacked_status.ok()) << unpacked_status.status().ToString();
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
  HttpAnswer predictions = server_.Get("/api/v1/jobs/" + job + "/artifacts/predictions");
  EXPECT_EQ(predictions.status, 200);
  EXPECT_EQ(predictions.body.rfind("row,label,predicted,confidence\n", 0), 0u)
      << predictions.body.substr(0, 80);
  EXPECT_NE(predictions.headers["content-disposition"].find("predictions.csv"), std::string::npos);
  HttpAnswer log = server_.Get("/api/v1/jobs/" + job + "/logs");
  EXPECT_NE(log.body.find("eval_accuracy"), std::string::npos) << log.body.substr(0, 300);
  json metrics = server_.Get("/api/v1/jobs/" + job + "/metrics?name=loss").Json();
  EXPECT_GT(metrics["metrics"].size(), 2u);

  auto logs = server_.Cli({"job", "logs", job, "-f"});
  EXPECT_EQ(logs.exit_code, 0) << logs.output;
  EXPECT_NE(logs.output.find("eval_accuracy"), std::string::npos);

  // Outputs are where SageMaker puts them.
  fs::path objects = server_.data_dir() / "objects" / "objects" / "outputs" / job / "output";
  EXPECT_TRUE(fs::exists(objects / "model.tar.gz"));
  EXPECT_TRUE(fs::exists(objects / "output.tar.gz"));
  // A dataset in use by a finished sweep may go.
  json datasets = server_.Get("/api/v1/datasets").Json();
  EXPECT_EQ(
      server_.Delete("/api/v1/datasets/" + datasets["datasets"][0]["id"].get<std::string>()).status,
      204);
}

TEST_F(ServerTest, StopAJobAndStopASweep) {
  std::string data = Upload(Digits("train.csv"), "training");
  json body = {{"name", "sleepers"},
               {"trainer", {{"command", {"sleep", "60"}}}},
               {"channels", {{"training", data}}},
               {"grid", {{"n", {1, 2, 3, 4}}}},
               {"max_parallel", 2}};
  HttpAnswer created = server_.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  ASSERT_TRUE(WaitFor([&] { return Sweep(sweep_id)["counts"].value("InProgress", 0) == 2; }, 20s));
  // In use: the dataset cannot go.
  HttpAnswer refused = server_.Delete("/api/v1/datasets/" + data);
  EXPECT_EQ(refused.status, 409) << refused.body;

  json jobs = server_.Get("/api/v1/jobs?sweep=" + sweep_id + "&status=InProgress").Json();
  std::string first = jobs["jobs"][0]["name"];
  auto stop = server_.Cli({"job", "stop", first});
  EXPECT_EQ(stop.exit_code, 0) << stop.output;
  ASSERT_TRUE(WaitFor(
      [&] { return server_.Get("/api/v1/jobs/" + first).Json()["status"] == "Stopped"; }, 30s));

  auto stop_sweep = server_.Cli({"sweep", "stop", sweep_id});
  EXPECT_EQ(stop_sweep.exit_code, 0) << stop_sweep.output;
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 30s));
  EXPECT_EQ(Sweep(sweep_id)["counts"]["Stopped"], 4);
  EXPECT_EQ(server_.Delete("/api/v1/datasets/" + data).status, 204);
}

// SIGUSR1 drains the server (docs/scale-out.md): /healthz answers 503 "draining" while the API
// goes on serving, its running job goes on to its end here, a sweep created after it stays
// queued (no job is claimed here any more), and SIGTERM still stops it.
TEST_F(ServerTest, SigusrOneDrainsTheServer) {
  std::string data = Upload(Digits("train.csv"), "training");
  auto sleeper = [&](const std::string& name, int seconds) {
    return json{{"name", name},
                {"trainer", {{"command", {"sleep", std::to_string(seconds)}}}},
                {"channels", {{"training", data}}}};
  };
  HttpAnswer created = server_.Post("/api/v1/sweeps", sleeper("before", 3));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string before = created.Json()["id"];
  ASSERT_TRUE(WaitFor([&] { return Sweep(before)["counts"].value("InProgress", 0) == 1; }, 20s));

  ASSERT_EQ(::kill(server_.pid(), SIGUSR1), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Call({"GET", server_.url() + "/healthz"}).status == 503;
      },
      10s));
  EXPECT_EQ(Call({"GET", server_.url() + "/healthz"}).Json()["status"], "draining");
  HttpAnswer later = server_.Post("/api/v1/sweeps", sleeper("after", 1));
  ASSERT_EQ(later.status, 201) << later.body;
  std::string after = later.Json()["id"];

  json ended = server_.WaitForSweepEnd(before, 1, 30s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), 1) << ended.dump();
  ASSERT_TRUE(
      WaitFor([&] { return server_.OutputSoFar().find("drained") != std::string::npos; }, 10s))
      << server_.OutputSoFar();
  json queued = server_.Get("/api/v1/jobs?sweep=" + after).Json();
  ASSERT_EQ(queued["jobs"].size(), 1u) << queued.dump();
  EXPECT_EQ(queued["jobs"][0]["queued"], true) << queued.dump();
  EXPECT_EQ(Call({"GET", server_.url() + "/healthz"}).status, 503);

  server_.Stop();
  EXPECT_NE(server_.Output().find("draining: no more jobs are claimed here"), std::string::npos)
      << server_.Output();
  EXPECT_NE(server_.Output().find("stopping"), std::string::npos) << server_.Output();
}

// Code that makes or downloads its own data needs no channel (SageMaker's InputDataConfig is
// optional); `sweep create --wait` and `sweep wait` exit as the sweep ended, and a wait outlives
// a restart of the server.
TEST_F(ServerTest, ASweepWithoutChannelsCompletesAndSweepWaitFollowsItAcrossARestart) {
  HttpAnswer created = server_.Post(
      "/api/v1/sweeps",
      {{"name", "selfmade"},
       {"trainer",
        {{"command", {"sh", "-c", "echo made my own data > \"$SM_MODEL_DIR/data.txt\"; sleep 3"}}}},
       {"grid", {{"seed", {1, 2}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  EXPECT_EQ(created.Json()["spec"]["channels"], json::object());

  testing::Process wait(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "sweep", "wait", sweep_id},
      {{"TRAINYARD_URL", server_.url()}, {"TRAINYARD_TOKEN", server_.token()}});
  // Killed once both jobs' code runs and the wait has had its first answer (the server's request
  // log shows the wait's GET of the sweep; the test itself never asks for it).
  ASSERT_TRUE(WaitFor(
      [&] {
        json jobs = server_.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        return jobs.size() == 2 && jobs[0]["secondary_status"] == "Training" &&
               jobs[1]["secondary_status"] == "Training" &&
               server_.OutputSoFar().find("path=/api/v1/sweeps/" + sweep_id + " status=200") !=
                   std::string::npos;
      },
      20s));
  server_.Kill9();
  std::this_thread::sleep_for(1500ms);  // the wait, asking every second, finds nobody
  server_.Start();
  testing::ProcessResult waited = wait.Wait(60s);
  EXPECT_EQ(waited.exit_code, 0) << waited.output;
  EXPECT_NE(waited.output.find("asking again until it answers"), std::string::npos)
      << waited.output;
  EXPECT_NE(waited.output.find("sweep " + sweep_id + " ended: 2 Completed"), std::string::npos)
      << waited.output;
  json jobs = server_.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
  ASSERT_EQ(jobs.size(), 2u);
  for (const json& job : jobs) EXPECT_EQ(job["status"], "Completed") << job.dump();

  auto failing = server_.Cli(
      {"sweep", "create", "--name", "failing", "--command", "false", "--wait", "--timeout", "60"});
  EXPECT_EQ(failing.exit_code, 1) << failing.output;
  EXPECT_NE(failing.output.find("ended: 1 Failed"), std::string::npos) << failing.output;
}

TEST_F(ServerTest, ErrorsNameTheFieldAndTheThing) {
  HttpAnswer answer = server_.Post("/api/v1/sweeps", {{"name", "x"}});
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.Json()["error"]["field"], "trainer");
  answer = server_.Post("/api/v1/sweeps", {{"name", "x"},
                                           {"trainer", {{"command", {"true"}}}},
                                           {"channels", {{"training", "ds-0000000000000000"}}}});
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.Json()["error"]["message"].get<std::string>().find("ds-0000000000000000"),
            std::string::npos);
  EXPECT_EQ(server_.Get("/api/v1/jobs/nope").Json()["error"]["message"], "job 'nope' not found");
  EXPECT_EQ(Call({"POST",
                  server_.url() + "/api/v1/sweeps",
                  std::string(200, '['),
                  "",
                  {{"Content-Type", "application/json"}},
                  server_.token()})
                .status,
            400);
  EXPECT_EQ(server_.Get("/api/v1/jobs?status=Running").Json()["error"]["field"], "status");
  // A job token is not an API token, and a made-up one posts nothing.
  EXPECT_EQ(Call({"POST", server_.url() + "/api/v1/jobs/nope/progress", "{}", "", {}, "x"}).status,
            401);
}

TEST_F(ServerTest, KillNineInTheMiddleLeavesNoJobStuckAndLosesNoData) {
  std::string data = Upload(Digits("train.csv"), "training");
  json body = {{"name", "crash"},
               {"trainer", {{"command", {"sleep", "30"}}}},
               {"channels", {{"training", data}}},
               {"grid", {{"n", {1, 2, 3}}}},
               {"max_parallel", 1}};
  HttpAnswer created = server_.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  ASSERT_TRUE(WaitFor([&] { return Sweep(sweep_id)["counts"].value("InProgress", 0) == 1; }, 20s));
  std::string running = server_.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"][0]["name"];
  auto training = [&](const std::string& job) {
    return server_.Get("/api/v1/jobs/" + job).Json()["secondary_status"] == "Training";
  };
  ASSERT_TRUE(WaitFor([&] { return training(running); }, 20s));

  server_.Kill9();
  server_.Start();
  // The running job outlived the server and is followed again; nothing else was lost.
  json jobs = server_.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0]["status"], "InProgress") << jobs[0].dump();
  EXPECT_EQ(server_.Get("/api/v1/datasets/" + data).status, 200);
  auto content = server_.Get("/api/v1/datasets/" + data + "/content");
  EXPECT_EQ(content.body, ReadFile(Digits("train.csv")).value());
  // The adopted job can still be stopped, and then no job is left InProgress.
  EXPECT_EQ(server_.Post("/api/v1/sweeps/" + sweep_id + "/stop", json::object()).status, 200);
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 30s));
  json first = server_.Get("/api/v1/jobs/" + running).Json();
  EXPECT_EQ(first["status"], "Stopped") << first.dump();
}

TEST_F(ServerTest, AJobRunningWhenTheServerIsKilledCompletesAfterTheRestart) {
  std::string data = Upload(Digits("train.csv"), "training");
  json body = {{"name", "outlive"},
               {"trainer", {{"command", {"sh", "-c", "sleep 3; echo outlived the server"}}}},
               {"channels", {{"training", data}}},
               {"grid", {{"n", {1}}}}};
  HttpAnswer created = server_.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  ASSERT_TRUE(WaitFor([&] { return Sweep(sweep_id)["counts"].value("InProgress", 0) == 1; }, 20s));
  std::string job = server_.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"][0]["name"];
  ASSERT_TRUE(WaitFor(
      [&] { return server_.Get("/api/v1/jobs/" + job).Json()["secondary_status"] == "Training"; },
      20s));

  server_.Kill9();
  server_.Start();
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 30s));
  json ended = server_.Get("/api/v1/jobs/" + job).Json();
  EXPECT_EQ(ended["status"], "Completed") << ended.dump();
  EXPECT_EQ(ended["exit_code"], 0) << ended.dump();
  HttpAnswer log = server_.Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("outlived the server"), std::string::npos) << log.body;
}

// The job's callback token and URL, from the environment of its trainyard-wrap process (the one
// place they are; the ML command's environment has them removed). Empty when not found.
std::pair<std::string, std::string> CallbackOf(const std::string& job) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", error)) {
    auto environment = ReadFile(entry.path() / "environ");
    if (!environment.ok() ||
        environment->find(std::string("TRAINING_JOB_NAME=") + job + '\0') == std::string::npos) {
      continue;
    }
    std::map<std::string, std::string> variables;
    std::istringstream entries(*environment);
    for (std::string variable; std::getline(entries, variable, '\0');) {
      size_t equals = variable.find('=');
      if (equals != std::string::npos)
        variables[variable.substr(0, equals)] = variable.substr(equals + 1);
    }
    if (variables.contains("TRAINYARD_JOB_TOKEN")) {
      return {variables["TRAINYARD_JOB_TOKEN"], variables["TRAINYARD_CALLBACK_URL"]};
    }
  }
  return {};
}

// The server answers a progress report once it is in memory and writes it behind
// (docs/progress-callback.md, "On the server"): a clean stop still stores every report it
// answered, and a report read back through the API is the newest one answered.
TEST_F(ServerTest, ProgressAnsweredBeforeACleanStopIsStored) {
  json body = {{"name", "acked"},
               {"trainer", {{"command", {"sleep", "600"}}}},
               {"channels", {{"training", Upload(Digits("train.csv"), "training")}}},
               {"grid", {{"n", {1}}}}};
  HttpAnswer created = server_.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::string job;
  ASSERT_TRUE(WaitFor(
      [&] {
        json jobs = server_.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        if (jobs.empty() || jobs[0]["secondary_status"] != "Training") return false;
        job = jobs[0]["name"];
        return true;
      },
      30s));
  std::pair<std::string, std::string> callback;
  ASSERT_TRUE(WaitFor([&] { return !(callback = CallbackOf(job)).first.empty(); }, 20s));
  auto report = [&](int sequence) {
    json progress = {{"sequence", sequence}, {"progress", {{"progress", sequence / 100.0}}}};
    return Call({.method = "POST",
                 .url = callback.second,
                 .body = progress.dump(),
                 .headers = {{"Content-Type", "application/json"}},
                 .bearer = callback.first});
  };
  for (int sequence = 1; sequence <= 50; ++sequence) {
    HttpAnswer answer = report(sequence);
    ASSERT_EQ(answer.status, 204) << answer.body;
  }
  // Read back at once: the newest answered.
  EXPECT_EQ(server_.Get("/api/v1/jobs/" + job).Json()["progress"]["progress"], 0.5);
  for (int sequence = 51; sequence <= 100; ++sequence) {
    HttpAnswer answer = report(sequence);
    ASSERT_EQ(answer.status, 204) << answer.body;
  }
  server_.Stop();
  server_.Start();
  json stored = server_.Get("/api/v1/jobs/" + job).Json();
  EXPECT_EQ(stored["progress"]["progress"], 1.0) << stored.dump();
  EXPECT_EQ(server_.Post("/api/v1/sweeps/" + sweep_id + "/stop", json::object()).status, 200);
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 30s));
}

// Every JSON answer of every operation, checked against docs/openapi.json's schema for it.
// A job's environment is built, not inherited (docs/security.md): a server started with its
// admin token and S3 and AWS secrets in its environment runs a job that prints `env`; its log,
// as stored and as the lines API serves it, shows none of the server's variables beyond the
// allowlist. A secret the job reads from somewhere else is masked before it is stored.
TEST(ServerJobEnvironmentTest, JobsGetTheAllowlistAndTheirLogsNoSecretOfTheServer) {
  constexpr char kAdminToken[] = "env-admin-token-0123456789";
  constexpr char kS3Secret[] = "env-s3-secret-abcdefghij";
  constexpr char kAwsSecret[] = "env-aws-secret-klmnopqrst";
  constexpr char kSessionToken[] = "env-aws-session-uvwxyz0123";
  testing::TempDir temp;
  ServerProcess server(temp.path() / "data", {},
                       {{"TRAINYARD_TOKEN", kAdminToken},
                        {"TRAINYARD_S3_ACCESS_KEY_ID", "AKIDJOBENVTEST"},
                        {"TRAINYARD_S3_SECRET_ACCESS_KEY", kS3Secret},
                        {"AWS_ACCESS_KEY_ID", "AKIDJOBENVAWS"},
                        {"AWS_SECRET_ACCESS_KEY", kAwsSecret},
                        {"AWS_SESSION_TOKEN", kSessionToken},
                        {"SERVER_ONLY_SETTING", "not-for-jobs"},
                        {"LANG", "C.UTF-8"},
                        {"TZ", "UTC"}});
  server.Start();
  // Secrets a job could come by some other way: a file it can read.
  fs::path leaked = temp.path() / "leaked.txt";
  {
    std::ofstream file(leaked);
    file << kS3Secret << " " << kAwsSecret << " " << server.token() << "\n";
  }
  std::string script = "env | sort; echo \"found: $(cat '" + leaked.string() +
                       "')\"; echo found-it-in-the-failure: $(cat '" + leaked.string() +
                       "') >&2; exit 3";
  HttpAnswer created =
      server.Post("/api/v1/sweeps", {{"name", "printenv"},
                                     {"trainer", {{"command", {"sh", "-c", script}}}},
                                     {"environment", {{"JOB_OWN", "job-own-value"}}},
                                     {"grid", {{"seed", {1}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  server.WaitForSweepEnd(sweep_id, 1, 60s);
  json jobs = server.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  std::string job = jobs[0]["name"];
  EXPECT_EQ(jobs[0]["status"], "Failed") << jobs[0].dump();

  HttpAnswer stored = server.Get("/api/v1/jobs/" + job + "/artifacts/log");
  ASSERT_EQ(stored.status, 200) << stored.body;
  testing::ProcessResult lines = server.Cli({"job", "logs", job, "-f"});
  EXPECT_EQ(lines.exit_code, 0) << lines.output;
  json record = server.Get("/api/v1/jobs/" + job).Json();
  for (const std::string& log : {stored.body, lines.output}) {
    // The job's own variables and the contract's are there, and the allowlisted host ones.
    EXPECT_NE(log.find("JOB_OWN=job-own-value"), std::string::npos) << log;
    EXPECT_NE(log.find("TRAINING_JOB_NAME="), std::string::npos) << log;
    EXPECT_NE(log.find("SM_MODEL_DIR="), std::string::npos) << log;
    EXPECT_NE(log.find("\nPATH="), std::string::npos) << log;
    EXPECT_NE(log.find("LANG=C.UTF-8"), std::string::npos) << log;
    EXPECT_NE(log.find("TZ=UTC"), std::string::npos) << log;
    // Nothing else of the server's.
    for (const char* name : {"TRAINYARD_TOKEN=", "TRAINYARD_S3_", "AWS_ACCESS_KEY_ID=",
                             "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "SERVER_ONLY_SETTING=",
                             "TRAINYARD_BUILD_DIR=", "TRAINYARD_JOB_TOKEN="}) {
      EXPECT_EQ(log.find(name), std::string::npos) << name << " in:\n" << log;
    }
    // What the job found elsewhere is masked.
    EXPECT_NE(log.find("found: **** **** ****"), std::string::npos) << log;
    for (const std::string& secret :
         {std::string(kAdminToken), std::string(kS3Secret), std::string(kAwsSecret),
          std::string(kSessionToken), server.token()}) {
      EXPECT_EQ(log.find(secret), std::string::npos) << log;
      EXPECT_EQ(record.dump().find(secret), std::string::npos) << record.dump();
    }
  }
  EXPECT_NE(record.value("failure_reason", "").find("found-it-in-the-failure: ****"),
            std::string::npos)
      << record.dump();
}

TEST_F(ServerTest, AnswersMatchTheOpenApiDocument) {
  struct Checked {
    std::string method, path_template;
    HttpAnswer answer;
  };
  std::vector<Checked> answers;
  auto keep = [&](const std::string& method, const std::string& path_template, HttpAnswer answer) {
    answers.push_back({method, path_template, std::move(answer)});
    return answers.back().answer;
  };
  keep("GET", "/healthz", Call({"GET", server_.url() + "/healthz"}));
  keep("GET", "/api/v1/datasets", Call({"GET", server_.url() + "/api/v1/datasets"}));  // 401
  std::string data = Upload(Digits("train.csv"), "training");
  keep("GET", "/api/v1/datasets", server_.Get("/api/v1/datasets"));
  keep("GET", "/api/v1/datasets/{id}", server_.Get("/api/v1/datasets/" + data));
  keep("GET", "/api/v1/datasets/{id}", server_.Get("/api/v1/datasets/ds-0000000000000000"));
  keep("POST", "/api/v1/datasets",
       Call({"POST",
             server_.url() + "/api/v1/datasets?kind=training&name=a.csv",
             "1,2\n",
             "",
             {},
             server_.token()}));
  json body = {{"name", "checked"},
               {"trainer", {{"command", {"sh", "-c", "exit 3"}}}},
               {"channels", {{"training", data}}},
               {"grid", {{"lr", {0.1, 0.2}}}},
               {"objective", {{"metric", "loss"}, {"goal", "min"}}}};
  keep("POST", "/api/v1/sweeps", server_.Post("/api/v1/sweeps", {{"name", 5}}));
  std::string sweep =
      keep("POST", "/api/v1/sweeps", server_.Post("/api/v1/sweeps", body)).Json()["id"];
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep); }, 30s));
  // A failed job says why: its exit code (and the tail of its stderr, when it wrote any).
  json failed = server_.Get("/api/v1/jobs?sweep=" + sweep).Json()["jobs"][0];
  EXPECT_EQ(failed["status"], "Failed");
  EXPECT_NE(failed["failure_reason"].get<std::string>().find("exit code: 3"), std::string::npos)
      << failed["failure_reason"];
  keep("GET", "/api/v1/sweeps", server_.Get("/api/v1/sweeps"));
  keep("GET", "/api/v1/sweeps/{id}", server_.Get("/api/v1/sweeps/" + sweep));
  keep("POST", "/api/v1/sweeps/{id}/stop",
       server_.Post("/api/v1/sweeps/" + sweep + "/stop", json::object()));
  keep("POST", "/api/v1/sweeps/{id}/retry",
       server_.Post("/api/v1/sweeps/" + sweep + "/retry", json::object()));
  json jobs =
      keep("GET", "/api/v1/jobs", server_.Get("/api/v1/jobs?sweep=" + sweep + "&limit=1")).Json();
  ASSERT_TRUE(jobs.contains("next_page_token")) << jobs.dump();
  std::string job = jobs["jobs"][0]["name"];
  keep("GET", "/api/v1/jobs/{name}", server_.Get("/api/v1/jobs/" + job));
  keep("GET", "/api/v1/jobs/{name}/metrics", server_.Get("/api/v1/jobs/" + job + "/metrics"));
  keep("POST", "/api/v1/jobs/{name}/stop",
       server_.Post("/api/v1/jobs/" + job + "/stop", json::object()));
  keep("GET", "/api/v1/jobs/{name}/artifacts/{artifact}",
       server_.Get("/api/v1/jobs/" + job + "/artifacts/weights"));

  // One python run checks them all: starting it (and jsonschema) costs ~1 s.
  testing::TempDir files;
  int checked = 0;
  std::string listing;
  for (const Checked& entry : answers) {
    auto type = entry.answer.headers.find("content-type");
    if (type == entry.answer.headers.end() || type->second != "application/json") continue;
    fs::path file = files.path() / ("answer-" + std::to_string(checked++) + ".json");
    ASSERT_TRUE(WriteFileAtomic(file, entry.answer.body).ok());
    listing += entry.method + " " + entry.path_template + " " +
               std::to_string(entry.answer.status) + " " + file.string() + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(files.path() / "answers.txt", listing).ok());
  auto result =
      RunProcess({"python3", (testing::SourceDir() / "tests" / "openapi_check.py").string(),
                  "--document", (testing::SourceDir() / "docs" / "openapi.json").string(),
                  "validate-many", (files.path() / "answers.txt").string()},
                 {});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_GE(checked, 15);
}

// A job's checkpoint dir outlives its attempt (docs/checkpoints.md): the first attempt writes a
// checkpoint and fails; the retry, a new attempt with a root of its own, finds it restored
// before its command starts.
TEST_F(ServerTest, ARetriedJobResumesFromTheCheckpointOfTheAttemptBefore) {
  const std::string script =
      "dir=\"$TRAINYARD_ML_ROOT/checkpoints\"; "
      "if [ -f \"$dir/iteration\" ]; then echo \"resuming from iteration $(cat "
      "\"$dir/iteration\")\"; "
      "else echo 7 > \"$dir/iteration\"; echo lost the node >&2; exit 1; fi";
  json body = {{"name", "retried"},
               {"trainer", {{"command", {"sh", "-c", script}}}},
               {"objective", {{"metric", "loss"}, {"goal", "min"}}}};
  HttpAnswer created = server_.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep = created.Json()["id"];
  json ended = server_.WaitForSweepEnd(sweep, 1, 60s);
  ASSERT_EQ(ended["counts"].value("Failed", 0), 1) << ended.dump();
  ASSERT_EQ(server_.Post("/api/v1/sweeps/" + sweep + "/retry", json::object()).status, 200);
  ASSERT_TRUE(WaitFor([&] { return Sweep(sweep)["counts"].value("Completed", 0) == 1; }, 60s))
      << Sweep(sweep).dump() << "\n"
      << server_.Get("/api/v1/jobs?sweep=" + sweep).body;
  std::string job = server_.Get("/api/v1/jobs?sweep=" + sweep).Json()["jobs"][0]["name"];
  HttpAnswer log = server_.Get("/api/v1/jobs/" + job + "/artifacts/log");
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("checkpoint: restored 1 files from "), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("resuming from iteration 7"), std::string::npos) << log.body;
}

}  // namespace
}  // namespace trainyard
