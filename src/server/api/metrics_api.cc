// /metrics in Prometheus' text format (version 0.0.4).
#include <sstream>

#include "server/api/api_server.h"
#include "server/api/http_helpers.h"

namespace trainyard::server {

void ApiServer::CountRequest(const std::string& route, int status, double seconds,
                             uint64_t bytes_in, uint64_t bytes_out) {
  bytes_in_ += bytes_in;
  bytes_out_ += bytes_out;
  std::lock_guard lock(counters_mutex_);
  RouteCounters& counters = counters_[{route, status}];
  counters.requests += 1;
  counters.seconds += seconds;
}

void ApiServer::Metrics(ResponseWriter& response) {
  std::ostringstream text;
  std::map<std::string, int64_t> jobs;
  auto sweeps = metadata_.ListSweeps();
  if (!sweeps.ok()) return WriteError(response, sweeps.status());
  for (const auto& sweep : *sweeps) {
    auto counts = metadata_.CountJobsByStatus(sweep.id);
    if (!counts.ok()) return WriteError(response, counts.status());
    for (const auto& [status, count] : *counts) jobs[status] += count;
  }
  text << "# HELP trainyard_jobs Jobs by state (Queued, or their TrainingJobStatus).\n"
       << "# TYPE trainyard_jobs gauge\n";
  for (const char* status :
       {"Queued", "InProgress", "Stopping", "Completed", "Failed", "Stopped"}) {
    text << "trainyard_jobs{status=\"" << status << "\"} " << jobs[status] << "\n";
  }
  text << "# HELP trainyard_queue_length Jobs waiting for a slot.\n"
       << "# TYPE trainyard_queue_length gauge\n"
       << "trainyard_queue_length " << jobs["Queued"] << "\n";
  text << "# HELP trainyard_event_streams Open server-sent-event streams.\n"
       << "# TYPE trainyard_event_streams gauge\n"
       << "trainyard_event_streams " << events_.stream_count() << "\n"
       << "# HELP trainyard_events_conflated_total Progress and metrics events a slow client "
          "skipped for a newer one of the same job.\n"
       << "# TYPE trainyard_events_conflated_total counter\n"
       << "trainyard_events_conflated_total " << events_.events_conflated() << "\n"
       << "# HELP trainyard_event_streams_over_cap_total Event streams closed because the "
          "client did not read and its queue passed the cap.\n"
       << "# TYPE trainyard_event_streams_over_cap_total counter\n"
       << "trainyard_event_streams_over_cap_total " << events_.streams_over_cap() << "\n";
  text << "# HELP trainyard_http_bytes_received_total Request body bytes read.\n"
       << "# TYPE trainyard_http_bytes_received_total counter\n"
       << "trainyard_http_bytes_received_total " << bytes_in_.load() << "\n"
       << "# HELP trainyard_http_bytes_sent_total Response body bytes written.\n"
       << "# TYPE trainyard_http_bytes_sent_total counter\n"
       << "trainyard_http_bytes_sent_total " << bytes_out_.load() << "\n";
  {
    std::lock_guard lock(counters_mutex_);
    text << "# HELP trainyard_http_requests_total Requests answered, by route and status.\n"
         << "# TYPE trainyard_http_requests_total counter\n";
    for (const auto& [key, counters] : counters_) {
      text << "trainyard_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
           << "\"} " << counters.requests << "\n";
    }
    text << "# HELP trainyard_http_request_seconds Time spent answering, by route and status.\n"
         << "# TYPE trainyard_http_request_seconds summary\n";
    for (const auto& [key, counters] : counters_) {
      std::string labels =
          "{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"}";
      text << "trainyard_http_request_seconds_sum" << labels << " " << counters.seconds << "\n"
           << "trainyard_http_request_seconds_count" << labels << " " << counters.requests << "\n";
    }
  }
  std::string body = text.str();
  response.SetStatus(200);
  response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.WriteBody(body);
}

}  // namespace trainyard::server
