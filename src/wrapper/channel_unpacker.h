// Unpacks the archives found anywhere in each input channel, so the ML code sees the data and not
// the zip it travelled in: the seed's channels each hold one <uuid>.zip, which SageMaker places at
// <channel>/<uuid>/<uuid>.zip when the channel's S3Uri has no trailing slash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "common/status.h"
#include "contract/job_definition.h"
#include "contract/job_json.h"
#include "contract/ml_root.h"
#include "wrapper/options.h"

namespace trainyard::wrapper {

// For every channel that `kept` does not keep: each .zip/.tar/.tar.gz/.tgz regular file anywhere
// in the channel's tree is unpacked into the directory that holds it and then removed (it is
// replaced by its contents). The archives are found before any is unpacked, so what comes out of
// an archive is never unpacked in turn (an archive inside an archive stays as it is). Each archive
// gets the whole of `limits`, and with `volume_bytes` (the job's VolumeSizeInGB in bytes; 0: not
// set) at most what the volume has left: its size less every file already under the ML root, as
// SageMaker's volume holds the input data, the model and the checkpoints. Returns what each channel
// holds afterwards, unpacked archives as paths relative to the channel directory. An archive that
// is refused fails the whole call with a message naming "<channel>/<path>" and the reason; nothing
// of that archive is left behind, and the archives unpacked before it stay unpacked.
Result<std::map<std::string, contract::ChannelContents>> PrepareChannels(
    const contract::MlRoot& root, const std::vector<contract::ChannelConfig>& channels,
    const KeptArchives& kept, const archive::UnpackLimits& limits, uint64_t volume_bytes = 0);

// The names in `kept` that are not channels of the job (a misspelt TRAINYARD_KEEP_ARCHIVES keeps
// nothing, which the wrapper says in the log).
std::vector<std::string> KeptChannelsNotInJob(const KeptArchives& kept,
                                              const std::vector<contract::ChannelConfig>& channels);

}  // namespace trainyard::wrapper
