// How AWS's messages quote values and bounds: as Java's toString writes them. A map comes out
// in java.util.HashMap's iteration order, which we reproduce (String.hashCode over UTF-16,
// the hash spread, a power-of-two table grown at 3/4): the eight hyperparameters of a real
// SageMaker message (aws/sagemaker-xgboost-container#120) are listed in exactly that order.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

#include "aws/service_model_internal.h"
#include "common/utf8.h"

namespace trainyard::aws::model_internal {
namespace {

using nlohmann::json;

// Java's String.hashCode over UTF-16 code units.
uint32_t JavaStringHash(std::string_view text) {
  uint32_t hash = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const auto code_point = NextCodePoint(text, &pos);
    const uint32_t value = code_point ? *code_point : static_cast<unsigned char>(text[start]);
    if (value > 0xFFFF) {
      hash = hash * 31 + (0xD800 + ((value - 0x10000) >> 10));
      hash = hash * 31 + (0xDC00 + ((value - 0x10000) & 0x3FF));
    } else {
      hash = hash * 31 + value;
    }
  }
  return hash;
}

std::string CompactJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// The entries of a JSON object in the order a java.util.HashMap filled with them iterates:
// by bucket (spread hash masked by the table size, 16 doubled while more than 3/4 full), then
// by insertion. (Buckets of 8 or more colliding keys become trees in Java: not reproduced.)
std::vector<json::const_iterator> JavaHashMapOrder(const json& object) {
  uint32_t capacity = 16;
  while (object.size() > capacity / 4 * 3) capacity *= 2;
  std::vector<std::pair<uint32_t, json::const_iterator>> buckets;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const uint32_t hash = JavaStringHash(it.key());
    buckets.emplace_back((hash ^ (hash >> 16)) & (capacity - 1), it);
  }
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json::const_iterator> entries;
  for (const auto& [bucket, it] : buckets) entries.push_back(it);
  return entries;
}

// How Coral quotes a structure is unknown (no real message shows one): compact JSON here.
std::string RenderValue(const ModelData& model, const json& value, int shape_index) {
  const Shape* shape = shape_index >= 0 ? &model.shapes[shape_index] : nullptr;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    const int member = shape && shape->type == ShapeType::kList ? shape->list_member : -1;
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out += ", ";
      out += RenderValue(model, value[i], member);
    }
    return out + "]";
  }
  if (value.is_object() && shape && shape->type == ShapeType::kMap) {
    std::string out = "{";
    for (const auto& entry : JavaHashMapOrder(value)) {
      if (out.size() > 1) out += ", ";
      out += entry.key() + "=" + RenderValue(model, entry.value(), shape->map_value);
    }
    return out + "}";
  }
  return CompactJson(value);
}

// Java's Double.toString writes whole numbers below 10^7 as "1.0" (Lambda's
// "Member must have value less than or equal to 1.0").
std::string FormatBound(const Bound& bound, bool as_double) {
  if (!as_double && bound.integral) return std::to_string(static_cast<int64_t>(bound.value));
  if (bound.integral && std::fabs(bound.value) < 1e7) {
    return std::to_string(static_cast<int64_t>(bound.value)) + ".0";
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), bound.value);
  return std::string(buffer, result.ptr);
}

}  // namespace trainyard::aws::model_internal
