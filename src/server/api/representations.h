// The API's JSON for each record (docs/api.md, docs/openapi.json).
#pragma once

#include <nlohmann/json.hpp>

#include "metadata/metadata_store.h"

namespace trainyard::server {

nlohmann::json DatasetJson(const metadata::DatasetRecord& dataset);
nlohmann::json JobJson(const metadata::JobRecord& job);
// Without counts; GetSweep adds them.
nlohmann::json SweepJson(const metadata::SweepRecord& sweep);
nlohmann::json MetricPointJson(const metadata::MetricPoint& point);

}  // namespace trainyard::server
