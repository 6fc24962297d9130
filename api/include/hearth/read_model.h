// hearth: read models behind one query interface.
//
// A read model (case timeline, worklists, subject-access pack, monitoring
// exports...) answers JSON queries for a Session. main() builds a ReadModels
// collection, adds each model to it and passes it to every front end (the
// network server, in-process plugins, the web gateway): no global registry.
//
//   hearth::ReadModels models;
//   models.Add(hearth::MakeInfoModel());
//   models.Add(hearth::readmodels::MakeTimelineModel(codec));
//   auto json = models.Query(session, "timeline", R"({"case":"case/D1/000001"})");
//
// A model holds no store: each query gives it a ScopedReader
// (hearth/scoped_reader.h) built from the caller's session, and the reader
// is the only way the model reaches the log. The scopes, the restrictions
// and the access log are applied there, once, for every model.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hearth/scoped_reader.h"
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
  // How far the model reaches into the log (hearth/scoped_reader.h):
  // kScoped unless it publishes counts or rows under disclosure control.
  virtual Reach reach() const { return Reach::kScoped; }
  // Answers one query as a JSON document. `params_json` is the caller's JSON
  // object, unchecked: the model validates it (InvalidArgument naming the
  // field). The collection has already checked the session's read_models
  // scope; `reader` applies the streams, districts, read_personal,
  // restrictions and the access log to everything the model reads, and
  // offers the checks a model needs for its own parameters (controller,
  // a district asked for). Thread-safe: called from many sessions at once.
  virtual Result<std::string> Query(ScopedReader& reader, const std::string& params_json) = 0;
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

  // Checks the session's read_models scope for `model`, then asks it with a
  // ScopedReader of the session (its purpose the model's name).
  // Returns NotFound (no such model), PermissionDenied (naming the scope), or
  // whatever the model returns.
  Result<std::string> Query(Session& session, const std::string& model,
                            const std::string& params_json) const;

 private:
  std::map<std::string, std::unique_ptr<ReadModel>> models_;
};

// The `info` read model: the store's figures (positions, streams, subjects,
// tree head; no file paths) and the caller's principal and effective scopes.
// Params: `{}`.
std::unique_ptr<ReadModel> MakeInfoModel();

}  // namespace hearth
