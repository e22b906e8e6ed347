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
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "graphql/executor.h"
#include "graphql/schema.h"
#include "metadata/metadata_store.h"
#include "server/api/event_hub.h"
#include "server/http/http_server.h"

namespace trainyard::server {

inline constexpr char kGraphqlWsSubprotocol[] = "graphql-transport-ws";

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
};

// The handler of one WebSocket connection that negotiated kGraphqlWsSubprotocol.
WebSocketHandlerPtr MakeGraphqlWsSession(GraphqlWsOptions options, EventHub& events,
                                         metadata::MetadataStore& metadata);

}  // namespace trainyard::server
