// hearth: read models behind one query interface.
//
// A read model (case timeline, worklists, subject-access pack, monitoring
// exports...) answers JSON queries for a Session. main() builds a ReadModels
// collection, adds each model to it and passes it to every front end (the
// network server, in-process plugins, the web gateway): no global registry.
//
//   hearth::ReadModels models;
//   models.Add(hearth::MakeInfoModel(store.get()));
//   models.Add(std::make_unique<TimelineModel>(store.get()));
//   auto json = models.Query(session, "timeline", R"({"stream":"case/north/C-1"})");
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hearth/session.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth {

class ReadModel {
 public:
  virtual ~ReadModel() = default;
  // Unique within a collection; what `read_models` scopes name. 1 to 64 of
  // [a-z0-9_-].
  virtual std::string name() const = 0;
  // Answers one query as a JSON document. `params_json` is the caller's JSON
  // object, unchecked: the model validates it (InvalidArgument naming the
  // field). The collection has already checked the session's read_models
  // scope; the model checks every finer scope itself (streams, districts,
  // read_personal, controller) through the session, and writes any personal
  // data it returns to the access log (Session::LogAccess or FilterAndLog).
  // Thread-safe: called from many sessions at once.
  virtual Result<std::string> Query(Session& session, const std::string& params_json) = 0;
};

// The read models of one process. Not thread-safe while being built; Query is
// thread-safe once built.
class ReadModels {
 public:
  ReadModels() = default;
  ReadModels(const ReadModels&) = delete;
  ReadModels& operator=(const ReadModels&) = delete;

  // Takes ownership. InvalidArgument for a null model, a bad name or a name
  // already taken.
  Status Add(std::unique_ptr<ReadModel> model);

  // The model named `name`, or null. The collection keeps ownership.
  ReadModel* Find(const std::string& name) const;

  // Every model's name, sorted.
  std::vector<std::string> Names() const;

  // Checks the session's read_models scope for `model`, then asks it.
  // Returns NotFound (no such model), PermissionDenied (naming the scope), or
  // whatever the model returns.
  Result<std::string> Query(Session& session, const std::string& model,
                            const std::string& params_json) const;

 private:
  std::map<std::string, std::unique_ptr<ReadModel>> models_;
};

// The `info` read model: the store's figures (positions, streams, subjects,
// tree head; no file paths) and the caller's principal and effective scopes.
// Params: `{}`. REQUIRES: the store outlives the model.
std::unique_ptr<ReadModel> MakeInfoModel(Store* store);

}  // namespace hearth
