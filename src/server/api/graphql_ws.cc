#include "server/api/graphql_ws.h"

#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <string_view>

#include "common/log.h"

namespace trainyard::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Close codes of graphql-ws (PROTOCOL.md).
constexpr uint16_t kBadRequest = 4400;
constexpr uint16_t kUnauthorized = 4401;
constexpr uint16_t kForbidden = 4403;
constexpr uint16_t kInitTimeout = 4408;
constexpr uint16_t kSubscriberExists = 4409;
constexpr uint16_t kTooManyInits = 4429;

// One server-sent event as the hub writes it: "id: N\nevent: TYPE\ndata: JSON\n\n".
struct SentEvent {
  int64_t id = 0;
  std::string type;
  json data;  // discarded when the block has none (a comment, a retry)
};

SentEvent ParseSentEvent(std::string_view block) {
  SentEvent event;
  size_t start = 0;
  while (start < block.size()) {
    size_t end = block.find('\n', start);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(start, end - start);
    if (line.starts_with("id: ")) {
      event.id = std::strtoll(std::string(line.substr(4)).c_str(), nullptr, 10);
    }
    if (line.starts_with("event: ")) event.type = std::string(line.substr(7));
    if (line.starts_with("data: ")) {
      event.data = json::parse(line.substr(6), nullptr, /*allow_exceptions=*/false);
    }
    start = end + 1;
  }
  return event;
}

// The root value of an Update from an event's JSON (EventJson).
json UpdateValue(const json& event) {
  json update = event;
  const json& data = event.contains("data") ? event["data"] : json();
  std::string type = event.value("type", "");
  if (type == "job.status" && data.is_object()) {
    update["status"] = data.value("status", json());
    update["secondary_status"] = data.value("secondary_status", json());
  }
  if (type == "job.progress") update["progress"] = data;
  if (type == "job.metrics") update["metrics"] = data;
  return update;
}

json ErrorsJson(const std::vector<graphql::Error>& errors) {
  return graphql::ToJson(errors);
}

json OneError(const Status& status) {
  return json::array(
      {{{"message", status.message()}, {"extensions", {{"code", StatusCodeName(status.code())}}}}});
}

}  // namespace

// What one event makes of a subscription: a `next` with this payload, nothing (a comment), or
// the end of a log.
struct EventOutcome {
  enum class Kind { kNext, kSkip, kEnd } kind = Kind::kSkip;
  std::string payload;  // kNext: the serialised execution result
};

// The recent events of one distinct subscription and what they made, newest last. The hub
// hands an event to each subscriber in turn, so the newest entries are the ones asked for.
struct SubscriptionPayloads::Operation {
  static constexpr size_t kRecentEvents = 64;

  std::mutex mutex;
  std::deque<std::pair<std::string, std::shared_ptr<const EventOutcome>>> recent;

  // The outcome of `block` (an event as the hub writes it, its id included), from the cache or
  // made by `run`. The lock is held while `run` executes, so concurrent subscribers of the same
  // event wait for the one execution instead of repeating it.
  template <typename Run>
  std::shared_ptr<const EventOutcome> Outcome(std::string_view block, Run&& run) {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
      if (it->first == block) return it->second;
    }
    auto outcome = std::make_shared<const EventOutcome>(run());
    if (recent.size() == kRecentEvents) recent.pop_front();
    recent.emplace_back(std::string(block), outcome);
    return outcome;
  }
};

std::shared_ptr<SubscriptionPayloads::Operation> SubscriptionPayloads::Share(
    const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<Operation> operation = operations_[key].lock();
  if (!operation) {
    std::erase_if(operations_, [](const auto& entry) { return entry.second.expired(); });
    operation = std::make_shared<Operation>();
    operations_[key] = operation;
  }
  return operation;
}

namespace {

// A subscription as the EventHub sees it: an event stream. It takes the events the hub writes as
// long as the socket has room, runs the operation on each (or takes the payload that another
// subscriber of the same operation made of it) and sends the result as `next`; when the socket
// is full it takes nothing, so the hub keeps the events in the stream's queue, where progress
// and metrics are conflated per job.
class SubscriptionStream : public EventStream {
 public:
  SubscriptionStream(WebSocketPtr socket, std::string id, const GraphqlWsOptions& options,
                     graphql::PreparedOperation operation,
                     std::shared_ptr<SubscriptionPayloads::Operation> shared, bool log)
      : socket_(std::move(socket)),
        id_(std::move(id)),
        next_prefix_("{\"id\":" + json(id_).dump() + ",\"payload\":"),
        schema_(options.schema),
        execution_(options.execution),
        high_water_(options.high_water_bytes),
        payloads_(options.payloads),
        operation_(std::move(operation)),
        shared_(std::move(shared)),
        log_(log) {}

  bool Send(std::string_view bytes) override {
    std::optional<size_t> taken = SendSome(bytes);
    if (taken && *taken == bytes.size()) return true;
    End();
    return false;
  }

  std::optional<size_t> SendSome(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ || socket_->closed()) return std::nullopt;
    size_t taken = 0;
    while (taken < bytes.size() && socket_->buffered_bytes() < high_water_) {
      size_t end = bytes.find("\n\n", taken);
      if (end == std::string_view::npos) break;  // the hub writes whole events: not reached
      std::string_view block = bytes.substr(taken, end + 2 - taken);
      taken = end + 2;
      std::shared_ptr<const EventOutcome> outcome =
          shared_->Outcome(block, [&] { return Run(block); });
      if (outcome->kind == EventOutcome::Kind::kSkip) continue;
      if (outcome->kind == EventOutcome::Kind::kEnd) {
        socket_->SendText(json{{"id", id_}, {"type", "complete"}}.dump());
        done_ = true;
        break;
      }
      // The message as json would dump it (keys sorted), built around the shared payload.
      std::string message;
      message.reserve(next_prefix_.size() + outcome->payload.size() + 16);
      message.append(next_prefix_).append(outcome->payload).append(",\"type\":\"next\"}");
      if (!socket_->SendText(message)) return std::nullopt;
    }
    return taken;
  }

  bool closed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_ || socket_->closed();
  }

  // The hub gives up on the stream (its queue passed the cap): the client is told, with an
  // error it can act on (subscribe again, replaying with `after`).
  void Close() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    done_ = true;
    json error = {{"message",
                   "the subscription fell too far behind and was ended: subscribe again, with "
                   "after: the last id received"},
                  {"extensions", {{"code", "ResourceExhausted"}}}};
    socket_->SendText(
        json{{"id", id_}, {"type", "error"}, {"payload", json::array({error})}}.dump());
  }

  // The client ended it (complete), or the socket closed: nothing more is sent.
  void End() {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }

 private:
  // What `block` makes of the operation: the one execution that its subscribers share.
  EventOutcome Run(std::string_view block) const {
    SentEvent event = ParseSentEvent(block);
    if (event.data.is_discarded() || event.data.is_null()) return {};  // a comment
    if (log_ && event.type == "end") return {.kind = EventOutcome::Kind::kEnd};
    json root = log_ ? event.data : UpdateValue(event.data);
    if (log_ && root.is_object()) root["id"] = event.id;  // a log event's id is its line's
    graphql::Response response = graphql::ExecutePrepared(*schema_, operation_, root, execution_);
    payloads_->CountExecution();
    return {
        .kind = EventOutcome::Kind::kNext,
        .payload = graphql::ToJson(response).dump(-1, ' ', false, json::error_handler_t::replace)};
  }

  const WebSocketPtr socket_;
  const std::string id_;
  const std::string next_prefix_;  // {"id":ID,"payload":
  const std::shared_ptr<const graphql::Schema> schema_;
  const graphql::ExecutionOptions execution_;
  const size_t high_water_;
  const std::shared_ptr<SubscriptionPayloads> payloads_;
  const graphql::PreparedOperation operation_;
  const std::shared_ptr<SubscriptionPayloads::Operation> shared_;
  const bool log_;
  mutable std::mutex mutex_;
  bool done_ = false;
};

class GraphqlWsSession : public WebSocketHandler {
 public:
  GraphqlWsSession(GraphqlWsOptions options, EventHub& events, metadata::MetadataStore& metadata)
      : options_(WithPayloads(std::move(options))),
        events_(events),
        metadata_(metadata),
        opened_(Clock::now()) {}

  void OnText(const WebSocketPtr& socket, std::string text) override {
    json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!message.is_object() || !message.contains("type") || !message["type"].is_string()) {
      return Refuse(socket, kBadRequest, "Invalid message received: not an object with a type");
    }
    const std::string type = message["type"];
    if (type == "connection_init") return Init(socket, message);
    if (type == "ping") {
      socket->SendText(R"({"type":"pong"})");
      return;
    }
    if (type == "pong") return;
    if (type == "subscribe") return Subscribe(socket, message);
    if (type == "complete") {
      if (!message.contains("id") || !message["id"].is_string()) {
        return Refuse(socket, kBadRequest, "Invalid message received: complete without an id");
      }
      auto it = operations_.find(message["id"].get<std::string>());
      if (it != operations_.end()) {
        if (it->second) it->second->End();
        operations_.erase(it);
      }
      return;
    }
    Refuse(socket, kBadRequest, "Invalid message received: unknown type '" + type + "'");
  }

  void OnTick(const WebSocketPtr& socket, Clock::time_point now) override {
    if (!initialised_ && now - opened_ >= options_.init_timeout) {
      Refuse(socket, kInitTimeout, "Connection initialisation timeout");
    }
    // Subscriptions that ended (a log that completed) free their ids.
    std::erase_if(operations_,
                  [](const auto& entry) { return entry.second && entry.second->closed(); });
  }

  void OnClosed(const WebSocketPtr&, uint16_t) override {
    for (auto& [id, stream] : operations_) {
      if (stream) stream->End();
    }
    operations_.clear();
  }

 private:
  static GraphqlWsOptions WithPayloads(GraphqlWsOptions options) {
    if (!options.payloads) options.payloads = std::make_shared<SubscriptionPayloads>();
    return options;
  }

  void Refuse(const WebSocketPtr& socket, uint16_t code, const std::string& reason) {
    Logger("api").info("graphql websocket client={} closed with {}: {}", socket->remote_address(),
                       code, reason);
    socket->Close(code, reason);
  }

  void Init(const WebSocketPtr& socket, const json& message) {
    if (initialised_) return Refuse(socket, kTooManyInits, "Too many initialisation requests");
    initialised_ = true;
    if (options_.token_allowed) {
      std::string token;
      const json payload = message.value("payload", json());
      if (payload.is_object()) {
        if (payload.contains("token") && payload["token"].is_string()) {
          token = payload["token"];
        } else if (payload.contains("authorization") && payload["authorization"].is_string()) {
          std::string value = payload["authorization"];
          if (value.rfind("Bearer ", 0) == 0) token = value.substr(7);
        }
      }
      if (token.empty() || !options_.token_allowed(token)) {
        return Refuse(socket, kForbidden, "Forbidden");
      }
    }
    acknowledged_ = true;
    socket->SendText(R"({"type":"connection_ack"})");
  }

  void Subscribe(const WebSocketPtr& socket, const json& message) {
    if (!acknowledged_) return Refuse(socket, kUnauthorized, "Unauthorized");
    if (!message.contains("id") || !message["id"].is_string() ||
        message["id"].get<std::string>().empty()) {
      return Refuse(socket, kBadRequest, "Invalid message received: subscribe needs a string id");
    }
    const std::string id = message["id"];
    const json payload = message.value("payload", json());
    if (!payload.is_object() || !payload.contains("query") || !payload["query"].is_string()) {
      return Refuse(socket, kBadRequest,
                    "Invalid message received: subscribe needs a payload with a string query");
    }
    if (operations_.contains(id)) {
      return Refuse(socket, kSubscriberExists, "Subscriber for " + id + " already exists");
    }
    graphql::Request request;
    request.query = payload["query"];
    if (payload.contains("operationName") && payload["operationName"].is_string()) {
      request.operation_name = payload["operationName"];
    }
    if (payload.contains("variables")) request.variables = payload["variables"];
    graphql::PreparedOperation prepared = graphql::Prepare(*options_.schema, request);
    if (!prepared.ok()) {
      socket->SendText(
          json{{"id", id}, {"type", "error"}, {"payload", ErrorsJson(prepared.errors)}}.dump());
      return;
    }
    if (!prepared.is_subscription()) {
      // One answer, then complete. Store reads and writes are short; the socket thread runs them.
      graphql::Response response =
          graphql::ExecutePrepared(*options_.schema, prepared, json::object(), options_.execution);
      socket->SendText(
          json{{"id", id}, {"type", "next"}, {"payload", graphql::ToJson(response)}}.dump());
      socket->SendText(json{{"id", id}, {"type", "complete"}}.dump());
      return;
    }
    // The subscriptions that share their events' payloads: same document, operation and
    // (coerced) variables.
    const std::string key =
        request.query + '\0' + request.operation_name + '\0' + prepared.variables.dump();
    Result<std::shared_ptr<SubscriptionStream>> stream =
        Start(socket, id, std::move(prepared), options_.payloads->Share(key));
    if (!stream.ok()) {
      socket->SendText(
          json{{"id", id}, {"type", "error"}, {"payload", OneError(stream.status())}}.dump());
      return;
    }
    operations_[id] = *stream;
  }

  // Opens the subscription's event stream (CreateSourceEventStream): checks that its job or
  // sweep exists and hands the stream to the hub.
  Result<std::shared_ptr<SubscriptionStream>> Start(
      const WebSocketPtr& socket, const std::string& id, graphql::PreparedOperation prepared,
      std::shared_ptr<SubscriptionPayloads::Operation> shared) {
    const std::string field = prepared.subscription_field;
    const json arguments = prepared.subscription_arguments;
    auto text = [&](const char* name) {
      return arguments.contains(name) && arguments[name].is_string()
                 ? arguments[name].get<std::string>()
                 : std::string();
    };
    auto after = [&]() -> Result<int64_t> {
      if (arguments.contains("after") && arguments["after"].is_number_integer()) {
        int64_t value = arguments["after"];
        if (value < 0) return InvalidArgument("after must be 0 or more");
        return value;
      }
      return metadata_.LastEventId();
    };
    if (field == "jobLog") {
      TY_RETURN_IF_ERROR(metadata_.GetJob(text("job")).status());
      auto stream = std::make_shared<SubscriptionStream>(socket, id, options_, std::move(prepared),
                                                         std::move(shared), /*log=*/true);
      int64_t after_line = arguments.value("after", int64_t{0});
      events_.FollowLog(stream, text("job"), std::max<int64_t>(after_line, 0));
      return stream;
    }
    metadata::EventFilter filter;
    if (field == "jobUpdates") {
      TY_RETURN_IF_ERROR(metadata_.GetJob(text("job")).status());
      filter.job_name = text("job");
    } else if (field == "sweepUpdates") {
      TY_RETURN_IF_ERROR(metadata_.GetSweep(text("sweep")).status());
      filter.sweep_id = text("sweep");
    } else {
      return Internal("no event stream for subscription field '" + field + "'");
    }
    TY_ASSIGN_OR_RETURN(int64_t from, after());
    auto stream = std::make_shared<SubscriptionStream>(socket, id, options_, std::move(prepared),
                                                       std::move(shared), /*log=*/false);
    events_.Subscribe(stream, filter, from);
    return stream;
  }

  const GraphqlWsOptions options_;
  EventHub& events_;
  metadata::MetadataStore& metadata_;
  const Clock::time_point opened_;
  // The WebSocket thread's own.
  bool initialised_ = false;
  bool acknowledged_ = false;
  // Operations in flight by id: subscriptions (queries and mutations finish at once).
  std::map<std::string, std::shared_ptr<SubscriptionStream>> operations_;
};

}  // namespace

WebSocketHandlerPtr MakeGraphqlWsSession(GraphqlWsOptions options, EventHub& events,
                                         metadata::MetadataStore& metadata) {
  return std::make_shared<GraphqlWsSession>(std::move(options), events, metadata);
}

}  // namespace trainyard::server
