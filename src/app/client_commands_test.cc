#include "app/client_commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/cli_test_runner.h"
#include "client/scripted_http_server.h"
#include "support/http_test_server.h"

namespace trainyard::app {
namespace {

namespace fs = std::filesystem;
using client::testing::ScriptedHttpServer;
using nlohmann::json;
using trainyard::testing::HttpTestResponse;
using trainyard::testing::HttpTestServer;
using trainyard::testing::RecordedRequest;

using testing::CliRun;

CliRun RunCli(std::vector<std::string> args) {
  return testing::RunCommands(std::move(args), AddClientCommands, RunClientCommands);
}

// As RunCli, with `sweep wait` asking every 5 ms instead of every second.
CliRun RunCliPollingFast(std::vector<std::string> args) {
  return testing::RunCommands<ClientCommands>(
      std::move(args), AddClientCommands, RunClientCommands,
      [](ClientCommands& state) { state.sweep_poll_interval = std::chrono::milliseconds(5); });
}

// A server whose GET /api/v1/sweeps/sw-1 gives these answers in turn, the last one for ever
// after; it records each request.
HttpTestServer::Handler SweepAnswers(std::vector<HttpTestResponse> answers) {
  auto next = std::make_shared<size_t>(0);
  return [answers = std::move(answers), next](const RecordedRequest&) {
    const HttpTestResponse& answer = answers[std::min(*next, answers.size() - 1)];
    ++*next;
    return answer;
  };
}

HttpTestResponse SweepWithCounts(const std::string& counts) {
  return {200, R"({"id": "sw-1", "name": "digits", "job_count": 2, "progress": 0.5, "counts": )" +
                   counts + "}"};
}

// Runs the rest of a test inside a new temporary directory (for downloads named by default).
class InTempDir {
 public:
  InTempDir() : previous_(fs::current_path()) {
    std::string pattern = (fs::temp_directory_path() / "client-commands-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
    fs::current_path(path_);
  }
  ~InTempDir() {
    fs::current_path(previous_);
    fs::remove_all(path_);
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_))
      names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path previous_, path_;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string ErrorJson(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

TEST(ClientCommandsTest, DatasetUploadStreamsTheFileAndPrintsTheId) {
  InTempDir dir;
  std::ofstream("train.csv") << "a,b\n1,2\n";
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{201, R"({"id": "ds-0123456789abcdef", "name": "my data"})"};
  });
  CliRun run = RunCli({"dataset", "upload", "train.csv", "--kind", "training", "--name", "my data",
                       "--server", server.url(""), "--token", "t0k"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "ds-0123456789abcdef\n");
  RecordedRequest seen = server.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/datasets?name=my%20data&kind=training&filename=train.csv");
  EXPECT_EQ(seen.headers["authorization"], "Bearer t0k");
  EXPECT_EQ(seen.headers["content-length"], "8");
  EXPECT_EQ(seen.body, "a,b\n1,2\n");
}

TEST(ClientCommandsTest, ServerAndTokenComeFromTheEnvironment) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{200, R"({"datasets": []})"};
  });
  ::setenv("TRAINYARD_URL", server.url("").c_str(), 1);
  ::setenv("TRAINYARD_TOKEN", "from-env", 1);
  CliRun run = RunCli({"dataset", "list"});
  CliRun flagged = RunCli({"dataset", "list", "--token", "from-flag"});
  ::unsetenv("TRAINYARD_URL");
  ::unsetenv("TRAINYARD_TOKEN");
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(flagged.code, 0) << flagged.err;
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].headers["authorization"], "Bearer from-env");
  EXPECT_EQ(server.requests()[1].headers["authorization"], "Bearer from-flag");
}

TEST(ClientCommandsTest, DatasetListPrintsATableOrTheServersJson) {
  std::string answer = R"({"datasets": [
      {"id": "ds-1", "name": "train", "kind": "training", "filename": "train.csv", "size": 2048,
       "created_at": "2024-05-01T10:00:00Z"},
      {"id": "ds-22", "name": "evaluation set", "kind": "evaluation", "filename": "eval.csv",
       "size": 10, "created_at": "2024-05-01T09:00:00Z"}]})";
  HttpTestServer server([&](const RecordedRequest&) { return HttpTestResponse{200, answer}; });
  CliRun table = RunCli({"dataset", "list", "--server", server.url("")});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out,
            "ID     NAME            KIND        FILENAME   SIZE     CREATED\n"
            "ds-1   train           training    train.csv  2.0 KiB  2024-05-01T10:00:00Z\n"
            "ds-22  evaluation set  evaluation  eval.csv   10 B     2024-05-01T09:00:00Z\n");
  CliRun as_json = RunCli({"dataset", "list", "--server", server.url(""), "--output", "json"});
  EXPECT_EQ(as_json.code, 0) << as_json.err;
  EXPECT_EQ(as_json.out, json::parse(answer).dump(2) + "\n");
}

TEST(ClientCommandsTest, ServerErrorsBecomeMessagesAndExitCodes) {
  struct Case {
    int http;
    std::string code;
    int exit_code;
  };
  for (const Case& c : {Case{404, "NotFound", 3}, Case{401, "Unauthenticated", 6},
                        Case{409, "FailedPrecondition", 5}, Case{507, "ResourceExhausted", 7},
                        Case{503, "Unavailable", 8}, Case{500, "Internal", 1}}) {
    HttpTestServer server([&](const RecordedRequest&) {
      return HttpTestResponse{c.http, ErrorJson(c.code, "dataset 'ds-x': " + c.code)};
    });
    CliRun run = RunCli({"dataset", "rm", "ds-x", "--server", server.url("")});
    EXPECT_EQ(run.code, c.exit_code) << c.code;
    EXPECT_EQ(run.err, "trainyard dataset rm: dataset 'ds-x': " + c.code + "\n");
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(server.requests().at(0).method, "DELETE");
    EXPECT_EQ(server.requests().at(0).target, "/api/v1/datasets/ds-x");
  }
}

TEST(ClientCommandsTest, AServerThatIsNotThereExits8) {
  std::string url = "http://127.0.0.1:" + std::to_string(trainyard::testing::UnusedLoopbackPort());
  CliRun run = RunCli({"job", "list", "--server", url});
  EXPECT_EQ(run.code, 8);
  EXPECT_EQ(run.err, "trainyard job list: cannot reach trainyard server at " + url +
                         ": Connection refused\n");
}

TEST(ClientCommandsTest, JobListFollowsEveryPage) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.target.find("page_token=p%2F2") != std::string::npos) {
      return HttpTestResponse{200, R"({"jobs": [{"name": "d-003", "status": "Failed"}]})"};
    }
    return HttpTestResponse{200, R"({"jobs": [
        {"name": "d-001", "status": "Completed", "secondary_status": "Completed",
         "metrics": {"eval_accuracy": 0.95123, "loss": 0.1}, "duration_seconds": 125},
        {"name": "d-002", "status": "InProgress", "secondary_status": "Training",
         "progress": {"progress": 0.5}, "duration_seconds": 3}],
        "next_page_token": "p/2"})"};
  });
  CliRun run = RunCli({"job", "list", "--sweep", "sw-1", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "NAME   STATUS      SECONDARY  PROGRESS  METRICS                        DURATION\n"
            "d-001  Completed   Completed  100%      eval_accuracy=0.9512 loss=0.1  2m05s\n"
            "d-002  InProgress  Training   50%       -                              3s\n"
            "d-003  Failed      -          -         -                              -\n");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/v1/jobs?sweep=sw-1");
  EXPECT_EQ(requests[1].target, "/api/v1/jobs?sweep=sw-1&page_token=p%2F2");

  CliRun limited = RunCli({"job", "list", "--limit", "2", "--status", "Failed", "--server",
                           server.url(""), "--output", "json"});
  EXPECT_EQ(limited.code, 0) << limited.err;
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests()[2].target, "/api/v1/jobs?status=Failed&limit=2");
  EXPECT_EQ(json::parse(limited.out)["next_page_token"], "p/2");
}

TEST(ClientCommandsTest, SweepCreatePostsTypedValuesAndTheFileMerged) {
  InTempDir dir;
  std::ofstream("sweep.json") << R"({"name": "file-name", "trainer": {"command": ["old"]},
      "hyperparameters": {"seed": 7}, "max_parallel": 3})";
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{201, R"({"id": "sw-0123456789abcdef", "name": "digits",
        "counts": {"Queued": 4}})"};
  });
  CliRun run = RunCli({"sweep",
                       "create",
                       "--file",
                       "sweep.json",
                       "--name",
                       "digits",
                       "--command",
                       "python3 train.py --epochs 2",
                       "--train",
                       "ds-1",
                       "--channel",
                       "extra=ds-2",
                       "--hp",
                       "iterations=300",
                       "--hp",
                       "optimizer=adam",
                       "--param",
                       "learning_rate=0.01,0.1",
                       "--param",
                       "shuffle=true,false",
                       "--objective",
                       "eval_accuracy:max",
                       "--idempotency-key",
                       "key-1",
                       "--server",
                       server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "sw-0123456789abcdef  4 jobs  (sweep 'digits')\n");
  RecordedRequest seen = server.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/sweeps");
  EXPECT_EQ(seen.headers["idempotency-key"], "key-1");
  EXPECT_EQ(json::parse(seen.body), json::parse(R"({
      "name": "digits", "executor": "local",
      "trainer": {"command": ["python3", "train.py", "--epochs", "2"]},
      "channels": {"training": "ds-1", "extra": "ds-2"},
      "hyperparameters": {"seed": 7, "iterations": 300, "optimizer": "adam"},
      "grid": {"learning_rate": [0.01, 0.1], "shuffle": [true, false]},
      "max_parallel": 3, "objective": {"metric": "eval_accuracy", "goal": "max"},
      "idempotency_key": "key-1"})"));
}

TEST(ClientCommandsTest, SweepShowPrintsTheSummaryAndItsJobs) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.target.rfind("/api/v1/jobs", 0) == 0) {
      return HttpTestResponse{200, R"({"jobs": [{"name": "digits-001", "status": "Completed"},
          {"name": "digits-002", "queued": true, "status": "InProgress",
           "secondary_status": "Starting"}]})"};
    }
    return HttpTestResponse{200, R"({"id": "sw-1", "name": "digits", "progress": 0.5,
        "counts": {"Completed": 1, "Queued": 1}, "best_job": {"name": "digits-001",
        "metrics": {"eval_accuracy": 0.9}}, "created_at": "2024-05-01T10:00:00Z"})"};
  });
  CliRun run = RunCli({"sweep", "show", "sw-1", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("Sweep:     sw-1 (digits)\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Jobs:      2 (1 Completed, 1 Queued)\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  50%"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Best job:  digits-001  eval_accuracy=0.9\n"), std::string::npos);
  EXPECT_NE(run.out.find("digits-002  Queued     Starting"), std::string::npos) << run.out;
  EXPECT_EQ(server.requests().at(1).target, "/api/v1/jobs?sweep=sw-1");
}

TEST(ClientCommandsTest, JobShowNamesTheImageAndTheDigestItRan) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{200, R"({"name": "digits-001", "status": "Completed",
        "executor": "container", "image": "registry.example:5000/ml/trainer:v1",
        "image_digest": "registry.example:5000/ml/trainer@sha256:0f1e"})"};
  });
  CliRun run = RunCli({"job", "show", "digits-001", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("Image:        registry.example:5000/ml/trainer:v1\n"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("Digest:       registry.example:5000/ml/trainer@sha256:0f1e\n"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(server.requests().at(0).target, "/api/v1/jobs/digits-001");
}

TEST(ClientCommandsTest, SweepRetryAndStop) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.target.ends_with("/retry")) {
      return HttpTestResponse{200, R"({"retried": ["d-002", "d-004"]})"};
    }
    return HttpTestResponse{200, "{}"};
  });
  CliRun retry = RunCli({"sweep", "retry", "sw-1", "--server", server.url("")});
  EXPECT_EQ(retry.out, "queued 2 failed jobs again: d-002, d-004\n");
  CliRun stop = RunCli({"sweep", "stop", "sw-1", "--server", server.url("")});
  EXPECT_EQ(stop.code, 0) << stop.err;
  EXPECT_EQ(server.requests().at(1).method, "POST");
  EXPECT_EQ(server.requests().at(1).target, "/api/v1/sweeps/sw-1/stop");
}

TEST(ClientCommandsTest, SweepListShowsHowManyJobsHaveEnded) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{200, R"({"sweeps": [
        {"id": "sw-2", "name": "running", "job_count": 4, "counts": {"Completed": 1,
         "InProgress": 3}, "created_at": "2024-05-01T11:00:00Z"},
        {"id": "sw-1", "name": "done", "job_count": 4, "counts": {"Completed": 3, "Failed": 1},
         "created_at": "2024-05-01T10:00:00Z"}]})"};
  });
  CliRun run = RunCli({"sweep", "list", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "ID    NAME     JOBS  PROGRESS  STATUS                     CREATED\n"
            "sw-2  running  4     1/4       1 Completed, 3 InProgress  2024-05-01T11:00:00Z\n"
            "sw-1  done     4     4/4       3 Completed, 1 Failed      2024-05-01T10:00:00Z\n");
}

TEST(ClientCommandsTest, SweepWaitFollowsTheSweepUntilEveryJobCompleted) {
  HttpTestServer server(SweepAnswers({SweepWithCounts(R"({"InProgress": 2})"),
                                      SweepWithCounts(R"({"InProgress": 2})"),
                                      SweepWithCounts(R"({"Completed": 1, "InProgress": 1})"),
                                      SweepWithCounts(R"({"Completed": 2})")}));
  CliRun run = RunCliPollingFast({"sweep", "wait", "sw-1", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  // Not a terminal: one line per change, not per poll.
  EXPECT_EQ(run.err,
            "sw-1: 0/2 ended (2 InProgress)\n"
            "sw-1: 1/2 ended (1 Completed, 1 InProgress)\n"
            "sw-1: 2/2 ended (2 Completed)\n");
  EXPECT_EQ(run.out, "sweep sw-1 ended: 2 Completed\n");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[3].method, "GET");
  EXPECT_EQ(requests[3].target, "/api/v1/sweeps/sw-1");
}

TEST(ClientCommandsTest, SweepWaitExits1WhenAJobFailedOrWasStopped) {
  for (const char* counts : {R"({"Completed": 1, "Failed": 1})", R"({"Stopped": 2})"}) {
    HttpTestServer server(SweepAnswers({SweepWithCounts(counts)}));
    CliRun run = RunCliPollingFast({"sweep", "wait", "sw-1", "--server", server.url("")});
    EXPECT_EQ(run.code, 1) << counts;
    EXPECT_EQ(run.out.rfind("sweep sw-1 ended: ", 0), 0u) << run.out;
  }
}

TEST(ClientCommandsTest, SweepWaitExits0WhenJobsWereStoppedEarlyByTheSearch) {
  // Early stopping stopped one job (the search judged it worse): the sweep did its work.
  HttpTestServer server(SweepAnswers({{200, R"({"id": "sw-1", "job_count": 4, "stopped_early": 1,
      "counts": {"Completed": 3, "Stopped": 1}})"}}));
  CliRun run = RunCliPollingFast({"sweep", "wait", "sw-1", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "sweep sw-1 ended: 3 Completed, 1 Stopped (1 stopped early)\n");
}

TEST(ClientCommandsTest, SweepWaitExits1WhenAStopWasNotEarlyStopping) {
  // One of two stops was early stopping's, the other by hand; a failure is never excused; a
  // server from before `stopped_early` (none given) counts every stop as one by hand; and a
  // count larger than the stops cannot excuse a failure.
  for (const char* sweep : {R"({"job_count": 4, "stopped_early": 1,
                                "counts": {"Completed": 2, "Stopped": 2}})",
                            R"({"job_count": 3, "stopped_early": 1,
                                "counts": {"Completed": 1, "Stopped": 1, "Failed": 1}})",
                            R"({"job_count": 2, "counts": {"Completed": 1, "Stopped": 1}})",
                            R"({"job_count": 2, "stopped_early": 2,
                                "counts": {"Completed": 1, "Failed": 1}})"}) {
    HttpTestServer server(SweepAnswers({{200, sweep}}));
    CliRun run = RunCliPollingFast({"sweep", "wait", "sw-1", "--server", server.url("")});
    EXPECT_EQ(run.code, 1) << sweep;
  }
}

TEST(ClientCommandsTest, SweepWaitExits9WhenTheTimeoutPasses) {
  HttpTestServer server(SweepAnswers({SweepWithCounts(R"({"Queued": 1, "InProgress": 1})")}));
  auto started = std::chrono::steady_clock::now();
  CliRun run = RunCliPollingFast({"sweep", "wait", "sw-1", "--timeout", "0.3", "--output", "json",
                                  "--server", server.url("")});
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
  EXPECT_EQ(run.code, 9);
  EXPECT_NE(run.err.find("trainyard sweep wait: sweep 'sw-1' has not ended within --timeout 0.3s "
                         "(1 InProgress, 1 Queued)\n"),
            std::string::npos)
      << run.err;
  // The last state seen, for a script to read.
  EXPECT_EQ(json::parse(run.out)["counts"]["Queued"], 1);
}

TEST(ClientCommandsTest, SweepWaitAsksAgainWhileTheServerRestarts) {
  ScriptedHttpServer server([calls = std::make_shared<int>(0)](
                                const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    const int call = ++*calls;
    if (call == 1) {
      write(ScriptedHttpServer::Response(200, SweepWithCounts(R"({"InProgress": 2})").body));
    } else if (call == 2) {
      // Gone mid-way: the connection closes without an answer.
    } else if (call <= 4) {
      write(ScriptedHttpServer::Response(503, ErrorJson("Unavailable", "the server is starting")));
    } else {
      write(ScriptedHttpServer::Response(200, SweepWithCounts(R"({"Completed": 2})").body));
    }
  });
  CliRun run = RunCliPollingFast({"sweep", "wait", "sw-1", "--server", server.base_url()});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_NE(run.err.find("; asking again until it answers\n"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("the trainyard server answers again\n"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "sweep sw-1 ended: 2 Completed\n");
}

TEST(ClientCommandsTest, SweepWaitGivesUpAtOnceOnWhatWaitingCannotFix) {
  std::string nobody =
      "http://127.0.0.1:" + std::to_string(trainyard::testing::UnusedLoopbackPort());
  EXPECT_EQ(RunCliPollingFast({"sweep", "wait", "sw-1", "--server", nobody}).code, 8);
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{404, ErrorJson("NotFound", "sweep 'sw-x' not found")};
  });
  CliRun missing = RunCliPollingFast({"sweep", "wait", "sw-x", "--server", server.url("")});
  EXPECT_EQ(missing.code, 3);
  EXPECT_EQ(missing.err, "trainyard sweep wait: sweep 'sw-x' not found\n");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientCommandsTest, SweepCreateWaitCreatesThenWaits) {
  HttpTestServer server([calls = std::make_shared<int>(0)](const RecordedRequest& request) {
    if (request.method == "POST") {
      return HttpTestResponse{201, R"({"id": "sw-1", "name": "selfmade", "job_count": 2,
          "counts": {"Queued": 2}})"};
    }
    return ++*calls < 2 ? SweepWithCounts(R"({"InProgress": 2})")
                        : SweepWithCounts(R"({"Completed": 1, "Failed": 1})");
  });
  // No --train or --channel: code that makes its own data needs no channel.
  CliRun run = RunCliPollingFast(
      {"sweep", "create", "--name", "selfmade", "--command", "make-data-and-train", "--param",
       "seed=1,2", "--wait", "--timeout", "60", "--output", "json", "--server", server.url("")});
  EXPECT_EQ(run.code, 1) << run.err;
  // One document on stdout: the sweep as it ended.
  EXPECT_EQ(json::parse(run.out)["counts"], json::parse(R"({"Completed": 1, "Failed": 1})"));
  auto requests = server.requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_FALSE(json::parse(requests[0].body).contains("channels")) << requests[0].body;
  EXPECT_EQ(requests[1].target, "/api/v1/sweeps/sw-1");

  EXPECT_EQ(RunCli({"sweep", "create", "--name", "n", "--command", "x", "--timeout", "5"}).code,
            2);  // --timeout needs --wait
}

TEST(ClientCommandsTest, JobLogsFollowPrintsLinesUntilTheEnd) {
  ScriptedHttpServer server([](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    std::string stream;
    for (int i = 1; i <= 3; ++i) {
      stream += "id: " + std::to_string(i) + "\nevent: log\ndata: " +
                json{{"stream", "stdout"}, {"line", "epoch " + std::to_string(i)}}.dump() + "\n\n";
    }
    stream += "event: end\ndata: {}\n\n";
    for (size_t at = 0; at < stream.size(); at += 5) write(stream.substr(at, 5));
    // Stays open: the client must stop at `end` on its own.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  CliRun run = RunCli({"job", "logs", "digits 001", "-f", "--server", server.base_url()});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "epoch 1\nepoch 2\nepoch 3\n");
  EXPECT_EQ(server.requests().at(0).target, "/api/v1/jobs/digits%20001/logs?follow=1");
}

TEST(ClientCommandsTest, JobLogsPrintsTheText) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{200, "line 1\nline 2\n"};
  });
  CliRun run = RunCli({"job", "logs", "d-001", "--server", server.url("")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "line 1\nline 2\n");
  EXPECT_EQ(server.requests().at(0).target, "/api/v1/jobs/d-001/logs");
}

TEST(ClientCommandsTest, JobDownloadNamesFilesByArtifact) {
  InTempDir dir;
  ScriptedHttpServer server([](const RecordedRequest& request,
                               const ScriptedHttpServer::Write& write) {
    if (request.target.ends_with("/predictions")) {
      write(ScriptedHttpServer::Response(
          200, "id,label\n", "Content-Disposition: attachment; filename=\"preds.csv\"\r\n"));
    } else if (request.target.ends_with("/model")) {
      write(ScriptedHttpServer::Response(200, "model bytes"));
    } else {
      write(ScriptedHttpServer::Response(404, ErrorJson("NotFound", "job 'd-001' has no output")));
    }
  });
  EXPECT_EQ(RunCli({"job", "download", "d-001", "--artifact", "predictions", "--server",
                    server.base_url()})
                .code,
            0);
  EXPECT_EQ(
      RunCli({"job", "download", "d-001", "--artifact", "model", "--server", server.base_url()})
          .code,
      0);
  CliRun missing =
      RunCli({"job", "download", "d-001", "--artifact", "output", "--server", server.base_url()});
  EXPECT_EQ(missing.code, 3);
  EXPECT_EQ(missing.err, "trainyard job download: job 'd-001' has no output\n");
  EXPECT_EQ(dir.Names(), (std::vector<std::string>{"model.tar.gz", "preds.csv"}));
  EXPECT_EQ(ReadAll("preds.csv"), "id,label\n");
  EXPECT_EQ(ReadAll("model.tar.gz"), "model bytes");
  EXPECT_EQ(server.requests().at(1).target, "/api/v1/jobs/d-001/artifacts/model");
}

TEST(ClientCommandsTest, UsageErrorsExit2) {
  EXPECT_EQ(RunCli({"dataset", "upload", "f.csv"}).code, 2);  // no --kind
  EXPECT_EQ(RunCli({"dataset", "upload", "f.csv", "--kind", "weird"}).code, 2);
  EXPECT_EQ(RunCli({"dataset", "list", "--output", "yaml"}).code, 2);
  EXPECT_EQ(RunCli({"sweep", "create", "--command", "x", "--image", "y"}).code, 2);
  EXPECT_EQ(RunCli({"job", "download", "d-001"}).code, 2);
  EXPECT_EQ(RunCli({"job"}).code, 2);
  CliRun help = RunCli({"sweep", "create", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Example:"), std::string::npos);
  // A flag the server would refuse anyway is caught before any request.
  CliRun bad = RunCli({"sweep", "create", "--name", "n", "--command", "x", "--hp", "novalue",
                       "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, "trainyard sweep create: --hp 'novalue': expected KEY=VALUE\n");
}

}  // namespace
}  // namespace trainyard::app
