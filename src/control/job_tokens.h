// Per-job callback tokens: a job's wrapper proves who it is with a random bearer token; the
// server keeps only its SHA-256, so a leaked database cannot be used to post as a job.
#pragma once

#include <cstddef>
#include <string>

namespace trainyard::control {

// `digits` random hex digits (an even number) from the kernel's generator: ids and tokens.
std::string RandomHex(size_t digits);
// 32 random bytes, as 64 hex digits.
std::string NewJobToken();
std::string TokenSha256(const std::string& token);
// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace trainyard::control
