// trainyard's GraphQL schema (docs/graphql.md): sweeps, jobs (filtered, cursor-paginated),
// datasets and metrics to read; createSweep, stopSweep, stopJob and retryFailedJobs to change;
// jobUpdates, sweepUpdates and jobLog to follow (graphql_ws.h).
// Its resolvers call what the REST API calls (api_operations.h) and return the same documents,
// so that both APIs say the same thing.
//
// The schema is immutable once built and its resolvers are thread-safe: one schema serves every
// request. It holds references to the stores, which must outlive it.
#pragma once

#include <memory>

#include "common/status.h"
#include "control/scheduler.h"
#include "graphql/schema.h"
#include "metadata/metadata_store.h"

namespace trainyard::server {

// Internal when the schema does not hold together (a bug, found by the tests).
Result<std::shared_ptr<const graphql::Schema>> BuildGraphqlSchema(metadata::MetadataStore& metadata,
                                                                  control::Scheduler& scheduler);

}  // namespace trainyard::server
