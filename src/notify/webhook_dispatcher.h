// WebhookDispatcher: turns the event log into webhook deliveries and delivers them.
//
// It follows the MetadataStore's event log by event id from a cursor kept in the store (never
// the scheduler), so it never slows a job, and a restart resumes where it stopped: the
// deliveries made from a batch of events and the cursor's move are one transaction. From each
// job's end ("job.status" with Completed, Failed or Stopped) it makes job.completed /
// job.failed / job.stopped, sweep.best_job (the job ranks strictly first by the sweep's
// objective among the sweep's completed jobs) and sweep.completed (no job of the sweep is queued
// or running, and no later job end of the sweep is in the log), for each webhook that wants it
// and existed when the event happened.
//
// A delivery is tried at once (up to max_parallel webhooks at a time, each one's deliveries in
// order); a failed try (no answer, an answer other than 2xx, a refused
// target) is retried after first_retry, doubling up to max_retry, until retry_window has passed
// since it was made (then it is failed). Tries are persisted, so a restart resumes them. A try
// cut short by a kill is made again (receivers tell repeats by X-Trainyard-Delivery).
//
// Replicas sharing one store each run a dispatcher: a batch of events becomes deliveries only
// where the cursor still holds the value this dispatcher read (AddDeliveries), and each due
// delivery is claimed by one dispatcher for the tries of its batch (ClaimDueDeliveries), so each
// event's delivery is made and sent by one replica.
//
// Thread-safety: Start/Stop from one thread; Wake from any. One dispatcher per store handle.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/download_links.h"
#include "metadata/metadata_store.h"
#include "notify/payload.h"
#include "notify/webhook_sender.h"

namespace trainyard::notify {

struct WebhookDispatcherOptions {
  WebhookSenderOptions sender;                     // allow_private, timeout
  std::chrono::milliseconds first_retry{30'000};   // the wait after the first failed try
  std::chrono::milliseconds max_retry{3'600'000};  // the longest wait between tries
  std::chrono::hours retry_window{24};             // no try after this long
  // Webhooks tried at once (each one's deliveries stay in order), so that a slow receiver
  // holds up its own deliveries only.
  size_t max_parallel = 4;
  LinkSettings links;  // download links in payloads
  // How often the event log is read when nothing wakes the dispatcher.
  std::chrono::milliseconds poll_interval{1'000};
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(WebhookDispatcherOptions options, metadata::MetadataStore& metadata);
  ~WebhookDispatcher();

  // Starts the thread.
  void Start();
  // Stops the thread after its current try; pending deliveries stay in the store.
  void Stop();
  // New events or a redelivery: look now rather than at the next poll.
  void Wake();

  // One step each (the thread runs them in turn; tests may call them directly). Failures are
  // the store's. TurnEventsIntoDeliveries reads at most one batch of events and says how many.
  Result<size_t> TurnEventsIntoDeliveries();
  Status DeliverDue();

  // The wait after `attempts` failed tries: first_retry * 2^(attempts-1), at most max_retry.
  std::chrono::milliseconds RetryDelay(int attempts) const;

 private:
  void Run();
  bool Stopping();
  Result<std::vector<metadata::DeliveryRecord>> DeliveriesFor(
      const metadata::Event& event, const std::vector<metadata::WebhookRecord>& webhooks);
  Result<bool> IsNewBest(const metadata::SweepRecord& sweep, const metadata::JobRecord& job,
                         nlohmann::json* objective);
  Result<bool> EndsSweep(const metadata::Event& event);
  void Attempt(metadata::DeliveryRecord delivery);

  WebhookDispatcherOptions options_;
  metadata::MetadataStore& metadata_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool woken_ = false;     // guarded by mutex_
  std::thread thread_;
};

}  // namespace trainyard::notify
