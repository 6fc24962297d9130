// The demo county generator (county.h, docs/domain.md).
#include "county.h"

#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <set>
#include <optional>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include "domain.capnp.h"
#include "hearth/exports.h"
#include "hearth/readmodels.h"

namespace hearth::demo {

namespace {

namespace cs = ::hearth::schema::domain;
using domain::Date;
using std::chrono::days;

// --- a small deterministic random source (the same numbers everywhere) ---

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t HashText(std::string_view s, uint64_t seed) {
  uint64_t h = Mix(seed ^ 0x68656172746871ull);
  for (unsigned char c : s) h = Mix(h ^ c);
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(Mix(seed)) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ull;
    return Mix(state_);
  }
  // Uniform in [0, n).
  uint32_t Below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(Next() % n); }
  // Uniform in [lo, hi].
  int Range(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint32_t>(hi - lo + 1))); }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  template <typename T, size_t N>
  const T& Pick(const T (&list)[N]) {
    return list[Below(N)];
  }

 private:
  uint64_t state_;
};

// DFG conditions (General Consent 2008): an owner-occupier's grant of £5,000
// or more gets a local land charge for the part over £5,000, at most £10,000.
constexpr uint32_t kLandChargeFromPence = 500000;
constexpr uint32_t kLandChargeMaxPence = 1000000;

// --- invented people ---

const char* const kGiven[] = {
    "Testina",  "Demora",   "Samplewyn", "Fictorio", "Mockleigh", "Placidia", "Exempla",
    "Synthia",  "Dummond",  "Fauxley",   "Imaginara", "Pretendo", "Inventia", "Fabrico",
    "Simulina", "Madeupa",  "Figmenta",  "Phantasmo", "Chimerra", "Proxima",  "Ersatzia",
    "Mimicus",  "Facsimila", "Replicand", "Notional", "Hypothea", "Conjura",  "Fablina"};
const char* const kFamily[] = {
    "Quillfeather", "Nonesuch",   "Fictionby",  "Testington", "Sampleworth", "Makebelieve",
    "Placeholder",  "Dummyshire", "Notaperson", "Synthetica", "Invenshaw",   "Pretendle",
    "Fauxbridge",   "Mockford",   "Imaginel",   "Figmentson", "Fabricott",   "Hypothetica",
    "Fablewick",    "Nowhereman", "Unrealton",  "Phantomley", "Shamwell",    "Specimenby"};
const char* const kStreets[] = {
    "Imaginary Road",  "Nowhere Lane",    "Fiction Close",  "Sample Street",
    "Example Avenue",  "Placeholder Way", "Testing Gardens", "Synthetic Row",
    "Make-Believe Crescent", "Pretend Place", "Invented Drive", "Dummy Mews"};
const char* const kTowns[] = {"Exampleton", "Nowhereby", "Fictionford",
                              "Testbury",   "Samplewick", "Demoport"};
const char* const kRelationships[] = {"daughter", "son", "wife", "husband", "partner",
                                      "niece",    "neighbour", "friend", "brother", "sister"};
const char* const kHealth[] = {
    "arthritis in both knees", "COPD, breathless on stairs", "recovering from a hip replacement",
    "Parkinson's disease",     "sight loss",                 "stroke affecting the left side",
    "early-stage dementia",    "multiple sclerosis",         "heart failure",
    "diabetes with neuropathy", "falls at home in the last year", "uses a wheelchair indoors"};
const char* const kAsks[] = {
    "asked about a rail by the back door",     "cannot manage the stairs any more",
    "finding it hard to get in and out of the bath", "asked for help with a leaking roof",
    "wants advice about moving somewhere smaller", "daughter worried about falls",
    "asked about a key safe for carers",          "asked what help there is with heating",
    "needs a ramp to get the wheelchair out",     "asked about a level-access shower"};
const char* const kNotes[] = {
    "Rang to arrange the visit; client prefers mornings.",
    "Left a message, will try again tomorrow.",
    "Client says the landlord has agreed in principle.",
    "Discussed the means test and what evidence is needed.",
    "Carer asked to be kept informed of visit dates.",
    "Contractor confirmed start date by phone.",
    "Client happy with the work, asked about a second rail.",
    "Chased the OT for the recommendation.",
    "Posted the application pack second class.",
    "Client in hospital this week, visit rearranged."};
const char* const kWorkMinor[] = {"grabRail", "stairRail", "keySafe", "halfStep", "leverTaps",
                                  "toiletFrame", "outdoorRail", "doorWidening"};
const char* const kWorkDfg[] = {"stairlift", "levelAccessShower", "throughFloorLift", "ramp",
                                "extension", "washDryToilet", "doorWidening", "kitchenAdaptation"};
const char* const kContractors[] = {"C-0101", "C-0102", "C-0203", "C-0304", "C-0405", "C-0506",
                                    "C-0607", "C-0708"};

struct Person {
  std::string id;
  std::string given, family, street, town, postcode, phone, email, nhs, health;
  int house = 1;
  Date born{};
  cs::Gender gender = cs::Gender::UNSPECIFIED;
  // Target groups and equality (PersonRegistered).
  cs::Disability disability = cs::Disability::UNSPECIFIED;
  cs::Ethnicity ethnicity = cs::Ethnicity::UNSPECIFIED;
  cs::MainLanguage language = cs::MainLanguage::UNSPECIFIED;
  cs::YesNo interpreter = cs::YesNo::UNSPECIFIED;
  cs::YesNo unpaid_carer = cs::YesNo::UNSPECIFIED;
  cs::YesNo mental_health = cs::YesNo::UNSPECIFIED;
  cs::YesNo learning_disability = cs::YesNo::UNSPECIFIED;
};

// A yes/no answer: yes, no, declined and not recorded in per-mille shares.
cs::YesNo Answer(Rng& rng, uint32_t yes, uint32_t declined, uint32_t not_recorded) {
  uint32_t r = rng.Below(1000);
  if (r < not_recorded) return cs::YesNo::UNSPECIFIED;
  if (r < not_recorded + declined) return cs::YesNo::PREFER_NOT_TO_SAY;
  return r < not_recorded + declined + yes ? cs::YesNo::YES : cs::YesNo::NO;
}

// The equality codes of an invented person, roughly like an older, mostly
// disabled client group in Worcestershire (mostly White British, a majority
// disabled, some declining to answer), from a random stream of the person's
// own: no other number of the county moves, and a returning client has the
// same codes on every case.
void DrawEqualityCodes(uint64_t seed, bool client, Person* p) {
  Rng rng(Mix(seed ^ 0x657175616c697479ull) ^ HashText(p->id, seed));
  using D = cs::Disability;
  uint32_t r = rng.Below(1000);
  if (client) {
    p->disability = r < 30 ? D::UNSPECIFIED : r < 80 ? D::PREFER_NOT_TO_SAY : r < 560 ? D::LIMITED_A_LOT
                    : r < 820 ? D::LIMITED_A_LITTLE : D::NOT_LIMITED;
  } else {
    p->disability = r < 50 ? D::UNSPECIFIED : r < 90 ? D::PREFER_NOT_TO_SAY : r < 200 ? D::LIMITED_A_LOT
                    : r < 400 ? D::LIMITED_A_LITTLE : D::NOT_LIMITED;
  }
  using E = cs::Ethnicity;
  struct Share { uint32_t upto; E code; };
  static const Share kEthnicity[] = {
      {20, E::UNSPECIFIED}, {50, E::PREFER_NOT_TO_SAY}, {905, E::WHITE_BRITISH}, {935, E::WHITE_OTHER},
      {945, E::WHITE_IRISH}, {948, E::WHITE_GYPSY_OR_IRISH_TRAVELLER}, {950, E::WHITE_ROMA},
      {962, E::ASIAN_INDIAN}, {970, E::ASIAN_PAKISTANI}, {973, E::ASIAN_BANGLADESHI}, {976, E::ASIAN_CHINESE},
      {979, E::ASIAN_OTHER}, {983, E::BLACK_CARIBBEAN}, {986, E::BLACK_AFRICAN}, {987, E::BLACK_OTHER},
      {990, E::MIXED_WHITE_AND_BLACK_CARIBBEAN}, {992, E::MIXED_WHITE_AND_ASIAN},
      {993, E::MIXED_WHITE_AND_BLACK_AFRICAN}, {995, E::MIXED_OTHER}, {997, E::OTHER_ARAB}, {1000, E::OTHER_ANY}};
  r = rng.Below(1000);
  for (const Share& x : kEthnicity) {
    if (r < x.upto) {
      p->ethnicity = x.code;
      break;
    }
  }
  using L = cs::MainLanguage;
  struct Lang { uint32_t upto; L code; };
  static const Lang kLanguage[] = {
      {8, L::UNSPECIFIED}, {13, L::PREFER_NOT_TO_SAY}, {960, L::ENGLISH}, {962, L::WELSH}, {967, L::BSL},
      {977, L::POLISH}, {980, L::ROMANIAN}, {986, L::PUNJABI}, {991, L::URDU}, {992, L::PORTUGUESE},
      {993, L::SPANISH}, {995, L::ARABIC}, {997, L::BENGALI}, {999, L::GUJARATI}, {1000, L::OTHER}};
  r = rng.Below(1000);
  for (const Lang& x : kLanguage) {
    if (r < x.upto) {
      p->language = x.code;
      break;
    }
  }
  bool english = p->language == L::ENGLISH || p->language == L::WELSH;
  p->interpreter = p->language == L::BSL ? cs::YesNo::YES
                   : english             ? Answer(rng, 2, 5, 30)
                                         : Answer(rng, 600, 20, 30);
  p->unpaid_carer = client ? Answer(rng, 80, 30, 70) : Answer(rng, 920, 0, 80);
  p->mental_health = client ? Answer(rng, 140, 70, 50) : Answer(rng, 120, 60, 120);
  p->learning_disability = client ? Answer(rng, 40, 30, 70) : Answer(rng, 20, 30, 120);
}

std::string NhsNumber(Rng& rng) {
  for (;;) {
    char digits[11];
    std::snprintf(digits, sizeof digits, "999%06u", rng.Below(1000000));
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check == 10) continue;  // no valid number with these digits
    digits[9] = static_cast<char>('0' + check);
    digits[10] = '\0';
    return digits;
  }
}

Person MakePerson(uint64_t seed, const std::string& id, int district, Date year_start, bool client) {
  Rng rng(HashText(id, seed));
  Person p;
  p.id = id;
  p.given = rng.Pick(kGiven);
  p.family = rng.Pick(kFamily);
  p.street = rng.Pick(kStreets);
  p.town = kTowns[district % 6];
  p.house = rng.Range(1, 199);
  static const char kLetters[] = "ABDEFGHJLNPQRSTUWXYZ";
  char postcode[32];
  std::snprintf(postcode, sizeof postcode, "ZZ%d %u%c%c", district + 1, rng.Below(10),
                kLetters[rng.Below(20)], kLetters[rng.Below(20)]);
  p.postcode = postcode;
  char phone[24];
  if (rng.Chance(0.5)) {
    std::snprintf(phone, sizeof phone, "01632 960%03u", rng.Below(1000));
  } else {
    std::snprintf(phone, sizeof phone, "07700 900%03u", rng.Below(1000));
  }
  p.phone = phone;
  if (rng.Chance(0.3)) {
    std::string e = p.given + "." + p.family + "@example.org";
    for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p.email = e;
  }
  p.nhs = NhsNumber(rng);
  p.health = rng.Pick(kHealth);
  int age;
  if (client) {
    double r = static_cast<double>(rng.Below(1000)) / 1000.0;
    age = r < 0.15 ? rng.Range(18, 64) : r < 0.45 ? rng.Range(65, 74) : r < 0.80 ? rng.Range(75, 84)
                                                                               : rng.Range(85, 101);
  } else {
    age = rng.Range(30, 85);
  }
  p.born = year_start - days{static_cast<int>(age * 365.25) + rng.Range(0, 364)};
  uint32_t g = rng.Below(100);
  p.gender = g < 56 ? cs::Gender::FEMALE : g < 97 ? cs::Gender::MALE
                                                  : g < 98 ? cs::Gender::OTHER
                                                           : cs::Gender::PREFER_NOT_TO_SAY;
  DrawEqualityCodes(seed, client, &p);
  return p;
}

// --- building events ---

void SetEqualityCodes(const Person& person, cs::PersonRegistered::Builder p) {
  p.setDisability(person.disability);
  p.setEthnicity(person.ethnicity);
  p.setMainLanguage(person.language);
  p.setInterpreterNeeded(person.interpreter);
  p.setUnpaidCarer(person.unpaid_carer);
  p.setMentalHealth(person.mental_health);
  p.setLearningDisability(person.learning_disability);
}

std::string Pack(capnp::MessageBuilder& m) {
  kj::VectorOutputStream out(256);
  capnp::writePackedMessage(out, m);
  auto bytes = out.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

template <typename Fn>
std::string Facts(Fn&& fill) {
  capnp::MallocMessageBuilder m(128);
  fill(m.initRoot<cs::Facts>());
  return Pack(m);
}

template <typename Fn>
PersonalSection Section(const std::string& subject, Fn&& fill) {
  capnp::MallocMessageBuilder m(128);
  fill(m.initRoot<cs::Personal>());
  PersonalSection s;
  s.subject = subject;
  s.data = Pack(m);
  return s;
}

PersonalSection FullDetails(const Person& p, const char* relationship = nullptr) {
  return Section(p.id, [&](cs::Personal::Builder b) {
    b.setGivenName(p.given);
    b.setFamilyName(p.family);
    b.setDateOfBirth(domain::FormatDate(p.born));
    auto lines = b.initAddressLines(2);
    lines.set(0, std::to_string(p.house) + " " + p.street);
    lines.set(1, p.town);
    b.setPostcode(p.postcode);
    b.setPhone(p.phone);
    if (!p.email.empty()) b.setEmail(p.email);
    if (relationship != nullptr) {
      b.setRelationship(relationship);
    } else {
      b.setNhsNumber(p.nhs);
      b.setHealthDetails(p.health);
    }
  });
}

std::string S(Date d) { return domain::FormatDate(d); }

enum class Kind : uint8_t { kOther, kDfg, kMinor, kHandyperson, kRepairs, kDementia };

struct Dated {
  Date date;
  uint32_t seq;
  NewEvent event;
};

class CaseWriter {
 public:
  CaseWriter(const domain::Calendar& calendar, Date year_end, Rng* rng, std::string staff)
      : calendar_(calendar), year_end_(year_end), rng_(rng), staff_(std::move(staff)) {}

  // The first working day on or after `d` (or `d` itself past the year).
  Date W(Date d) const {
    if (d > year_end_) return d;
    auto w = calendar_.NextWorkingDay(d);
    return w.ok() ? *w : d;
  }

  // `time` draws the time of day (default: the case's generator); events
  // added after a version of the demo was fixed draw from a generator of
  // their own, so that the events around them stay what they were.
  NewEvent& Add(Date date, const char* type, std::string facts, const char* role = "caseworker",
                Rng* time = nullptr) {
    Dated d{date, seq_++, NewEvent{}};
    d.event.type = type;
    d.event.schema_version = type == std::string_view("ContactRecorded") ? 2 : 1;
    d.event.occurred_at = domain::StartOfDay(date) +
                          (9LL * 3600 + (time != nullptr ? time : rng_)->Range(0, 8 * 3600 - 1)) * 1000000LL;
    d.event.actor = Actor{staff_, role, "demo"};
    d.event.facts = std::move(facts);
    events_.push_back(std::move(d));
    return events_.back().event;
  }
  // Marks the last event as the case's closing one (sorted after all others that day).
  void Closing() { events_.back().seq = 1u << 30; }

  std::vector<Dated>& events() { return events_; }
  const std::string& staff() const { return staff_; }

 private:
  const domain::Calendar& calendar_;
  Date year_end_;
  Rng* rng_;
  std::string staff_;
  uint32_t seq_ = 0;
  std::vector<Dated> events_;
};

cs::ReferrerType ReferrerFor(Kind kind, Rng& rng) {
  using R = cs::ReferrerType;
  uint32_t r = rng.Below(100);
  switch (kind) {
    case Kind::kDfg:
      return r < 70 ? R::OCCUPATIONAL_THERAPIST : r < 80 ? R::HOSPITAL : r < 90 ? R::SELF : R::FAMILY;
    case Kind::kDementia:
      return r < 35 ? R::GP : r < 65 ? R::SOCIAL_CARE : r < 90 ? R::FAMILY : R::AGE_UK;
    case Kind::kMinor:
      return r < 35 ? R::SELF : r < 55 ? R::FAMILY : r < 75 ? R::OCCUPATIONAL_THERAPIST
             : r < 85 ? R::HOSPITAL : r < 90 ? R::GP : r < 93 ? R::FIRE_SERVICE
             : r < 97 ? R::AGE_UK : R::SOCIAL_CARE;
    case Kind::kRepairs:
    case Kind::kHandyperson:
      return r < 55 ? R::SELF : r < 75 ? R::FAMILY : r < 85 ? R::AGE_UK : r < 92 ? R::FIRE_SERVICE
                                                                               : R::HOUSING_PROVIDER;
    case Kind::kOther:
      return r < 40 ? R::SELF : r < 55 ? R::FAMILY : r < 63 ? R::CITIZENS_ADVICE
             : r < 70 ? R::GP : r < 76 ? R::HOSPITAL : r < 80 ? R::POLICE
             : r < 84 ? R::TRADING_STANDARDS : r < 90 ? R::AGE_UK : r < 95 ? R::SOCIAL_CARE
                                                                           : R::OTHER;
  }
  return R::OTHER;
}

cs::Channel ChannelFor(cs::ReferrerType referrer, Rng& rng) {
  using C = cs::Channel;
  uint32_t r = rng.Below(100);
  if (referrer == cs::ReferrerType::SELF) {
    return r < 60 ? C::PHONE : r < 70 ? C::EMAIL : r < 78 ? C::IN_PERSON : r < 86 ? C::WEB
           : r < 90 ? C::LETTER : r < 95 ? C::INTERPRETER : C::TEXT_MESSAGE;
  }
  if (referrer == cs::ReferrerType::FAMILY) return r < 80 ? C::FRIEND_OR_FAMILY : C::PHONE;
  return r < 45 ? C::EMAIL : r < 80 ? C::PHONE : r < 95 ? C::WEB : C::LETTER;
}

cs::Tenure TenureFor(Rng& rng) {
  uint32_t r = rng.Below(100);
  using T = cs::Tenure;
  return r < 62 ? T::OWNER_OCCUPIER : r < 74 ? T::HOUSING_ASSOCIATION : r < 84 ? T::COUNCIL_TENANT
         : r < 94 ? T::PRIVATE_RENTED : r < 98 ? T::LIVING_WITH_FAMILY : T::SHARED_OWNERSHIP;
}

// The service of an "other" case: never one of the counted ones.
cs::Service OtherService(Rng& rng) {
  using V = cs::Service;
  uint32_t r = rng.Below(100);
  return r < 55 ? V::INFORMATION_ADVICE : r < 63 ? V::SIGNPOSTING : r < 72 ? V::HOUSING_OPTIONS
         : r < 80 ? V::ASSISTIVE_TECHNOLOGY : r < 86 ? V::OT_ASSESSMENT : r < 90 ? V::TRUSTED_ASSESSMENT
         : r < 94 ? V::HOME_FROM_HOSPITAL : r < 96 ? V::HOME_REPAIRS_ASSISTANCE
         : r < 98 ? V::ABLE_TO_PAY : V::SANCTUARY_GRANT;
}

cs::Service CountedService(Kind kind) {
  switch (kind) {
    case Kind::kDfg: return cs::Service::MANDATORY_DFG;
    case Kind::kMinor: return cs::Service::MINOR_ADAPTATION;
    case Kind::kHandyperson: return cs::Service::HANDYPERSON;
    case Kind::kRepairs: return cs::Service::REPAIRS;
    case Kind::kDementia: return cs::Service::DEMENTIA_DWELLING_GRANT;
    case Kind::kOther: break;
  }
  return cs::Service::INFORMATION_ADVICE;
}

// The latest day after the enquiry the counted element may open on: the
// enquiry is dated early enough for it to open inside the year.
int MaxOpenOffset(Kind kind) {
  switch (kind) {
    case Kind::kDfg: return 14;
    case Kind::kMinor: return 52;
    case Kind::kHandyperson: return 16;
    case Kind::kRepairs: return 40;
    case Kind::kDementia: return 44;
    case Kind::kOther: return 0;
  }
  return 0;
}

// A case to generate, as the county's list holds it until its turn: 12
// bytes (a county of 10 million events lists 590,000 cases; issue 22
// item 3).
struct CaseSlot {
  uint32_t number = 0;     // 1.. within the district
  uint32_t repeat_of = 0;  // for a returning client: the earlier case's number
  uint8_t district = 0;    // 0..5
  Kind kind = Kind::kOther;
  // A DFG that is refused, or a minor adaptation withdrawn before its works:
  // a line opened that Schedule B does not count.
  bool uncounted = false;
  // What the case turned out to hold, for the report's volumes (set by the
  // writer that recorded it).
  bool consulted = false;  // a ConsultationHeld
  bool decided = false;    // the event Schedule B counts for its kind
};

// A case being built: its slot and its district's code ("D1").
struct CaseSpec : CaseSlot {
  std::string code;
};

std::string CaseId(const std::string& district, uint32_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "case/%s/%06u", district.c_str(), n);
  return buf;
}

std::string PersonId(const std::string& district, uint32_t n, const char* suffix = "") {
  char buf[40];
  std::snprintf(buf, sizeof buf, "P-%s-%06u%s", district.c_str(), n, suffix);
  return buf;
}

struct Generated {
  std::string case_id;
  std::vector<NewEvent> opening;  // first append (all of a case recorded in one)
  std::vector<NewEvent> rest;     // second append (may be empty)
  uint32_t people = 0;
};

// Builds one case's events, dated inside [year_start, year_end].
//
// `attempt` > 0 draws the case again (other numbers, an earlier start) when
// the event that Schedule B counts fell after the year (see GenerateCounty).
Generated BuildCase(const CaseSpec& spec, uint64_t seed, Date year_start, Date year_end,
                    const domain::Calendar& calendar, uint32_t attempt = 0) {
  Rng rng(Mix(seed) ^ HashText(CaseId(spec.code, spec.number), seed) ^
          (attempt == 0 ? 0 : Mix(0x6174746d ^ attempt)));
  char staff[24];
  std::snprintf(staff, sizeof staff, "S-%s-%02u", spec.code.c_str(), rng.Below(12) + 1);
  CaseWriter w(calendar, year_end, &rng, staff);
  Generated g;
  // Safeguarding concerns raised (numbered from 1) and those referred on.
  uint16_t concerns = 0;
  std::vector<std::pair<uint16_t, Date>> referred_concerns;
  g.case_id = CaseId(spec.code, spec.number);

  uint32_t client_n = spec.repeat_of != 0 ? spec.repeat_of : spec.number;
  Person client = MakePerson(seed, PersonId(spec.code, client_n), spec.district, year_start, true);
  g.people = spec.repeat_of != 0 ? 0 : 1;

  int span = static_cast<int>((year_end - year_start).count()) - MaxOpenOffset(spec.kind) - 6;
  // A case drawn again starts earlier in the year, down to its first twentieth.
  if (attempt > 0) span = std::max(1, span * static_cast<int>(20 - std::min<uint32_t>(attempt, 19)) / 20);
  Date d0 = w.W(year_start + days{static_cast<int>(rng.Below(static_cast<uint32_t>(span)))});
  const cs::Service counted = CountedService(spec.kind);
  cs::ReferrerType referrer = ReferrerFor(spec.kind, rng);
  cs::Channel channel = ChannelFor(referrer, rng);
  cs::Tenure tenure = TenureFor(rng);

  // The enquiry, with the client's (and a relative referrer's) details.
  {
    NewEvent& e = w.Add(d0, "ContactRecorded", Facts([&](cs::Facts::Builder f) {
      auto c = f.initContactRecorded();
      c.setContactedOn(S(d0));
      c.setDistrict(spec.code);
      c.setChannel(channel);
      c.setReferrerType(referrer);
      c.setPurpose(cs::ContactPurpose::ENQUIRY);
      c.initTopics(1).set(0, spec.kind == Kind::kOther ? cs::Service::INFORMATION_ADVICE : counted);
      if (referrer != cs::ReferrerType::SELF && referrer != cs::ReferrerType::FAMILY) {
        c.setReferrerOrganisation(std::string("ORG-") + spec.code + "-" +
                                  std::to_string(rng.Below(20) + 1));
      }
    }));
    e.subjects.push_back(SubjectRef{client.id, SubjectRole::kClient});
    e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
      b.setGivenName(client.given);
      b.setFamilyName(client.family);
      b.setPhone(client.phone);
      b.setPostcode(client.postcode);
      b.setFreeText(rng.Pick(kAsks));
    }));
    if (referrer == cs::ReferrerType::FAMILY) {
      Person rel = MakePerson(seed, PersonId(spec.code, spec.number, "-R"), spec.district,
                              year_start, false);
      e.subjects.push_back(SubjectRef{rel.id, SubjectRole::kRelative});
      e.personal.push_back(Section(rel.id, [&](cs::Personal::Builder b) {
        b.setGivenName(rel.given);
        b.setFamilyName(rel.family);
        b.setPhone(rel.phone);
        b.setRelationship(rng.Pick(kRelationships));
      }));
      ++g.people;
    }
  }

  // The client registered; a carer for some.
  bool has_carer = rng.Chance(spec.kind == Kind::kDementia ? 0.7 : 0.28);
  bool lives_alone = !has_carer && rng.Chance(0.55);
  Date reg = w.W(d0 + days{rng.Range(0, 2)});
  {
    NewEvent& e = w.Add(reg, "PersonRegistered", Facts([&](cs::Facts::Builder f) {
      auto p = f.initPersonRegistered();
      p.setRegisteredOn(S(reg));
      p.setAgeBand(domain::AgeBand(client.born, reg));
      p.setGender(client.gender);
      p.setTenure(tenure);
      p.setLivesAlone(lives_alone);
      p.setHasCarer(has_carer);
      SetEqualityCodes(client, p);
    }), "admin");
    e.subjects.push_back(SubjectRef{client.id, SubjectRole::kClient});
    e.personal.push_back(FullDetails(client));
  }
  std::string carer_id;
  std::string carer_name;  // named in some notes, which are then held for review in a pack
  if (has_carer) {
    Person carer = MakePerson(seed, PersonId(spec.code, spec.number, "-C"), spec.district,
                              year_start, false);
    carer_id = carer.id;
    carer_name = carer.given + " " + carer.family;
    ++g.people;
    const char* relationship = rng.Pick(kRelationships);
    NewEvent& e = w.Add(reg, "PersonRegistered", Facts([&](cs::Facts::Builder f) {
      auto p = f.initPersonRegistered();
      p.setRegisteredOn(S(reg));
      p.setAgeBand(domain::AgeBand(carer.born, reg));
      p.setGender(carer.gender);
      p.setTenure(tenure);
      SetEqualityCodes(carer, p);
    }), "admin");
    e.subjects.push_back(SubjectRef{carer.id, SubjectRole::kCarer});
    e.personal.push_back(FullDetails(carer, relationship));
    NewEvent& c = w.Add(reg, "ConsentGiven", Facts([&](cs::Facts::Builder f) {
      auto x = f.initConsentGiven();
      x.setGivenOn(S(reg));
      x.setScope(cs::ConsentScope::INVOLVE_NAMED_PERSON);
      x.setMethod(cs::ConsentMethod::VERBAL);
      x.setNamedPerson(carer_id);
    }));
    c.subjects.push_back(SubjectRef{carer_id, SubjectRole::kCarer});
  }
  size_t opening_count = w.events().size();

  // Advice, information and guidance (Schedule B): every new enquiry is
  // talked through in a consultation on the day it is made, whatever follows
  // (the advice cases hold theirs below). From a random stream of its own.
  if (spec.kind != Kind::kOther) {
    Rng talk(Mix(seed ^ 0x61646669636521ull) ^ HashText(g.case_id, seed));
    w.Add(d0, "ConsultationHeld", Facts([&](cs::Facts::Builder f) {
      auto c = f.initConsultationHeld();
      c.setHeldOn(S(d0));
      c.setChannel(channel == cs::Channel::IN_PERSON ? cs::Channel::IN_PERSON : cs::Channel::PHONE);
      c.setMinutes(static_cast<uint16_t>(talk.Range(10, 40)));
      c.initAdviceGiven(1).set(0, counted);
      c.setReferralNeeded(spec.kind == Kind::kDfg || spec.kind == Kind::kDementia);
    }));
  }

  // --- the pathway ---
  Date end = d0;  // the last pathway date (closure, when the case closes)
  // A DFG's local land charge (owner-occupier, grant of £5,000 or more),
  // recorded last so that it draws no number the other events depend on.
  std::optional<Date> charge_on;
  uint32_t charge_pence = 0;
  // A DFG's urgent-works exemption and its grant variation (issue 17.8), also
  // recorded last: the line's other events only take their dates and amounts.
  std::optional<Date> exemption_on;
  std::optional<Date> variation_on;
  uint32_t variation_pence = 0;
  bool share_with_referrer = false;
  auto open_line = [&](Date on, cs::Service service) {
    w.Add(on, "ServiceElementOpened", Facts([&](cs::Facts::Builder f) {
      auto o = f.initServiceElementOpened();
      o.setOpenedOn(S(on));
      o.setLine(1);
      o.setService(service);
      o.setElement(static_cast<cs::ServiceElement>(0));
      // The element the service belongs to (docs/domain.md).
      using V = cs::Service;
      using E = cs::ServiceElement;
      E element = E::INFORMATION_ADVICE;
      switch (service) {
        case V::HOUSING_OPTIONS: element = E::HOUSING_OPTIONS; break;
        case V::MINOR_ADAPTATION: case V::HANDYPERSON: element = E::MINOR_ADAPTATIONS_HANDYPERSON; break;
        case V::REPAIRS: case V::DEMENTIA_DWELLING_GRANT: case V::HOME_FROM_HOSPITAL:
        case V::HOME_REPAIRS_ASSISTANCE: case V::SANCTUARY_GRANT: case V::STANDARD_ADAPTATION:
          element = E::HEALTHIER_SAFER_HOMES; break;
        case V::MANDATORY_DFG: element = E::MANDATORY_DFG; break;
        case V::OT_ASSESSMENT: case V::TRUSTED_ASSESSMENT: element = E::OT_TRUSTED_ASSESSOR; break;
        case V::ASSISTIVE_TECHNOLOGY: element = E::ASSISTIVE_TECHNOLOGY; break;
        case V::ABLE_TO_PAY: element = E::ABLE_TO_PAY; break;
        default: break;
      }
      o.setElement(element);
    }));
  };
  auto referral = [&](Date on, cs::Service service, int basis) {
    w.Add(on, "ReferralMade", Facts([&](cs::Facts::Builder f) {
      auto r = f.initReferralMade();
      r.setReferredOn(S(on));
      r.setReferrerType(referrer);
      r.setService(service);
      r.setSelfReferral(referrer == cs::ReferrerType::SELF);
      auto b = r.initConsentBasis();
      if (basis == 0) {
        auto given = b.initGiven();
        given.setGivenOn(S(on));
        given.setMethod(rng.Chance(0.6) ? cs::ConsentMethod::VERBAL : cs::ConsentMethod::WRITTEN);
        share_with_referrer = referrer != cs::ReferrerType::SELF;
        auto scopes = given.initScopes(share_with_referrer ? 2 : 1);
        scopes.set(0, cs::ConsentScope::REFER_ON);
        if (share_with_referrer) scopes.set(1, cs::ConsentScope::SHARE_WITH_REFERRER);
      } else if (basis == 1) {
        auto bi = b.initBestInterests();
        bi.setDecidedOn(S(on));
        bi.setDecisionMaker(rng.Chance(0.5) ? "ot" : "socialWorker");
      } else {
        auto rh = b.initRiskOfHarm();
        rh.setAssessedOn(S(on));
        rh.setSafeguardingRaised(true);
      }
    }), "ot");
    if (basis == 2) {
      w.Add(on, "SafeguardingConcernRaised", Facts([&](cs::Facts::Builder f) {
        auto s = f.initSafeguardingConcernRaised();
        s.setRaisedOn(S(on));
        s.setCategory(rng.Chance(0.5) ? cs::SafeguardingCategory::SELF_NEGLECT
                                      : cs::SafeguardingCategory::NEGLECT);
        s.setReferredToSocialCare(true);
        s.setUrgent(rng.Chance(0.3));
        s.setPersonType(cs::SafeguardingPersonType::ADULT);
        s.setConcern(++concerns);
        s.setReferredTo(cs::SafeguardingAgency::ADULT_SOCIAL_CARE);
        s.setReferredOn(S(on));
        referred_concerns.emplace_back(concerns, on);
      }));
    }
  };
  // First visit: booked, confirmed in writing when not self-referred, made.
  // About one in eight is late (after 4 weeks). About a third of the people
  // a hospital referred are visited on the ward before discharge (003
  // Element 1; a stream of its own, so no other draw moves).
  Rng ward(Mix(HashText(g.case_id, seed) ^ 0x686f'7370'6974'616cull));
  const cs::VisitMode visit_mode =
      referrer == cs::ReferrerType::HOSPITAL && ward.Chance(0.35) ? cs::VisitMode::HOSPITAL : cs::VisitMode::HOME;
  auto first_visit = [&](Date booked_on, int max_days) {
    int offset = rng.Chance(0.12) ? rng.Range(29, std::max(30, max_days)) : rng.Range(3, 27);
    Date visit = w.W(d0 + days{std::min(offset, max_days)});
    if (visit < booked_on) visit = booked_on;
    w.Add(booked_on, "FirstVisitScheduled", Facts([&](cs::Facts::Builder f) {
      auto v = f.initFirstVisitScheduled();
      v.setScheduledOn(S(booked_on));
      v.setVisitOn(S(visit));
      v.setMode(visit_mode);
    }), "admin");
    if (referrer != cs::ReferrerType::SELF) {
      w.Add(booked_on, "FirstVisitConfirmedInWriting", Facts([&](cs::Facts::Builder f) {
        auto v = f.initFirstVisitConfirmedInWriting();
        v.setSentOn(S(booked_on));
        v.setChannel(rng.Chance(0.7) ? cs::Channel::LETTER : cs::Channel::EMAIL);
      }), "admin");
    }
    w.Add(visit, "FirstVisitCompleted", Facts([&](cs::Facts::Builder f) {
      auto v = f.initFirstVisitCompleted();
      v.setCompletedOn(S(visit));
      v.setMode(visit_mode);
      v.setVisitorRole(spec.kind == Kind::kDfg ? "ot" : "technicalOfficer");
    }), spec.kind == Kind::kDfg ? "ot" : "technicalOfficer");
    return visit;
  };
  auto assessment = [&](Date on, bool property) {
    NewEvent& e = w.Add(on, "AssessmentRecorded", Facts([&](cs::Facts::Builder f) {
      auto a = f.initAssessmentRecorded();
      a.setAssessedOn(S(on));
      auto level = [&] { return static_cast<cs::NeedLevel>(rng.Range(1, 4)); };
      a.setHealthAndWellbeing(level());
      a.setAbilityToManage(level());
      a.setIncomeAndSavings(level());
      a.setPropertyCondition(property ? cs::NeedLevel::HIGH : level());
      a.setSocialSupport(has_carer ? cs::NeedLevel::LOW : level());
      a.setWishesRecorded(true);
      a.setHazards(static_cast<uint8_t>(rng.Range(0, property ? 4 : 2)));
    }));
    e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
      b.setHealthDetails(client.health);
      b.setFreeText("Wants to stay in their own home.");
    }));
    w.Add(on, "RightsConfirmed", Facts([&](cs::Facts::Builder f) {
      auto r = f.initRightsConfirmed();
      r.setConfirmedOn(S(on));
      r.setReview(true);
      r.setTermination(true);
      r.setPrivacy(true);
      r.setAccess(true);
      r.setHandbook(rng.Chance(0.95));
    }));
  };
  auto plan = [&](Date on, cs::Service service) {
    w.Add(on, "SupportPlanAgreed", Facts([&](cs::Facts::Builder f) {
      auto p = f.initSupportPlanAgreed();
      p.setAgreedOn(S(on));
      auto a = p.initActions(1)[0];
      a.setService(service);
      a.setByRole("technicalOfficer");
      a.setDueOn(S(on + days{28}));
      p.setReviewOn(S(on + days{90}));
    }));
  };
  // The payee of a payment: the contractor chosen, or the client (payee
  // kept since issue 17.8).
  auto works_done = [&](Date started, Date completed, uint32_t cost, bool paid, Date paid_on,
                        const char* contractor = nullptr) {
    w.Add(started, "WorksStarted", Facts([&](cs::Facts::Builder f) {
      auto x = f.initWorksStarted();
      x.setStartedOn(S(started));
      x.setLine(1);
    }), "technicalOfficer");
    w.Add(completed, "WorksCompleted", Facts([&](cs::Facts::Builder f) {
      auto x = f.initWorksCompleted();
      x.setCompletedOn(S(completed));
      x.setLine(1);
      x.setFinalCostPence(cost);
    }), "technicalOfficer");
    if (paid) {
      w.Add(paid_on, "WorksPaid", Facts([&](cs::Facts::Builder f) {
        auto x = f.initWorksPaid();
        x.setPaidOn(S(paid_on));
        x.setLine(1);
        x.setAmountPence(cost);
        if (contractor != nullptr) {
          x.setPayee(cs::Payee::CONTRACTOR);
          x.setPayeeRef(contractor);
        } else {
          x.setPayee(cs::Payee::CLIENT);
        }
      }), "finance");
    }
  };
  auto outcomes = [&](Date on, std::vector<cs::Outcome> list) {
    w.Add(on, "OutcomeRecorded", Facts([&](cs::Facts::Builder f) {
      auto o = f.initOutcomeRecorded();
      o.setRecordedOn(S(on));
      o.setLine(1);
      auto l = o.initOutcomes(static_cast<unsigned>(list.size()));
      for (size_t i = 0; i < list.size(); ++i) l.set(static_cast<unsigned>(i), list[i]);
    }));
  };
  // The satisfaction and impact questionnaire (003 7.6): sent about line 1
  // on completion of its works, returned with probability p on `on`. The
  // questionnaire, its sending day and the impact answers draw from a
  // generator of their own (the events of earlier versions stay the same).
  Rng impact(Mix(seed ^ 0x696d'7061'6374ull) ^ HashText(CaseId(spec.code, spec.number), seed));
  auto satisfaction = [&](Date completed, Date on, double p) {
    Date sent = std::min(on, w.W(completed + days{impact.Range(0, 3)}));
    w.Add(sent, "QuestionnaireSent", Facts([&](cs::Facts::Builder f) {
      auto q = f.initQuestionnaireSent();
      q.setSentOn(S(sent));
      q.setLine(1);
      q.setChannel(impact.Chance(0.8) ? cs::Channel::LETTER : cs::Channel::EMAIL);
    }), "admin", &impact);
    if (!rng.Chance(p)) return;
    uint32_t r = rng.Below(100);
    uint8_t score = r < 55 ? 5 : r < 85 ? 4 : r < 93 ? 3 : r < 97 ? 2 : 1;
    using I = cs::ImpactReported;
    static const I kImpacts[] = {I::SAFER_AT_HOME, I::MORE_INDEPENDENT, I::EASIER_TO_MOVE_AROUND, I::LESS_HELP_NEEDED,
                                 I::EASIER_FOR_CARERS, I::FEWER_FALLS, I::BETTER_HEALTH, I::CAN_STAY_AT_HOME,
                                 I::WARMER_HOME};
    std::vector<I> impacts;
    for (I i : kImpacts) {
      if (impact.Chance(score >= 4 ? 0.45 : 0.12)) impacts.push_back(i);
    }
    using Q = cs::QualityOfLifeChange;
    uint32_t qr = impact.Below(100);
    Q quality = impact.Chance(0.1) ? Q::UNSPECIFIED  // the question left blank
                : score >= 4       ? (qr < 55 ? Q::MUCH_BETTER : qr < 95 ? Q::BETTER : Q::NO_CHANGE)
                                   : (qr < 20 ? Q::BETTER : qr < 85 ? Q::NO_CHANGE : Q::WORSE);
    NewEvent& e = w.Add(on, "SatisfactionRecorded", Facts([&](cs::Facts::Builder f) {
      auto s = f.initSatisfactionRecorded();
      s.setRecordedOn(S(on));
      s.setScore(score);
      s.setWouldRecommend(score >= 4);
      s.setChannel(rng.Chance(0.7) ? cs::Channel::LETTER : cs::Channel::PHONE);
      s.setLine(1);
      s.setQualityOfLife(quality);
      auto l = s.initImpacts(static_cast<unsigned>(impacts.size()));
      for (size_t i = 0; i < impacts.size(); ++i) l.set(static_cast<unsigned>(i), impacts[i]);
    }), "admin");
    if (rng.Chance(0.4)) {
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText(score >= 4 ? "The fitters were polite and tidy." : "It took far too long.");
      }));
    }
  };
  auto close_line = [&](Date on, cs::ElementResult result) {
    w.Add(on, "ServiceElementClosed", Facts([&](cs::Facts::Builder f) {
      auto c = f.initServiceElementClosed();
      c.setClosedOn(S(on));
      c.setLine(1);
      c.setResult(result);
    }));
  };
  auto close_case = [&](Date on, cs::ClosureReason reason) {
    for (const auto& d : w.events()) on = std::max(on, d.date);  // nothing after the closure
    w.Add(on, "CaseClosed", Facts([&](cs::Facts::Builder f) {
      auto c = f.initCaseClosed();
      c.setClosedOn(S(on));
      c.setReason(reason);
    }));
    w.Closing();
    end = on;
  };
  auto disclose = [&](Date on, cs::RecipientType type, const char* ref, const char* purpose) {
    w.Add(on, "PersonalDataDisclosed", Facts([&](cs::Facts::Builder f) {
      auto d = f.initPersonalDataDisclosed();
      d.setDisclosedOn(S(on));
      d.setRecipientType(type);
      d.setRecipientRef(ref);
      d.setPurposeCode(purpose);
      d.setLawfulBasis(cs::LawfulBasis::PUBLIC_TASK);
      auto c = d.initCategories(2);
      c.set(0, "contact");
      c.set(1, "address");
    }));
  };
  auto after = [&](Date d, int lo, int hi) { return w.W(d + days{rng.Range(lo, hi)}); };
  std::optional<std::pair<Date, Date>> follow_up;  // an advice consultation's date and its follow-up date

  switch (spec.kind) {
    case Kind::kOther: {
      cs::Service service = OtherService(rng);
      Date held = after(d0, 0, 7);
      // About one in four is to be followed up two to four weeks on (004
      // s.3); a stream of its own.
      Rng follow(Mix(HashText(g.case_id, seed) ^ 0x666f'6c6c'6f77'7570ull));
      if (follow.Chance(0.25)) follow_up = std::make_pair(held, w.W(held + days{follow.Range(14, 28)}));
      NewEvent& e = w.Add(held, "ConsultationHeld", Facts([&](cs::Facts::Builder f) {
        auto c = f.initConsultationHeld();
        c.setHeldOn(S(held));
        if (follow_up) c.setFollowUpOn(S(follow_up->second));
        c.setChannel(cs::Channel::PHONE);
        c.setMinutes(static_cast<uint16_t>(rng.Range(10, 60)));
        c.initAdviceGiven(1).set(0, service);
        c.setReferralNeeded(false);
      }));
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText("Talked through the options; information pack sent.");
      }));
      end = held;
      if (rng.Chance(0.7)) {
        open_line(held, service);
        Date done = after(held, 0, 21);
        close_line(done, cs::ElementResult::DELIVERED);
        end = done;
        if (rng.Chance(0.3)) outcomes(done, {cs::Outcome::PROMOTE_INDEPENDENT_LIVING});
      }
      uint32_t r = rng.Below(100);
      close_case(after(end, 0, 20), r < 70 ? cs::ClosureReason::ADVICE_ONLY
                                    : r < 82 ? cs::ClosureReason::REFERRED_ELSEWHERE
                                    : r < 92 ? cs::ClosureReason::NO_LONGER_REQUIRED
                                             : cs::ClosureReason::UNABLE_TO_CONTACT);
      break;
    }
    case Kind::kHandyperson: {
      Date opened = after(d0, 1, 10);
      open_line(opened, cs::Service::HANDYPERSON);
      Date done = after(opened, 1, 14);
      works_done(done, done, static_cast<uint32_t>(rng.Range(20, 150)) * 100, false, done);
      satisfaction(done, after(done, 1, 10), 0.5);
      close_line(done, cs::ElementResult::DELIVERED);
      close_case(after(done, 1, 14), cs::ClosureReason::SERVICES_COMPLETED);
      break;
    }
    case Kind::kMinor: {
      bool referred = rng.Chance(0.6);
      if (referred) referral(after(d0, 0, 3), counted, 0);
      Date booked = after(d0, 1, 4);
      if (spec.uncounted && rng.Chance(0.5)) {
        // Withdrawn before the first visit: booked, never made, closed.
        Date visit_on = after(booked, 7, 20);
        w.Add(booked, "FirstVisitScheduled", Facts([&](cs::Facts::Builder f) {
          auto v = f.initFirstVisitScheduled();
          v.setScheduledOn(S(booked));
          v.setVisitOn(S(visit_on));
          v.setMode(cs::VisitMode::HOME);
        }), "admin");
        close_case(after(booked, 1, 6), cs::ClosureReason::WITHDRAWN_BY_CLIENT);
        break;
      }
      Date visit = first_visit(booked, 45);
      assessment(visit, false);
      plan(visit, counted);
      open_line(visit, counted);
      if (spec.uncounted) {
        // The person changed their mind before the works: the line is
        // withdrawn, no adaptation was fitted.
        Date gone = after(visit, 2, 20);
        close_line(gone, cs::ElementResult::WITHDRAWN);
        close_case(after(gone, 0, 10), cs::ClosureReason::WITHDRAWN_BY_CLIENT);
        break;
      }
      Date spec_on = after(visit, 0, 5);
      w.Add(spec_on, "WorksSpecified", Facts([&](cs::Facts::Builder f) {
        auto x = f.initWorksSpecified();
        x.setSpecifiedOn(S(spec_on));
        x.setLine(1);
        auto codes = x.initWorkCodes(static_cast<unsigned>(rng.Range(1, 3)));
        for (unsigned i = 0; i < codes.size(); ++i) codes.set(i, rng.Pick(kWorkMinor));
        x.setEstimatePence(static_cast<uint32_t>(rng.Range(30, 900)) * 100);
      }), "technicalOfficer");
      Date started = after(spec_on, 3, rng.Chance(0.15) ? 60 : 25);
      Date completed = after(started, 0, 2);
      works_done(started, completed, static_cast<uint32_t>(rng.Range(30, 950)) * 100, false, completed);
      outcomes(completed, {cs::Outcome::REDUCE_OR_PREVENT_FALL, cs::Outcome::REMAIN_AT_HOME});
      satisfaction(completed, after(completed, 3, 20), 0.55);
      close_line(completed, cs::ElementResult::DELIVERED);
      close_case(after(completed, 5, 25), cs::ClosureReason::SERVICES_COMPLETED);
      break;
    }
    case Kind::kRepairs: {
      Date booked = after(d0, 1, 4);
      Date visit = first_visit(booked, 33);
      assessment(visit, true);
      open_line(visit, counted);
      Date spec_on = after(visit, 1, 10);
      w.Add(spec_on, "WorksSpecified", Facts([&](cs::Facts::Builder f) {
        auto x = f.initWorksSpecified();
        x.setSpecifiedOn(S(spec_on));
        x.setLine(1);
        x.initWorkCodes(1).set(0, rng.Chance(0.5) ? "roofRepair" : "boilerRepair");
        x.setEstimatePence(static_cast<uint32_t>(rng.Range(500, 5000)) * 100);
      }), "technicalOfficer");
      uint32_t price = static_cast<uint32_t>(rng.Range(500, 5000)) * 100;
      Date quoted = after(spec_on, 5, 15);
      const char* chosen = rng.Pick(kContractors);
      for (int q = 0; q < 2; ++q) {
        w.Add(quoted, "QuoteReceived", Facts([&](cs::Facts::Builder f) {
          auto x = f.initQuoteReceived();
          x.setReceivedOn(S(quoted));
          x.setLine(1);
          x.setContractorRef(q == 0 ? chosen : rng.Pick(kContractors));
          x.setAmountPence(q == 0 ? price : price + static_cast<uint32_t>(rng.Range(10, 900)) * 100);
        }), "technicalOfficer");
      }
      Date chose = after(quoted, 1, 7);
      w.Add(chose, "ContractorChosen", Facts([&](cs::Facts::Builder f) {
        auto x = f.initContractorChosen();
        x.setChosenOn(S(chose));
        x.setLine(1);
        x.setContractorRef(chosen);
        x.setAmountPence(price);
        x.setReasonCode("lowestQuote");
      }), "technicalOfficer");
      disclose(chose, cs::RecipientType::CONTRACTOR, chosen, "works");
      Date started = after(chose, 5, 40);
      Date completed = after(started, 1, 10);
      works_done(started, completed, price, true, after(completed, 5, 30), chosen);
      outcomes(completed, {cs::Outcome::REMAIN_AT_HOME});
      close_line(completed, cs::ElementResult::DELIVERED);
      close_case(after(completed, 30, 45), cs::ClosureReason::SERVICES_COMPLETED);
      break;
    }
    case Kind::kDementia: {
      int basis = rng.Chance(0.6) ? 0 : 1;
      referral(after(d0, 0, 5), counted, basis);
      Date booked = after(d0, 5, 8);
      Date visit = first_visit(booked, 35);
      assessment(visit, false);
      open_line(visit, counted);
      Date applied = after(visit, 0, 10);
      uint32_t amount = static_cast<uint32_t>(rng.Range(100, 1500)) * 100;
      w.Add(applied, "GrantApplicationMade", Facts([&](cs::Facts::Builder f) {
        auto x = f.initGrantApplicationMade();
        x.setSubmittedOn(S(applied));
        x.setLine(1);
        x.setGrantType(cs::GrantType::DEMENTIA_DWELLING_GRANT);
        x.setValidOn(S(applied));
        x.setRequestedPence(amount);
      }));
      Date approved = after(applied, 3, 20);
      w.Add(approved, "GrantApproved", Facts([&](cs::Facts::Builder f) {
        auto x = f.initGrantApproved();
        x.setApprovedOn(S(approved));
        x.setLine(1);
        x.setGrantType(cs::GrantType::DEMENTIA_DWELLING_GRANT);
        x.setAmountPence(amount);
        x.setFundingSource(cs::FundingSource::DISCRETIONARY);
        x.setRationaleCode("policyLimit");
      }), "manager");
      Date completed = after(approved, 10, 60);
      works_done(completed, completed, amount, true, after(completed, 5, 20));
      outcomes(completed, {cs::Outcome::REMAIN_AT_HOME, cs::Outcome::REDUCE_PRESSURE_ON_CARERS});
      satisfaction(completed, after(completed, 3, 20), 0.4);
      close_line(completed, cs::ElementResult::DELIVERED);
      close_case(after(completed, 20, 40), cs::ClosureReason::SERVICES_COMPLETED);
      break;
    }
    case Kind::kDfg: {
      // The order and money decisions of issue 17.8, from a random stream of
      // their own so that every other number of the case is as before: an
      // urgent case may start its works before approval under an exemption
      // recorded at the application, and a grant may be approved at the
      // lowest quote less a contingency that is added by a variation the
      // same day (so the money committed on any day is as before).
      Rng order(Mix(HashText(g.case_id, seed) ^ 0x6466'676f'7264'6572ull));
      bool exempt_draw = order.Chance(0.3);
      bool vary_draw = order.Chance(0.1);
      uint32_t b = rng.Below(100);
      int basis = b < 88 ? 0 : b < 96 ? 1 : 2;
      Date referred = after(d0, 0, 5);
      referral(referred, counted, basis);
      open_line(referred, counted);
      Date booked = after(referred, 1, 5);
      Date visit = first_visit(booked, 45);
      Date assessed = after(visit, 0, 10);
      assessment(assessed, false);
      int priority = rng.Range(1, 3);
      bool urgent = priority == 1;
      w.Add(assessed, "PriorityAssessed", Facts([&](cs::Facts::Builder f) {
        auto x = f.initPriorityAssessed();
        x.setAssessedOn(S(assessed));
        x.setLine(1);
        x.setOtPriority(static_cast<uint8_t>(priority));
        x.setUrgency(urgent ? cs::Urgency::URGENT : cs::Urgency::NON_URGENT);
      }), "ot");
      // Urgent cases move faster; some of either kind overrun the targets.
      double pace = urgent ? 0.4 : 1.0;
      if (rng.Chance(0.2)) pace *= 1.8;
      auto step = [&](Date d, int lo, int hi) {
        return w.W(d + days{static_cast<int>(rng.Range(lo, hi) * pace)});
      };
      Date means = step(assessed, 5, 40);
      uint32_t r = rng.Below(100);
      cs::MeansTestResult result = r < 50 ? cs::MeansTestResult::PASSPORTED
                                   : r < 85 ? cs::MeansTestResult::NIL_CONTRIBUTION
                                   : r < 97 ? cs::MeansTestResult::CONTRIBUTION
                                            : cs::MeansTestResult::NOT_ELIGIBLE;
      // Drawn before the event is added, as when it was drawn inside it.
      uint32_t contribution =
          result == cs::MeansTestResult::CONTRIBUTION ? static_cast<uint32_t>(rng.Range(5, 80)) * 10000 : 0;
      NewEvent& m = w.Add(means, "MeansTestCompleted", Facts([&](cs::Facts::Builder f) {
        auto x = f.initMeansTestCompleted();
        x.setCompletedOn(S(means));
        x.setLine(1);
        x.setResult(result);
        x.setContributionPence(contribution);
      }), "finance");
      m.personal.push_back(Section(client.id, [&](cs::Personal::Builder pb) {
        pb.setFreeText(result == cs::MeansTestResult::PASSPORTED ? "Receives Pension Credit."
                                                                 : "Income from state pension.");
      }));
      plan(means, counted);
      Date specified = step(means, 10, 60);
      uint32_t estimate = static_cast<uint32_t>(rng.Range(2000, 28000)) * 100;
      bool over_cap = rng.Chance(0.06);
      if (over_cap) estimate = 3000000 + static_cast<uint32_t>(rng.Range(500, 12000)) * 100;
      w.Add(specified, "WorksSpecified", Facts([&](cs::Facts::Builder f) {
        auto x = f.initWorksSpecified();
        x.setSpecifiedOn(S(specified));
        x.setLine(1);
        auto codes = x.initWorkCodes(static_cast<unsigned>(rng.Range(1, 2)));
        for (unsigned i = 0; i < codes.size(); ++i) codes.set(i, rng.Pick(kWorkDfg));
        x.setEstimatePence(estimate);
      }), "technicalOfficer");
      Date quoted = step(specified, 10, 30);
      const char* chosen = rng.Pick(kContractors);
      int quotes = rng.Range(2, 3);
      for (int q = 0; q < quotes; ++q) {
        w.Add(quoted, "QuoteReceived", Facts([&](cs::Facts::Builder f) {
          auto x = f.initQuoteReceived();
          x.setReceivedOn(S(quoted));
          x.setLine(1);
          x.setContractorRef(q == 0 ? chosen : rng.Pick(kContractors));
          x.setAmountPence(q == 0 ? estimate : estimate + static_cast<uint32_t>(rng.Range(1, 40)) * 5000);
        }), "technicalOfficer");
      }
      Date applied = step(quoted, 0, 20);
      w.Add(applied, "GrantApplicationMade", Facts([&](cs::Facts::Builder f) {
        auto x = f.initGrantApplicationMade();
        x.setSubmittedOn(S(applied));
        x.setLine(1);
        x.setGrantType(cs::GrantType::MANDATORY_DFG);
        x.setValidOn(S(applied));
        x.setRequestedPence(estimate);
      }));
      Date decided = step(applied, 10, 60);
      if (spec.uncounted || result == cs::MeansTestResult::NOT_ELIGIBLE || rng.Chance(0.03)) {
        w.Add(decided, "GrantRefused", Facts([&](cs::Facts::Builder f) {
          auto x = f.initGrantRefused();
          x.setRefusedOn(S(decided));
          x.setLine(1);
          x.setGrantType(cs::GrantType::MANDATORY_DFG);
          x.initReasons(1).set(0, result == cs::MeansTestResult::NOT_ELIGIBLE
                                      ? cs::RefusalReason::OVER_MEANS_TEST
                                      : cs::RefusalReason::NOT_REASONABLE_AND_PRACTICABLE);
          x.setAppealRightsGiven(true);
          x.setAppealBy(S(decided + days{56}));
        }), "manager");
        close_line(decided, cs::ElementResult::REFUSED);
        close_case(after(decided, 60, 70), cs::ClosureReason::INELIGIBLE);
        break;
      }
      w.Add(decided, "EligibilityDecided", Facts([&](cs::Facts::Builder f) {
        auto x = f.initEligibilityDecided();
        x.setDecidedOn(S(decided));
        x.setLine(1);
        x.setEligible(true);
      }), "manager");
      uint32_t top_up = over_cap ? estimate - 3000000 : 0;
      // A variation: a tenth of the estimate to the pound, when the approval
      // less it stays on the same side of the land charge's £5,000.
      if (vary_draw && !over_cap) {
        uint32_t v = estimate / 1000 * 100;
        if (v > 0 && (estimate < kLandChargeFromPence || estimate - v >= kLandChargeFromPence)) {
          variation_on = decided;
          variation_pence = v;
        }
      }
      w.Add(decided, "GrantApproved", Facts([&](cs::Facts::Builder f) {
        auto x = f.initGrantApproved();
        x.setApprovedOn(S(decided));
        x.setLine(1);
        x.setGrantType(cs::GrantType::MANDATORY_DFG);
        x.setAmountPence(estimate - variation_pence);
        x.setClientContributionPence(std::min(contribution, estimate));
        x.setDiscretionaryTopUpPence(top_up);
        x.setFundingSource(cs::FundingSource::MANDATORY_DFG);
        x.setRationaleCode(over_cap ? "policyTopUp" : "lowestQuote");
      }), "manager");
      if (over_cap) {
        w.Add(decided, "FundingDecided", Facts([&](cs::Facts::Builder f) {
          auto x = f.initFundingDecided();
          x.setDecidedOn(S(decided));
          x.setLine(1);
          x.setSource(cs::FundingSource::DISCRETIONARY);
          x.setAmountPence(top_up);
          x.setRationaleCode("discretionaryPolicyTopUp");
        }), "manager");
      }
      Date chose = step(decided, 5, 20);
      // An urgent case's works may start before approval once the authority
      // has agreed (an exemption recorded at the application): the
      // contractor is chosen that day and starts within three days.
      Date chose_on = chose;
      Date started_early{};
      if (exempt_draw && urgent && applied < decided) {
        exemption_on = applied;
        chose_on = applied;
        started_early = std::min(w.W(applied + days{order.Range(1, 3)}), decided);
      }
      w.Add(chose_on, "ContractorChosen", Facts([&](cs::Facts::Builder f) {
        auto x = f.initContractorChosen();
        x.setChosenOn(S(chose_on));
        x.setLine(1);
        x.setContractorRef(chosen);
        x.setAmountPence(estimate);
        x.setReasonCode(rng.Chance(0.85) ? "lowestQuote" : "clientChoice");
      }), "technicalOfficer");
      disclose(chose_on, cs::RecipientType::CONTRACTOR, chosen, "works");
      Date started = step(chose, 10, 60);
      if (rng.Chance(0.25)) {
        cs::DelayReason reason = tenure != cs::Tenure::OWNER_OCCUPIER && rng.Chance(0.5)
                                     ? cs::DelayReason::AWAITING_LANDLORD_CONSENT
                                     : rng.Chance(0.5) ? cs::DelayReason::AWAITING_CONTRACTOR
                                                       : cs::DelayReason::CLIENT_IN_HOSPITAL;
        int extra = rng.Range(20, 80);
        w.Add(chose, "DelayRecorded", Facts([&](cs::Facts::Builder f) {
          auto x = f.initDelayRecorded();
          x.setRecordedOn(S(chose));
          x.setLine(1);
          x.setStage(cs::Stage::APPROVAL);
          x.setReason(reason);
          x.setExpectedUntil(S(started + days{extra}));
        }), "technicalOfficer");
        started = w.W(started + days{extra});
      }
      Date completed = step(started, 3, 40);
      works_done(exemption_on ? started_early : started, completed, estimate, true, step(completed, 5, 30),
                 chosen);
      if (tenure == cs::Tenure::OWNER_OCCUPIER && estimate >= kLandChargeFromPence) {
        // DFG conditions: the grant over £5,000, at most £10,000, is
        // repayable on a sale within 10 years of the certified completion.
        charge_on = w.W(completed + days{10});
        charge_pence = std::min(estimate - kLandChargeFromPence, kLandChargeMaxPence);
      }
      std::vector<cs::Outcome> achieved = {cs::Outcome::PROMOTE_INDEPENDENT_LIVING,
                                           cs::Outcome::REMAIN_AT_HOME};
      if (rng.Chance(0.4)) achieved.push_back(cs::Outcome::REDUCE_OR_PREVENT_FALL);
      if (rng.Chance(0.2)) achieved.push_back(cs::Outcome::DELAY_CARE_PACKAGE);
      if (has_carer && rng.Chance(0.5)) achieved.push_back(cs::Outcome::REDUCE_PRESSURE_ON_CARERS);
      if (referrer == cs::ReferrerType::HOSPITAL) achieved.push_back(cs::Outcome::TIMELY_HOSPITAL_DISCHARGE);
      if (rng.Chance(0.1)) achieved.push_back(cs::Outcome::PREVENT_UNPLANNED_ADMISSION);
      outcomes(completed, achieved);
      satisfaction(completed, after(completed, 5, 30), 0.6);
      close_line(completed, cs::ElementResult::DELIVERED);
      close_case(after(completed, 35, 60), cs::ClosureReason::SERVICES_COMPLETED);
      break;
    }
  }

  // --- across the case: notes, consents, complaints, compliments, ... ---
  Date last = std::min(end, year_end);
  int window = std::max(0, static_cast<int>((last - d0).count()));
  auto when = [&] { return w.W(d0 + days{rng.Range(0, window)}); };
  auto inside = [&](Date d) { return d <= last; };
  int notes = rng.Range(1, 3);
  for (int i = 0; i < notes; ++i) {
    Date on = when();
    if (!inside(on)) continue;
    bool mentions = has_carer && rng.Chance(0.3);
    NewEvent& e = w.Add(on, "CaseNoteAdded", Facts([&](cs::Facts::Builder f) {
      auto n = f.initCaseNoteAdded();
      n.setWrittenOn(S(on));
      n.setAuthorRef(staff);
      n.setCategory(static_cast<cs::NoteCategory>(rng.Range(1, 4)));
      n.setMentionsThirdParty(mentions);
    }));
    e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
      b.setFreeText(mentions ? "Spoke with " + carer_name + ", who cares for the client and asked to be "
                                   "kept informed of visit dates."
                             : std::string(rng.Pick(kNotes)));
    }));
  }
  bool monitoring_consent = false;  // identifiable monitoring consent active at the end
  if (rng.Chance(0.15)) {
    Date given = when();
    if (inside(given)) {
      monitoring_consent = true;
      w.Add(given, "ConsentGiven", Facts([&](cs::Facts::Builder f) {
        auto c = f.initConsentGiven();
        c.setGivenOn(S(given));
        c.setScope(cs::ConsentScope::IDENTIFIABLE_MONITORING);
        c.setMethod(cs::ConsentMethod::WRITTEN);
      }));
      if (rng.Chance(0.2)) {
        Date withdrawn = w.W(given + days{rng.Range(1, 60)});
        if (inside(withdrawn)) {
          monitoring_consent = false;
          w.Add(withdrawn, "ConsentWithdrawn", Facts([&](cs::Facts::Builder f) {
            auto c = f.initConsentWithdrawn();
            c.setWithdrawnOn(S(withdrawn));
            c.setScope(cs::ConsentScope::IDENTIFIABLE_MONITORING);
          }));
        }
      }
    }
  }
  if (share_with_referrer && rng.Chance(0.04)) {
    Date on = w.W(d0 + days{rng.Range(7, std::max(7, window))});
    if (inside(on)) {
      w.Add(on, "ConsentWithdrawn", Facts([&](cs::Facts::Builder f) {
        auto c = f.initConsentWithdrawn();
        c.setWithdrawnOn(S(on));
        c.setScope(cs::ConsentScope::SHARE_WITH_REFERRER);
      }));
    }
  }
  if (has_carer && rng.Chance(0.05)) {
    Date on = when();
    if (inside(on) && on >= reg) {
      NewEvent& e = w.Add(on, "ConsentWithdrawn", Facts([&](cs::Facts::Builder f) {
        auto c = f.initConsentWithdrawn();
        c.setWithdrawnOn(S(on));
        c.setScope(cs::ConsentScope::INVOLVE_NAMED_PERSON);
        c.setNamedPerson(carer_id);
      }));
      e.subjects.push_back(SubjectRef{carer_id, SubjectRole::kCarer});
    }
  }
  if (rng.Chance(spec.kind == Kind::kDfg ? 0.05 : 0.012)) {
    Date received = when();
    if (inside(received)) {
      cs::ComplaintStage stage = rng.Chance(0.85) ? cs::ComplaintStage::STAGE1 : cs::ComplaintStage::INFORMAL;
      NewEvent& e = w.Add(received, "ComplaintReceived", Facts([&](cs::Facts::Builder f) {
        auto c = f.initComplaintReceived();
        c.setReceivedOn(S(received));
        c.setComplaint(1);
        c.setStage(stage);
        c.setChannel(rng.Chance(0.5) ? cs::Channel::EMAIL : cs::Channel::LETTER);
        c.setCategoryCode(rng.Chance(0.6) ? "delay" : rng.Chance(0.5) ? "contractor" : "staff");
      }));
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText("Unhappy with how long this is taking.");
      }));
      Date resolved = w.W(received + days{rng.Range(3, 40)});
      if (inside(resolved)) {
        uint32_t r = rng.Below(100);
        // One in ten complainants is not satisfied with the answer and takes
        // the complaint on: to stage 2 (from a stream of its own, so that the
        // case's other events are those of earlier versions), and one in four
        // of those on to the Ombudsman.
        bool escalate = rng.Chance(0.1);
        w.Add(resolved, "ComplaintResolved", Facts([&](cs::Facts::Builder f) {
          auto c = f.initComplaintResolved();
          c.setResolvedOn(S(resolved));
          c.setComplaint(1);
          c.setStage(stage);
          c.setResult(escalate ? cs::ComplaintResult::NOT_UPHELD
                      : r < 30 ? cs::ComplaintResult::UPHELD
                      : r < 60 ? cs::ComplaintResult::PARTLY_UPHELD
                               : cs::ComplaintResult::NOT_UPHELD);
        }), "manager");
        Rng next(Mix(HashText(g.case_id, seed) ^ 0x6573'6361'6c61'7465ull));
        Date at = resolved;
        for (cs::ComplaintStage to : {cs::ComplaintStage::STAGE2, cs::ComplaintStage::OMBUDSMAN}) {
          if (!escalate) break;
          Date asked = w.W(at + days{next.Range(3, 25)});
          if (!inside(asked)) break;
          NewEvent& x = w.Add(asked, "ComplaintEscalated", Facts([&](cs::Facts::Builder f) {
            auto c = f.initComplaintEscalated();
            c.setEscalatedOn(S(asked));
            c.setComplaint(1);
            c.setToStage(to);
          }), "manager", &next);
          x.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
            b.setFreeText(to == cs::ComplaintStage::STAGE2 ? "The answer did not deal with the delay."
                                                           : "I have asked the Ombudsman to look at this.");
          }));
          // Stage 2 is answered within about 20 working days (a few late); the
          // Ombudsman's decision takes months.
          Date answered = w.W(asked + days{to == cs::ComplaintStage::STAGE2 ? next.Range(10, 35) : next.Range(60, 150)});
          if (!inside(answered)) break;
          bool upheld = next.Chance(0.3);
          w.Add(answered, "ComplaintResolved", Facts([&](cs::Facts::Builder f) {
            auto c = f.initComplaintResolved();
            c.setResolvedOn(S(answered));
            c.setComplaint(1);
            c.setStage(to);
            c.setResult(upheld ? cs::ComplaintResult::PARTLY_UPHELD : cs::ComplaintResult::NOT_UPHELD);
          }), "manager", &next);
          at = answered;
          escalate = !upheld && next.Chance(0.25);
        }
      }
    }
  }
  if (spec.kind != Kind::kOther && rng.Chance(0.05)) {
    Date on = when();
    if (inside(on)) {
      NewEvent& e = w.Add(on, "ComplimentReceived", Facts([&](cs::Facts::Builder f) {
        auto c = f.initComplimentReceived();
        c.setReceivedOn(S(on));
        c.setChannel(cs::Channel::LETTER);
        c.setAboutService(counted);
      }));
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText("Thank you all so much, it has made such a difference.");
      }));
    }
  }
  if (rng.Chance(0.008)) {
    Date on = when();
    if (inside(on)) {
      NewEvent& e = w.Add(on, "SafeguardingConcernRaised", Facts([&](cs::Facts::Builder f) {
        auto s = f.initSafeguardingConcernRaised();
        s.setRaisedOn(S(on));
        s.setCategory(rng.Chance(0.5) ? cs::SafeguardingCategory::FINANCIAL
                                      : cs::SafeguardingCategory::SELF_NEGLECT);
        bool referred = rng.Chance(0.7);
        s.setReferredToSocialCare(referred);
        s.setPersonType(cs::SafeguardingPersonType::ADULT);
        s.setConcern(++concerns);
        if (referred) {
          s.setReferredTo(cs::SafeguardingAgency::ADULT_SOCIAL_CARE);
          s.setReferredOn(S(on));
          referred_concerns.emplace_back(concerns, on);
        }
      }));
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText("Concern noted on the visit; passed to the safeguarding lead.");
      }));
    }
  }
  if (rng.Chance(0.01)) {
    Date on = when();
    if (inside(on)) {
      w.Add(on, "CaseTransferred", Facts([&](cs::Facts::Builder f) {
        auto t = f.initCaseTransferred();
        t.setTransferredOn(S(on));
        t.setFromTeam(spec.code + "-north");
        t.setToTeam(spec.code + "-south");
        t.setReasonCode("workload");
      }), "manager");
    }
  }
  if (rng.Chance(0.01)) {
    Date on = when();
    if (inside(on) && on >= reg) {
      char phone[24];
      std::snprintf(phone, sizeof phone, "07700 900%03u", rng.Below(1000));
      NewEvent& e = w.Add(on, "PersonDetailsRectified", Facts([&](cs::Facts::Builder f) {
        auto r = f.initPersonDetailsRectified();
        r.setRectifiedOn(S(on));
        r.initFields(1).set(0, "phone");
        r.setRequestedBySubject(true);
      }), "admin");
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) { b.setPhone(phone); }));
    }
  }
  if (rng.Chance(0.03)) {
    Date on = when();
    if (inside(on)) disclose(on, cs::RecipientType::GP, "ORG-GP", "healthInformation");
  }

  if (exemption_on) {
    Date on = *exemption_on;
    w.Add(on, "UrgentWorksExemptionRecorded", Facts([&](cs::Facts::Builder f) {
      auto x = f.initUrgentWorksExemptionRecorded();
      x.setRecordedOn(S(on));
      x.setLine(1);
      x.setReasonCode(spec.number % 2 == 0 ? "hospitalDischarge" : "imminentRisk");
      x.setAuthorisedByRole("manager");
    }), "manager");
  }
  if (variation_on) {
    Date on = *variation_on;
    w.Add(on, "GrantVariationApproved", Facts([&](cs::Facts::Builder f) {
      auto x = f.initGrantVariationApproved();
      x.setApprovedOn(S(on));
      x.setLine(1);
      x.setAmountPence(static_cast<int32_t>(variation_pence));
      x.setReasonCode("contingency");
    }), "manager");
  }
  if (charge_on) {
    Date on = *charge_on;
    w.Add(on, "LandChargeRegistered", Facts([&](cs::Facts::Builder f) {
      auto c = f.initLandChargeRegistered();
      c.setRegisteredOn(S(on));
      c.setLine(1);
      c.setAmountPence(charge_pence);
      c.setRegisterRef("LLC-" + spec.code + "-" + g.case_id.substr(g.case_id.rfind('/') + 1));
    }), "finance");
  }

  // --- onward referrals and signposting (issue 17.3), from a random stream
  // of their own: made during the casework, their outcome recorded later
  // (on the closed case too).
  {
    Rng onward(Mix(HashText(g.case_id, seed) ^ 0x6f6e'7761'7264'7265ull));
    double chance = spec.kind == Kind::kOther ? 0.3 : 0.1;
    using D = cs::OnwardDestination;
    static const D kDestinations[] = {D::FALLS_PREVENTION, D::BENEFITS_ADVICE, D::ENERGY_EFFICIENCY,
                                      D::COMMUNITY_EQUIPMENT, D::EQUITY_RELEASE_AND_LOANS,
                                      D::FIRE_SAFETY_CHECK, D::OCCUPATIONAL_THERAPY, D::SOCIAL_CARE,
                                      D::HOUSING_OPTIONS, D::CARERS_SUPPORT, D::DEBT_ADVICE,
                                      D::TELECARE, D::HEALTH_SERVICE};
    uint16_t made = 0;
    while (made < 2 && onward.Chance(made == 0 ? chance : 0.3)) {
      Date on = w.W(d0 + days{onward.Range(0, window)});
      if (!inside(on)) break;
      ++made;
      D destination = onward.Pick(kDestinations);
      if (destination == D::CARERS_SUPPORT && !has_carer) destination = D::BENEFITS_ADVICE;
      bool signposted = onward.Chance(0.35);
      bool confirmed = onward.Chance(0.7);
      Date confirmed_on = std::min(w.W(on + days{onward.Range(0, 3)}), last);
      if (confirmed_on < on) confirmed_on = on;
      bool letter = onward.Chance(0.6);
      NewEvent& e = w.Add(on, "OnwardReferralMade", Facts([&](cs::Facts::Builder f) {
        auto r = f.initOnwardReferralMade();
        r.setReferredOn(S(on));
        r.setReferral(made);
        r.setDestination(destination);
        auto name = capnp::Schema::from<D>().getEnumerants()[static_cast<uint16_t>(destination)].getProto().getName();
        r.setOrganisationRef("ORG-" + spec.code + "-" + std::string(name.cStr()));
        r.setSignposted(signposted);
        if (!signposted) {
          auto given = r.initConsentBasis().initGiven();
          given.setGivenOn(S(on));
          given.setMethod(cs::ConsentMethod::VERBAL);
          given.initScopes(1).set(0, cs::ConsentScope::REFER_ON);
        }
        if (confirmed) {
          r.setConfirmedInWritingOn(S(confirmed_on));
          r.setConfirmationChannel(letter ? cs::Channel::LETTER : cs::Channel::EMAIL);
        }
      }));
      if (!signposted) {
        e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
          b.setFreeText("Agreed to be referred; contact details and the reason passed on.");
        }));
      }
      if (onward.Chance(0.6)) {
        Date outcome_on = w.W(on + days{onward.Range(10, 45)});
        uint32_t r = onward.Below(100);
        cs::OnwardReferralOutcome outcome =
            signposted ? (r < 60 ? cs::OnwardReferralOutcome::SERVICE_PROVIDED : cs::OnwardReferralOutcome::NO_RESPONSE)
            : r < 45   ? cs::OnwardReferralOutcome::SERVICE_PROVIDED
            : r < 75   ? cs::OnwardReferralOutcome::ACCEPTED
            : r < 85   ? cs::OnwardReferralOutcome::DECLINED_BY_SERVICE
            : r < 93   ? cs::OnwardReferralOutcome::DECLINED_BY_PERSON
                       : cs::OnwardReferralOutcome::NO_RESPONSE;
        uint16_t number = made;
        w.Add(outcome_on, "OnwardReferralOutcomeRecorded", Facts([&](cs::Facts::Builder f) {
          auto x = f.initOnwardReferralOutcomeRecorded();
          x.setRecordedOn(S(outcome_on));
          x.setReferral(number);
          x.setOutcome(outcome);
        }), "admin");
      }
    }
  }

  // --- consent to share health information and to act on the person's
  // behalf (issue 17.4), and disclosures resting on it; from a stream of
  // their own.
  bool health_consent = false;  // active at the end of the casework
  {
    Rng consent(Mix(HashText(g.case_id, seed) ^ 0x636f'6e73'656e'7473ull));
    if (consent.Chance(0.06)) {
      Date given = w.W(d0 + days{consent.Range(0, window)});
      if (inside(given)) {
        bool act = consent.Chance(0.5);
        health_consent = !act;
        w.Add(given, "ConsentGiven", Facts([&](cs::Facts::Builder f) {
          auto c = f.initConsentGiven();
          c.setGivenOn(S(given));
          c.setScope(act ? cs::ConsentScope::ACT_ON_MY_BEHALF : cs::ConsentScope::SHARE_HEALTH_INFORMATION);
          c.setMethod(consent.Chance(0.7) ? cs::ConsentMethod::WRITTEN : cs::ConsentMethod::VERBAL);
        }));
        Date shared = w.W(given + days{consent.Range(0, 10)});
        if (inside(shared)) {
          w.Add(shared, "PersonalDataDisclosed", Facts([&](cs::Facts::Builder f) {
            auto d = f.initPersonalDataDisclosed();
            d.setDisclosedOn(S(shared));
            d.setRecipientType(act ? cs::RecipientType::OTHER : cs::RecipientType::GP);
            d.setRecipientRef(act ? "ORG-DWP" : "ORG-GP");
            d.setPurposeCode(act ? "actOnBehalf" : "healthInformation");
            d.setLawfulBasis(cs::LawfulBasis::CONSENT);
            d.setConsentScope(act ? cs::ConsentScope::ACT_ON_MY_BEHALF : cs::ConsentScope::SHARE_HEALTH_INFORMATION);
            auto c = d.initCategories(act ? 2 : 1);
            if (act) {
              c.set(0, "contact");
              c.set(1, "income");
            } else {
              c.set(0, "health");
            }
          }));
        }
      }
    }
  }

  // --- after the closure: what people have a right to, recorded on the
  // closed case without reopening it (issue 17.1). Drawn from a stream of
  // its own, so that the events before it are those of earlier versions.
  {
    std::optional<Date> closed_on;
    bool complained = false;
    for (const auto& d : w.events()) {
      if (d.event.type == "CaseClosed") closed_on = d.date;
      if (d.event.type == "ComplaintReceived") complained = true;
    }
    Rng later(Mix(HashText(g.case_id, seed) ^ 0x6166'7465'7263'6c6full));
    auto after_closure = [&](int lo, int hi) { return w.W(*closed_on + days{later.Range(lo, hi)}); };
    if (closed_on && later.Chance(0.06)) {
      // The satisfaction questionnaire returned "on completion of these works".
      Date on = after_closure(7, 45);
      uint8_t score = static_cast<uint8_t>(later.Chance(0.8) ? later.Range(4, 5) : later.Range(1, 3));
      // About the case as a whole (line 0), sent once it was closed; one in
      // three of these answers comes by phone with no questionnaire sent (a
      // response, not a return).
      if (!impact.Chance(1.0 / 3)) {
        Date sent = std::min(on, w.W(*closed_on + days{impact.Range(1, 5)}));
        w.Add(sent, "QuestionnaireSent", Facts([&](cs::Facts::Builder f) {
          auto q = f.initQuestionnaireSent();
          q.setSentOn(S(sent));
          q.setLine(0);
          q.setChannel(cs::Channel::LETTER);
        }), "admin", &impact);
      }
      w.Add(on, "SatisfactionRecorded", Facts([&](cs::Facts::Builder f) {
        auto x = f.initSatisfactionRecorded();
        x.setRecordedOn(S(on));
        x.setScore(score);
        x.setWouldRecommend(score >= 4);
        x.setChannel(cs::Channel::LETTER);
      }), "admin");
    }
    if (closed_on && later.Chance(0.004)) {
      // A late concern, about a child of the household or a risk seen
      // after the works: referred the same day.
      Date on = after_closure(3, 90);
      using C = cs::SafeguardingCategory;
      static const C kChild[] = {C::CHILD_SEXUAL_EXPLOITATION, C::CHILD_CRIMINAL_EXPLOITATION, C::DOMESTIC,
                                 C::PREVENT, C::NEGLECT};
      bool child = later.Chance(0.5);
      C category = child ? later.Pick(kChild) : later.Chance(0.5) ? C::DOMESTIC : C::SELF_NEGLECT;
      cs::SafeguardingAgency agency = category == C::PREVENT || category == C::CHILD_CRIMINAL_EXPLOITATION
                                          ? cs::SafeguardingAgency::POLICE
                                      : child ? cs::SafeguardingAgency::CHILDRENS_SERVICES
                                              : cs::SafeguardingAgency::ADULT_SOCIAL_CARE;
      uint16_t number = ++concerns;
      NewEvent& e = w.Add(on, "SafeguardingConcernRaised", Facts([&](cs::Facts::Builder f) {
        auto s = f.initSafeguardingConcernRaised();
        s.setRaisedOn(S(on));
        s.setCategory(category);
        s.setPersonType(child ? cs::SafeguardingPersonType::CHILD : cs::SafeguardingPersonType::ADULT);
        s.setConcern(number);
        s.setReferredTo(agency);
        s.setReferredOn(S(on));
        s.setUrgent(later.Chance(0.3));
      }));
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText("Raised by the technician on a follow-up call; passed to the safeguarding lead.");
      }));
      referred_concerns.emplace_back(number, on);
    }
    if (closed_on && health_consent && later.Chance(0.3)) {
      Date on = after_closure(5, 60);
      w.Add(on, "ConsentWithdrawn", Facts([&](cs::Facts::Builder f) {
        auto c = f.initConsentWithdrawn();
        c.setWithdrawnOn(S(on));
        c.setScope(cs::ConsentScope::SHARE_HEALTH_INFORMATION);
      }), "admin");
    }
    if (closed_on && monitoring_consent && later.Chance(0.25)) {
      Date on = after_closure(10, 90);
      w.Add(on, "ConsentWithdrawn", Facts([&](cs::Facts::Builder f) {
        auto c = f.initConsentWithdrawn();
        c.setWithdrawnOn(S(on));
        c.setScope(cs::ConsentScope::IDENTIFIABLE_MONITORING);
      }), "admin");
    }
    if (closed_on && later.Chance(0.01)) {
      Date on = after_closure(5, 120);
      char phone[24];
      std::snprintf(phone, sizeof phone, "01632 960%03u", later.Below(1000));
      NewEvent& e = w.Add(on, "PersonDetailsRectified", Facts([&](cs::Facts::Builder f) {
        auto r = f.initPersonDetailsRectified();
        r.setRectifiedOn(S(on));
        r.initFields(1).set(0, "phone");
        r.setRequestedBySubject(true);
      }), "admin");
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) { b.setPhone(phone); }));
    }
    if (closed_on && spec.kind != Kind::kOther && later.Chance(0.01)) {
      // A complaint about the finished works.
      uint16_t number = complained ? 2 : 1;
      Date on = after_closure(20, 120);
      NewEvent& e = w.Add(on, "ComplaintReceived", Facts([&](cs::Facts::Builder f) {
        auto c = f.initComplaintReceived();
        c.setReceivedOn(S(on));
        c.setComplaint(number);
        c.setStage(cs::ComplaintStage::STAGE1);
        c.setChannel(cs::Channel::LETTER);
        c.setCategoryCode("works");
      }));
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setFreeText("The new shower tray has started to leak.");
      }));
      Date resolved = w.W(on + days{later.Range(5, 30)});
      w.Add(resolved, "ComplaintResolved", Facts([&](cs::Facts::Builder f) {
        auto c = f.initComplaintResolved();
        c.setResolvedOn(S(resolved));
        c.setComplaint(number);
        c.setStage(cs::ComplaintStage::STAGE1);
        c.setResult(later.Chance(0.5) ? cs::ComplaintResult::UPHELD : cs::ComplaintResult::PARTLY_UPHELD);
      }), "manager");
    }
  }

  // Safeguarding referrals acknowledged by the agency (most within a day or
  // two, a few never within the year: the worklist shows them) and their
  // outcome; on the closed case too. A stream of its own.
  {
    Rng sg(Mix(HashText(g.case_id, seed) ^ 0x7361'6665'6775'6172ull));
    for (const auto& [number, on] : referred_concerns) {
      if (!sg.Chance(0.92)) continue;
      Date ack = w.W(on + days{sg.Range(0, 3)});
      uint16_t n = number;
      char ref[32];
      std::snprintf(ref, sizeof ref, "SG-%s-%05u", spec.code.c_str(), sg.Below(100000));
      w.Add(ack, "SafeguardingReferralAcknowledged", Facts([&](cs::Facts::Builder f) {
        auto a = f.initSafeguardingReferralAcknowledged();
        a.setAcknowledgedOn(S(ack));
        a.setConcern(n);
        a.setAgencyRef(ref);
      }), "admin");
      if (!sg.Chance(0.7)) continue;
      Date decided = w.W(ack + days{sg.Range(10, 60)});
      uint32_t r = sg.Below(100);
      using O = cs::SafeguardingOutcome;
      O outcome = r < 30 ? O::ENQUIRY_OPENED : r < 55 ? O::SERVICES_ARRANGED : r < 75 ? O::ADVICE_AND_INFORMATION
                  : r < 80 ? O::POLICE_ACTION : O::NO_FURTHER_ACTION;
      w.Add(decided, "SafeguardingOutcomeRecorded", Facts([&](cs::Facts::Builder f) {
        auto o = f.initSafeguardingOutcomeRecorded();
        o.setRecordedOn(S(decided));
        o.setConcern(n);
        o.setOutcome(outcome);
      }));
    }
  }

  // Allocation (000 "Responsibility for files") and the follow-up of advice
  // (004 s.3), from a stream of their own and added last, so every other
  // event is as before: most cases are allocated to their caseworker on the
  // day of the enquiry or within two working days (never after the
  // closure); about one in twenty-five is reallocated when its worker moves
  // on; about one in twenty never is (the open ones await allocation in the
  // worklist). Most advice to follow up is followed up by a phone call
  // around its date, before the case closes; the rest stays due.
  {
    std::optional<Date> closed_on;
    for (const auto& d : w.events()) {
      if (d.event.type == "CaseClosed") closed_on = d.date;
    }
    Rng alloc(Mix(HashText(g.case_id, seed) ^ 0x616c'6c6f'6361'7465ull));
    auto by_closure = [&](Date d) { return closed_on && d > *closed_on ? *closed_on : d; };
    char team[24];
    std::snprintf(team, sizeof team, "T-%s", spec.code.c_str());
    auto allocate = [&](Date on, const std::string& worker, const char* reason) {
      w.Add(on, "CaseAllocated", Facts([&](cs::Facts::Builder f) {
        auto a = f.initCaseAllocated();
        a.setAllocatedOn(S(on));
        a.setWorkerRef(worker);
        a.setTeamCode(team);
        a.setRoleCode(spec.kind == Kind::kDfg ? "ot" : "caseworker");
        a.setReasonCode(reason);
      }), "teamManager");
    };
    if (!alloc.Chance(0.05)) {
      Date on = by_closure(w.W(d0 + days{alloc.Range(0, 2)}));
      allocate(on, staff, "newCase");
      Date left = w.W(on + days{alloc.Range(20, 90)});
      if (alloc.Chance(0.04) && (!closed_on || left < *closed_on)) {
        w.Add(left, "CaseDeallocated", Facts([&](cs::Facts::Builder f) {
          auto x = f.initCaseDeallocated();
          x.setDeallocatedOn(S(left));
          x.setWorkerRef(staff);
          x.setReasonCode("workerLeft");
        }), "teamManager");
        char next[24];
        std::snprintf(next, sizeof next, "S-%s-%02u", spec.code.c_str(), alloc.Below(12) + 13);
        Date again = by_closure(w.W(left + days{alloc.Range(1, 8)}));
        allocate(again, next, "workerLeft");
      }
    }
    if (follow_up && alloc.Chance(0.7)) {
      Date on = w.W(follow_up->second + days{alloc.Range(-4, 2)});
      if (on < follow_up->first) on = follow_up->first;
      on = by_closure(on);
      w.Add(on, "ContactRecorded", Facts([&](cs::Facts::Builder f) {
        auto c = f.initContactRecorded();
        c.setContactedOn(S(on));
        c.setChannel(cs::Channel::PHONE);
        c.setReferrerType(cs::ReferrerType::SELF);
        c.setPurpose(cs::ContactPurpose::FOLLOW_UP);
        c.initTopics(1).set(0, cs::Service::INFORMATION_ADVICE);
      }));
    }
  }

  // Documents (issue 17.9): for some grant approvals, the decision letter
  // as sent, rendered from the case's synthetic data and kept on the case
  // (its body sealed under the client's key) a few days later. A stream of
  // its own, so that the other events do not change.
  {
    Rng docs(Mix(HashText(g.case_id, seed) ^ 0x646f'6375'6d65'6e74ull));
    std::vector<Date> approvals;
    for (const auto& d : w.events()) {
      if (d.event.type == "GrantApproved") approvals.push_back(d.date);
    }
    for (Date approved : approvals) {
      if (!docs.Chance(0.12)) continue;
      Date on = w.W(approved + days{docs.Range(1, 5)});
      std::string letter = "Home Improvement Agency (synthetic demonstration data)\n\n" + client.given + " " +
                           client.family + "\n" + std::to_string(client.house) + " " + client.street + "\n" +
                           client.town + "\n" + client.postcode + "\n\nYour reference: " + g.case_id +
                           "\n\nDear " + client.given + " " + client.family +
                           ",\n\nYour application for a grant has been approved on " + S(approved) +
                           ". The works can now be arranged with the contractor.\n\nYou may ask for this "
                           "decision to be reviewed within 28 days.\n\nYours sincerely,\n" + w.staff() + "\n";
      std::string name = "decision-letter-" + S(approved) + ".txt";
      NewEvent& e = w.Add(on, "DocumentAttached", Facts([&](cs::Facts::Builder f) {
        auto x = f.initDocumentAttached();
        x.setAttachedOn(S(on));
        x.setKind(cs::DocumentKind::DECISION_LETTER);
        x.setSizeBytes(static_cast<uint32_t>(letter.size()));
        x.setMediaType(cs::MediaType::PLAIN_TEXT);
        x.setSubjectRef(client.id);
      }), "admin");
      std::string sha = domain::Sha256Hex(letter);
      e.personal.push_back(Section(client.id, [&](cs::Personal::Builder b) {
        b.setDocumentSha256(sha);
        b.setDocumentFileName(name);
      }));
      e.documents.push_back(DocumentBody{client.id, std::move(letter)});
    }
  }

  // Order by date (the closing event last on its day), drop what falls after
  // the year, and give every event its deterministic id.
  auto& events = w.events();
  std::stable_sort(events.begin(), events.end(), [](const Dated& a, const Dated& b) {
    return a.date != b.date ? a.date < b.date : a.seq < b.seq;
  });
  // DFG and dementia grant cases are recorded in two appends (the second is
  // checked against the stored first); the others in one.
  bool split = spec.kind == Kind::kDfg || spec.kind == Kind::kDementia;
  uint64_t case_key = HashText(g.case_id, seed);
  size_t index = 0;
  for (auto& d : events) {
    if (d.date > year_end) continue;
    Id128 id;
    uint64_t hi = Mix(seed ^ 0x6465'6d6f'6964ull), lo = Mix(case_key + index);
    for (int i = 0; i < 8; ++i) {
      id.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
      id.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0f) | 0x80);  // UUID version 8
    id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    d.event.id = id;
    (index < opening_count || !split ? g.opening : g.rest).push_back(std::move(d.event));
    ++index;
  }
  return g;
}

// InvalidArgument unless the financial year has ended and the calendar covers it.
Status CheckYear(const domain::Calendar& calendar, int first_year) {
  using namespace std::chrono;
  Date year_start = sys_days{year{first_year} / April / 1};
  Date year_end = sys_days{year{first_year + 1} / March / 31};
  std::string name = std::to_string(first_year) + "/" + std::to_string((first_year + 1) % 100);
  if (!calendar.Covers(year_start) || !calendar.Covers(year_end)) {
    return Status::InvalidArgument("year " + name + ": the bank holiday calendar covers " +
                                   std::to_string(calendar.first_year()) + " to " +
                                   std::to_string(calendar.last_year()) + " only");
  }
  if (year_end >= domain::UkDate(domain::Now())) {
    return Status::InvalidArgument("year " + name +
                                   " has not ended: its events would lie in the future");
  }
  return Status::OK();
}

}  // namespace

std::vector<DistrictVolumes> CountyVolumes() {
  return {
      {"D1", 1022, 117, 583, 5, 7, 49},   {"D2", 870, 83, 492, 1, 2, 18},
      {"D3", 878, 96, 503, 3, 15, 47},    {"D4", 1183, 93, 827, 9, 2, 31},
      {"D5", 1446, 120, 990, 40, 1, 109}, {"D6", 1260, 127, 764, 0, 19, 89},
  };
}

bool ParseFinancialYear(std::string_view text, int* first_year) {
  if (text.size() != 7 || text[4] != '/') return false;
  int y = 0, next = 0;
  for (int i = 0; i < 4; ++i) {
    if (!isdigit(static_cast<unsigned char>(text[i]))) return false;
    y = y * 10 + (text[i] - '0');
  }
  for (int i = 5; i < 7; ++i) {
    if (!isdigit(static_cast<unsigned char>(text[i]))) return false;
    next = next * 10 + (text[i] - '0');
  }
  if ((y + 1) % 100 != next) return false;
  *first_year = y;
  return true;
}

// The vetted contractors (register/contractors): every contractor a case
// may choose, vetted on 1 March before the year until a year after it, and
// one more that the county never uses, removed in the autumn when its
// insurance lapsed. Returns the number of events.
static Result<uint64_t> VetContractors(Store& store, const domain::Codec& codec, Date year_start, Date year_end) {
  using namespace std::chrono;
  Date vetted_on = year_start - days{31};
  Date expires_on = year_end + days{365};
  std::vector<NewEvent> events;
  uint64_t n = 0;
  auto add = [&](const char* type, std::string facts) {
    NewEvent e;
    e.type = type;
    e.schema_version = 1;
    uint64_t hi = Mix(0x636f'6e74'7261'6374ull), lo = Mix(uint64_t(year_start.time_since_epoch().count()) * 64 + n++);
    for (int i = 0; i < 8; ++i) {
      e.id.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
      e.id.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    e.id.bytes[6] = static_cast<uint8_t>((e.id.bytes[6] & 0x0f) | 0x80);  // UUID version 8
    e.id.bytes[8] = static_cast<uint8_t>((e.id.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    e.occurred_at = domain::StartOfDay(vetted_on) + 10LL * 3600 * 1000000LL;
    e.actor = Actor{"S-PROC-1", "manager", "demo"};
    e.facts = std::move(facts);
    events.push_back(std::move(e));
  };
  std::vector<std::string> refs(std::begin(kContractors), std::end(kContractors));
  refs.push_back("C-0809");
  for (size_t i = 0; i < refs.size(); ++i) {
    add("ContractorVetted", Facts([&](cs::Facts::Builder f) {
      auto v = f.initContractorVetted();
      v.setVettedOn(S(vetted_on));
      v.setContractorRef(refs[i]);
      auto trades = v.initTrades(2);
      trades.set(0, kWorkDfg[i % std::size(kWorkDfg)]);
      trades.set(1, kWorkDfg[(i + 3) % std::size(kWorkDfg)]);
      auto checks = v.initChecks(i % 3 == 0 ? 5 : 4);
      checks.set(0, cs::ContractorCheck::PUBLIC_LIABILITY);
      checks.set(1, cs::ContractorCheck::EMPLOYERS_LIABILITY);
      checks.set(2, cs::ContractorCheck::REFERENCES);
      checks.set(3, cs::ContractorCheck::DBS_CHECKED);
      if (i % 3 == 0) checks.set(4, cs::ContractorCheck::GAS_SAFE);
      v.setExpiresOn(S(expires_on));
    }));
  }
  Date removed_on = year_start + days{200};
  add("ContractorRemoved", Facts([&](cs::Facts::Builder f) {
    auto r = f.initContractorRemoved();
    r.setRemovedOn(S(removed_on));
    r.setContractorRef("C-0809");
    r.setReasonCode("insuranceLapsed");
  }));
  uint64_t count = events.size();
  auto r = domain::RecordContractors(store, codec, ExpectedVersion::Any(), std::move(events),
                                     domain::UkDate(domain::Now()));
  if (!r.ok()) return r.status();
  return count;
}

Result<CountyReport> GenerateCounty(domain::CaseRecorder* recorder,
                                    const domain::Calendar& calendar, const CountyOptions& options) {
  Status s = CheckYear(calendar, options.first_year);
  if (!s.ok()) return s;
  using namespace std::chrono;
  Date year_start = sys_days{year{options.first_year} / April / 1};
  Date year_end = sys_days{year{options.first_year + 1} / March / 31};
  if (options.scale == 0) return Status::InvalidArgument("scale must be at least 1");

  // Each district's cases: the counted kinds in exact numbers, a few lines
  // that Schedule B does not count (DFGs refused, minor adaptations
  // withdrawn), the rest advice and other services, shuffled by the seed;
  // one new client each. Returning clients' cases come on top (their person
  // was advised already): mostly advice again, some a second minor adaptation
  // for the same household.
  std::vector<DistrictVolumes> volumes = CountyVolumes();
  std::vector<CaseSlot> specs;
  std::vector<uint32_t> district_cases(volumes.size(), 0);  // each district's last case number
  for (size_t d = 0; d < volumes.size(); ++d) {
    const DistrictVolumes& v = volumes[d];
    uint32_t k = options.scale;
    std::vector<std::pair<Kind, bool>> kinds;  // kind, uncounted
    kinds.reserve(v.advised * k);
    kinds.insert(kinds.end(), v.dfgs * k, {Kind::kDfg, false});
    kinds.insert(kinds.end(), v.minor_adaptations * k, {Kind::kMinor, false});
    kinds.insert(kinds.end(), v.handyperson * k, {Kind::kHandyperson, false});
    kinds.insert(kinds.end(), v.repairs * k, {Kind::kRepairs, false});
    kinds.insert(kinds.end(), v.dementia_grants * k, {Kind::kDementia, false});
    kinds.insert(kinds.end(), (v.dfgs * k) / 12 + 1, {Kind::kDfg, true});
    kinds.insert(kinds.end(), (v.minor_adaptations * k) / 40 + 1, {Kind::kMinor, true});
    kinds.resize(v.advised * k, {Kind::kOther, false});
    Rng rng(Mix(options.seed) ^ HashText(v.district, options.seed));
    for (size_t i = kinds.size(); i > 1; --i) {
      std::swap(kinds[i - 1], kinds[rng.Below(static_cast<uint32_t>(i))]);
    }
    std::vector<uint32_t> new_clients, minor_households;
    uint32_t n = 0;
    auto add = [&](Kind kind, bool uncounted, uint32_t repeat_of) {
      CaseSlot s;
      s.district = static_cast<uint8_t>(d);
      s.number = ++n;
      s.kind = kind;
      s.uncounted = uncounted;
      s.repeat_of = repeat_of;
      if (repeat_of == 0) new_clients.push_back(n);
      if (repeat_of == 0 && kind == Kind::kMinor && !uncounted) minor_households.push_back(n);
      specs.push_back(std::move(s));
    };
    size_t first = specs.size();
    for (const auto& [kind, uncounted] : kinds) {
      add(kind, uncounted, 0);
      // About one advice case in thirty is followed by a returning client's
      // case (a client of an earlier case).
      if (kind == Kind::kOther && n > 50 && rng.Chance(1.0 / 30)) {
        if (!minor_households.empty() && rng.Chance(0.25)) {
          add(Kind::kMinor, false, minor_households[rng.Below(static_cast<uint32_t>(minor_households.size()))]);
        } else {
          add(Kind::kOther, false, new_clients[rng.Below(static_cast<uint32_t>(new_clients.size() - 1))]);
        }
      }
    }
    if (options.limit_cases != 0 && specs.size() - first > options.limit_cases) {
      specs.resize(first + options.limit_cases);
    }
    district_cases[d] = n;
  }
  specs.shrink_to_fit();

  auto deciding = [](const CaseSlot& spec) -> const char* {
    if (spec.uncounted) return nullptr;
    if (spec.kind == Kind::kOther) return "ConsultationHeld";
    return spec.kind == Kind::kDfg || spec.kind == Kind::kDementia ? "GrantApproved" : "WorksCompleted";
  };
  auto holds = [](const Generated& g, std::string_view type) {
    for (const auto* batch : {&g.opening, &g.rest}) {
      for (const auto& e : *batch) {
        if (e.type == type) return true;
      }
    }
    return false;
  };

  CountyReport report;
  // The contractors are vetted before any case chooses one (rule
  // `contractor-not-vetted`).
  {
    auto vetted = VetContractors(*recorder->store(), *recorder->codec(), year_start, year_end);
    if (!vetted.ok()) return vetted.status();
    report.contractors = *vetted;
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  std::atomic<uint64_t> recorded{0};
  auto worker = [&] {
    CountyReport mine;
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= specs.size() || failed.load()) break;
      CaseSlot& slot = specs[i];
      const CaseSpec spec{slot, volumes[slot.district].district};
      // A case whose counted event (its advice, for an advice case) fell
      // after the year is drawn
      // again, starting earlier, so that the year's figures are exact.
      const char* counts = deciding(slot);
      Generated g;
      for (uint32_t attempt = 0;; ++attempt) {
        g = BuildCase(spec, options.seed, year_start, year_end, calendar, attempt);
        if (counts == nullptr || holds(g, counts)) break;
        if (attempt == 100) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) {
            first_error = Status::InvalidArgument("demo: " + g.case_id + " never reaches its " + counts + " inside the year");
          }
          return;
        }
      }
      // Each slot is written by the one writer that took it, and read
      // after every writer has joined.
      slot.consulted = holds(g, "ConsultationHeld");
      slot.decided = counts != nullptr && slot.kind != Kind::kOther;
      mine.events += g.opening.size() + g.rest.size();
      mine.people += g.people;
      ++mine.cases;
      for (auto* batch : {&g.opening, &g.rest}) {
        if (batch->empty()) continue;
        auto r = recorder->Record(g.case_id, std::move(*batch));
        ++mine.appends;
        if (!r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) first_error = r.status();
          return;
        }
      }
      if (options.progress) options.progress(recorded.fetch_add(1) + 1, specs.size());
    }
    std::lock_guard<std::mutex> lock(mu);
    report.cases += mine.cases;
    report.events += mine.events;
    report.appends += mine.appends;
    report.people += mine.people;
  };
  int threads = std::max(1, options.threads);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failed.load()) return first_error;
  // The volumes, counted from what was generated as Schedule B counts them:
  // a client (district, number of the case that brought them) once each.
  // One bit a case number and district for each count of people.
  auto bits = [&] {
    std::vector<std::vector<bool>> b(volumes.size());
    for (size_t d = 0; d < volumes.size(); ++d) b[d].resize(size_t(district_cases[d]) + 1);
    return b;
  };
  std::vector<std::vector<bool>> advised = bits(), households = bits(), handyperson_people = bits();
  auto first_time = [](std::vector<std::vector<bool>>& seen, size_t district, uint32_t client) {
    auto bit = seen[district][client];
    if (bit) return false;
    bit = true;
    return true;
  };
  for (const auto& v : volumes) report.volumes.push_back(DistrictVolumes{v.district});
  for (const CaseSlot& spec : specs) {
    DistrictVolumes& v = report.volumes[spec.district];
    uint32_t client = spec.repeat_of != 0 ? spec.repeat_of : spec.number;
    if (spec.consulted && first_time(advised, spec.district, client)) ++v.advised;
    if (!spec.decided) continue;
    switch (spec.kind) {
      case Kind::kDfg: ++v.dfgs; break;
      case Kind::kMinor: if (first_time(households, spec.district, client)) ++v.minor_adaptations; break;
      case Kind::kHandyperson: if (first_time(handyperson_people, spec.district, client)) ++v.handyperson; break;
      case Kind::kRepairs: ++v.repairs; break;
      case Kind::kDementia: ++v.dementia_grants; break;
      case Kind::kOther: break;
    }
  }
  return report;
}

// Each district's allocations for the year (AllocationSet, config/allocations),
// set so that the money table is plausible: from what the year committed or
// spent by its last day, scaled by a factor per district so that most meet
// Appendix E's 95 % and two do not, rounded to the nearest £1,000.
Status AddAllocations(Store& store, const domain::Codec& codec, int first_year, CountyReport* report) {
  using namespace std::chrono;
  Date year_last = sys_days{year{first_year + 1} / March / 31};
  auto money = exports::ReadMoney(store, codec, year_last);
  if (!money.ok()) return money.status();
  static const double kFactor[] = {0.97, 1.01, 0.94, 1.08, 0.99, 1.12};  // D1..D6: share = 1 / factor
  std::vector<NewEvent> events;
  for (const auto& p : money->positions) {
    if (p.fund != "mandatoryDfg" && p.fund != "dementiaDwellingGrant") continue;
    int64_t used = p.committed_pence + p.spent_pence;
    if (used <= 0) continue;
    size_t d = p.district.size() == 2 && p.district[0] == 'D' && p.district[1] >= '1' && p.district[1] <= '6'
                   ? size_t(p.district[1] - '1')
                   : 0;
    int64_t pence = (int64_t(double(used) * kFactor[d]) + 50000) / 100000 * 100000;
    // A county scaled for benchmarks (--scale 9 and up) spends more than any
    // one allocation may hold (rule allocation-amount): the largest allowed.
    pence = std::min(pence, domain::kMaxAllocationPence);
    NewEvent e;
    e.type = "AllocationSet";
    e.schema_version = 1;
    {
      uint64_t hi = Mix(0x616c'6c6f'6361ull ^ uint64_t(first_year)), lo = HashText(p.district + "/" + p.fund, 7);
      for (int i = 0; i < 8; ++i) {
        e.id.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
        e.id.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
      }
      e.id.bytes[6] = static_cast<uint8_t>((e.id.bytes[6] & 0x0f) | 0x80);
      e.id.bytes[8] = static_cast<uint8_t>((e.id.bytes[8] & 0x3f) | 0x80);
    }
    e.occurred_at = domain::StartOfDay(sys_days{year{first_year} / March / 1}) + 10LL * 3600 * 1000000;
    e.actor = Actor{"S-FIN-1", "controller", "demo"};
    e.facts = Facts([&](cs::Facts::Builder f) {
      auto a = f.initAllocationSet();
      a.setSetOn(S(sys_days{year{first_year} / March / 1}));
      a.setDistrict(p.district);
      a.setFinancialYear(money->financial_year);
      a.setFund(p.fund == "mandatoryDfg" ? cs::GrantType::MANDATORY_DFG : cs::GrantType::DEMENTIA_DWELLING_GRANT);
      a.setAmountPence(pence);
    });
    events.push_back(std::move(e));
  }
  if (events.empty()) return Status::OK();
  auto r = domain::RecordAllocations(store, codec, ExpectedVersion::Any(), std::move(events),
                                     domain::UkDate(domain::Now()));
  if (!r.ok()) return r.status();
  report->allocations = r->last_position - r->first_position + 1;
  return Status::OK();
}

// The breach register (docs/domain.md, "The breach register"): two breaches
// of the year, after the cases and allocations so that no other figure of
// the county moves. B-1, a DFG file left on a bus in November (assessed a
// high risk, notified to the ICO within 72 hours, the person informed by
// letter), still on the worklist's list of notifications until notified;
// B-2, a letter sent to the wrong address in February, returned unopened
// (assessed unlikely, the decision not to notify recorded).
Status AddBreaches(Store& store, const domain::Codec& codec, int first_year, CountyReport* report) {
  using namespace std::chrono;
  const std::string dpo = "S-DPO-1";
  auto event = [&](const char* type, Date on, int hour, uint64_t n, std::string facts, const std::string& text) {
    NewEvent e;
    e.type = type;
    e.schema_version = 1;
    uint64_t hi = Mix(0x6272'6561'6368ull ^ uint64_t(first_year)), lo = Mix(n);
    for (int i = 0; i < 8; ++i) {
      e.id.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
      e.id.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    e.id.bytes[6] = static_cast<uint8_t>((e.id.bytes[6] & 0x0f) | 0x80);
    e.id.bytes[8] = static_cast<uint8_t>((e.id.bytes[8] & 0x3f) | 0x80);
    e.occurred_at = domain::StartOfDay(on) + int64_t(hour) * 3600 * 1000000;
    e.actor = Actor{dpo, "controller", "demo"};
    e.facts = std::move(facts);
    if (!text.empty()) {
      e.subjects.push_back(SubjectRef{dpo, SubjectRole::kStaff});
      e.personal.push_back(Section(dpo, [&](cs::Personal::Builder b) { b.setFreeText(text); }));
    }
    return e;
  };
  Date found = sys_days{year{first_year} / November / 6};
  Date sent = sys_days{year{first_year + 1} / February / 12};
  std::vector<std::pair<std::string, std::vector<NewEvent>>> breaches;
  breaches.push_back({"breach/B-1", {}});
  auto& b1 = breaches.back().second;
  b1.push_back(event("BreachRecorded", found, 10, 1, Facts([&](cs::Facts::Builder f) {
    auto r = f.initBreachRecorded();
    r.setDiscoveredOn(S(found));
    r.setBreachRef("B-1");
    r.setDiscoveredTime("09:40");
    r.setOccurredOn(S(found - days{1}));
    r.setKind(cs::BreachKind::AVAILABILITY);
    r.setCause(cs::BreachCause::LOST_OR_STOLEN_PAPERWORK);
    auto c = r.initCategories(4);
    c.set(0, cs::BreachDataCategory::IDENTITY);
    c.set(1, cs::BreachDataCategory::CONTACT);
    c.set(2, cs::BreachDataCategory::HEALTH);
    c.set(3, cs::BreachDataCategory::HOUSING);
    r.setApproxPeople(1);
    r.setApproxRecords(1);
  }), "A technical officer left a DFG file in a bag on the bus after a visit; the bus company has been asked."));
  b1.push_back(event("BreachAssessed", found, 14, 2, Facts([&](cs::Facts::Builder f) {
    auto a = f.initBreachAssessed();
    a.setAssessedOn(S(found));
    a.setRisk(cs::BreachRisk::HIGH_RISK);
    a.setAssessorRef(dpo);
  }), "The file holds the OT assessment and health details: a high risk to the client."));
  b1.push_back(event("BreachNotifiedToIco", found + days{2}, 11, 3, Facts([&](cs::Facts::Builder f) {
    auto n = f.initBreachNotifiedToIco();
    n.setNotifiedOn(S(found + days{2}));
    n.setIcoReference("IC-" + std::to_string(100000 + first_year % 1000 * 37));
  }), ""));
  b1.push_back(event("BreachPeopleInformed", found + days{2}, 15, 4, Facts([&](cs::Facts::Builder f) {
    auto p = f.initBreachPeopleInformed();
    p.setDecidedOn(S(found + days{2}));
    p.setInformed(true);
    p.setChannel(cs::Channel::LETTER);
    p.setPeopleInformed(1);
  }), ""));
  breaches.push_back({"breach/B-2", {}});
  auto& b2 = breaches.back().second;
  b2.push_back(event("BreachRecorded", sent, 12, 5, Facts([&](cs::Facts::Builder f) {
    auto r = f.initBreachRecorded();
    r.setDiscoveredOn(S(sent));
    r.setBreachRef("B-2");
    r.setKind(cs::BreachKind::CONFIDENTIALITY);
    r.setCause(cs::BreachCause::SENT_TO_WRONG_RECIPIENT);
    auto c = r.initCategories(1);
    c.set(0, cs::BreachDataCategory::CONTACT);
    r.setApproxPeople(1);
    r.setApproxRecords(1);
    r.setContained(true);
  }), "A first-visit letter went to the house next door; the neighbour returned it unopened the same day."));
  b2.push_back(event("BreachAssessed", sent, 15, 6, Facts([&](cs::Facts::Builder f) {
    auto a = f.initBreachAssessed();
    a.setAssessedOn(S(sent));
    a.setRisk(cs::BreachRisk::UNLIKELY);
    a.setAssessorRef(dpo);
  }), "Returned unopened within hours: unlikely to result in a risk."));
  b2.push_back(event("BreachNotNotified", sent, 16, 7, Facts([&](cs::Facts::Builder f) {
    auto n = f.initBreachNotNotified();
    n.setDecidedOn(S(sent));
    n.setReasonCode("recoveredUnread");
  }), ""));
  for (auto& [stream, events] : breaches) {
    size_t n = events.size();
    auto r = domain::RecordBreach(store, codec, stream, ExpectedVersion::Any(), std::move(events),
                                  domain::UkDate(domain::Now()));
    if (!r.ok()) return r.status();
    report->breaches += n;
  }
  return Status::OK();
}

// Complaints with no case (complaint/K-<n>; docs/domain.md "Complaints"):
// a neighbour about a contractor's van, a member of the public turned away,
// someone who waited for a call back. Two to four a district a year, from a
// stream of their own: most answered at stage 1 within the 10 working days,
// some late, one in five taken to stage 2; the last of the year may still
// be awaiting its answer (the worklist lists it).
Status AddComplaintsWithoutCase(Store& store, const domain::Codec& codec, uint64_t seed, int first_year,
                                CountyReport* report) {
  using namespace std::chrono;
  Date year_start = sys_days{year{first_year} / April / 1};
  Date year_end = sys_days{year{first_year + 1} / March / 31};
  Date today = domain::UkDate(domain::Now());
  Rng rng(Mix(seed ^ 0x6b2d'636f'6d70'6c61ull ^ uint64_t(first_year)));
  static const char* kCategories[] = {"contractorConduct", "serviceAccess", "noCallBack", "eligibility"};
  static const char* kWords[] = {"The contractor's van blocked my drive all week.",
                                 "I was told the service could not help me without being told why.",
                                 "Nobody called me back after I rang three times.",
                                 "I do not understand why my mother is not eligible."};
  uint64_t n = 0, id_counter = 0;
  const auto volumes = CountyVolumes();
  for (size_t d = 0; d < volumes.size(); ++d) {
    const std::string& district = volumes[d].district;
    uint32_t count = 2 + rng.Below(3);
    for (uint32_t k = 0; k < count; ++k) {
      Date received = year_start + days{rng.Range(0, 330)};
      if (received > today) continue;
      std::string stream = std::string(domain::kComplaintStreamPrefix) + "K-" + std::to_string(n + 1);
      Person complainant = MakePerson(seed ^ 0x6b6bull, PersonId(district, 900 + k, "-K"), int(d), year_start, false);
      uint32_t what = rng.Below(4);
      std::vector<NewEvent> events;
      auto event = [&](const char* type, Date on, std::string facts, const char* text) {
        NewEvent e;
        e.type = type;
        e.schema_version = 1;
        uint64_t hi = Mix(0x636f'6d70'6c61'696eull ^ uint64_t(first_year) ^ seed), lo = Mix(++id_counter);
        for (int i = 0; i < 8; ++i) {
          e.id.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
          e.id.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
        }
        e.id.bytes[6] = static_cast<uint8_t>((e.id.bytes[6] & 0x0f) | 0x80);
        e.id.bytes[8] = static_cast<uint8_t>((e.id.bytes[8] & 0x3f) | 0x80);
        e.occurred_at = domain::StartOfDay(on) + (9LL * 3600 + rng.Range(0, 8 * 3600 - 1)) * 1000000LL;
        e.actor = Actor{"S-" + district + "-CO", "complaintsOfficer", "demo"};
        e.facts = std::move(facts);
        e.subjects.push_back(SubjectRef{complainant.id, SubjectRole::kOther});
        if (text != nullptr) {
          e.personal.push_back(Section(complainant.id, [&](cs::Personal::Builder b) {
            b.setGivenName(complainant.given);
            b.setFamilyName(complainant.family);
            b.setFreeText(text);
          }));
        }
        return e;
      };
      cs::ComplaintStage stage = rng.Chance(0.7) ? cs::ComplaintStage::STAGE1 : cs::ComplaintStage::INFORMAL;
      events.push_back(event("ComplaintReceived", received, Facts([&](cs::Facts::Builder f) {
        auto c = f.initComplaintReceived();
        c.setReceivedOn(S(received));
        c.setComplaint(1);
        c.setStage(stage);
        c.setChannel(rng.Chance(0.5) ? cs::Channel::EMAIL : cs::Channel::PHONE);
        c.setCategoryCode(kCategories[what]);
        c.setDistrict(district);
      }), kWords[what]));
      Date answered = received + days{rng.Chance(0.8) ? rng.Range(3, 14) : rng.Range(15, 30)};
      if (answered <= today && answered <= year_end) {
        bool escalate = rng.Chance(0.2);
        events.push_back(event("ComplaintResolved", answered, Facts([&](cs::Facts::Builder f) {
          auto c = f.initComplaintResolved();
          c.setResolvedOn(S(answered));
          c.setComplaint(1);
          c.setStage(stage);
          c.setResult(escalate ? cs::ComplaintResult::NOT_UPHELD
                               : rng.Chance(0.4) ? cs::ComplaintResult::UPHELD : cs::ComplaintResult::NOT_UPHELD);
        }), nullptr));
        Date asked = answered + days{rng.Range(2, 20)};
        if (escalate && asked <= today && asked <= year_end) {
          events.push_back(event("ComplaintEscalated", asked, Facts([&](cs::Facts::Builder f) {
            auto c = f.initComplaintEscalated();
            c.setEscalatedOn(S(asked));
            c.setComplaint(1);
            c.setToStage(cs::ComplaintStage::STAGE2);
          }), "I am not satisfied with the answer."));
          Date second = asked + days{rng.Range(14, 40)};
          if (second <= today && second <= year_end) {
            events.push_back(event("ComplaintResolved", second, Facts([&](cs::Facts::Builder f) {
              auto c = f.initComplaintResolved();
              c.setResolvedOn(S(second));
              c.setComplaint(1);
              c.setStage(cs::ComplaintStage::STAGE2);
              c.setResult(cs::ComplaintResult::PARTLY_UPHELD);
            }), nullptr));
          }
        }
      }
      size_t written = events.size();
      auto r = domain::RecordComplaint(store, codec, stream, ExpectedVersion::NoStream(), std::move(events), today);
      if (!r.ok()) return r.status();
      report->complaints_without_case += written;
      ++n;
    }
  }
  return Status::OK();
}

Result<CountyReport> GenerateCountyStore(const std::string& path, const KeySource& key,
                                         const CountyOptions& options) {
  // Refuse a bad year before a store is created for it.
  domain::Calendar calendar = domain::Calendar::EnglandAndWales();
  Status s = CheckYear(calendar, options.first_year);
  if (!s.ok()) return s;
  if (options.scale == 0) return Status::InvalidArgument("scale must be at least 1");
  Options o;
  o.create_if_missing = true;
  o.key = key;
  o.sync = false;  // a bulk import that can be redone
  // The load reads back only the cases it has just written (each case's
  // second append validates against its first), from the memtables: a
  // quarter of the usual block cache is plenty, and the load stays within
  // 300 MiB at 10 million events (issue 22 item 3). The fold below has the
  // usual cache for its point reads of states.
  o.block_cache_bytes = 16ull << 20;
  auto store = Store::Open(o, path);
  if (!store.ok()) return store.status();
  auto info = (*store)->Info();
  if (!info.ok()) return info.status();
  // Empty, or holding only the record of processing (`hearth init` sets it).
  for (uint64_t from = 1; from <= info->last_position;) {
    auto page = (*store)->ReadAll(from, 64);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const auto& e : *page) {
      if (e.stream != "config/processing") {
        return Status::InvalidArgument("store " + path + " already holds " +
                                       std::to_string(info->last_position) +
                                       " events: the demo county needs a store without cases");
      }
    }
    from = page->back().position + 1;
  }
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  CountyReport report;
  {
    domain::CaseRecorder recorder(store->get(), codec->get(), domain::RecorderOptions{});
    auto generated = GenerateCounty(&recorder, calendar, options);
    if (!generated.ok()) return generated;
    report = std::move(*generated);
  }
  // The cases were written without the read models' projections, which
  // would compete with the bulk load for the cores. Fold them now: the
  // allocations are set from the year's money, which then reads the cases
  // projection's dated facts one case at a time instead of holding every
  // case of the log in memory (issue 22 item 3), and the demo returns with
  // every projection current.
  store->reset();
#ifdef __GLIBC__
  // What the load freed (its memtables, caches and the writers' arenas)
  // goes back to the system before the fold allocates its own: glibc keeps
  // freed memory of other threads' arenas otherwise, and the fold's peak
  // came on top of the load's (401 MiB at 12 million events, 324 of them
  // the load's).
  malloc_trim(0);
#endif
  o.create_if_missing = false;
  o.block_cache_bytes = Options{}.block_cache_bytes;
  o.projections = readmodels::MakeProjections(codec->get());
  // Declared after the codec the projections point into: closed before it.
  auto folded = Store::Open(o, path);
  if (!folded.ok()) return folded.status();
  for (;;) {
    s = (*folded)->WaitForProjection(readmodels::kCasesProjection, 0, 5000);
    if (s.code() != Status::Code::kBusy) break;
  }
  if (!s.ok()) return s;
  s = AddAllocations(**folded, **codec, options.first_year, &report);
  if (!s.ok()) return s;
  s = AddBreaches(**folded, **codec, options.first_year, &report);
  if (!s.ok()) return s;
  s = AddComplaintsWithoutCase(**folded, **codec, options.seed, options.first_year, &report);
  if (!s.ok()) return s;
  return report;
}

}  // namespace hearth::demo
