// The service models as read-only data in this object file. A top-level asm block .incbin's
// each file between two symbols, so the 1.5 MB SageMaker model costs no compile time and no
// generated source; the paths come from CMake as compile definitions, and the source's
// OBJECT_DEPENDS rebuilds this file when a model changes (the compiler's dependency scan does
// not see .incbin).
#include "aws/service_model_data.h"

#if !defined(TRAINYARD_SAGEMAKER_MODEL_JSON) || !defined(TRAINYARD_LOGS_MODEL_JSON)
#error "CMake passes TRAINYARD_SAGEMAKER_MODEL_JSON and TRAINYARD_LOGS_MODEL_JSON (paths)"
#endif
#if !defined(__ELF__)
#error "the .incbin block below is written for ELF targets"
#endif

// One model between <name>_start and <name>_end, with a NUL after it (not part of the view).
// clang-format off
#define TRAINYARD_EMBED(name, path)        \
  ".pushsection .rodata\n"                 \
  ".balign 16\n"                           \
  ".globl " name "_start\n"                \
  ".hidden " name "_start\n"               \
  name "_start:\n"                         \
  ".incbin \"" path "\"\n"                 \
  ".globl " name "_end\n"                  \
  ".hidden " name "_end\n"                 \
  name "_end:\n"                           \
  ".byte 0\n"                              \
  ".popsection\n"
// clang-format on

__asm__(TRAINYARD_EMBED("trainyard_sagemaker_model", TRAINYARD_SAGEMAKER_MODEL_JSON)
            TRAINYARD_EMBED("trainyard_logs_model", TRAINYARD_LOGS_MODEL_JSON));

// Hidden, so the references are PC-relative and nothing outside the library sees them.
#define TRAINYARD_HIDDEN __attribute__((visibility("hidden")))
extern "C" {
extern const char trainyard_sagemaker_model_start[] TRAINYARD_HIDDEN;
extern const char trainyard_sagemaker_model_end[] TRAINYARD_HIDDEN;
extern const char trainyard_logs_model_start[] TRAINYARD_HIDDEN;
extern const char trainyard_logs_model_end[] TRAINYARD_HIDDEN;
}

namespace trainyard::aws {

std::string_view EmbeddedSageMakerModelJson() {
  return std::string_view(trainyard_sagemaker_model_start,
                          trainyard_sagemaker_model_end - trainyard_sagemaker_model_start);
}

std::string_view EmbeddedLogsModelJson() {
  return std::string_view(trainyard_logs_model_start,
                          trainyard_logs_model_end - trainyard_logs_model_start);
}

}  // namespace trainyard::aws
