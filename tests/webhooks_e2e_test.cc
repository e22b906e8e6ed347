// Webhooks end to end (docs/webhooks.md): a real `trainyard server` runs a sweep of the example
// trainer and POSTs to a real receiver on loopback (allowed with --webhook-allow-private); the
// signatures are checked with OpenSSL; the receiver fails, the server restarts, and no delivery
// is lost; without the flag, private targets are refused.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <atomic>
#include <map>
#include <set>

#include "common/files.h"
#include "server_fixture.h"
#include "support/http_test_server.h"

namespace trainyard::testing {
namespace {

using nlohmann::json;

constexpr char kSecret[] = "receiver-secret-0123456789";

std::string HmacHex(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string Header(const RecordedRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? "" : it->second;
}

// What a receiver must check: the signature over "<timestamp>.<body>", and a recent timestamp.
void ExpectSigned(const RecordedRequest& request) {
  const std::string timestamp = request.headers.count("x-trainyard-timestamp")
                                    ? request.headers.at("x-trainyard-timestamp")
                                    : "";
  ASSERT_FALSE(timestamp.empty());
  EXPECT_EQ(request.headers.at("x-trainyard-signature"),
            "sha256=" + HmacHex(kSecret, timestamp + "." + request.body));
  long long age = static_cast<long long>(std::time(nullptr)) - std::stoll(timestamp);
  EXPECT_LT(std::llabs(age), 300);
}

json TwoJobSweep(ServerProcess& server) {
  return {{"name", "hooked"},
          {"trainer", {{"command", {"trainyard-example-trainer"}}}},
          {"channels",
           {{"training", server.UploadExample("train.csv", "training")},
            {"evaluation", server.UploadExample("eval.csv", "evaluation")}}},
          {"hyperparameters", {{"iterations", 30}}},
          {"grid", {{"learning_rate", {0.1, 0.02}}}},
          {"max_parallel", 2},
          {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
}

// Every answer against docs/openapi.json, in one python run: {method, path template, answer}.
struct Answer {
  std::string method, path_template;
  HttpAnswer answer;
};
void ExpectAnswersMatchTheOpenApiDocument(const std::vector<Answer>& answers) {
  TempDir files;
  std::string listing;
  for (size_t i = 0; i < answers.size(); ++i) {
    auto file = files.path() / ("answer-" + std::to_string(i) + ".json");
    ASSERT_TRUE(WriteFileAtomic(file, answers[i].answer.body).ok());
    listing += answers[i].method + " " + answers[i].path_template + " " +
               std::to_string(answers[i].answer.status) + " " + file.string() + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(files.path() / "answers.txt", listing).ok());
  auto result = RunProcess({"python3", (SourceDir() / "tests" / "openapi_check.py").string(),
                            "--document", (SourceDir() / "docs" / "openapi.json").string(),
                            "validate-many", (files.path() / "answers.txt").string()},
                           {});
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

// Runs the Python verification snippet of docs/webhooks.md on a received request: true when it
// accepts the signature.
bool DocumentedSnippetAccepts(const RecordedRequest& request, const std::string& body) {
  auto docs = ReadFile(SourceDir() / "docs" / "webhooks.md");
  EXPECT_TRUE(docs.ok());
  if (!docs.ok()) return false;
  size_t start = docs->find("```python\n");
  size_t end = docs->find("```", start + 10);
  EXPECT_NE(start, std::string::npos);
  if (start == std::string::npos || end == std::string::npos) return false;
  TempDir files;
  json headers = {{"X-Trainyard-Timestamp", Header(request, "x-trainyard-timestamp")},
                  {"X-Trainyard-Signature", Header(request, "x-trainyard-signature")}};
  EXPECT_TRUE(WriteFileAtomic(files.path() / "headers.json", headers.dump()).ok());
  EXPECT_TRUE(WriteFileAtomic(files.path() / "body", body).ok());
  std::string program = docs->substr(start + 10, end - start - 10) +
                        "\nimport json, sys\n"
                        "headers = json.load(open(sys.argv[1]))\n"
                        "body = open(sys.argv[2], 'rb').read()\n"
                        "sys.exit(0 if verify(sys.argv[3].encode(), headers, body) else 1)\n";
  auto result = RunProcess({"python3", "-c", program, (files.path() / "headers.json").string(),
                            (files.path() / "body").string(), kSecret},
                           {});
  EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.output;
  return result.exit_code == 0;
}

std::string PathOf(const std::string& url) {
  size_t start = url.find("/api/");
  return start == std::string::npos ? url : url.substr(start);
}

TEST(WebhooksE2eTest, ATwoJobSweepReachesTheReceiverOnceSignedWithWorkingLinks) {
  TempDir temp;
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 204);
  ServerProcess server(temp.path() / "data", {"--webhook-allow-private"});
  server.Start();
  HttpAnswer created =
      server.Post("/api/v1/webhooks", {{"url", receiver.url("/json")}, {"secret", kSecret}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(created.Json().contains("secret"));  // given, so not echoed
  const std::string webhook_id = created.Json()["id"];
  HttpAnswer slack = server.Post("/api/v1/webhooks", {{"url", receiver.url("/slack")},
                                                      {"secret", kSecret},
                                                      {"format", "slack"},
                                                      {"events", {"sweep.completed"}}});
  ASSERT_EQ(slack.status, 201) << slack.body;

  HttpAnswer sweep = server.Post("/api/v1/sweeps", TwoJobSweep(server));
  ASSERT_EQ(sweep.status, 201) << sweep.body;
  server.WaitForSweepEnd(sweep.Json()["id"], 2, std::chrono::seconds(120));
  // 2 job.completed, 1 or 2 sweep.best_job, 1 sweep.completed; and the Slack message.
  ASSERT_TRUE(WaitFor(
      [&] {
        int completed = 0;
        for (const RecordedRequest& request : receiver.requests()) {
          completed += request.target == "/slack" ||
                       Header(request, "x-trainyard-event") == "sweep.completed";
        }
        return completed == 2;
      },
      std::chrono::seconds(30)))
      << server.OutputSoFar();
  // Anything still to come would be a repeat: give it a moment to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  std::map<std::string, int> by_type;
  std::set<std::string> delivery_ids;
  json best, sweep_completed, slack_message;
  for (const RecordedRequest& request : receiver.requests()) {
    ExpectSigned(request);
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(Header(request, "content-type"), "application/json");
    EXPECT_TRUE(delivery_ids.insert(Header(request, "x-trainyard-delivery")).second)
        << "delivered twice: " << Header(request, "x-trainyard-delivery");
    json body = json::parse(request.body);
    if (request.target == "/slack") {
      slack_message = body;
      continue;
    }
    EXPECT_EQ(body["id"], Header(request, "x-trainyard-delivery"));
    EXPECT_EQ(body["type"], Header(request, "x-trainyard-event"));
    by_type[body["type"]] += 1;
    if (body["type"] == "sweep.best_job") best = body;
    if (body["type"] == "sweep.completed") sweep_completed = body;
  }
  EXPECT_EQ(by_type["job.completed"], 2);
  EXPECT_GE(by_type["sweep.best_job"], 1);
  EXPECT_LE(by_type["sweep.best_job"], 2);
  EXPECT_EQ(by_type["sweep.completed"], 1);
  EXPECT_EQ(by_type.size(), 3u);
  // The receiver's check that docs/webhooks.md gives accepts a delivery, and not a changed one.
  const RecordedRequest sample = receiver.requests().front();
  EXPECT_TRUE(DocumentedSnippetAccepts(sample, sample.body));
  EXPECT_FALSE(DocumentedSnippetAccepts(sample, sample.body + " "));

  // The payload: the job with its metrics, hyperparameters and links; the sweep with counts.
  ASSERT_TRUE(best.is_object());
  EXPECT_EQ(best["job"]["status"], "Completed");
  EXPECT_TRUE(best["job"]["metrics"].contains("eval_accuracy"));
  EXPECT_TRUE(best["job"]["hyperparameters"].contains("learning_rate"));
  EXPECT_EQ(best["objective"]["metric"], "eval_accuracy");
  EXPECT_EQ(sweep_completed["sweep"]["counts"]["Completed"], 2);
  // The links work without the token, and only as signed.
  const std::string model_link = best["job"]["links"]["model"];
  HttpAnswer model = Call({"GET", server.url() + PathOf(model_link)});
  EXPECT_EQ(model.status, 200) << model.body;
  EXPECT_GT(model.body.size(), 100u);
  HttpAnswer log = Call({"GET", server.url() + PathOf(best["job"]["links"]["log"])});
  EXPECT_EQ(log.status, 200);
  std::string tampered = PathOf(model_link);
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(Call({"GET", server.url() + tampered}).status, 403);
  std::string other_artifact = PathOf(model_link);
  other_artifact.replace(other_artifact.find("/model?"), 7, "/output?");
  EXPECT_EQ(Call({"GET", server.url() + other_artifact}).status, 403);

  // The Slack shape: text and blocks.
  ASSERT_TRUE(slack_message.is_object());
  EXPECT_TRUE(slack_message["text"].is_string());
  EXPECT_NE(slack_message["text"].get<std::string>().find("hooked"), std::string::npos);
  ASSERT_TRUE(slack_message["blocks"].is_array());
  EXPECT_EQ(slack_message["blocks"][0]["type"], "section");

  // The delivery log.
  json deliveries = server.Get("/api/v1/webhooks/" + webhook_id + "/deliveries").Json();
  ASSERT_EQ(deliveries["deliveries"].size(),
            static_cast<size_t>(by_type["job.completed"] + by_type["sweep.best_job"] +
                                by_type["sweep.completed"]));
  for (const json& delivery : deliveries["deliveries"]) {
    EXPECT_EQ(delivery["status"], "succeeded");
    EXPECT_EQ(delivery["attempts"], 1);
    EXPECT_EQ(delivery["response_code"], 204);
    EXPECT_TRUE(delivery["latency_ms"].is_number());
  }
  // Redelivery sends the same delivery again.
  const std::string first = deliveries["deliveries"][0]["id"];
  size_t before = receiver.requests().size();
  HttpAnswer redelivered =
      server.Post("/api/v1/webhooks/" + webhook_id + "/deliveries/" + first + "/redeliver", {});
  ASSERT_EQ(redelivered.status, 202) << redelivered.body;
  ASSERT_TRUE(receiver.WaitForRequests(before + 1, std::chrono::seconds(10)));
  EXPECT_EQ(Header(receiver.requests().back(), "x-trainyard-delivery"), first);
  // The secret is never listed.
  EXPECT_EQ(server.Get("/api/v1/webhooks").body.find(kSecret), std::string::npos);

  // The answers have the documented shapes.
  ExpectAnswersMatchTheOpenApiDocument(
      {{"POST", "/api/v1/webhooks", created},
       {"POST", "/api/v1/webhooks", server.Post("/api/v1/webhooks", {{"url", "gopher://x/"}})},
       {"GET", "/api/v1/webhooks", server.Get("/api/v1/webhooks")},
       {"GET", "/api/v1/webhooks/{id}", server.Get("/api/v1/webhooks/" + webhook_id)},
       {"GET", "/api/v1/webhooks/{id}", server.Get("/api/v1/webhooks/wh-none")},
       {"GET", "/api/v1/webhooks/{id}/deliveries",
        server.Get("/api/v1/webhooks/" + webhook_id + "/deliveries")},
       {"GET", "/api/v1/webhooks/{id}/deliveries",
        server.Get("/api/v1/webhooks/" + webhook_id + "/deliveries?limit=0")},
       {"POST", "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", redelivered},
       {"GET", "/api/v1/jobs/{name}/artifacts/{artifact}",
        Call({"GET", server.url() + tampered})}});
  EXPECT_EQ(server.OutputSoFar().find(kSecret), std::string::npos);
}

TEST(WebhooksE2eTest, AReceiverThatFailsTwiceGetsTheThirdTryAcrossARestart) {
  TempDir temp;
  std::atomic<int> calls{0};
  HttpTestServer receiver([&calls](const RecordedRequest&) {
    return HttpTestResponse{.status = ++calls <= 2 ? 503 : 200, .body = "", .headers = {}};
  });
  ServerProcess server(temp.path() / "data",
                       {"--webhook-allow-private", "--webhook-first-retry", "2"});
  server.Start();
  HttpAnswer created = server.Post(
      "/api/v1/webhooks",
      {{"url", receiver.url("/hook")}, {"secret", kSecret}, {"events", {"job.completed"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string webhook_id = created.Json()["id"];
  json body = TwoJobSweep(server);
  body["grid"] = {{"learning_rate", {0.1}}};
  HttpAnswer sweep = server.Post("/api/v1/sweeps", body);
  ASSERT_EQ(sweep.status, 201) << sweep.body;
  ASSERT_TRUE(receiver.WaitForRequests(1, std::chrono::seconds(120))) << server.OutputSoFar();
  // The first try failed; the server goes down before the retry.
  server.Stop();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(calls.load(), 1);
  server.Start();
  ASSERT_TRUE(receiver.WaitForRequests(3, std::chrono::seconds(30))) << server.OutputSoFar();
  std::vector<RecordedRequest> requests = receiver.requests();
  for (const RecordedRequest& request : requests) {
    ExpectSigned(request);
    EXPECT_EQ(request.headers.at("x-trainyard-delivery"),
              requests[0].headers.at("x-trainyard-delivery"));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        json deliveries = server.Get("/api/v1/webhooks/" + webhook_id + "/deliveries").Json();
        return deliveries["deliveries"].size() == 1 &&
               deliveries["deliveries"][0]["status"] == "succeeded";
      },
      std::chrono::seconds(10)));
  json delivery =
      server.Get("/api/v1/webhooks/" + webhook_id + "/deliveries").Json()["deliveries"][0];
  EXPECT_EQ(delivery["attempts"], 3);
  EXPECT_EQ(delivery["response_code"], 200);
  EXPECT_EQ(delivery["event_type"], "job.completed");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(calls.load(), 3);
}

TEST(WebhooksE2eTest, BadInputAndPrivateTargetsAreRefusedNamingTheField) {
  TempDir temp;
  ServerProcess server(temp.path() / "data");
  server.Start();
  auto refused = [&](const json& body, const std::string& field, const std::string& reason) {
    HttpAnswer answer = server.Post("/api/v1/webhooks", body);
    EXPECT_EQ(answer.status, 400) << body.dump() << " -> " << answer.body;
    json error = answer.Json().value("error", json::object());
    EXPECT_EQ(error.value("field", ""), field) << answer.body;
    EXPECT_NE(error.value("message", "").find(reason), std::string::npos) << answer.body;
  };
  refused({{"url", "http://127.0.0.1:9/hook"}}, "url", "loopback");
  refused({{"url", "http://localhost:9/hook"}}, "url", "loopback");
  refused({{"url", "http://[::1]:9/hook"}}, "url", "loopback");
  refused({{"url", "http://169.254.169.254/latest/meta-data/"}}, "url", "cloud metadata");
  refused({{"url", "http://[fd00:ec2::254]/"}}, "url", "cloud metadata");
  refused({{"url", "http://169.254.10.1/"}}, "url", "link-local");
  refused({{"url", "http://10.0.0.8/"}}, "url", "private");
  refused({{"url", "http://0.0.0.0/"}}, "url", "unspecified");
  refused({{"url", "ftp://203.0.113.7/"}}, "url", "http or https");
  refused(json::object(), "url", "required");
  refused({{"url", "https://203.0.113.7/"}, {"events", {"job.done"}}}, "events", "job.done");
  refused({{"url", "https://203.0.113.7/"}, {"secret", "short"}}, "secret", "16 to 256");
  refused({{"url", "https://203.0.113.7/"}, {"format", "xml"}}, "format", "slack");
  refused({{"url", "https://203.0.113.7/"}, {"retries", 3}}, "retries", "unknown field");

  // A public target is taken; a secret the server made is shown once, never again.
  HttpAnswer created = server.Post("/api/v1/webhooks", {{"url", "https://203.0.113.7/hook"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string secret = created.Json()["secret"];
  EXPECT_EQ(secret.size(), 64u);
  const std::string id = created.Json()["id"];
  EXPECT_EQ(server.Get("/api/v1/webhooks/" + id).body.find(secret), std::string::npos);
  EXPECT_EQ(server.Get("/api/v1/webhooks/" + id + "/deliveries").Json()["deliveries"].size(), 0u);
  EXPECT_EQ(server.Get("/api/v1/webhooks/wh-none/deliveries").status, 404);
  EXPECT_EQ(Call({"GET", server.url() + "/api/v1/webhooks"}).status, 401);

  // The CLI.
  ProcessResult cli =
      server.Cli({"webhook", "create", "https://203.0.113.9/x", "--event", "sweep.completed",
                  "--format", "slack", "--secret", "0123456789abcdef0123"});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  ProcessResult listed = server.Cli({"webhook", "list"});
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.output.find("https://203.0.113.9/x"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("sweep.completed"), std::string::npos);
  EXPECT_EQ(listed.output.find("0123456789abcdef0123"), std::string::npos);
  ProcessResult bad = server.Cli({"webhook", "create", "http://127.0.0.1/x"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("loopback"), std::string::npos) << bad.output;
  EXPECT_EQ(server.Cli({"webhook", "deliveries", id}).exit_code, 0);
  EXPECT_EQ(server.Cli({"webhook", "delete", id}).exit_code, 0);
  EXPECT_EQ(server.Get("/api/v1/webhooks/" + id).status, 404);
  EXPECT_EQ(server.Cli({"webhook", "delete", id}).exit_code, 3);
}

}  // namespace
}  // namespace trainyard::testing
