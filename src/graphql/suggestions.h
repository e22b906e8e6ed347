// "Did you mean ...?" for validation messages, as graphql-js words them: the options within a
// lexical distance of 40% of the input's length (an optimal string alignment distance over
// lower case; a change of case alone counts 1), nearest first, then by name.
//
// Thread-safe (no state).
#pragma once

#include <string>
#include <vector>

namespace trainyard::graphql {

std::vector<std::string> SuggestionList(const std::string& input,
                                        const std::vector<std::string>& options);
// "" for no suggestion; ` Did you mean "a"?`, ` Did you mean "a" or "b"?`, ` Did you mean "a",
// "b", or "c"?` (at most 5), with `what` after "mean" when given ("the enum value").
std::string DidYouMean(const std::vector<std::string>& suggestions, const std::string& what = "");

}  // namespace trainyard::graphql
