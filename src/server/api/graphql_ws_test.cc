// The graphql-transport-ws session on a socket that the test drives: the protocol's answers and
// close codes, and a subscriber whose socket is full while jobs report (the hub keeps its events,
// conflated, and it ends with every status change and each job's latest progress).
#include "server/api/graphql_ws.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace trainyard::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A WebSocket whose "unsent bytes" the test sets: full, the session's subscriptions wait.
class FakeWebSocket : public WebSocket {
 public:
  bool SendText(std::string_view message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (close_code_) return false;
    sent_.push_back(json::parse(message));
    return true;
  }
  size_t buffered_bytes() const override { return full ? size_t{1} << 30 : 0; }
  void Close(uint16_t code, std::string_view) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!close_code_) close_code_ = code;
  }
  bool closed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return close_code_ != 0;
  }
  const std::string& remote_address() const override { return remote_; }

  std::vector<json> sent() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sent_;
  }
  uint16_t close_code() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return close_code_;
  }

  std::atomic<bool> full{false};

 private:
  mutable std::mutex mutex_;
  std::vector<json> sent_;
  uint16_t close_code_ = 0;
  std::string remote_ = "127.0.0.1:1";
};

// The subscription fields of trainyard's schema, over a store only.
std::shared_ptr<const graphql::Schema> SubscriptionSchema() {
  auto schema = std::make_shared<graphql::Schema>();
  auto field = [](std::string name, std::string type) {
    graphql::FieldDefinition definition;
    definition.name = std::move(name);
    definition.type = std::move(type);
    return definition;
  };
  graphql::TypeDefinition update;
  update.name = "Update";
  update.fields = {field("id", "Int!"), field("type", "String!"), field("progress", "JSON"),
                   field("status", "String"), field("data", "JSON")};
  update.fields[3].key = "status";
  graphql::FieldDefinition job_name = field("jobName", "String");
  job_name.key = "job_name";
  update.fields.push_back(job_name);
  schema->Add(std::move(update));
  graphql::TypeDefinition json_scalar;
  json_scalar.kind = graphql::TypeKind::kScalar;
  json_scalar.name = "JSON";
  schema->Add(std::move(json_scalar));
  graphql::TypeDefinition query;
  query.name = "Query";
  query.fields = {field("ping", "String")};
  query.fields[0].resolve = [](const graphql::FieldRequest&) -> Result<json> {
    return json("pong");
  };
  schema->Add(std::move(query));
  graphql::TypeDefinition subscription;
  subscription.name = "Subscription";
  graphql::FieldDefinition sweep_updates = field("sweepUpdates", "Update!");
  sweep_updates.arguments = {{"sweep", "ID!", "", std::nullopt, {}, {}},
                             {"after", "Int", "", std::nullopt, {}, {}}};
  sweep_updates.resolve = [](const graphql::FieldRequest& r) -> Result<json> { return r.parent; };
  subscription.fields = {sweep_updates};
  schema->Add(std::move(subscription));
  schema->SetRootTypes("Query", "");
  schema->SetSubscriptionType("Subscription");
  Status finished = schema->Finish();
  EXPECT_TRUE(finished.ok()) << finished.ToString();
  return schema;
}

class GraphqlWsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = metadata::OpenMetadataStore("sqlite::memory:");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
    std::vector<metadata::JobRecord> jobs;
    for (int i = 0; i < kJobs; ++i) jobs.push_back({.name = "job-" + std::to_string(i)});
    ASSERT_TRUE(store->CreateSweep({.id = "sw-ws"}, {}, jobs).ok());
    hub = std::make_unique<EventHub>(*store);
    ASSERT_TRUE(hub->Start().ok());
  }

  WebSocketHandlerPtr Session(std::chrono::milliseconds init_timeout = std::chrono::seconds(3)) {
    GraphqlWsOptions options;
    options.schema = schema;
    options.payloads = payloads;
    options.token_allowed = [](const std::string& token) { return token == "T"; };
    options.init_timeout = init_timeout;
    return MakeGraphqlWsSession(std::move(options), *hub, *store);
  }

  static std::string Init(const std::string& token = "T") {
    return json{{"type", "connection_init"}, {"payload", {{"authorization", "Bearer " + token}}}}
        .dump();
  }
  static std::string Follow(const std::string& id = "s") {
    return json{{"type", "subscribe"},
                {"id", id},
                {"payload",
                 {{"query",
                   "subscription { sweepUpdates(sweep: \"sw-ws\", after: 0) { id type jobName "
                   "status progress } }"}}}}
        .dump();
  }

  void ReportProgress(int step) {
    for (int i = 0; i < kJobs; ++i) {
      metadata::ProgressUpdate update;
      update.progress = json{{"step", step}, {"message", std::string(500, 'p')}};
      ASSERT_TRUE(store->RecordProgress("job-" + std::to_string(i), update).ok());
    }
  }
  void ChangeStatus(int step) {
    for (int i = 0; i < kJobs; ++i) {
      auto job = store->GetJob("job-" + std::to_string(i));
      ASSERT_TRUE(job.ok());
      metadata::Event event{.type = "job.status",
                            .sweep_id = "sw-ws",
                            .job_name = job->name,
                            .data = {{"status", "InProgress"}, {"step", step}}};
      ASSERT_TRUE(store->UpdateJobState(*job, {event}).ok());
    }
  }

  static constexpr int kJobs = 3;
  metadata::MetadataStorePtr store;
  std::unique_ptr<EventHub> hub;
  std::shared_ptr<const graphql::Schema> schema = SubscriptionSchema();
  std::shared_ptr<SubscriptionPayloads> payloads = std::make_shared<SubscriptionPayloads>();
};

TEST_F(GraphqlWsTest, ProtocolAnswersAndCloseCodes) {
  auto socket = std::make_shared<FakeWebSocket>();
  WebSocketHandlerPtr session = Session();
  session->OnText(socket, R"({"type":"ping"})");
  session->OnText(socket, Init());
  session->OnText(
      socket,
      json{{"type", "subscribe"}, {"id", "q"}, {"payload", {{"query", "{ ping }"}}}}.dump());
  session->OnText(
      socket,
      json{{"type", "subscribe"}, {"id", "bad"}, {"payload", {{"query", "{ nope }"}}}}.dump());
  std::vector<json> sent = socket->sent();
  ASSERT_EQ(sent.size(), 5u) << json(sent).dump();
  EXPECT_EQ(sent[0], json::parse(R"({"type":"pong"})"));
  EXPECT_EQ(sent[1], json::parse(R"({"type":"connection_ack"})"));
  EXPECT_EQ(sent[2], json::parse(R"({"id":"q","type":"next","payload":{"data":{"ping":"pong"}}})"));
  EXPECT_EQ(sent[3], json::parse(R"({"id":"q","type":"complete"})"));
  EXPECT_EQ(sent[4]["type"], "error");
  EXPECT_EQ(sent[4]["payload"][0]["message"], "Cannot query field \"nope\" on type \"Query\".");
  EXPECT_EQ(socket->close_code(), 0);

  struct Case {
    std::string name;
    std::vector<std::string> messages;
    uint16_t code;
  };
  std::vector<Case> cases = {
      {"wrong token", {Init("nope")}, 4403},
      {"no token", {R"({"type":"connection_init"})"}, 4403},
      {"subscribe before ack", {Follow()}, 4401},
      {"two inits", {Init(), Init()}, 4429},
      {"an id in use", {Init(), Follow("a"), Follow("a")}, 4409},
      {"not a message", {"[1,2]"}, 4400},
      {"unknown type", {R"({"type":"hello"})"}, 4400},
      {"subscribe without a query",
       {Init(), R"({"type":"subscribe","id":"x","payload":{}})"},
       4400},
  };
  for (const Case& c : cases) {
    auto other = std::make_shared<FakeWebSocket>();
    WebSocketHandlerPtr handler = Session();
    for (const std::string& message : c.messages) handler->OnText(other, message);
    EXPECT_EQ(other->close_code(), c.code) << c.name;
    handler->OnClosed(other, c.code);
  }
  // No connection_init within the timeout: 4408 at the next tick.
  auto silent = std::make_shared<FakeWebSocket>();
  WebSocketHandlerPtr waiting = Session(std::chrono::milliseconds(0));
  waiting->OnTick(silent, Clock::now());
  EXPECT_EQ(silent->close_code(), 4408);
}

// A subscriber whose socket takes nothing while three jobs report 300 times: nothing is sent,
// nothing is dropped; once it reads, it gets every status change in order and each job's latest
// progress, far fewer progress messages than reports, and its socket is never closed.
TEST_F(GraphqlWsTest, ASlowSubscriberGetsEveryStatusChangeAndTheLatestProgress) {
  auto socket = std::make_shared<FakeWebSocket>();
  WebSocketHandlerPtr session = Session();
  session->OnText(socket, Init());
  socket->full = true;
  session->OnText(socket, Follow());
  constexpr int kSteps = 300;
  for (int step = 0; step < kSteps; ++step) {
    ReportProgress(step);
    if (step % 50 == 0) ChangeStatus(step);
    hub->Notify();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(socket->sent().size(), 1u) << "only the connection_ack while the socket is full";
  socket->full = false;
  hub->Notify();

  auto deadline = Clock::now() + std::chrono::seconds(20);
  std::map<std::string, std::vector<int>> statuses;
  std::map<std::string, int> last_progress;
  size_t progress_messages = 0;
  while (Clock::now() < deadline) {
    statuses.clear();
    last_progress.clear();
    progress_messages = 0;
    int64_t previous_id = 0;
    for (const json& message : socket->sent()) {
      if (message["type"] != "next") continue;
      const json& update = message["payload"]["data"]["sweepUpdates"];
      EXPECT_GT(update["id"].get<int64_t>(), previous_id);
      previous_id = update["id"];
      if (update["type"] == "job.status")
        statuses[update["jobName"]].push_back(update["status"] == "InProgress" ? 1 : 0);
      if (update["type"] == "job.progress") {
        last_progress[update["jobName"]] = update["progress"]["step"];
        ++progress_messages;
      }
    }
    bool done = last_progress.size() == kJobs;
    for (const auto& [job, step] : last_progress) done = done && step == kSteps - 1;
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(last_progress.size(), size_t{kJobs});
  for (const auto& [job, step] : last_progress) EXPECT_EQ(step, kSteps - 1) << job;
  // Every status change (one per 50 steps), in order (ids increase, checked above).
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(statuses["job-" + std::to_string(i)].size(), size_t{kSteps / 50});
  }
  EXPECT_LT(progress_messages, size_t{kSteps * kJobs} / 10) << "progress was not conflated";
  EXPECT_EQ(socket->close_code(), 0);
  session->OnClosed(socket, 1000);
}

// Two connections subscribe with the same document and variables, a third with other variables:
// an event runs once per distinct subscription, and the first two get the same payload, each in
// a `next` with its own id.
TEST_F(GraphqlWsTest, SubscribersOfOneOperationShareOneExecutionPerEvent) {
  struct Subscriber {
    std::shared_ptr<FakeWebSocket> socket = std::make_shared<FakeWebSocket>();
    WebSocketHandlerPtr session;
  };
  std::vector<Subscriber> subscribers(3);
  const std::vector<std::string> ids = {"first", "second", "other"};
  for (size_t i = 0; i < subscribers.size(); ++i) {
    subscribers[i].session = Session();
    subscribers[i].session->OnText(subscribers[i].socket, Init());
    json message = json::parse(Follow(ids[i]));
    if (i == 2) {
      message["payload"]["query"] =
          "subscription S($after: Int) { sweepUpdates(sweep: \"sw-ws\", after: $after) { id type "
          "jobName status progress } }";
      message["payload"]["variables"] = {{"after", 0}};
    }
    subscribers[i].session->OnText(subscribers[i].socket, message.dump());
  }
  ReportProgress(1);
  hub->Notify();

  auto nexts = [](const FakeWebSocket& socket) {
    std::vector<json> found;
    for (const json& message : socket.sent()) {
      if (message["type"] == "next") found.push_back(message);
    }
    return found;
  };
  // Each has every event up to the three progress reports (the sweep's earlier events too).
  auto progress_count = [&](const FakeWebSocket& socket) {
    size_t count = 0;
    for (const json& next : nexts(socket)) {
      count += next["payload"]["data"]["sweepUpdates"]["type"] == "job.progress";
    }
    return count;
  };
  auto all_arrived = [&] {
    for (const Subscriber& subscriber : subscribers) {
      if (progress_count(*subscriber.socket) < size_t{kJobs}) return false;
    }
    return true;
  };
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!all_arrived() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(all_arrived());
  std::vector<json> first = nexts(*subscribers[0].socket);
  std::vector<json> second = nexts(*subscribers[1].socket);
  std::vector<json> other = nexts(*subscribers[2].socket);
  ASSERT_EQ(second.size(), first.size());
  ASSERT_EQ(other.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i]["id"], "first");
    EXPECT_EQ(second[i]["id"], "second");
    EXPECT_EQ(other[i]["id"], "other");
    EXPECT_EQ(first[i]["payload"], second[i]["payload"]);
    EXPECT_EQ(first[i]["payload"], other[i]["payload"]) << "the same data, run separately";
  }
  EXPECT_EQ(first.back()["payload"]["data"]["sweepUpdates"]["progress"]["step"], 1);
  // Two distinct subscriptions: two executions per event, not three.
  EXPECT_EQ(payloads->executions(), 2 * first.size());
  for (Subscriber& subscriber : subscribers) subscriber.session->OnClosed(subscriber.socket, 1000);
}

}  // namespace
}  // namespace trainyard::server
