// What the `cases` projection keeps of a case for the exports
// (collect.h, docs/readmodels.md "Dated facts"): the case's dated facts,
// a client's target-group and equality codes, and the fold that fills them,
// shared with the log's pass (Collect) so that both read the same facts.
#include <chrono>
#include <cstdio>
#include <set>

#include "facts/facts.h"
#include "base/varint_codec.h"

namespace hearth::exports {

namespace {

using base::Reader;
using base::Writer;

// 1: the facts of issue 14 item 3 (kCasesProjectionVersion 7).
constexpr uint8_t kFactsFormat = 1;

void PutDated(Writer& w, const Dated& d) {
  w.Day(d.on);
  w.Str(d.district);
}
void GetDated(Reader& r, Dated* d) {
  d->on = r.Day();
  r.Str(&d->district);
}

void PutLine(Writer& w, const LineFact& f) {
  PutDated(w, f);
  w.Var(f.line);
  w.Str(f.service);
  uint64_t z = (uint64_t(f.pence) << 1) ^ uint64_t(f.pence >> 63);
  w.Var(z);
  w.Var(f.position);
}
void GetLine(Reader& r, LineFact* f) {
  GetDated(r, f);
  f->line = uint16_t(r.Var());
  r.Str(&f->service);
  uint64_t z = r.Var();
  f->pence = int64_t(z >> 1) ^ -int64_t(z & 1);
  f->position = r.Var();
}

void PutComplaint(Writer& w, const ComplaintFact& f) {
  PutDated(w, f);
  w.Var(f.number);
  w.Str(f.stage);
}
void GetComplaint(Reader& r, ComplaintFact* f) {
  GetDated(r, f);
  f->number = uint16_t(r.Var());
  r.Str(&f->stage);
}

void PutStrings(Writer& w, const std::vector<std::string>& v) {
  w.Var(v.size());
  for (const auto& s : v) w.Str(s);
}

template <typename T, typename Put>
void PutList(Writer& w, const std::vector<T>& v, Put put) {
  w.Var(v.size());
  for (const auto& x : v) put(w, x);
}
template <typename T, typename Get>
void GetList(Reader& r, std::vector<T>* v, Get get) {
  // In place: the elements' strings keep their buffers from case to case
  // (every getter sets every field).
  v->resize(r.Count());
  for (T& e : *v) get(r, &e);
}
void GetStrings(Reader& r, std::vector<std::string>* v) {
  GetList(r, v, [](Reader& r, std::string* s) { r.Str(s); });
}

void PutOptDated(Writer& w, const std::optional<Dated>& d) {
  w.U8(d ? 1 : 0);
  if (d) PutDated(w, *d);
}
void GetOptDated(Reader& r, std::optional<Dated>* d) {
  d->reset();
  if (r.U8() == 0) return;
  d->emplace();
  GetDated(r, &**d);
}

}  // namespace

std::string EncodeCaseFacts(const CaseFacts& c) {
  std::string out;
  Writer w(&out);
  w.U8(kFactsFormat);
  w.Str(c.state.district);
  PutList(w, c.enquiries, [](Writer& w, const EnquiryFact& e) {
    PutDated(w, e);
    w.Str(e.channel);
    w.Str(e.referrer_type);
  });
  PutList(w, c.consultations, PutDated);
  for (const auto* list : {&c.lines_opened, &c.grants_approved, &c.works_completed, &c.payments, &c.variations}) {
    PutList(w, *list, PutLine);
  }
  PutOptDated(w, c.first_visit);
  w.OptDay(c.first_referral_on);
  w.OptDay(c.first_visit_scheduled_on);
  PutList(w, c.onward_referrals, [](Writer& w, const OnwardFact& f) {
    PutDated(w, f);
    w.Str(f.destination);
    w.U8(f.signposted ? 1 : 0);
  });
  PutList(w, c.outcomes, [](Writer& w, const OutcomeFact& f) {
    PutDated(w, f);
    PutStrings(w, f.outcomes);
  });
  for (const auto* list : {&c.complaints_received, &c.complaints_resolved, &c.complaints_escalated}) {
    PutList(w, *list, PutComplaint);
  }
  PutList(w, c.compliments, PutDated);
  PutList(w, c.safeguarding, [](Writer& w, const SafeguardingFact& f) {
    PutDated(w, f);
    w.Str(f.category);
  });
  PutList(w, c.satisfaction, [](Writer& w, const ScoreFact& f) {
    PutDated(w, f);
    w.Var(uint64_t(f.score));
    w.U8(f.returns_questionnaire ? 1 : 0);
    w.Str(f.quality_of_life);
    PutStrings(w, f.impacts);
  });
  PutList(w, c.questionnaires_sent, PutDated);
  return out;
}

Status DecodeCaseFacts(std::string_view bytes, CaseFacts* c) {
  Reader r(bytes);
  uint8_t format = r.U8();
  if (r.ok() && format != kFactsFormat) {
    return Status::Corruption("cases projection: dated facts of form " + std::to_string(format) + ", not " +
                              std::to_string(kFactsFormat));
  }
  r.Str(&c->state.district);
  GetList(r, &c->enquiries, [](Reader& r, EnquiryFact* e) {
    GetDated(r, e);
    r.Str(&e->channel);
    r.Str(&e->referrer_type);
  });
  GetList(r, &c->consultations, GetDated);
  for (auto* list : {&c->lines_opened, &c->grants_approved, &c->works_completed, &c->payments, &c->variations}) {
    GetList(r, list, GetLine);
  }
  GetOptDated(r, &c->first_visit);
  c->first_referral_on = r.OptDay();
  c->first_visit_scheduled_on = r.OptDay();
  GetList(r, &c->onward_referrals, [](Reader& r, OnwardFact* f) {
    GetDated(r, f);
    r.Str(&f->destination);
    f->signposted = r.U8() != 0;
  });
  GetList(r, &c->outcomes, [](Reader& r, OutcomeFact* f) {
    GetDated(r, f);
    GetStrings(r, &f->outcomes);
  });
  for (auto* list : {&c->complaints_received, &c->complaints_resolved, &c->complaints_escalated}) {
    GetList(r, list, GetComplaint);
  }
  GetList(r, &c->compliments, GetDated);
  GetList(r, &c->safeguarding, [](Reader& r, SafeguardingFact* f) {
    GetDated(r, f);
    r.Str(&f->category);
  });
  GetList(r, &c->satisfaction, [](Reader& r, ScoreFact* f) {
    GetDated(r, f);
    f->score = int(r.Var());
    f->returns_questionnaire = r.U8() != 0;
    r.Str(&f->quality_of_life);
    GetStrings(r, &f->impacts);
  });
  GetList(r, &c->questionnaires_sent, GetDated);
  if (!r.done()) return Status::Corruption("cases projection: dated facts that do not decode");
  return Status::OK();
}

std::string EncodePersonCodes(const PersonCodes& p) {
  std::string out;
  Writer w(&out);
  w.U8(kFactsFormat);
  w.Str(p.age_band);
  for (uint16_t v : {p.gender, p.disability, p.ethnicity, p.main_language, p.interpreter_needed, p.unpaid_carer,
                     p.mental_health, p.learning_disability}) {
    w.Var(v);
  }
  return out;
}

Status DecodePersonCodes(std::string_view bytes, PersonCodes* p) {
  Reader r(bytes);
  uint8_t format = r.U8();
  if (r.ok() && format != kFactsFormat) {
    return Status::Corruption("cases projection: person codes of form " + std::to_string(format));
  }
  p->age_band = r.Str();
  for (uint16_t* v : {&p->gender, &p->disability, &p->ethnicity, &p->main_language, &p->interpreter_needed,
                      &p->unpaid_carer, &p->mental_health, &p->learning_disability}) {
    *v = uint16_t(r.Var());
  }
  if (!r.done()) return Status::Corruption("cases projection: person codes that do not decode");
  return Status::OK();
}

std::set<std::string> DistrictsOf(const CaseFacts& c) {
  std::set<std::string> out;
  if (!c.state.district.empty()) out.insert(c.state.district);
  for (const auto& e : c.enquiries) {
    if (!e.district.empty()) out.insert(e.district);
  }
  return out;
}

std::string TagKey(char tag, std::string_view id) {
  std::string k;
  k.reserve(1 + id.size());
  k.push_back(tag);
  k.append(id);
  return k;
}

}  // namespace hearth::exports
