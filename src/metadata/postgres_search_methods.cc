// PostgresMetadataStore: the leases of sweeps' searches (metadata_store.h, "searches"). Each
// method is one statement whose WHERE the row lock re-checks on the newest row (READ COMMITTED),
// so that of servers claiming at once exactly one takes a lease.
#include <algorithm>
#include <tuple>

#include "metadata/postgres_metadata_store.h"
#include "metadata/record_rows.h"

namespace trainyard::metadata {
Result<bool> PostgresMetadataStore::ClaimSearch(const std::string& sweep_id,
                                                const std::string& owner, TimePoint now,
                                                TimePoint expires_at) {
  return Transact(Access::kWrite, "ClaimSearch", [&](PgConnection& connection) -> Result<bool> {
    TY_ASSIGN_OR_RETURN(
        PgResult rows,
        connection.Exec("UPDATE sweeps SET search_owner = $1, search_lease_expires_at_ms = $2 "
                        "WHERE id = $3 AND searching = 1 AND (search_owner IN ('', $1) OR "
                        "COALESCE(search_lease_expires_at_ms, 0) < $4) RETURNING id",
                        PgParams::Of(owner, ToMillis(expires_at), sweep_id, ToMillis(now))));
    if (rows.Rows() > 0) return true;
    TY_ASSIGN_OR_RETURN(bool exists,
                        Exists(connection, "SELECT 1 FROM sweeps WHERE id = $1", sweep_id));
    if (!exists) return NotFound("sweep '" + sweep_id + "' not found");
    return false;
  });
}

Result<std::vector<std::string>> PostgresMetadataStore::RenewSearchLeases(const std::string& owner,
                                                                          TimePoint expires_at) {
  return Transact(Access::kWrite, "RenewSearchLeases",
                  [&](PgConnection& connection) -> Result<std::vector<std::string>> {
                    TY_ASSIGN_OR_RETURN(
                        PgResult rows,
                        connection.Exec("UPDATE sweeps SET search_lease_expires_at_ms = $1 "
                                        "WHERE searching = 1 AND search_owner = $2 RETURNING id",
                                        PgParams::Of(ToMillis(expires_at), owner)));
                    std::vector<std::string> ids;
                    for (int i = 0; i < rows.Rows(); ++i) ids.push_back(rows.Row(i).Text(0));
                    std::sort(ids.begin(), ids.end());
                    return ids;
                  });
}

Result<std::vector<std::string>> PostgresMetadataStore::TakeOverSearches(const std::string& owner,
                                                                         TimePoint now,
                                                                         TimePoint expires_at,
                                                                         size_t limit) {
  if (limit == 0) limit = kDefaultSearchPageSize;
  return Transact(
      Access::kWrite, "TakeOverSearches",
      [&](PgConnection& connection) -> Result<std::vector<std::string>> {
        // SKIP LOCKED: a search another server is taking (or renewing) right now is left to it;
        // locking re-checks the condition on the newest row, so a lease renewed meanwhile is not
        // taken. The rows are picked once, in a CTE: a LIMIT in an IN (...) subquery may be run
        // again for each row the UPDATE scans, and take more than the limit.
        TY_ASSIGN_OR_RETURN(
            PgResult rows,
            connection.Exec("WITH picked AS (SELECT id FROM sweeps WHERE searching = 1 AND "
                            "search_owner <> $1 AND COALESCE(search_lease_expires_at_ms, 0) < $3 "
                            "ORDER BY created_at_ms, seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
                            "UPDATE sweeps SET search_owner = $1, search_lease_expires_at_ms = $2 "
                            "FROM picked WHERE sweeps.id = picked.id "
                            "RETURNING sweeps.id, sweeps.created_at_ms, sweeps.seq",
                            PgParams::Of(owner, ToMillis(expires_at), ToMillis(now),
                                         static_cast<int64_t>(limit))));
        std::vector<std::tuple<int64_t, int64_t, std::string>> taken;
        for (int i = 0; i < rows.Rows(); ++i) {
          taken.emplace_back(rows.Row(i).Int(1), rows.Row(i).Int(2), rows.Row(i).Text(0));
        }
        std::sort(taken.begin(), taken.end());
        std::vector<std::string> ids;
        for (auto& [created, seq, id] : taken) ids.push_back(std::move(id));
        return ids;
      });
}

Result<bool> PostgresMetadataStore::EndSearch(const std::string& sweep_id,
                                              const std::string& owner) {
  return Transact(Access::kWrite, "EndSearch", [&](PgConnection& connection) -> Result<bool> {
    TY_ASSIGN_OR_RETURN(
        PgResult rows,
        connection.Exec("UPDATE sweeps SET searching = 0, search_lease_expires_at_ms = NULL "
                        "WHERE id = $1 AND search_owner IN ('', $2) RETURNING id",
                        PgParams::Of(sweep_id, owner)));
    if (rows.Rows() > 0) return true;
    TY_ASSIGN_OR_RETURN(bool exists,
                        Exists(connection, "SELECT 1 FROM sweeps WHERE id = $1", sweep_id));
    if (!exists) return NotFound("sweep '" + sweep_id + "' not found");
    return false;
  });
}

}  // namespace trainyard::metadata
