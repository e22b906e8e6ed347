// PostgresMetadataStore: webhooks, their deliveries and the dispatcher's cursor.
#include <chrono>
#include <utility>

#include "metadata/postgres_metadata_store.h"
#include "metadata/record_rows.h"

namespace trainyard::metadata {
namespace {

Status WebhookNotFound(const std::string& id) {
  return NotFound("webhook '" + id + "' not found");
}

std::optional<int64_t> OptionalMillis(const std::optional<TimePoint>& time) {
  if (!time) return std::nullopt;
  return ToMillis(*time);
}

std::optional<int64_t> OptionalCode(const std::optional<int>& code) {
  if (!code) return std::nullopt;
  return static_cast<int64_t>(*code);
}

template <typename Record, typename Reader>
Result<std::vector<Record>> ReadAll(const PgResult& rows, Reader read) {
  std::vector<Record> records;
  records.reserve(static_cast<size_t>(rows.Rows()));
  for (int i = 0; i < rows.Rows(); ++i) {
    TY_ASSIGN_OR_RETURN(Record record, read(rows.Row(i)));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

Status PostgresMetadataStore::CreateWebhook(const WebhookRecord& webhook) {
  return Transact(Access::kWrite, "CreateWebhook", [&](PgConnection& connection) -> Status {
    TY_ASSIGN_OR_RETURN(
        PgResult inserted,
        connection.Exec(
            std::string("INSERT INTO webhooks (") + kWebhookColumns +
                ") VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (id) DO NOTHING",
            PgParams::Of(webhook.id, webhook.url, DumpJson(webhook.events), webhook.secret,
                         webhook.format, ToMillis(webhook.created_at))));
    if (inserted.Changed() == 0)
      return AlreadyExists("webhook '" + webhook.id + "' already exists");
    return Status::Ok();
  });
}

Result<WebhookRecord> PostgresMetadataStore::GetWebhook(const std::string& id) {
  return Transact(Access::kRead, "GetWebhook",
                  [&](PgConnection& connection) -> Result<WebhookRecord> {
                    TY_ASSIGN_OR_RETURN(PgResult rows,
                                        connection.Exec(std::string("SELECT ") + kWebhookColumns +
                                                            " FROM webhooks WHERE id = $1",
                                                        PgParams::Of(id)));
                    if (rows.Rows() == 0) return WebhookNotFound(id);
                    return ReadWebhook(rows.Row(0));
                  });
}

Result<std::vector<WebhookRecord>> PostgresMetadataStore::ListWebhooks() {
  return Transact(
      Access::kRead, "ListWebhooks",
      [&](PgConnection& connection) -> Result<std::vector<WebhookRecord>> {
        TY_ASSIGN_OR_RETURN(PgResult rows,
                            connection.Exec(std::string("SELECT ") + kWebhookColumns +
                                            " FROM webhooks ORDER BY created_at_ms, seq"));
        return ReadAll<WebhookRecord>(rows, [](const PgRow& row) { return ReadWebhook(row); });
      });
}

Status PostgresMetadataStore::DeleteWebhook(const std::string& id) {
  return Transact(Access::kWrite, "DeleteWebhook", [&](PgConnection& connection) -> Status {
    // The deliveries go with it (ON DELETE CASCADE).
    TY_ASSIGN_OR_RETURN(PgResult removed,
                        connection.Exec("DELETE FROM webhooks WHERE id = $1", PgParams::Of(id)));
    if (removed.Changed() == 0) return WebhookNotFound(id);
    return Status::Ok();
  });
}

Result<int64_t> PostgresMetadataStore::WebhookCursor() {
  return Transact(Access::kRead, "WebhookCursor", [&](PgConnection& connection) -> Result<int64_t> {
    TY_ASSIGN_OR_RETURN(PgResult rows,
                        connection.Exec("SELECT last_event_id FROM webhook_cursor WHERE id = 1"));
    return rows.Rows() > 0 ? rows.Row(0).Int(0) : int64_t{0};
  });
}

Status PostgresMetadataStore::AddDeliveries(const std::vector<DeliveryRecord>& deliveries,
                                            int64_t from_cursor, int64_t cursor) {
  return Transact(Access::kWrite, "AddDeliveries", [&](PgConnection& connection) -> Status {
    const int64_t now_ms = ToMillis(std::chrono::system_clock::now());
    // The cursor moves only from where the caller read it. Replicas that read the same events
    // race here: the row lock makes the later one wait, and READ COMMITTED then re-checks the
    // condition against the committed cursor, so the later one inserts nothing.
    TY_RETURN_IF_ERROR(connection
                           .Exec("INSERT INTO webhook_cursor (id, last_event_id) VALUES (1, 0) "
                                 "ON CONFLICT (id) DO NOTHING")
                           .status());
    TY_ASSIGN_OR_RETURN(PgResult moved,
                        connection.Exec("UPDATE webhook_cursor SET last_event_id = $1 "
                                        "WHERE id = 1 AND last_event_id = $2",
                                        PgParams::Of(cursor, from_cursor)));
    if (moved.Changed() == 0)
      return FailedPrecondition("the webhook cursor is no longer " + std::to_string(from_cursor) +
                                ": another dispatcher turned these events");
    for (const DeliveryRecord& delivery : deliveries) {
      TY_ASSIGN_OR_RETURN(
          bool taken,
          Exists(connection, "SELECT 1 FROM webhook_deliveries WHERE id = $1", delivery.id));
      if (taken) return AlreadyExists("delivery '" + delivery.id + "' already exists");
      // KEY SHARE: a concurrent DeleteWebhook waits until these deliveries are in (and then
      // deletes them with it).
      TY_ASSIGN_OR_RETURN(bool webhook,
                          Exists(connection, "SELECT 1 FROM webhooks WHERE id = $1 FOR KEY SHARE",
                                 delivery.webhook_id));
      if (!webhook) return WebhookNotFound(delivery.webhook_id);
      TY_RETURN_IF_ERROR(
          connection
              .Exec(std::string("INSERT INTO webhook_deliveries (") + kDeliveryColumns +
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                        "$15, $16)",
                    PgParams::Of(
                        delivery.id, delivery.webhook_id, delivery.event_type, delivery.event_id,
                        delivery.sweep_id, delivery.job_name, DumpJson(delivery.payload),
                        delivery.status, static_cast<int64_t>(delivery.attempts),
                        OptionalCode(delivery.response_code), delivery.latency_ms,
                        delivery.last_error, OptionalMillis(delivery.next_attempt_at),
                        ToMillis(delivery.retry_until), ToMillis(delivery.created_at), now_ms))
              .status());
    }
    return Status::Ok();
  });
}

Result<DeliveryRecord> PostgresMetadataStore::GetDelivery(const std::string& id) {
  return Transact(Access::kRead, "GetDelivery",
                  [&](PgConnection& connection) -> Result<DeliveryRecord> {
                    TY_ASSIGN_OR_RETURN(
                        PgResult rows, connection.Exec(std::string("SELECT ") + kDeliveryColumns +
                                                           " FROM webhook_deliveries WHERE id = $1",
                                                       PgParams::Of(id)));
                    if (rows.Rows() == 0) return NotFound("delivery '" + id + "' not found");
                    return ReadDelivery(rows.Row(0));
                  });
}

Status PostgresMetadataStore::UpdateDelivery(const DeliveryRecord& delivery) {
  return Transact(Access::kWrite, "UpdateDelivery", [&](PgConnection& connection) -> Status {
    TY_ASSIGN_OR_RETURN(
        PgResult updated,
        connection.Exec("UPDATE webhook_deliveries SET status = $1, attempts = $2, "
                        "response_code = $3, latency_ms = $4, last_error = $5, "
                        "next_attempt_at_ms = $6, retry_until_ms = $7, updated_at_ms = $8 "
                        "WHERE id = $9",
                        PgParams::Of(delivery.status, static_cast<int64_t>(delivery.attempts),
                                     OptionalCode(delivery.response_code), delivery.latency_ms,
                                     delivery.last_error, OptionalMillis(delivery.next_attempt_at),
                                     ToMillis(delivery.retry_until),
                                     ToMillis(std::chrono::system_clock::now()), delivery.id)));
    if (updated.Changed() == 0) return NotFound("delivery '" + delivery.id + "' not found");
    return Status::Ok();
  });
}

Result<std::vector<DeliveryRecord>> PostgresMetadataStore::ListDeliveries(
    const std::string& webhook_id, size_t limit) {
  if (limit == 0) limit = 100;
  return Transact(
      Access::kRead, "ListDeliveries",
      [&](PgConnection& connection) -> Result<std::vector<DeliveryRecord>> {
        TY_ASSIGN_OR_RETURN(bool exists,
                            Exists(connection, "SELECT 1 FROM webhooks WHERE id = $1", webhook_id));
        if (!exists) return WebhookNotFound(webhook_id);
        TY_ASSIGN_OR_RETURN(PgResult rows,
                            connection.Exec(std::string("SELECT ") + kDeliveryColumns +
                                                " FROM webhook_deliveries WHERE webhook_id = $1 "
                                                "ORDER BY created_at_ms DESC, seq DESC LIMIT $2",
                                            PgParams::Of(webhook_id, static_cast<int64_t>(limit))));
        return ReadAll<DeliveryRecord>(rows, [](const PgRow& row) { return ReadDelivery(row); });
      });
}

Result<std::vector<DeliveryRecord>> PostgresMetadataStore::ClaimDueDeliveries(
    TimePoint now, size_t limit, TimePoint claim_until) {
  return Transact(
      Access::kWrite, "ClaimDueDeliveries",
      [&](PgConnection& connection) -> Result<std::vector<DeliveryRecord>> {
        // SKIP LOCKED: a replica claiming at the same instant takes the next rows instead.
        TY_ASSIGN_OR_RETURN(
            PgResult rows,
            connection.Exec(std::string("SELECT ") + kDeliveryColumns +
                                " FROM webhook_deliveries WHERE status = 'pending' "
                                "AND next_attempt_at_ms <= $1 "
                                "ORDER BY next_attempt_at_ms, seq LIMIT $2 FOR UPDATE SKIP LOCKED",
                            PgParams::Of(ToMillis(now), static_cast<int64_t>(limit))));
        TY_ASSIGN_OR_RETURN(
            std::vector<DeliveryRecord> deliveries,
            ReadAll<DeliveryRecord>(rows, [](const PgRow& row) { return ReadDelivery(row); }));
        for (const DeliveryRecord& delivery : deliveries) {
          TY_RETURN_IF_ERROR(
              connection
                  .Exec("UPDATE webhook_deliveries SET next_attempt_at_ms = $1 WHERE id = $2",
                        PgParams::Of(ToMillis(claim_until), delivery.id))
                  .status());
        }
        return deliveries;
      });
}

Result<std::optional<TimePoint>> PostgresMetadataStore::NextDeliveryTime() {
  return Transact(Access::kRead, "NextDeliveryTime",
                  [&](PgConnection& connection) -> Result<std::optional<TimePoint>> {
                    TY_ASSIGN_OR_RETURN(
                        PgResult rows,
                        connection.Exec("SELECT MIN(next_attempt_at_ms) FROM webhook_deliveries "
                                        "WHERE status = 'pending'"));
                    if (rows.Rows() == 0 || rows.Row(0).IsNull(0)) {
                      return std::optional<TimePoint>();
                    }
                    return std::optional<TimePoint>(FromMillis(rows.Row(0).Int(0)));
                  });
}

}  // namespace trainyard::metadata
