// The documents a webhook receives (docs/webhooks.md): the "json" format's payload, built once
// when the event is turned into a delivery and stored with it, and the "slack" format (a Slack
// incoming-webhook message with `text` and `blocks`) made from that payload at each try.
//
// Thread-safe: stateless.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "control/download_links.h"
#include "metadata/metadata_store.h"

namespace trainyard::notify {

struct LinkSettings {
  std::string base_url;  // "https://trainyard.example.com": where receivers reach the API
  const control::DownloadLinkSigner* signer = nullptr;  // null: no links
  std::chrono::seconds lifetime{7 * 24 * 3600};
};

// {"name", "sweep_id", "status", "failure_reason", "exit_code", "attempt", "hyperparameters",
// "metrics", "started_at", "ended_at", "links": {"model", "predictions", "log", "output",
// "expires_at"}}: links that download each artifact without the API token until expires_at.
nlohmann::json JobDocument(const metadata::JobRecord& job, const LinkSettings& links,
                           TimePoint now);

// {"id", "name", "objective": {"metric", "goal"} (when it has one), "job_count", "counts"}.
nlohmann::json SweepDocument(const metadata::SweepRecord& sweep,
                             const std::map<std::string, int64_t>& counts);

// The Slack incoming-webhook message for a payload: {"text": a one-line summary, "blocks": [a
// section with the summary, a section of fields (status, metrics, objective), a context block
// with the download links]}. `<`, `>` and `&` in names are escaped as Slack requires.
nlohmann::json SlackMessage(const nlohmann::json& payload);

}  // namespace trainyard::notify
