// SqliteMetadataStore: the leases of sweeps' searches (metadata_store.h, "searches"). SQLite has
// one writer at a time: each method's read and write happen in one write transaction.
#include <algorithm>

#include "metadata/record_rows.h"
#include "metadata/sqlite_metadata_store.h"

namespace trainyard::metadata {
namespace {

using Kind = Transaction::Kind;

}  // namespace

Result<bool> SqliteMetadataStore::ClaimSearch(const std::string& sweep_id, const std::string& owner,
                                              TimePoint now, TimePoint expires_at) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(
      Statement update,
      db_->Prepare("UPDATE sweeps SET search_owner = ?, search_lease_expires_at_ms = ? "
                   "WHERE id = ? AND searching = 1 AND (search_owner IN ('', ?) OR "
                   "COALESCE(search_lease_expires_at_ms, 0) < ?) RETURNING id"));
  update.BindAll(owner, ToMillis(expires_at), sweep_id, owner, ToMillis(now));
  TY_ASSIGN_OR_RETURN(bool claimed, update.Step());
  if (claimed) TY_RETURN_IF_ERROR(update.Run());  // to its end: the one row is the sweep's
  if (!claimed) {
    TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM sweeps WHERE id = ?", sweep_id));
    if (!exists) return NotFound("sweep '" + sweep_id + "' not found");
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return claimed;
}

Result<std::vector<std::string>> SqliteMetadataStore::RenewSearchLeases(const std::string& owner,
                                                                        TimePoint expires_at) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(Statement update,
                      db_->Prepare("UPDATE sweeps SET search_lease_expires_at_ms = ? "
                                   "WHERE searching = 1 AND search_owner = ? RETURNING id"));
  update.BindAll(ToMillis(expires_at), owner);
  std::vector<std::string> ids;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, update.Step());
    if (!row) break;
    ids.push_back(update.Text(0));
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<std::string>> SqliteMetadataStore::TakeOverSearches(const std::string& owner,
                                                                       TimePoint now,
                                                                       TimePoint expires_at,
                                                                       size_t limit) {
  if (limit == 0) limit = kDefaultSearchPageSize;
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare("SELECT id FROM sweeps WHERE searching = 1 AND search_owner <> ? AND "
                   "COALESCE(search_lease_expires_at_ms, 0) < ? "
                   "ORDER BY created_at_ms, rowid LIMIT ?"));
  query.BindAll(owner, ToMillis(now), static_cast<int64_t>(limit));
  std::vector<std::string> ids;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    ids.push_back(query.Text(0));
  }
  for (const std::string& id : ids) {
    TY_ASSIGN_OR_RETURN(Statement update,
                        db_->Prepare("UPDATE sweeps SET search_owner = ?, "
                                     "search_lease_expires_at_ms = ? WHERE id = ?"));
    TY_RETURN_IF_ERROR(update.BindAll(owner, ToMillis(expires_at), id).Run());
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return ids;
}

Result<bool> SqliteMetadataStore::EndSearch(const std::string& sweep_id, const std::string& owner) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(Statement update,
                      db_->Prepare("UPDATE sweeps SET searching = 0, search_lease_expires_at_ms = "
                                   "NULL WHERE id = ? AND search_owner IN ('', ?) RETURNING id"));
  update.BindAll(sweep_id, owner);
  TY_ASSIGN_OR_RETURN(bool ended, update.Step());
  if (ended) TY_RETURN_IF_ERROR(update.Run());  // to its end: the one row is the sweep's
  if (!ended) {
    TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM sweeps WHERE id = ?", sweep_id));
    if (!exists) return NotFound("sweep '" + sweep_id + "' not found");
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return ended;
}

}  // namespace trainyard::metadata
