// GraphQL over WebSocket with the graphql-ws protocol (subprotocol `graphql-transport-ws`, the
// protocol of Apollo Client, urql and Relay; docs/graphql.md, "Subscriptions"): one session per
// connection, on the server's WebSocket thread.
//
// The client sends connection_init with the server's token in its payload
// ({"authorization": "Bearer T"} or {"token": "T"}); a missing or wrong token closes with 4403,
// no connection_init within `init_timeout` with 4408, a second one with 4429, a subscribe before
// the acknowledgement with 4401, a subscribe whose id is in use with 4409, a message that is not
// one of the protocol's with 4400. Queries and mutations answer one `next`, then `complete`;
// a request that cannot run (syntax, validation, variables, an unknown job) answers `error`.
// Subscriptions (jobUpdates, sweepUpdates, jobLog) are event streams of the EventHub, with its
// queue per stream: a subscriber that reads slower than events come gets the newest progress and
// metrics of each job and every status change, in order per job, and is never dropped for it.
// An event runs each distinct subscription (document, operation name, variables) once: its
// subscribers share the serialised payload, and only the `id` of their `next` differs.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "graphql/executor.h"
#include "graphql/schema.h"
#include "metadata/metadata_store.h"
#include "server/api/event_hub.h"
#include "server/http/http_server.h"

namespace trainyard::server {

inline constexpr char kGraphqlWsSubprotocol[] = "graphql-transport-ws";

// The payloads of recent events per distinct subscription, shared by every session of a
// server: with 500 subscribers of one sweep, an event is executed and serialised once, not 500
// times. A subscriber that is behind (its events conflated) asks for older events and runs
// them itself when they have left the cache.
class SubscriptionPayloads {
 public:
  struct Operation;  // graphql_ws.cc

  // The cache of the subscription `key` (its document, operation name and variables), shared
  // with the other live subscriptions of the same key.
  std::shared_ptr<Operation> Share(const std::string& key);

  // How many times a subscription's operation ran on an event (tests, benchmarks).
  size_t executions() const { return executions_.load(std::memory_order_relaxed); }
  void CountExecution() { executions_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::mutex mutex_;
  // Weak: the entry goes with its last subscription.
  std::unordered_map<std::string, std::weak_ptr<Operation>> operations_;
  std::atomic<size_t> executions_{0};
};

struct GraphqlWsOptions {
  std::shared_ptr<const graphql::Schema> schema;
  graphql::ExecutionOptions execution;
  // Whether the token of connection_init may use the API; null: no token is needed.
  std::function<bool(const std::string& token)> token_allowed;
  // connection_init must come within this long (graphql-ws's default).
  std::chrono::milliseconds init_timeout{3000};
  // While the socket holds this many bytes unsent, a subscription's events wait in the hub's
  // queue, conflated, instead of piling up in the socket's.
  size_t high_water_bytes = 256 * 1024;
  // Shared by the sessions of one server (null: a session shares with itself only).
  std::shared_ptr<SubscriptionPayloads> payloads;
};

// The handler of one WebSocket connection that negotiated kGraphqlWsSubprotocol.
WebSocketHandlerPtr MakeGraphqlWsSession(GraphqlWsOptions options, EventHub& events,
                                         metadata::MetadataStore& metadata);

}  // namespace trainyard::server
