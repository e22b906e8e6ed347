// The REST transport's requests and answers, against an HTTP server that plays slurmrestd with
// the answers Slurm 22.05's slurmrestd gave (src/plugins/openapi/v0.0.38): no Slurm needed. The
// transport against a real slurmrestd runs in slurm_cluster_executor_test.
#include "executor/slurm/slurm_rest.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "support/http_test_server.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {
using nlohmann::json;
using testing::HttpTestResponse;
using testing::HttpTestServer;
using testing::RecordedRequest;

constexpr char kToken[] = "header.claims.signature-of-the-test";

TEST(SlurmRestJobTest, NamesEachSbatchOptionAsSlurmrestdDoes) {
  auto job = SlurmRestJob(
      {"--job-name=digits-002", "--comment=trainyard job digits-002 sweep sw-1",
       "--output=/jobs/digits-002/slurm-%j.out", "--chdir=/jobs/digits-002", "--time=63",
       "--nodes=1", "--ntasks=1", "--partition=gpu", "--account=ml", "--qos=normal",
       "--cpus-per-task=4", "--mem=16384", "--gres=gpu:1", "--exclusive", "--requeue"},
      {{"PATH", "/usr/bin:/bin"}, {"TRAINYARD_JOB_TOKEN", "t"}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(*job, json::parse(R"({
    "name": "digits-002", "comment": "trainyard job digits-002 sweep sw-1",
    "standard_output": "/jobs/digits-002/slurm-%j.out",
    "current_working_directory": "/jobs/digits-002", "time_limit": "63", "nodes": "1",
    "ntasks": "1", "partition": "gpu", "account": "ml", "qos": "normal", "cpus_per_task": "4",
    "memory_per_node": "16384", "gres": "gpu:1", "exclusive": "exclusive", "requeue": true,
    "environment": {"PATH": "/usr/bin:/bin", "TRAINYARD_JOB_TOKEN": "t"}})"));
}

TEST(SlurmRestJobTest, RefusesWhatSlurmrestdCannotTake) {
  for (const char* option : {"--uid=nobody", "--export=ALL", "--wrap=true", "-p gpu", "--"}) {
    auto job = SlurmRestJob({option}, {{"PATH", "/bin"}});
    ASSERT_FALSE(job.ok()) << option;
    EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(job.status().message().find(std::string(option).substr(0, 4)), std::string::npos)
        << job.status().message();
  }
}

TEST(SlurmRestErrorsTest, JoinsSlurmsErrorsAndDescriptions) {
  EXPECT_EQ(SlurmRestErrors(json::parse(R"({"errors": [
      {"description": "Unknown key \"bogus\"", "source": "hsearch_r"},
      {"error_code": 9001, "error": "Failure during parsing"}]})")),
            "Unknown key \"bogus\"; Failure during parsing");
  EXPECT_EQ(SlurmRestErrors(json::parse(R"({"errors": [], "jobs": []})")), "");
  EXPECT_EQ(SlurmRestErrors(json("not an object")), "");
}

// slurmrestd's answers, as 22.05 writes them.
HttpTestResponse Answer(int status, const std::string& body) {
  return {.status = status, .body = body, .headers = {{"Content-Type", "application/json"}}};
}
const char kListing[] = R"({"meta": {}, "errors": [], "jobs": [
  {"job_id": 12, "name": "digits-1", "comment": "trainyard job digits-1", "command": "",
   "current_working_directory": "/jobs/digits-1", "job_state": "RUNNING",
   "state_reason": "None", "nodes": "node1", "exit_code": 0, "start_time": 1700000000,
   "end_time": 1700003600, "restart_cnt": 0}]})";
const char kRefusedToken[] = R"({"meta": {}, "errors": [{"error_code": 5005,
  "error": "Zero Bytes were transmitted or received"}]})";

class SlurmRestTest : public ::testing::Test {
 protected:
  std::unique_ptr<SlurmRest> Transport(const std::string& url) {
    auto tokens = SlurmTokenSource::Create(
        {.token_file = Write("token", std::string("SLURM_JWT=") + kToken), .token_user = "ml"});
    EXPECT_TRUE(tokens.ok());
    auto rest = SlurmRest::Create({.url = url,
                                   .user = "ml",
                                   .tokens = *tokens,
                                   .environment = {{"PATH", "/usr/bin:/bin"}, {"AWS_SECRET", "s"}},
                                   .timeout = std::chrono::seconds(10)});
    EXPECT_TRUE(rest.ok()) << rest.status().ToString();
    return std::move(rest).value();
  }
  std::filesystem::path Write(const std::string& name, const std::string& content) {
    EXPECT_TRUE(WriteFileAtomic(dir_.path() / name, content).ok());
    return dir_.path() / name;
  }
  testing::TempDir dir_;
};

TEST_F(SlurmRestTest, SubmitsTheScriptWithTheUsersTokenAndTheExportedVariables) {
  HttpTestServer server([](const RecordedRequest&) {
    return Answer(200, R"({"meta": {}, "errors": [], "job_id": 42, "step_id": "BATCH",
                           "job_submit_user_msg": ""})");
  });
  auto rest = Transport(server.url(""));
  SlurmSubmission submission{.script = Write("slurm-job.sh", "#!/bin/sh\nexec true\n"),
                             .options = {"--job-name=digits-1", "--chdir=/jobs/digits-1"},
                             .exported = {{"TRAINYARD_JOB_TOKEN", "job-secret"}}};
  auto id = rest->Submit(submission);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "42");
  ASSERT_EQ(server.requests().size(), 1u);
  const RecordedRequest request = server.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/slurm/v0.0.38/job/submit");
  EXPECT_EQ(request.headers.at("x-slurm-user-name"), "ml");
  EXPECT_EQ(request.headers.at("x-slurm-user-token"), kToken);
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  json body = json::parse(request.body);
  EXPECT_EQ(body["script"], "#!/bin/sh\nexec true\n");
  EXPECT_EQ(body["job"]["name"], "digits-1");
  EXPECT_EQ(body["job"]["current_working_directory"], "/jobs/digits-1");
  // Slurm's client variables of the server, and the exported ones; never its credentials.
  EXPECT_EQ(body["job"]["environment"],
            json({{"PATH", "/usr/bin:/bin"}, {"TRAINYARD_JOB_TOKEN", "job-secret"}}));
}

TEST_F(SlurmRestTest, ListsSignalsAndCancels) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "GET") return Answer(200, kListing);
    return Answer(200, R"({"meta": {}, "errors": []})");
  });
  auto rest = Transport(server.url("/"));
  auto jobs = rest->ListJobs("");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, "12");
  EXPECT_EQ((*jobs)[0].state, "RUNNING");
  EXPECT_EQ((*jobs)[0].working_directory, "/jobs/digits-1");
  EXPECT_TRUE(rest->Signal("12", "TERM", "").ok());
  EXPECT_TRUE(rest->Cancel("12", "").ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/slurm/v0.0.38/jobs");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[1].target, "/slurm/v0.0.38/job/12?signal=TERM");
  EXPECT_EQ(requests[2].method, "DELETE");
  EXPECT_EQ(requests[2].target, "/slurm/v0.0.38/job/12");
  // Nothing but a job id goes into the path.
  EXPECT_EQ(rest->Cancel("12/../../x", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rest->Signal("12", "TERM&x=1", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(SlurmRestTest, ARefusedTokenSaysSoWithSlurmsAnswerAndNoToken) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "GET") {
      return Answer(500, R"({"errors": [{"description": "Failed while looking for jobs",
          "error_number": -1, "error": "Unspecified error", "source": "slurm_load_jobs"}],
          "jobs": []})");
    }
    return Answer(500, kRefusedToken);
  });
  auto rest = Transport(server.url(""));
  auto listed = rest->ListJobs("");
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().code(), StatusCode::kUnauthenticated);
  auto submitted =
      rest->Submit({.script = Write("s.sh", "#!/bin/sh\n"), .options = {"--job-name=a"}});
  ASSERT_FALSE(submitted.ok());
  EXPECT_EQ(submitted.status().code(), StatusCode::kUnauthenticated);
  for (const Status& status : {listed.status(), submitted.status()}) {
    const std::string& message = status.message();
    EXPECT_NE(message.find("Slurm REST transport"), std::string::npos) << message;
    EXPECT_NE(message.find("user 'ml'"), std::string::npos) << message;
    EXPECT_EQ(message.find(kToken), std::string::npos) << message;
  }
  EXPECT_NE(listed.status().message().find("Unspecified error: Failed while looking for jobs"),
            std::string::npos);
  EXPECT_NE(submitted.status().message().find("Zero Bytes were transmitted or received"),
            std::string::npos);

  // slurmrestd's own refusal: a plain-text 401.
  HttpTestServer plain([](const RecordedRequest&) {
    return HttpTestResponse{.status = 401, .body = "Authentication failure"};
  });
  auto refused = Transport(plain.url(""))->ListJobs("");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("Authentication failure"), std::string::npos);
}

TEST_F(SlurmRestTest, SlurmsRefusalOfAJobIsInvalidArgumentWithItsReason) {
  HttpTestServer server([](const RecordedRequest&) {
    return Answer(500, R"({"meta": {}, "errors": [{"error_code": 2000,
                           "error": "Invalid partition name specified"}]})");
  });
  auto id = Transport(server.url(""))
                ->Submit({.script = Write("s.sh", "#!/bin/sh\n"), .options = {"--partition=nope"}});
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(id.status().message(), "Slurm refused the job: Invalid partition name specified");
}

TEST_F(SlurmRestTest, UnreachableSlurmIsUnavailable) {
  auto rest = Transport("http://127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort()));
  auto jobs = rest->ListJobs("");
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(jobs.status().message().find("slurmrestd cannot be reached"), std::string::npos);

  HttpTestServer server([](const RecordedRequest&) {
    return Answer(500, R"json({"errors": [{"error_code": 1007,
        "error": "Unable to contact slurm controller (connect failure)"}]})json");
  });
  EXPECT_EQ(Transport(server.url(""))->ListJobs("").status().code(), StatusCode::kUnavailable);
}

// A sweep's own Slurm user: each call names it and carries a token minted for it from the
// cluster's key; a user the operator did not allow, and any other user with a token file (one
// user's token), are refused before anything reaches slurmrestd.
TEST_F(SlurmRestTest, ActsAsEachAllowedUserWithATokenMintedForIt) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "GET") return Answer(200, kListing);
    if (request.method == "POST") return Answer(200, R"({"errors": [], "job_id": 7})");
    return Answer(200, R"({"meta": {}, "errors": []})");
  });
  const std::string key = "0123456789abcdef0123456789abcdef";
  auto tokens = SlurmTokenSource::Create({.jwt_key_file = Write("jwt.key", key)});
  ASSERT_TRUE(tokens.ok());
  auto rest = SlurmRest::Create(
      {.url = server.url(""), .user = "ml", .allowed_users = {"alice", "bob"}, .tokens = *tokens});
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_TRUE((*rest)->CheckUser("").ok());
  EXPECT_TRUE((*rest)->CheckUser("ml").ok());
  EXPECT_TRUE((*rest)->CheckUser("alice").ok());
  auto id = (*rest)->Submit(
      {.script = Write("s.sh", "#!/bin/sh\n"), .options = {"--job-name=a"}, .user = "alice"});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE((*rest)->ListJobs("bob").ok());
  ASSERT_TRUE((*rest)->Cancel("7", "alice").ok());
  ASSERT_TRUE((*rest)->ListJobs("").ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  const std::vector<std::string> users = {"alice", "bob", "alice", "ml"};
  for (size_t i = 0; i < users.size(); ++i) {
    const std::string& token = requests[i].headers.at("x-slurm-user-token");
    EXPECT_EQ(requests[i].headers.at("x-slurm-user-name"), users[i]) << i;
    // The source's token of that user (minted once, then kept until half its life is gone).
    auto minted = (*tokens)->Token(users[i]);
    ASSERT_TRUE(minted.ok());
    EXPECT_EQ(token, *minted) << i;
  }

  Status refused = (*rest)->CheckUser("mallory");
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("'mallory'"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("slurm_allowed_users: alice, bob"), std::string::npos)
      << refused.message();
  EXPECT_EQ((*rest)->ListJobs("mallory").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(
      (*rest)->Submit({.script = Write("s.sh", "#!/bin/sh\n"), .user = "mallory"}).status().code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(server.requests().size(), 4u);

  // A token file is one user's token: no other user, and no allowed users beside it.
  auto fixed = Transport(server.url(""));
  Status other = fixed->CheckUser("alice");
  EXPECT_EQ(other.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.message().find("slurm_rest_token_file"), std::string::npos) << other.message();
  EXPECT_EQ(fixed->Cancel("7", "alice").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.requests().size(), 4u);
  auto file_tokens = SlurmTokenSource::Create(
      {.token_file = Write("token", std::string("SLURM_JWT=") + kToken), .token_user = "ml"});
  ASSERT_TRUE(file_tokens.ok());
  auto mixed = SlurmRest::Create(
      {.url = server.url(""), .user = "ml", .allowed_users = {"alice"}, .tokens = *file_tokens});
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("slurm_allowed_users"), std::string::npos);
}

TEST(SlurmRestCreateTest, ChecksItsSettings) {
  auto tokens = SlurmTokenSource::Create({.jwt_key_file = "/k"});
  ASSERT_TRUE(tokens.ok());
  EXPECT_NE(SlurmRest::Create({.url = "ftp://x", .user = "u", .tokens = *tokens})
                .status()
                .message()
                .find("slurm_rest_url"),
            std::string::npos);
  EXPECT_NE(SlurmRest::Create({.url = "http://x:6820", .tokens = *tokens})
                .status()
                .message()
                .find("slurm_rest_user"),
            std::string::npos);
  EXPECT_EQ(SlurmRest::Create({.url = "http://x:6820", .user = "u"}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trainyard::executor
