// The body of the wrapper's progress callback (docs/progress-callback.md), decoded with
// contract's codec (contract/progress_body.h) into what the MetadataStore records.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "metadata/metadata_store.h"

namespace trainyard::server {

// DecodeProgressBody's errors: InvalidArgument("field 'metrics[2]': ...") for a field of the
// wrong shape. Unknown fields are ignored (the format only grows within v1); a timestamp that
// cannot be read is taken as now.
Result<metadata::ProgressUpdate> DecodeProgress(const nlohmann::json& body);
// Whether the body is the job's last report: it carries the exit (`"exit": {...}`).
bool IsLastReport(const nlohmann::json& body);

}  // namespace trainyard::server
