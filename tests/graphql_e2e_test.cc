// GraphQL end to end (docs/graphql.md): a real `trainyard server` runs a sweep of the example
// trainer created through /graphql, and GraphQL reads what the REST API reads; errors come in
// the spec's shape; docs/graphql.md prints the schema the server serves; graphql-js (npm
// `graphql`) builds a client schema from the introspection and validates real queries; the npm
// `graphql-ws` client follows a 2x2 sweep over WebSocket and sees what the event stream sees.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "server_fixture.h"

namespace trainyard::testing {
namespace {

using nlohmann::json;

HttpAnswer PostGraphql(ServerProcess& server, const std::string& query, const json& variables = {},
                       const std::string& token = "") {
  HttpCall call;
  call.method = "POST";
  call.url = server.url() + "/graphql";
  call.body = json{{"query", query}, {"variables", variables}}.dump();
  call.headers["Content-Type"] = "application/json";
  call.bearer = token.empty() ? server.token() : token;
  return Call(call);
}

json Graphql(ServerProcess& server, const std::string& query, const json& variables = {}) {
  HttpAnswer answer = PostGraphql(server, query, variables);
  EXPECT_EQ(answer.status, 200) << answer.body;
  json body = answer.Json();
  EXPECT_FALSE(body.contains("errors")) << query << "\n" << answer.body;
  return body.value("data", json());
}

json SweepRequest(ServerProcess& server, std::vector<double> rates) {
  return {{"name", "graphql"},
          {"trainer", {{"command", {"trainyard-example-trainer"}}}},
          {"channels",
           {{"training", server.UploadExample("train.csv", "training")},
            {"evaluation", server.UploadExample("eval.csv", "evaluation")}}},
          {"hyperparameters", {{"iterations", 30}}},
          {"grid", {{"learning_rate", rates}}},
          {"max_parallel", 2},
          {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
}

std::string CreateSweepThroughGraphql(ServerProcess& server, std::vector<double> rates) {
  json created = Graphql(server,
                         "mutation Create($request: JSON!) { createSweep(request: $request) { "
                         "id name jobCount } }",
                         {{"request", SweepRequest(server, rates)}});
  EXPECT_EQ(created["createSweep"]["name"], "graphql");
  EXPECT_EQ(created["createSweep"]["jobCount"], static_cast<int64_t>(rates.size()));
  return created["createSweep"].value("id", "");
}

TEST(GraphqlE2eTest, ASweepCreatedThroughGraphqlReadsAsTheRestApiReadsIt) {
  TempDir temp;
  ServerProcess server(temp.path() / "data");
  server.Start();
  std::string id = CreateSweepThroughGraphql(server, {0.1, 0.02});
  ASSERT_FALSE(id.empty());
  server.WaitForSweepEnd(id, 2, std::chrono::seconds(120));
  json rest_sweep = server.Get("/api/v1/sweeps/" + id).Json();
  json rest_jobs = server.Get("/api/v1/jobs?sweep=" + id).Json()["jobs"];
  ASSERT_EQ(rest_jobs.size(), 2u);

  json sweep = Graphql(server, R"(query($id: ID!) {
      sweep(id: $id) { id jobCount counts progress stopRequested
                       bestJob { name metric value job { status } } } })",
                       {{"id", id}})["sweep"];
  EXPECT_EQ(sweep["jobCount"], rest_sweep["job_count"]);
  EXPECT_EQ(sweep["counts"], rest_sweep["counts"]);
  EXPECT_EQ(sweep["progress"], rest_sweep["progress"]);
  EXPECT_EQ(sweep["stopRequested"], false);
  EXPECT_EQ(sweep["bestJob"]["name"], rest_sweep["best_job"]["name"]);
  EXPECT_EQ(sweep["bestJob"]["value"], rest_sweep["best_job"]["value"]);
  EXPECT_EQ(sweep["bestJob"]["job"]["status"], "Completed");

  // Cursor pagination: one job a page, in the REST API's order.
  const std::string page_query = R"(query($sweep: ID, $after: String) {
      jobs(sweep: $sweep, first: 1, after: $after) {
        edges { cursor node { name status } } pageInfo { hasNextPage endCursor } } })";
  json first = Graphql(server, page_query, {{"sweep", id}})["jobs"];
  ASSERT_EQ(first["edges"].size(), 1u);
  EXPECT_EQ(first["edges"][0]["node"]["name"], rest_jobs[0]["name"]);
  EXPECT_TRUE(first["pageInfo"]["hasNextPage"]);
  EXPECT_EQ(first["pageInfo"]["endCursor"], first["edges"][0]["cursor"]);
  json second = Graphql(server, page_query,
                        {{"sweep", id}, {"after", first["pageInfo"]["endCursor"]}})["jobs"];
  ASSERT_EQ(second["edges"].size(), 1u);
  EXPECT_EQ(second["edges"][0]["node"]["name"], rest_jobs[1]["name"]);
  EXPECT_FALSE(second["pageInfo"]["hasNextPage"]);

  json filtered = Graphql(server, R"(query($sweep: ID) {
      done: jobs(sweep: $sweep, status: Completed) { nodes { name } }
      failed: jobs(sweep: $sweep, status: Failed) { nodes { name } pageInfo { endCursor } } })",
                          {{"sweep", id}});
  EXPECT_EQ(filtered["done"]["nodes"].size(), 2u);
  EXPECT_EQ(filtered["failed"]["nodes"].size(), 0u);
  EXPECT_TRUE(filtered["failed"]["pageInfo"]["endCursor"].is_null());

  const std::string name = rest_jobs[0]["name"];
  json rest_job = server.Get("/api/v1/jobs/" + name).Json();
  json rest_points = server.Get("/api/v1/jobs/" + name + "/metrics").Json()["metrics"];
  json job = Graphql(server, R"(query($name: ID!) {
      job(name: $name) { name status secondaryStatus hyperparameters metrics exitCode
                         sweep { id } metricHistory { name value } }
      metrics(job: $name) { name value step } })",
                     {{"name", name}});
  EXPECT_EQ(job["job"]["status"], rest_job["status"]);
  EXPECT_EQ(job["job"]["secondaryStatus"], rest_job["secondary_status"]);
  EXPECT_EQ(job["job"]["hyperparameters"], rest_job["hyperparameters"]);
  EXPECT_EQ(job["job"]["metrics"], rest_job["metrics"]);
  EXPECT_EQ(job["job"]["exitCode"], 0);
  EXPECT_EQ(job["job"]["sweep"]["id"], id);
  EXPECT_EQ(job["job"]["metricHistory"].size(), rest_points.size());
  EXPECT_EQ(job["metrics"].size(), rest_points.size());
  EXPECT_FALSE(rest_points.empty());

  json datasets = Graphql(server, "{ datasets { id kind size } }")["datasets"];
  EXPECT_EQ(datasets.size(), server.Get("/api/v1/datasets").Json()["datasets"].size());

  // Nothing to retry in a sweep that completed; stopping it marks it.
  json retried =
      Graphql(server, "mutation($id: ID!) { retryFailedJobs(sweep: $id) { name } }", {{"id", id}});
  EXPECT_EQ(retried["retryFailedJobs"], json::array());
  json stopped =
      Graphql(server, "mutation($id: ID!) { stopSweep(id: $id) { stopRequested } }", {{"id", id}});
  EXPECT_EQ(stopped["stopSweep"]["stopRequested"], true);
  EXPECT_EQ(server.Get("/api/v1/sweeps/" + id).Json()["stop_requested"], true);

  // GET runs queries, never mutations.
  HttpCall get;
  get.url = server.url() + "/graphql?query=%7Bsweeps%7Bid%7D%7D";
  get.bearer = server.token();
  HttpAnswer answer = Call(get);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.Json()["data"]["sweeps"][0]["id"], id);
  get.url =
      server.url() + "/graphql?query=mutation%7BstopJob(name%3A%22" + name + "%22)%7Bname%7D%7D";
  answer = Call(get);
  EXPECT_EQ(answer.status, 405) << answer.body;
  EXPECT_EQ(answer.headers["allow"], "POST");
  EXPECT_EQ(answer.Json()["errors"][0]["message"],
            "Can only perform a mutation operation from a POST request.");
}

TEST(GraphqlE2eTest, ErrorsComeInTheSpecsShapeWithTheApisCodes) {
  TempDir temp;
  ServerProcess server(temp.path() / "data");
  server.Start();

  json missing = PostGraphql(server, "{\n  job(name: \"nope\") { name }\n}").Json();
  EXPECT_TRUE(missing["data"]["job"].is_null());
  EXPECT_EQ(missing["errors"][0],
            json::parse(R"({"message":"job 'nope' not found","locations":[{"line":2,"column":3}],
                            "path":["job"],"extensions":{"code":"NotFound"}})"))
      << missing.dump();

  // A bad request names its field; the mutation's non-null result makes data null.
  json bad = PostGraphql(server, "mutation { createSweep(request: {name: \"x\"}) { id } }").Json();
  EXPECT_TRUE(bad["data"].is_null()) << bad.dump();
  EXPECT_EQ(bad["errors"][0]["extensions"]["code"], "InvalidArgument");
  EXPECT_FALSE(bad["errors"][0]["extensions"].value("field", "").empty()) << bad.dump();
  EXPECT_EQ(bad["errors"][0]["path"], json::array({"createSweep"}));

  json page = PostGraphql(server, "{ jobs(first: 0, after: \"x\") { nodes { name } } }").Json();
  EXPECT_EQ(page["errors"][0]["extensions"]["field"], "after") << page.dump();
  page = PostGraphql(server, "{ jobs(first: 5000) { nodes { name } } }").Json();
  EXPECT_EQ(page["errors"][0]["extensions"]["field"], "first") << page.dump();

  HttpAnswer syntax = PostGraphql(server, "{ sweeps { id }");
  EXPECT_EQ(syntax.status, 200);
  EXPECT_EQ(syntax.Json(),
            json::parse(R"({"errors":[{"message":"Syntax Error: Expected Name, found <EOF>.",
      "locations":[{"line":1,"column":16}],"extensions":{"code":"InvalidArgument"}}]})"));

  HttpAnswer refused = PostGraphql(server, "{ sweeps { id } }", {}, "wrong-token");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.Json()["errors"][0]["extensions"]["code"], "Unauthenticated");
  EXPECT_EQ(refused.Json()["errors"][0]["message"], "the token is not valid");

  HttpCall call;
  call.method = "POST";
  call.url = server.url() + "/graphql";
  call.bearer = server.token();
  call.headers["Content-Type"] = "application/json";
  call.body = "{not json";
  EXPECT_EQ(Call(call).status, 400);
  call.body = R"({"variables": {}})";
  HttpAnswer no_query = Call(call);
  EXPECT_EQ(no_query.status, 400);
  EXPECT_EQ(no_query.Json()["errors"][0]["extensions"]["field"], "query");
  call.headers["Content-Type"] = "text/plain";
  call.body = R"({"query": "{ sweeps { id } }"})";
  EXPECT_EQ(Call(call).status, 415);
}

TEST(GraphqlE2eTest, TheDocumentPrintsTheSchemaTheServerServes) {
  TempDir temp;
  ServerProcess server(temp.path() / "data");
  server.Start();
  HttpAnswer printed = server.Get("/graphql/schema.graphql");
  ASSERT_EQ(printed.status, 200);
  std::ifstream file(SourceDir() / "docs/graphql.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const std::string begin = "<!-- schema: GET /graphql/schema.graphql -->\n```graphql\n";
  size_t start = doc.find(begin);
  ASSERT_NE(start, std::string::npos) << "docs/graphql.md has no schema block";
  start += begin.size();
  size_t end = doc.find("```\n", start);
  EXPECT_EQ(doc.substr(start, end - start), printed.body)
      << "docs/graphql.md's schema differs from the server's: paste GET /graphql/schema.graphql";
}

TEST(GraphqlE2eTest, GraphqlJsBuildsTheSchemaAndValidatesRealQueries) {
  std::filesystem::path module = SourceDir() / "tests/npm/node_modules/graphql/package.json";
  if (!std::filesystem::exists("/usr/bin/node")) GTEST_SKIP() << "node is not at /usr/bin/node";
  if (!std::filesystem::exists(module)) {
    GTEST_SKIP() << "graphql-js is not installed (" << module
                 << "): run scripts/install-deps.sh, which runs npm ci in tests/npm";
  }
  TempDir temp;
  ServerProcess server(temp.path() / "data");
  server.Start();
  std::string id = CreateSweepThroughGraphql(server, {0.1});
  server.WaitForSweepEnd(id, 1, std::chrono::seconds(120));
  std::string job = server.Get("/api/v1/jobs?sweep=" + id).Json()["jobs"][0]["name"];
  ProcessResult checked =
      RunProcess({"/usr/bin/node", (SourceDir() / "tests/graphql/graphql_js_check.mjs").string(),
                  server.url(), server.token(), id, job});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("graphql-js: every check held"), std::string::npos)
      << checked.output;
}

// graphql-ws (npm) subscribes to a 2x2 sweep from its first event: it sees every status change
// of every job in the order the store recorded them (the event stream's replay is the
// reference), and each job's last progress; refusals come in the protocol's shape and codes.
TEST(GraphqlE2eTest, GraphqlWsClientFollowsA2x2Sweep) {
  std::filesystem::path module = SourceDir() / "tests/npm/node_modules/graphql-ws/package.json";
  if (!std::filesystem::exists("/usr/bin/node")) GTEST_SKIP() << "node is not at /usr/bin/node";
  if (!std::filesystem::exists(module)) {
    GTEST_SKIP() << "graphql-ws is not installed (" << module
                 << "): run scripts/install-deps.sh, which runs npm ci in tests/npm";
  }
  TempDir temp;
  ServerProcess server(temp.path() / "data");
  server.Start();
  json request = SweepRequest(server, {});
  request["grid"] = {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}};
  request["hyperparameters"]["iterations"] = 200;
  HttpAnswer created = server.Post("/api/v1/sweeps", request);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];

  ProcessResult checked =
      RunProcess({"/usr/bin/node", (SourceDir() / "tests/graphql/graphql_ws_check.mjs").string(),
                  server.url(), server.token(), sweep, "4"},
                 {}, std::chrono::seconds(240));
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  size_t at = checked.output.find("RESULT ");
  ASSERT_NE(at, std::string::npos) << checked.output;
  json result = json::parse(checked.output.substr(at + 7, checked.output.find('\n', at) - at - 7));

  EXPECT_TRUE(result["errors"].empty()) << result["errors"].dump();
  // Event ids increase: per job, updates come in the order they happened.
  const json& ids = result["ids"];
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);

  // The store's record of the sweep, as the event stream replays it.
  auto statuses = [](const std::vector<SseEvent>& events) {
    std::map<std::string, std::vector<json>> by_job;
    for (const SseEvent& event : events) {
      if (event.type != "job.status") continue;
      by_job[event.data["job_name"]].push_back(
          json::array({event.data["data"]["status"], event.data["data"]["secondary_status"]}));
    }
    return by_job;
  };
  std::vector<SseEvent> replayed = ReadEvents(
      server.url() + "/api/v1/events?sweep=" + sweep, server.token(), "0",
      [&](const std::vector<SseEvent>& seen) {
        size_t ended = 0;
        for (const auto& [job, list] : statuses(seen)) {
          std::string last = list.back()[0];
          ended += last == "Completed" || last == "Failed" || last == "Stopped";
        }
        return ended == 4;
      },
      std::chrono::seconds(30));
  auto expected = statuses(replayed);
  ASSERT_EQ(expected.size(), 4u);
  ASSERT_EQ(result["statuses"].size(), 4u) << result["statuses"].dump();
  for (const auto& [job, list] : expected) {
    EXPECT_EQ(result["statuses"][job], json(list)) << job;
    EXPECT_EQ(list.back()[0], "Completed") << job;
    // The last progress the subscriber saw is the job's latest.
    json stored = server.Get("/api/v1/jobs/" + job).Json();
    ASSERT_TRUE(result["progress"].contains(job)) << job << ": no progress seen";
    EXPECT_EQ(result["progress"][job], stored["progress"]) << job;
  }

  // A job's log (the job has ended): every stored line in order, then complete.
  EXPECT_TRUE(result["log"]["complete"]) << result["logJob"] << ": " << result["log"].dump();
  EXPECT_FALSE(result["log"]["next"].empty());
  int64_t previous_line = 0;
  for (const json& next : result["log"]["next"]) {
    int64_t id = next["data"]["jobLog"]["id"];
    EXPECT_GT(id, previous_line);
    previous_line = id;
  }

  // A query over the socket: one next, then complete.
  EXPECT_EQ(result["query"]["next"],
            json::array({{{"data", {{"sweep", {{"id", sweep}, {"jobCount", 4}}}}}}}));
  EXPECT_TRUE(result["query"]["complete"]);
  // Refused documents: the spec's errors, in an error message.
  EXPECT_EQ(result["badField"]["error"][0]["message"],
            "Cannot query field \"nope\" on type \"Subscription\".")
      << result["badField"].dump();
  EXPECT_TRUE(result["badField"]["error"][0].contains("locations"));
  EXPECT_EQ(result["twoFields"]["error"][0]["message"],
            "Anonymous Subscription must select only one top level field.");
  EXPECT_EQ(result["unknownJob"]["error"][0]["extensions"]["code"], "NotFound")
      << result["unknownJob"].dump();
  // The token: wrong or missing, the socket closes with 4403.
  EXPECT_EQ(result["wrongToken"]["error"]["code"], 4403) << result["wrongToken"].dump();
  EXPECT_EQ(result["missingToken"]["error"]["code"], 4403) << result["missingToken"].dump();
  // The protocol's other close codes.
  EXPECT_EQ(result["close"]["noInit"], 4408);
  EXPECT_EQ(result["close"]["early"], 4401);
  EXPECT_EQ(result["close"]["twice"], 4409);
  EXPECT_EQ(result["close"]["tooMany"], 4429);
  EXPECT_EQ(result["close"]["garbage"], 4400);
  EXPECT_EQ(result["ping"], json::parse(R"([{"type":"connection_ack"},{"type":"pong"}])"));
}

}  // namespace
}  // namespace trainyard::testing
