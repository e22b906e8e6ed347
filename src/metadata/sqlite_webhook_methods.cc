// SqliteMetadataStore: webhooks, their deliveries and the dispatcher's cursor.
#include <chrono>
#include <utility>

#include "metadata/record_rows.h"
#include "metadata/sqlite_metadata_store.h"

namespace trainyard::metadata {
namespace {

using Kind = Transaction::Kind;

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

}  // namespace

Status SqliteMetadataStore::CreateWebhook(const WebhookRecord& webhook) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM webhooks WHERE id = ?", webhook.id));
  if (taken) return AlreadyExists("webhook '" + webhook.id + "' already exists");
  TY_ASSIGN_OR_RETURN(Statement insert,
                      db_->Prepare(std::string("INSERT INTO webhooks (") + kWebhookColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?)"));
  insert.BindAll(webhook.id, webhook.url, DumpJson(webhook.events), webhook.secret, webhook.format,
                 ToMillis(webhook.created_at));
  TY_RETURN_IF_ERROR(insert.Run());
  return transaction.Commit();
}

Result<WebhookRecord> SqliteMetadataStore::GetWebhook(const std::string& id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(std::string("SELECT ") + kWebhookColumns +
                                                    " FROM webhooks WHERE id = ?"));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(id).Step());
  if (!row) return WebhookNotFound(id);
  return ReadWebhook(query);
}

Result<std::vector<WebhookRecord>> SqliteMetadataStore::ListWebhooks() {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare(std::string("SELECT ") + kWebhookColumns +
                                   " FROM webhooks ORDER BY created_at_ms, rowid"));
  std::vector<WebhookRecord> webhooks;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TY_ASSIGN_OR_RETURN(WebhookRecord webhook, ReadWebhook(query));
    webhooks.push_back(std::move(webhook));
  }
  return webhooks;
}

Status SqliteMetadataStore::DeleteWebhook(const std::string& id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM webhooks WHERE id = ?", id));
  if (!exists) return WebhookNotFound(id);
  // The deliveries go with it (ON DELETE CASCADE).
  TY_ASSIGN_OR_RETURN(Statement remove, db_->Prepare("DELETE FROM webhooks WHERE id = ?"));
  TY_RETURN_IF_ERROR(remove.BindAll(id).Run());
  return transaction.Commit();
}

Result<int64_t> SqliteMetadataStore::WebhookCursor() {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare("SELECT last_event_id FROM webhook_cursor WHERE id = 1"));
  TY_ASSIGN_OR_RETURN(bool row, query.Step());
  return row ? query.Int(0) : int64_t{0};
}

Status SqliteMetadataStore::AddDeliveries(const std::vector<DeliveryRecord>& deliveries,
                                          int64_t from_cursor, int64_t cursor) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  // The cursor moves only from where the caller read it: a dispatcher that read the same events
  // as another one, which got here first, inserts nothing.
  TY_ASSIGN_OR_RETURN(Statement seed,
                      db_->Prepare("INSERT INTO webhook_cursor (id, last_event_id) VALUES (1, 0) "
                                   "ON CONFLICT(id) DO NOTHING"));
  TY_RETURN_IF_ERROR(seed.Run());
  TY_ASSIGN_OR_RETURN(Statement move, db_->Prepare("UPDATE webhook_cursor SET last_event_id = ? "
                                                   "WHERE id = 1 AND last_event_id = ?"));
  TY_RETURN_IF_ERROR(move.BindAll(cursor, from_cursor).Run());
  if (sqlite3_changes(db_->raw()) == 0)
    return FailedPrecondition("the webhook cursor is no longer " + std::to_string(from_cursor) +
                              ": another dispatcher turned these events");
  const int64_t now_ms = ToMillis(std::chrono::system_clock::now());
  for (const DeliveryRecord& delivery : deliveries) {
    TY_ASSIGN_OR_RETURN(bool taken,
                        Exists("SELECT 1 FROM webhook_deliveries WHERE id = ?", delivery.id));
    if (taken) return AlreadyExists("delivery '" + delivery.id + "' already exists");
    TY_ASSIGN_OR_RETURN(bool webhook,
                        Exists("SELECT 1 FROM webhooks WHERE id = ?", delivery.webhook_id));
    if (!webhook) return WebhookNotFound(delivery.webhook_id);
    TY_ASSIGN_OR_RETURN(
        Statement insert,
        db_->Prepare(std::string("INSERT INTO webhook_deliveries (") + kDeliveryColumns +
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.BindAll(delivery.id, delivery.webhook_id, delivery.event_type, delivery.event_id,
                   delivery.sweep_id, delivery.job_name, DumpJson(delivery.payload),
                   delivery.status, static_cast<int64_t>(delivery.attempts),
                   OptionalCode(delivery.response_code), delivery.latency_ms, delivery.last_error,
                   OptionalMillis(delivery.next_attempt_at), ToMillis(delivery.retry_until),
                   ToMillis(delivery.created_at), now_ms);
    TY_RETURN_IF_ERROR(insert.Run());
  }
  return transaction.Commit();
}

Result<DeliveryRecord> SqliteMetadataStore::GetDelivery(const std::string& id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(std::string("SELECT ") + kDeliveryColumns +
                                                    " FROM webhook_deliveries WHERE id = ?"));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(id).Step());
  if (!row) return NotFound("delivery '" + id + "' not found");
  return ReadDelivery(query);
}

Status SqliteMetadataStore::UpdateDelivery(const DeliveryRecord& delivery) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(bool exists,
                      Exists("SELECT 1 FROM webhook_deliveries WHERE id = ?", delivery.id));
  if (!exists) return NotFound("delivery '" + delivery.id + "' not found");
  TY_ASSIGN_OR_RETURN(Statement update,
                      db_->Prepare("UPDATE webhook_deliveries SET status = ?, attempts = ?, "
                                   "response_code = ?, latency_ms = ?, last_error = ?, "
                                   "next_attempt_at_ms = ?, retry_until_ms = ?, updated_at_ms = ? "
                                   "WHERE id = ?"));
  update.BindAll(delivery.status, static_cast<int64_t>(delivery.attempts),
                 OptionalCode(delivery.response_code), delivery.latency_ms, delivery.last_error,
                 OptionalMillis(delivery.next_attempt_at), ToMillis(delivery.retry_until),
                 ToMillis(std::chrono::system_clock::now()), delivery.id);
  TY_RETURN_IF_ERROR(update.Run());
  return transaction.Commit();
}

Result<std::vector<DeliveryRecord>> SqliteMetadataStore::ListDeliveries(
    const std::string& webhook_id, size_t limit) {
  if (limit == 0) limit = 100;
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM webhooks WHERE id = ?", webhook_id));
  if (!exists) return WebhookNotFound(webhook_id);
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare(std::string("SELECT ") + kDeliveryColumns +
                                   " FROM webhook_deliveries WHERE webhook_id = ? "
                                   "ORDER BY created_at_ms DESC, rowid DESC LIMIT ?"));
  query.BindAll(webhook_id, static_cast<int64_t>(limit));
  std::vector<DeliveryRecord> deliveries;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TY_ASSIGN_OR_RETURN(DeliveryRecord delivery, ReadDelivery(query));
    deliveries.push_back(std::move(delivery));
  }
  return deliveries;
}

Result<std::vector<DeliveryRecord>> SqliteMetadataStore::ClaimDueDeliveries(TimePoint now,
                                                                            size_t limit,
                                                                            TimePoint claim_until) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare(std::string("SELECT ") + kDeliveryColumns +
                                   " FROM webhook_deliveries WHERE status = 'pending' AND "
                                   "next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms, rowid "
                                   "LIMIT ?"));
  query.BindAll(ToMillis(now), static_cast<int64_t>(limit));
  std::vector<DeliveryRecord> deliveries;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TY_ASSIGN_OR_RETURN(DeliveryRecord delivery, ReadDelivery(query));
    deliveries.push_back(std::move(delivery));
  }
  for (const DeliveryRecord& delivery : deliveries) {
    TY_ASSIGN_OR_RETURN(Statement claim,
                        db_->Prepare("UPDATE webhook_deliveries SET next_attempt_at_ms = ? "
                                     "WHERE id = ?"));
    TY_RETURN_IF_ERROR(claim.BindAll(ToMillis(claim_until), delivery.id).Run());
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return deliveries;
}

Result<std::optional<TimePoint>> SqliteMetadataStore::NextDeliveryTime() {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare("SELECT MIN(next_attempt_at_ms) FROM webhook_deliveries "
                                   "WHERE status = 'pending'"));
  TY_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row || query.IsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromMillis(query.Int(0)));
}

}  // namespace trainyard::metadata
