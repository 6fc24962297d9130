// Embedding hearth: open a store, append two events to a case, read the case
// back, and follow the log with a catch-up subscription.
//   example STORE_DIR KEY_FILE
#include <hearth/store.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s STORE_DIR KEY_FILE\n", argv[0]);
    return 2;
  }

  // The root key comes from a file of 32 random bytes (or 64 hex digits)
  // that only its owner may read: chmod 600.
  hearth::Options options;
  options.create_if_missing = true;
  options.key = hearth::KeySource::File(argv[2]);
  auto opened = hearth::Store::Open(options, argv[1]);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<hearth::Store> store = std::move(opened).value();

  // An event has facts (codes, no names) and personal sections, each sealed
  // under the key of the person it is about. Stream and subject ids are
  // opaque references, never names.
  hearth::NewEvent contact;
  contact.id = hearth::EventId::Random();  // keep it to retry safely
  contact.type = "ContactRecorded";
  contact.actor = {"staff-7", "caseworker", "example"};
  contact.subjects = {{"P-000123", hearth::SubjectRole::kClient}};
  contact.facts = R"({"district":"D1","channel":"phone"})";
  contact.personal = {{"P-000123", R"({"name":"Ada Example"})", {{"postcode", "ZZ99 9ZZ"}}}};

  hearth::NewEvent referral;
  referral.id = hearth::EventId::Random();
  referral.type = "ReferralMade";
  referral.actor = {"staff-7", "caseworker", "example"};
  referral.subjects = {{"P-000123", hearth::SubjectRole::kClient}};
  referral.facts = R"({"service_element":5,"urgent":true})";

  // All or nothing; durable when it returns. NoStream: the case is new.
  auto appended = store->Append("case-17", hearth::ExpectedVersion::NoStream(), {contact, referral});
  if (!appended.ok()) {
    std::fprintf(stderr, "append: %s\n", appended.status().ToString().c_str());
    return 1;
  }
  std::printf("appended positions %llu..%llu\n", (unsigned long long)appended->first_position,
              (unsigned long long)appended->last_position);

  auto events = store->ReadStream("case-17", 1, hearth::Direction::kForward, 100);
  if (!events.ok()) {
    std::fprintf(stderr, "read: %s\n", events.status().ToString().c_str());
    return 1;
  }
  for (const hearth::RecordedEvent& e : *events) {
    std::printf("read %s v%llu %s %s\n", e.stream.c_str(), (unsigned long long)e.stream_version,
                e.type.c_str(), e.facts.c_str());
    for (const hearth::PersonalSection& p : e.personal) {
      std::printf("  personal %s %s\n", p.subject.c_str(), p.data.c_str());
    }
  }

  // A subscription delivers the history, then live appends, on its own
  // thread. Here it stops once it has seen the two events.
  std::mutex mu;
  std::condition_variable cv;
  uint64_t seen = 0;
  auto subscription = store->Subscribe(
      1,
      [&](const hearth::RecordedEvent& e) {
        std::printf("subscription %llu %s\n", (unsigned long long)e.position, e.type.c_str());
        std::lock_guard<std::mutex> lock(mu);
        seen = e.position;
        cv.notify_all();
        return e.position < appended->last_position;  // false ends it
      },
      [](const hearth::Status& end) {
        std::printf("subscription ended: %s\n", end.ToString().c_str());
      });
  if (!subscription.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", subscription.status().ToString().c_str());
    return 1;
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return seen >= appended->last_position; });
  }
  subscription->reset();  // stops and joins; before the store goes

  auto found = store->FindSubjects({"postcode", "zz99 9zz"});
  if (found.ok()) std::printf("postcode lookup: %zu subject(s)\n", found->size());
  return 0;
}
