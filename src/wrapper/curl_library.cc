#include "wrapper/curl_library.h"

#include <dlfcn.h>

#include <mutex>

namespace trainyard::wrapper {

namespace {

template <typename Function>
bool Resolve(void* handle, const char* name, Function* function) {
  *function = reinterpret_cast<Function>(::dlsym(handle, name));
  return *function != nullptr;
}

}  // namespace

const CurlLibrary* LoadCurlLibrary(std::string* error) {
  static std::once_flag once;
  static CurlLibrary library;
  static const CurlLibrary* loaded = nullptr;
  static std::string load_error;
  std::call_once(once, [] {
    void* handle = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* reason = ::dlerror();
      load_error = std::string("cannot load libcurl.so.4: ") + (reason ? reason : "unknown error");
      return;
    }
    bool complete = Resolve(handle, "curl_global_init", &library.global_init) &&
                    Resolve(handle, "curl_easy_init", &library.easy_init) &&
                    Resolve(handle, "curl_easy_setopt", &library.easy_setopt) &&
                    Resolve(handle, "curl_easy_perform", &library.easy_perform) &&
                    Resolve(handle, "curl_easy_getinfo", &library.easy_getinfo) &&
                    Resolve(handle, "curl_easy_cleanup", &library.easy_cleanup) &&
                    Resolve(handle, "curl_slist_append", &library.slist_append) &&
                    Resolve(handle, "curl_slist_free_all", &library.slist_free_all) &&
                    Resolve(handle, "curl_easy_strerror", &library.easy_strerror);
    if (!complete) {
      load_error = "libcurl.so.4 lacks a function trainyard-wrap needs";
      return;
    }
    library.global_init(CURL_GLOBAL_DEFAULT);
    loaded = &library;
  });
  if (!loaded && error) *error = load_error;
  return loaded;
}

}  // namespace trainyard::wrapper
