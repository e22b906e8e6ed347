// libcurl, loaded when the first progress report is about to be sent rather than linked.
//
// trainyard-wrap starts with every job, and linking libcurl (with its TLS, Kerberos, LDAP and
// IDN dependencies) cost ~12 ms and ~4 MB at every start, even for jobs that report to no
// server. Loading it on demand also keeps the wrapper running in images without libcurl: such a
// job runs, it just cannot report progress (the wrapper says so).
#pragma once

#include <curl/curl.h>

#include <string>

namespace trainyard::wrapper {

struct CurlLibrary {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  void (*easy_cleanup)(CURL* handle);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
  const char* (*easy_strerror)(CURLcode code);
};

// The process-wide library, loaded and initialised on the first call (thread-safe); nullptr
// with `error` set when libcurl.so.4 cannot be loaded.
const CurlLibrary* LoadCurlLibrary(std::string* error);

}  // namespace trainyard::wrapper
