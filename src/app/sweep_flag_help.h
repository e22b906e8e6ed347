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
    "--param). Commas inside [...], {...} or \"...\" do not split: layers=[64,32],[128]. "
    "A search (`sweep create --strategy`) also takes ranges: lr=log:1e-5..1e-1, "
    "dropout=lin:0..0.5, momentum=rlog:0.9..0.999, layers=int:1..8, batch=int-log:16..512; "
    "there a list of values is a categorical range";
inline constexpr char kStrategyFlagHelp[] =
    "How the jobs are chosen: grid (every combination of the --param lists, the default), "
    "random, bayesian (TPE) or hyperband (ASHA); all but grid need --max-jobs "
    "(docs/search.md)";
inline constexpr char kObjectiveFlagHelp[] =
    "Rank jobs by METRIC:min or METRIC:max; a bare METRIC means min for a loss or an error "
    "(eval_loss) and is refused otherwise";

}  // namespace trainyard::app
