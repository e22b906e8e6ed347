// UTF-8 decoding for the places where SageMaker counts characters or Python prints them.
//
// SageMaker's length limits count Unicode code points (Smithy's length trait counts scalar
// values), not bytes, so "é" is one character toward the 2,500 of a hyperparameter value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace trainyard {

// The code point that starts at text[*pos], moving *pos past it. An invalid sequence
// (truncated, overlong, a surrogate, beyond U+10FFFF) gives nullopt and moves one byte.
std::optional<char32_t> NextCodePoint(std::string_view text, size_t* pos);

// The number of code points, or nullopt when the text is not valid UTF-8.
std::optional<size_t> CodePointCount(std::string_view text);

void AppendUtf8(char32_t code_point, std::string* out);

// The text with every invalid sequence replaced by U+FFFD. Text from a process (stderr, a
// failure file cut at 1,024 bytes) may not be UTF-8, and nlohmann::json throws when it dumps
// a string that is not.
std::string ToValidUtf8(std::string_view text);

// At most `max_code_points` of the text, cut at a code point boundary, with "..." added when
// anything was cut: long names stay readable in error messages.
std::string Abbreviate(std::string_view text, size_t max_code_points = 64);

}  // namespace trainyard
