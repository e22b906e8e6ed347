// BufferedProgressStore: the methods that are the store's own, passed on as they are.
#include "metadata/buffered_progress_store.h"

namespace trainyard::metadata {

Status BufferedProgressStore::CreateDataset(const DatasetRecord& dataset) {
  return store_->CreateDataset(dataset);
}

Result<DatasetRecord> BufferedProgressStore::GetDataset(const std::string& id) {
  return store_->GetDataset(id);
}

Result<std::vector<DatasetRecord>> BufferedProgressStore::ListDatasets() {
  return store_->ListDatasets();
}

Status BufferedProgressStore::DeleteDataset(const std::string& id) {
  return store_->DeleteDataset(id);
}

Result<SweepRecord> BufferedProgressStore::CreateSweep(const SweepRecord& sweep,
                                                       const std::vector<std::string>& dataset_ids,
                                                       const std::vector<JobRecord>& jobs) {
  return store_->CreateSweep(sweep, dataset_ids, jobs);
}

Status BufferedProgressStore::AddJobs(const std::string& sweep_id,
                                      const std::vector<JobRecord>& jobs, int64_t expected_jobs) {
  return store_->AddJobs(sweep_id, jobs, expected_jobs);
}

Result<SweepRecord> BufferedProgressStore::GetSweep(const std::string& id) {
  return store_->GetSweep(id);
}

Result<std::vector<SweepRecord>> BufferedProgressStore::ListSweeps() {
  return store_->ListSweeps();
}

Status BufferedProgressStore::SetSweepStopRequested(const std::string& id, bool stop_requested) {
  return store_->SetSweepStopRequested(id, stop_requested);
}

Result<bool> BufferedProgressStore::ClaimSearch(const std::string& sweep_id,
                                                const std::string& owner, TimePoint now,
                                                TimePoint expires_at) {
  return store_->ClaimSearch(sweep_id, owner, now, expires_at);
}

Result<std::vector<std::string>> BufferedProgressStore::RenewSearchLeases(const std::string& owner,
                                                                          TimePoint expires_at) {
  return store_->RenewSearchLeases(owner, expires_at);
}

Result<std::vector<std::string>> BufferedProgressStore::TakeOverSearches(const std::string& owner,
                                                                         TimePoint now,
                                                                         TimePoint expires_at,
                                                                         size_t limit) {
  return store_->TakeOverSearches(owner, now, expires_at, limit);
}

Result<bool> BufferedProgressStore::EndSearch(const std::string& sweep_id,
                                              const std::string& owner) {
  return store_->EndSearch(sweep_id, owner);
}

Result<std::map<std::string, int64_t>> BufferedProgressStore::CountJobsByStatus(
    const std::string& sweep_id) {
  return store_->CountJobsByStatus(sweep_id);
}

Result<std::vector<std::string>> BufferedProgressStore::RenewLeases(const std::string& owner,
                                                                    TimePoint expires_at) {
  return store_->RenewLeases(owner, expires_at);
}

Result<std::vector<JobRecord>> BufferedProgressStore::TakeOverJobs(const std::string& owner,
                                                                   TimePoint now,
                                                                   TimePoint expires_at,
                                                                   size_t limit) {
  return store_->TakeOverJobs(owner, now, expires_at, limit);
}

Result<bool> BufferedProgressStore::RecordLaunch(const std::string& job_name,
                                                 const std::string& owner, int attempt) {
  return store_->RecordLaunch(job_name, owner, attempt);
}

Result<std::vector<Event>> BufferedProgressStore::ListEvents(int64_t after_id,
                                                             const EventFilter& filter,
                                                             size_t limit) {
  return store_->ListEvents(after_id, filter, limit);
}

Result<int64_t> BufferedProgressStore::LastEventId() {
  return store_->LastEventId();
}

Status BufferedProgressStore::CreateWebhook(const WebhookRecord& webhook) {
  return store_->CreateWebhook(webhook);
}

Result<WebhookRecord> BufferedProgressStore::GetWebhook(const std::string& id) {
  return store_->GetWebhook(id);
}

Result<std::vector<WebhookRecord>> BufferedProgressStore::ListWebhooks() {
  return store_->ListWebhooks();
}

Status BufferedProgressStore::DeleteWebhook(const std::string& id) {
  return store_->DeleteWebhook(id);
}

Result<int64_t> BufferedProgressStore::WebhookCursor() {
  return store_->WebhookCursor();
}

Status BufferedProgressStore::AddDeliveries(const std::vector<DeliveryRecord>& deliveries,
                                            int64_t from_cursor, int64_t cursor) {
  return store_->AddDeliveries(deliveries, from_cursor, cursor);
}

Result<DeliveryRecord> BufferedProgressStore::GetDelivery(const std::string& id) {
  return store_->GetDelivery(id);
}

Status BufferedProgressStore::UpdateDelivery(const DeliveryRecord& delivery) {
  return store_->UpdateDelivery(delivery);
}

Result<std::vector<DeliveryRecord>> BufferedProgressStore::ListDeliveries(
    const std::string& webhook_id, size_t limit) {
  return store_->ListDeliveries(webhook_id, limit);
}

Result<std::vector<DeliveryRecord>> BufferedProgressStore::ClaimDueDeliveries(
    TimePoint now, size_t limit, TimePoint claim_until) {
  return store_->ClaimDueDeliveries(now, limit, claim_until);
}

Result<std::optional<TimePoint>> BufferedProgressStore::NextDeliveryTime() {
  return store_->NextDeliveryTime();
}

}  // namespace trainyard::metadata
