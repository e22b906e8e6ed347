// Unpacks the archives found at the top of each input channel, so the ML code sees the data and
// not the zip it travelled in (the seed's channels each hold one <uuid>.zip).
#pragma once

#include <map>
#include <string>

#include "archive/archive.h"
#include "common/status.h"
#include "contract/job_definition.h"
#include "contract/job_json.h"
#include "contract/ml_root.h"

namespace trainyard::wrapper {

// For every channel: each top-level .zip/.tar/.tar.gz/.tgz file is unpacked into the channel
// directory and then removed (it is replaced by its contents). Returns what each channel holds
// afterwards. An archive that is refused fails the whole call with a message naming
// "<channel>/<archive>" and the reason; nothing of that archive is left behind.
Result<std::map<std::string, contract::ChannelContents>> PrepareChannels(
    const contract::MlRoot& root, const std::vector<contract::ChannelConfig>& channels,
    bool unpack_archives, const archive::UnpackLimits& limits);

}  // namespace trainyard::wrapper
