// A writer for the crash test: opens the store with the asynchronous cases
// projection and records cases until it is killed, printing one line per
// acknowledged append ("ok <case> <last position>").
//
//   hearth_readmodels_writer DIR KEY_FILE FIRST_CASE_NUMBER
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "hearth/domain.h"
#include "hearth/readmodels.h"

using namespace hearth;

namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "writer: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR KEY_FILE FIRST_CASE_NUMBER\n", argv[0]);
    return 2;
  }
  int first = std::atoi(argv[3]);
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return Fail("codec", codec.status());
  Options o;
  o.create_if_missing = true;
  o.key = KeySource::File(argv[2]);
  o.sync = false;  // a killed process loses nothing the OS has; faster appends, a longer projection lag
  o.projections = readmodels::MakeProjections(codec->get());
  auto store = Store::Open(o, argv[1]);
  if (!store.ok()) return Fail("open", store.status());
  domain::RecorderOptions ro;
  ro.today = [] {
    domain::Date d;
    domain::ParseDate("2019-12-31", &d);
    return d;
  };
  domain::CaseRecorder recorder(store->get(), codec->get(), ro);
  auto event = [&](const std::string& json) {
    NewEvent e;
    Status s = (*codec)->FromJson(json, &e);
    if (!s.ok()) {
      Fail("event", s);
      std::exit(2);
    }
    return e;
  };
  for (int i = first;; ++i) {
    std::string n = std::to_string(i);
    std::string district = "D" + std::to_string(i % 6 + 1);
    std::string id = "case/" + district + "/W-" + n;
    std::string day = "2018-0" + std::to_string(i % 9 + 1) + "-1" + std::to_string(i % 10);
    std::vector<NewEvent> events = {
        event(R"({"type":"ContactRecorded","facts":{"contactedOn":")" + day + R"(","district":")" + district +
              R"(","channel":"phone","referrerType":"gp","purpose":"enquiry"},)"
              R"("personal":[{"subject":"P-W)" + n + R"(","role":"client","details":{"givenName":"Writa","familyName":"Crashmore"}}]})"),
        event(R"({"type":"ServiceElementOpened","facts":{"openedOn":")" + day +
              R"(","line":1,"element":"mandatoryDfg","service":"mandatoryDfg"}})"),
    };
    auto r = recorder.Record(id, std::move(events));
    if (!r.ok()) return Fail("record " + id, r.status());
    std::printf("ok %s %llu\n", id.c_str(), static_cast<unsigned long long>(r->last_position));
    // Later events on an earlier case: cases grow over several appends.
    if (i > first) {
      std::string earlier = "case/D" + std::to_string((i - 1) % 6 + 1) + "/W-" + std::to_string(i - 1);
      auto r2 = recorder.Record(earlier, {event(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-12-01","authorRef":"S-1","category":"general"}})"),
                                          event(R"({"type":"PriorityAssessed","facts":{"assessedOn":"2018-12-01","line":1,"otPriority":2,"urgency":"urgent"}})")});
      if (!r2.ok()) return Fail("record " + earlier, r2.status());
      std::printf("ok %s %llu\n", earlier.c_str(), static_cast<unsigned long long>(r2->last_position));
    }
    std::fflush(stdout);
  }
}
