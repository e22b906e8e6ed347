// PostgresMetadataStore: the event log.
#include <utility>

#include "metadata/postgres_metadata_store.h"
#include "metadata/record_rows.h"

namespace trainyard::metadata {
Result<std::vector<Event>> PostgresMetadataStore::AppendEvents(PgConnection& connection,
                                                               std::vector<Event> events,
                                                               TimePoint now) {
  if (events.empty()) return events;
  // Taking the ids locks the counter until this transaction ends (postgres_schema.cc).
  TY_ASSIGN_OR_RETURN(int64_t id,
                      TakeCounter(connection, "event", static_cast<int64_t>(events.size())));
  std::string sql = "INSERT INTO events (id, type, sweep_id, job_name, data, time_ms) VALUES ";
  PgParams params;
  for (size_t i = 0; i < events.size(); ++i) {
    Event& event = events[i];
    if (event.time == TimePoint{}) event.time = now;
    // What is returned matches what a later ListEvents reads: times kept to the millisecond.
    event.time = FromMillis(ToMillis(event.time));
    event.id = id++;
    int first = static_cast<int>(i) * 6 + 1;
    if (i > 0) sql += ", ";
    sql += "($" + std::to_string(first);
    for (int column = 1; column < 6; ++column) sql += ", $" + std::to_string(first + column);
    sql += ")";
    params.Add(event.id)
        .Add(event.type)
        .Add(event.sweep_id)
        .Add(event.job_name)
        .Add(DumpJson(event.data))
        .Add(ToMillis(event.time));
  }
  TY_RETURN_IF_ERROR(connection.Exec(sql, params).status());
  return events;
}

Result<std::vector<Event>> PostgresMetadataStore::ListEvents(int64_t after_id,
                                                             const EventFilter& filter,
                                                             size_t limit) {
  if (limit == 0) limit = kDefaultListLimit;
  PgParams params;
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE id > $1";
  params.Add(after_id);
  if (!filter.sweep_id.empty()) {
    params.Add(filter.sweep_id);
    sql += " AND sweep_id = $" + std::to_string(params.values().size());
  }
  if (!filter.job_name.empty()) {
    params.Add(filter.job_name);
    sql += " AND job_name = $" + std::to_string(params.values().size());
  }
  params.Add(static_cast<int64_t>(limit));
  sql += " ORDER BY id LIMIT $" + std::to_string(params.values().size());
  return Transact(Access::kRead, "ListEvents",
                  [&](PgConnection& connection) -> Result<std::vector<Event>> {
                    TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec(sql, params));
                    std::vector<Event> events;
                    events.reserve(static_cast<size_t>(rows.Rows()));
                    for (int i = 0; i < rows.Rows(); ++i) {
                      TY_ASSIGN_OR_RETURN(Event event, ReadEvent(rows.Row(i)));
                      events.push_back(std::move(event));
                    }
                    return events;
                  });
}

Result<int64_t> PostgresMetadataStore::LastEventId() {
  return Transact(Access::kRead, "LastEventId", [&](PgConnection& connection) -> Result<int64_t> {
    TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec("SELECT COALESCE(MAX(id), 0) FROM events"));
    return rows.Row(0).Int(0);
  });
}

}  // namespace trainyard::metadata
