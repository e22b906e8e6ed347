#include "core/python_json_loads.h"

#include <cmath>
#include <string>
#include <vector>

namespace trainyard::core {
namespace {

constexpr size_t kMaxDepth = 500;

// A SAX handler that builds the value and refuses (returns false, ending the parse) what
// LoadsLikePython must not accept. nlohmann's own DOM builder lives in its detail namespace,
// so this small one is ours.
template <typename Json>
class Builder {
 public:
  using string_t = typename Json::string_t;
  using binary_t = typename Json::binary_t;

  Json& result() { return root_; }

  bool null() { return Put(Json(nullptr)); }
  bool boolean(bool value) { return Put(Json(value)); }
  bool number_integer(typename Json::number_integer_t value) { return Put(Json(value)); }
  bool number_unsigned(typename Json::number_unsigned_t value) { return Put(Json(value)); }
  bool number_float(typename Json::number_float_t value, const string_t& text) {
    if (!std::isfinite(value)) return false;
    // nlohmann reads an integer that does not fit 64 bits as a float; its text has no '.'
    // and no exponent.
    if (text.find_first_of(".eE") == string_t::npos) return false;
    return Put(Json(value));
  }
  bool string(string_t& value) { return Put(Json(std::move(value))); }
  bool binary(binary_t&) { return false; }
  bool start_object(size_t) { return Open(Json::object()); }
  bool key(string_t& value) {
    key_ = std::move(value);
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(size_t) { return Open(Json::array()); }
  bool end_array() { return Close(); }
  template <typename Exception>
  bool parse_error(size_t, const std::string&, const Exception&) {
    return false;
  }

 private:
  bool Put(Json value) {
    Insert(std::move(value));
    return true;
  }
  Json* Insert(Json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    // A repeated key keeps its last value, as a Python dict does.
    Json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }
  // The parent is not touched while a child is open, so the pointers on the stack stay valid.
  bool Open(Json container) {
    if (open_.size() >= kMaxDepth) return false;
    open_.push_back(Insert(std::move(container)));
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  Json root_;
  std::vector<Json*> open_;
  string_t key_;
};

template <typename Json>
std::optional<Json> Loads(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) return std::nullopt;
  Builder<Json> builder;
  if (!Json::sax_parse(text, &builder)) return std::nullopt;
  return std::move(builder.result());
}

}  // namespace

std::optional<nlohmann::json> LoadsLikePython(std::string_view text) {
  return Loads<nlohmann::json>(text);
}

std::optional<nlohmann::ordered_json> LoadsLikePythonOrdered(std::string_view text) {
  return Loads<nlohmann::ordered_json>(text);
}

}  // namespace trainyard::core
