// libcurl write and header callbacks that tests' HTTP clients share: the body appended to a
// std::string, each header line into a std::map with its name in lower case (the last of a
// repeated header wins). Header-only, so that a test needs nothing beyond libcurl itself.
#pragma once

#include <cctype>
#include <cstddef>
#include <map>
#include <string>

namespace trainyard::testing {

// CURLOPT_WRITEFUNCTION; CURLOPT_WRITEDATA is a std::string*.
inline size_t CurlAppendBody(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// CURLOPT_HEADERFUNCTION; CURLOPT_HEADERDATA is a std::map<std::string, std::string>*.
inline size_t CurlAppendHeader(char* data, size_t size, size_t count, void* target) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(target))[name] = value;
  }
  return size * count;
}

}  // namespace trainyard::testing
