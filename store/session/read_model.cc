// The read-model collection and the `info` model (api/include/hearth/read_model.h).
#include "hearth/read_model.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <utility>

namespace hearth {
namespace {

bool ValidModelName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Hex(const Hash& hash) {
  std::string out;
  out.reserve(hash.size() * 2);
  char buf[3];
  for (uint8_t b : hash) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

nlohmann::json ScopesJson(const Scopes& s) {
  return {{"append_types", s.append_types},   {"read_streams", s.read_streams},
          {"read_districts", s.read_districts}, {"read_models", s.read_models},
          {"read_personal", s.read_personal}, {"read_log", s.read_log},
          {"controller", s.controller}};
}

class InfoModel final : public ReadModel {
 public:
  std::string name() const override { return "info"; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    if (!params_json.empty()) {
      auto params = nlohmann::json::parse(params_json, nullptr, /*allow_exceptions=*/false);
      if (params.is_discarded() || !params.is_object()) {
        return Status::InvalidArgument("info: params must be a JSON object");
      }
    }
    auto info = reader.Info();
    if (!info.ok()) return info.status();
    const Principal& p = reader.principal();
    nlohmann::json out = {
        {"format_version", info->format_version},
        {"encrypted", info->encrypted},
        {"last_position", info->last_position},
        {"streams", info->streams},
        {"subjects", info->subjects},
        {"erased_subjects", info->erased_subjects},
        {"disk_bytes", info->disk_bytes},
        {"tree", {{"size", info->tree.size}, {"root", Hex(info->tree.root)}}},
        {"principal", {{"plugin", p.plugin}, {"user", p.user}, {"role", p.role}}},
        {"scopes", ScopesJson(reader.scopes())},
    };
    return out.dump();
  }
};

}  // namespace

Status ReadModels::Add(std::unique_ptr<ReadModel> model) {
  if (!model) return Status::InvalidArgument("read model is null");
  std::string name = model->name();
  if (!ValidModelName(name)) {
    return Status::InvalidArgument("read model name '" + name + "' is not 1 to 64 of [a-z0-9_-]");
  }
  if (models_.count(name) != 0) {
    return Status::InvalidArgument("read model '" + name + "' is already registered");
  }
  models_.emplace(std::move(name), std::move(model));
  return Status::OK();
}

ReadModel* ReadModels::Find(const std::string& name) const {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ReadModels::Names() const {
  std::vector<std::string> names;
  names.reserve(models_.size());
  for (const auto& [name, model] : models_) names.push_back(name);
  return names;
}

Result<std::string> ReadModels::Query(Session& session, const std::string& model,
                                      const std::string& params_json) const {
  ReadModel* m = Find(model);
  if (m == nullptr) return Status::NotFound("no read model '" + model + "'");
  if (Status s = session.CheckModel(model); !s.ok()) return s;
  try {
    ScopedReader reader(session, m->reach(), model);
    return m->Query(reader, params_json);
  } catch (const std::exception& e) {
    // A model's exception never crosses into the front end.
    return Status::InvalidArgument("read model '" + model + "' failed: " + e.what());
  }
}

std::unique_ptr<ReadModel> MakeInfoModel() { return std::make_unique<InfoModel>(); }

}  // namespace hearth
