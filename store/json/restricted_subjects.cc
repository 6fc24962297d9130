// Store::RestrictedSubjects' reader (store/log/restricted_subjects.h): the
// restrictions in force, folded with the built-in codec. The log cannot fold
// them (it is below the domain), so this layer gives it the reader when the
// library loads, before any store can be opened.
#include <set>
#include <string>

#include "hearth/domain.h"
#include "hearth/event_json.h"
#include "hearth/store.h"
#include "log/restricted_subjects.h"

namespace hearth::event_json {
namespace {

Result<std::set<std::string>> RestrictedSubjectsOf(Store& store) {
  auto codec = BuiltinCodec();
  if (!codec.ok()) return codec.status();
  auto active = domain::ActiveRestrictions::Read(store, **codec);
  if (!active.ok()) return active.status();
  return active->Subjects();
}

[[maybe_unused]] const bool reader_set = [] {
  log::SetRestrictedSubjectsReader(&RestrictedSubjectsOf);
  return true;
}();

}  // namespace
}  // namespace hearth::event_json
