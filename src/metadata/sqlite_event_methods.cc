// SqliteMetadataStore: the event log.
#include <utility>

#include "metadata/record_rows.h"
#include "metadata/sqlite_metadata_store.h"

namespace trainyard::metadata {
namespace {

using Kind = Transaction::Kind;

}  // namespace

Result<Event> SqliteMetadataStore::AppendEvent(Event event, TimePoint now) {
  if (event.time == TimePoint{}) event.time = now;
  // What is returned matches what a later ListEvents reads: times kept to the millisecond.
  event.time = FromMillis(ToMillis(event.time));
  TY_ASSIGN_OR_RETURN(Statement insert,
                      db_->Prepare("INSERT INTO events (type, sweep_id, job_name, data, time_ms) "
                                   "VALUES (?, ?, ?, ?, ?)"));
  insert.BindAll(event.type, event.sweep_id, event.job_name, DumpJson(event.data),
                 ToMillis(event.time));
  TY_RETURN_IF_ERROR(insert.Run());
  event.id = sqlite3_last_insert_rowid(db_->raw());
  return event;
}

Result<std::vector<Event>> SqliteMetadataStore::ListEvents(int64_t after_id,
                                                           const EventFilter& filter,
                                                           size_t limit) {
  if (limit == 0) limit = kDefaultListLimit;
  // Four constant forms, each cached; values are bound.
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE id > ?";
  if (!filter.sweep_id.empty()) sql += " AND sweep_id = ?";
  if (!filter.job_name.empty()) sql += " AND job_name = ?";
  sql += " ORDER BY id LIMIT ?";

  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(sql));
  int index = 0;
  query.Bind(++index, after_id);
  if (!filter.sweep_id.empty()) query.Bind(++index, filter.sweep_id);
  if (!filter.job_name.empty()) query.Bind(++index, filter.job_name);
  query.Bind(++index, static_cast<int64_t>(limit));
  std::vector<Event> events;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TY_ASSIGN_OR_RETURN(Event event, ReadEvent(query));
    events.push_back(std::move(event));
  }
  return events;
}

Result<int64_t> SqliteMetadataStore::LastEventId() {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare("SELECT COALESCE(MAX(id), 0) FROM events"));
  TY_ASSIGN_OR_RETURN(bool row, query.Step());
  return row ? query.Int(0) : int64_t{0};
}

}  // namespace trainyard::metadata
