// The botocore service models built into trainyard_aws (service_model_data.cc embeds Debian's
// python3-botocore files with the assembler's .incbin; CMake finds them under
// TRAINYARD_BOTOCORE_DATA_DIR). Internal to the aws module: users go through SageMakerModel()
// and LogsModel() in service_model.h.
#pragma once

#include <string_view>

namespace trainyard::aws {

// botocore/data/sagemaker/2017-07-24/service-2.json, byte for byte.
std::string_view EmbeddedSageMakerModelJson();
// botocore/data/logs/2014-03-28/service-2.json, byte for byte.
std::string_view EmbeddedLogsModelJson();

}  // namespace trainyard::aws
