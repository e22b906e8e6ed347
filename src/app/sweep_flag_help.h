// The --help words of the flags that `trainyard run` and `trainyard sweep create` share: both
// read them with the same core parsers (core::ParseSweepFlags, core::ParseObjective), so they
// are described once.
#pragma once

namespace trainyard::app {

inline constexpr char kHyperparameterFlagHelp[] =
    "A fixed hyperparameter: KEY=VALUE (repeatable). The job reads a value as JSON when it "
    "parses (0.1, true, [64,32]), else as text";
inline constexpr char kParamFlagHelp[] =
    "A swept hyperparameter: NAME=V1,V2,... (repeatable; the jobs are the product of all "
    "--param). Commas inside [...], {...} or \"...\" do not split: layers=[64,32],[128]";
inline constexpr char kObjectiveFlagHelp[] =
    "Rank jobs by METRIC:min or METRIC:max; a bare METRIC means min for a loss or an error "
    "(eval_loss) and is refused otherwise";

}  // namespace trainyard::app
