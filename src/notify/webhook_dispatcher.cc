#include "notify/webhook_dispatcher.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>

#include "common/log.h"
#include "control/job_tokens.h"

namespace trainyard::notify {
namespace {

using metadata::DeliveryRecord;
using metadata::Event;
using metadata::JobRecord;
using metadata::WebhookRecord;
using nlohmann::json;

constexpr size_t kEventBatch = 500;
constexpr size_t kDueBatch = 50;
// A batch is claimed for this many sender timeouts; a try starts only while two of them are
// left (its own, and a margin to record its outcome), and what is left untried then is given
// back for the next round. So the deliveries of a dispatcher that dies are tried by another
// one after at most this many timeouts, whatever the batch's size.
constexpr int64_t kClaimTimeouts = 6;

// The webhook event of a job's end, or "" for any other event.
std::string JobEndType(const Event& event) {
  if (event.type != "job.status" || !event.data.is_object()) return "";
  if (event.data.value("queued", false)) return "";
  const std::string status = event.data.value("status", "");
  if (status == "Completed") return "job.completed";
  if (status == "Failed") return "job.failed";
  if (status == "Stopped") return "job.stopped";
  return "";
}

bool Wants(const WebhookRecord& webhook, const std::string& type) {
  return std::find(webhook.events.begin(), webhook.events.end(), type) != webhook.events.end();
}

int64_t UnixSeconds(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

}  // namespace

WebhookDispatcher::WebhookDispatcher(WebhookDispatcherOptions options,
                                     metadata::MetadataStore& metadata)
    : options_(std::move(options)), metadata_(metadata) {}

WebhookDispatcher::~WebhookDispatcher() {
  Stop();
}

void WebhookDispatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void WebhookDispatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

std::chrono::milliseconds WebhookDispatcher::RetryDelay(int attempts) const {
  std::chrono::milliseconds delay = options_.first_retry;
  for (int i = 1; i < attempts && delay < options_.max_retry; ++i) delay *= 2;
  return std::min(delay, options_.max_retry);
}

void WebhookDispatcher::Run() {
  while (true) {
    Result<size_t> read = TurnEventsIntoDeliveries();
    WarnIfFailed("notify", read.status(),
                 "webhook events could not be turned into deliveries (tried again shortly)");
    WarnIfFailed("notify", DeliverDue(),
                 "webhook deliveries could not be read (tried again shortly)");
    TimePoint now = options_.clock();
    std::chrono::milliseconds wait = options_.poll_interval;
    auto next = metadata_.NextDeliveryTime();
    WarnIfFailed("notify", next.status(), "the next webhook try could not be read (polling)");
    if (next.ok() && next->has_value()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(**next - now);
      wait = std::clamp(until, std::chrono::milliseconds(0), wait);
    }
    // A full batch means more events wait (a long log at the first start): no pause.
    if (read.ok() && *read == kEventBatch) wait = std::chrono::milliseconds(0);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

Result<size_t> WebhookDispatcher::TurnEventsIntoDeliveries() {
  TY_ASSIGN_OR_RETURN(int64_t cursor, metadata_.WebhookCursor());
  TY_ASSIGN_OR_RETURN(std::vector<Event> events, metadata_.ListEvents(cursor, {}, kEventBatch));
  if (events.empty()) return size_t{0};
  TY_ASSIGN_OR_RETURN(std::vector<WebhookRecord> webhooks, metadata_.ListWebhooks());
  std::vector<DeliveryRecord> deliveries;
  for (const Event& event : events) {
    if (webhooks.empty() || JobEndType(event).empty()) continue;
    TY_ASSIGN_OR_RETURN(std::vector<DeliveryRecord> made, DeliveriesFor(event, webhooks));
    for (DeliveryRecord& delivery : made) deliveries.push_back(std::move(delivery));
  }
  Status added = metadata_.AddDeliveries(deliveries, cursor, events.back().id);
  if (added.code() == StatusCode::kFailedPrecondition) {
    // Another replica sharing the store turned these events first: its deliveries stand, and
    // the next pass reads on from where it stopped.
    Logger("notify").info("webhook events after id={} were turned by another dispatcher: {}",
                          cursor, added.message());
    return size_t{0};
  }
  TY_RETURN_IF_ERROR(added);
  if (!deliveries.empty()) {
    Logger("notify").info("webhook deliveries={} made from events up to id={}", deliveries.size(),
                          events.back().id);
  }
  return events.size();
}

Result<std::vector<DeliveryRecord>> WebhookDispatcher::DeliveriesFor(
    const Event& event, const std::vector<WebhookRecord>& webhooks) {
  const std::string end_type = JobEndType(event);
  std::vector<const WebhookRecord*> listening;
  bool wants_best = false, wants_sweep_end = false;
  for (const WebhookRecord& webhook : webhooks) {
    // A webhook hears only what happened after it was made.
    if (event.time < webhook.created_at) continue;
    listening.push_back(&webhook);
    wants_best = wants_best || Wants(webhook, "sweep.best_job");
    wants_sweep_end = wants_sweep_end || Wants(webhook, "sweep.completed");
  }
  std::vector<DeliveryRecord> deliveries;
  if (listening.empty()) return deliveries;

  auto job = metadata_.GetJob(event.job_name);
  if (!job.ok()) {
    // A job that is gone has nothing to report; the rest of the log goes on.
    Logger("notify").warn("event={} job={} skipped for webhooks: {}", event.id, event.job_name,
                          job.status().message());
    return deliveries;
  }
  TY_ASSIGN_OR_RETURN(metadata::SweepRecord sweep, metadata_.GetSweep(job->sweep_id));
  TY_ASSIGN_OR_RETURN(auto counts, metadata_.CountJobsByStatus(sweep.id));
  const TimePoint now = options_.clock();
  const json job_document = JobDocument(*job, options_.links, now);
  const json sweep_document = SweepDocument(sweep, counts);

  std::vector<std::pair<std::string, json>> happened;  // type, payload (without its id)
  happened.push_back({end_type, {{"job", job_document}, {"sweep", sweep_document}}});
  if (wants_best && end_type == "job.completed") {
    json objective;
    TY_ASSIGN_OR_RETURN(bool best, IsNewBest(sweep, *job, &objective));
    if (best) {
      happened.push_back(
          {"sweep.best_job",
           {{"job", job_document}, {"sweep", sweep_document}, {"objective", objective}}});
    }
  }
  if (wants_sweep_end) {
    TY_ASSIGN_OR_RETURN(bool ends, EndsSweep(event));
    if (ends)
      happened.push_back(
          {"sweep.completed", {{"sweep", sweep_document}, {"last_job", job_document}}});
  }
  for (const auto& [type, body] : happened) {
    for (const WebhookRecord* webhook : listening) {
      if (!Wants(*webhook, type)) continue;
      DeliveryRecord delivery;
      delivery.id = "dl-" + control::RandomHex(16);
      delivery.webhook_id = webhook->id;
      delivery.event_type = type;
      delivery.event_id = event.id;
      delivery.sweep_id = sweep.id;
      delivery.job_name = type == "sweep.completed" ? "" : job->name;
      delivery.payload = body;
      delivery.payload["id"] = delivery.id;
      delivery.payload["type"] = type;
      delivery.payload["time"] = FormatIso8601(event.time);
      delivery.payload["event_id"] = event.id;
      delivery.next_attempt_at = now;
      delivery.retry_until = now + options_.retry_window;
      delivery.created_at = now;
      deliveries.push_back(std::move(delivery));
    }
  }
  return deliveries;
}

Result<bool> WebhookDispatcher::IsNewBest(const metadata::SweepRecord& sweep, const JobRecord& job,
                                          json* objective) {
  if (!sweep.spec.contains("objective") || !sweep.spec["objective"].is_object()) return false;
  const std::string metric = sweep.spec["objective"].value("metric", "");
  const bool maximize = sweep.spec["objective"].value("goal", "max") == "max";
  auto mine = job.metrics.find(metric);
  if (metric.empty() || mine == job.metrics.end() || !std::isfinite(mine->second)) return false;
  // Strictly better than every other completed job: ties keep the earlier best, and a later
  // event never announces a job worse than one already announced.
  metadata::JobFilter filter;
  filter.sweep_id = sweep.id;
  filter.status = "Completed";
  filter.limit = 1000;
  while (true) {
    TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata_.ListJobs(filter));
    for (const JobRecord& other : page.jobs) {
      if (other.name == job.name) continue;
      auto value = other.metrics.find(metric);
      if (value == other.metrics.end() || !std::isfinite(value->second)) continue;
      if (maximize ? value->second >= mine->second : value->second <= mine->second) return false;
    }
    if (!page.truncated || page.jobs.empty()) break;
    filter.after_queue_position = page.jobs.back().queue_position;
  }
  *objective = {{"metric", metric}, {"goal", maximize ? "max" : "min"}, {"value", mine->second}};
  return true;
}

Result<bool> WebhookDispatcher::EndsSweep(const Event& event) {
  TY_ASSIGN_OR_RETURN(auto counts, metadata_.CountJobsByStatus(event.sweep_id));
  for (const char* running : {"Queued", "InProgress", "Stopping"}) {
    if (counts.contains(running)) return false;
  }
  // Only the last job end of the sweep in the log announces it, so that a dispatcher that
  // catches up with several ends announces the sweep's end once.
  int64_t after = event.id;
  while (true) {
    TY_ASSIGN_OR_RETURN(std::vector<Event> later,
                        metadata_.ListEvents(after, {.sweep_id = event.sweep_id}, 1000));
    for (const Event& next : later) {
      if (!JobEndType(next).empty()) return false;
    }
    if (later.size() < 1000) return true;
    after = later.back().id;
  }
}

bool WebhookDispatcher::Stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

Status WebhookDispatcher::DeliverDue() {
  // Bounded, so that a store that cannot record outcomes (the same deliveries due again and
  // again) does not keep the thread from reading new events.
  for (int round = 0; round < 20; ++round) {
    if (Stopping()) return Status::Ok();
    // A dispatcher that dies meanwhile leaves them to be tried by another one when the claim
    // runs out.
    const TimePoint now = options_.clock();
    const auto timeout = std::max(options_.sender.timeout, std::chrono::milliseconds(1'000));
    const TimePoint claim_end = now + timeout * kClaimTimeouts;
    TY_ASSIGN_OR_RETURN(std::vector<DeliveryRecord> due,
                        metadata_.ClaimDueDeliveries(now, kDueBatch, claim_end));
    // One lane per webhook, in order within it; up to max_parallel lanes at once, so that a
    // slow receiver holds up its own deliveries only.
    std::vector<std::vector<DeliveryRecord>> lanes;
    std::map<std::string, size_t> lane_of;
    for (DeliveryRecord& delivery : due) {
      auto [lane, added] = lane_of.try_emplace(delivery.webhook_id, lanes.size());
      if (added) lanes.emplace_back();
      lanes[lane->second].push_back(std::move(delivery));
    }
    std::atomic<size_t> next_lane{0};
    std::atomic<bool> ran_out{false};  // a delivery was given back untried: claim again
    auto work = [&] {
      for (size_t lane = next_lane++; lane < lanes.size(); lane = next_lane++) {
        for (DeliveryRecord& delivery : lanes[lane]) {
          const bool stopping = Stopping();
          if (stopping || options_.clock() + 2 * timeout > claim_end) {
            if (!stopping) ran_out = true;
            // Given back as it was before the claim, so the next round (or start, or another
            // replica) tries it when it was due rather than when the claim runs out.
            WarnIfFailed("notify", metadata_.UpdateDelivery(delivery),
                         "webhook={} delivery={} claim could not be given back (tried when it "
                         "runs out)",
                         delivery.webhook_id, delivery.id);
            continue;
          }
          Attempt(std::move(delivery));
        }
      }
    };
    size_t helpers = std::min(lanes.size(), std::max<size_t>(options_.max_parallel, 1)) - 1;
    std::vector<std::thread> pool;
    for (size_t i = 0; i < helpers && lanes.size() > 1; ++i) pool.emplace_back(work);
    work();
    for (std::thread& thread : pool) thread.join();
    if (due.size() < kDueBatch && !ran_out) return Status::Ok();
  }
  return Status::Ok();
}

void WebhookDispatcher::Attempt(DeliveryRecord delivery) {
  auto webhook = metadata_.GetWebhook(delivery.webhook_id);
  if (!webhook.ok()) {
    // Deleted meanwhile (its deliveries go with it) or the store failed: tried again when the
    // claim runs out.
    WarnIfFailed("notify", webhook.status(), "webhook={} delivery={} not tried",
                 delivery.webhook_id, delivery.id);
    return;
  }
  const TimePoint now = options_.clock();
  WebhookPost post;
  post.url = webhook->url;
  post.body =
      webhook->format == "slack" ? SlackMessage(delivery.payload).dump() : delivery.payload.dump();
  post.event_type = delivery.event_type;
  post.delivery_id = delivery.id;
  post.secret = webhook->secret;
  post.timestamp = std::to_string(UnixSeconds(now));
  SendOutcome outcome = SendWebhook(post, options_.sender);

  delivery.attempts += 1;
  delivery.response_code = outcome.response_code;
  delivery.latency_ms = outcome.latency_ms;
  delivery.last_error = outcome.error;
  if (outcome.ok()) {
    delivery.status = "succeeded";
    delivery.next_attempt_at.reset();
  } else {
    TimePoint next = options_.clock() + RetryDelay(delivery.attempts);
    if (next > delivery.retry_until) {
      delivery.status = "failed";
      delivery.next_attempt_at.reset();
    } else {
      delivery.next_attempt_at = next;
    }
  }
  // The URL is not logged: it may hold a secret (Slack's do, in the path).
  if (outcome.ok()) {
    Logger("notify").info("webhook={} delivery={} event={} delivered status={} latency_ms={}",
                          webhook->id, delivery.id, delivery.event_type, *outcome.response_code,
                          outcome.latency_ms);
  } else {
    Logger("notify").warn(
        "webhook={} delivery={} event={} try {} failed: {}; {}", webhook->id, delivery.id,
        delivery.event_type, delivery.attempts, outcome.error,
        delivery.status == "failed" ? "giving up (retry window passed)" : "tried again later");
  }
  WarnIfFailed("notify", metadata_.UpdateDelivery(delivery),
               "webhook={} delivery={} outcome could not be recorded (it is tried again)",
               webhook->id, delivery.id);
}

}  // namespace trainyard::notify
