// Retention (rules from the record of processing) and the erasure workflow:
// a decision event naming the rule, then crypto-shredding (docs/rights.md).
#include <algorithm>
#include <set>

#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "rights/internal.h"

namespace hearth::rights {

using domain::FormatDate;
using internal::Text;
namespace cs = domain::cs;

namespace {

bool IsGrantService(const std::string& service) {
  return service == "mandatoryDfg" || service == "dementiaDwellingGrant" ||
         service == "homeRepairsAssistance" || service == "sanctuaryGrant" ||
         service == "standardAdaptation";
}

// housingGrant, adviceOnly or careRecord (docs/rights.md, "Retention").
std::string RecordClassOf(const domain::CaseState& c) {
  bool advice_only = true;
  for (const auto& l : c.lines) {
    if (IsGrantService(l.service) || l.approved_on) return "housingGrant";
    if (l.element != "informationAdvice" && l.element != "housingOptions") advice_only = false;
  }
  return advice_only ? "adviceOnly" : "careRecord";
}

Date AddYears(Date d, int years) { return AddCalendarMonths(d, 12 * years); }

Result<RetentionItem> Evaluate(const internal::RecordOfProcessing& record, const domain::CaseState& c,
                               Date as_of) {
  RetentionItem item;
  item.case_id = c.case_id;
  item.subject = c.client;
  item.record_class = RecordClassOf(c);
  auto rule = record.RuleFor(item.record_class);
  if (!rule) {
    return Status::NotFound("the record of processing has no retention rule for record class " +
                            item.record_class);
  }
  item.rule = Text(rule->getName());
  item.legal_hold = rule->getLegalHold();
  int closure_years = rule->getAfterClosureYears();
  int completion_years = rule->getAfterCompletionYears();
  int contact_years = rule->getAfterLastContactYears();
  std::string why;
  std::optional<Date> until;
  if (!c.closed && closure_years > 0) {
    item.keep_until = as_of;
    item.action = "keep";
    item.explanation = "case " + c.case_id + " is open; rule " + item.rule + " runs from its closure";
    return item;
  }
  if (closure_years > 0 && c.closed_on) {
    until = AddYears(*c.closed_on, closure_years);
    why = "closed " + FormatDate(*c.closed_on) + " + " + std::to_string(closure_years) + " years";
  }
  if (completion_years > 0) {
    // Only a charge registered by a LandChargeRegistered event and not
    // released holds the file (recordClass rules, docs/rights.md).
    for (const auto& l : c.lines) {
      if (!l.completed_on || !l.land_charge_active()) continue;
      Date d = AddYears(*l.completed_on, completion_years);
      if (!until || d > *until) {
        until = d;
        why = "works completed " + FormatDate(*l.completed_on) + " + " + std::to_string(completion_years) +
              " years while the land charge registered on " + FormatDate(*l.land_charge_registered_on) +
              " on line " + std::to_string(l.line) + " is not released";
      }
    }
  }
  std::string released;
  for (const auto& l : c.lines) {
    if (completion_years > 0 && l.land_charge_registered_on && l.land_charge_released_on) {
      released += "; the land charge on line " + std::to_string(l.line) + " was released on " +
                  FormatDate(*l.land_charge_released_on);
    }
  }
  if (contact_years > 0 && c.last_activity_on) {
    Date d = AddYears(*c.last_activity_on, contact_years);
    if (!until || d > *until) {
      until = d;
      why = "last contact " + FormatDate(*c.last_activity_on) + " + " + std::to_string(contact_years) + " years";
    }
  }
  if (!until) {
    item.keep_until = as_of;
    item.action = "review";
    item.explanation = "rule " + item.rule + " has no date to run from on case " + c.case_id;
    return item;
  }
  item.keep_until = *until;
  item.action = as_of >= *until ? "erase" : "keep";
  item.explanation = "rule " + item.rule + ": keep until " + FormatDate(*until) + " (" + why + released + ")";
  return item;
}

}  // namespace

Status Rights::RetentionReviewEach(Date as_of,
                                   const std::function<bool(const RetentionItem&)>& each) {
  auto record = internal::ReadRecordOfProcessing(*store_, *codec_);
  if (!record.ok()) return record.status();
  Status s = store_->WaitForProjection(readmodels::kCasesProjection, 0, 120000);
  if (!s.ok()) return s;
  Status inner;
  s = readmodels::ScanCases(*store_, readmodels::CaseScan{}, [&](const domain::CaseState& c) {
    auto item = Evaluate(*record, c, as_of);
    if (!item.ok()) {
      inner = item.status();
      return false;
    }
    return each(*item);
  });
  if (!s.ok()) return s;
  return inner;
}

Result<std::vector<RetentionItem>> Rights::RetentionReview(Date as_of) {
  std::vector<RetentionItem> out;
  Status s = RetentionReviewEach(as_of, [&](const RetentionItem& item) {
    out.push_back(item);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

namespace internal {

Result<RetentionItem> RetentionOfCases(const RecordOfProcessing& record,
                                       const std::vector<domain::CaseState>& cases,
                                       const std::string& subject, Date as_of) {
  std::optional<RetentionItem> latest;
  for (const auto& c : cases) {
    if (c.client != subject) continue;
    auto item = Evaluate(record, c, as_of);
    if (!item.ok()) return item.status();
    // An open case, or the latest end, decides.
    bool open = item->action == "keep" && item->keep_until == as_of && item->legal_hold;
    if (!latest || open || (item->keep_until > latest->keep_until)) latest = *item;
    if (open) break;
  }
  if (!latest) return Status::NotFound(subject + " is not the client of any case");
  return *latest;
}

}  // namespace internal

Result<RetentionItem> Rights::RetentionOf(const std::string& subject, Date as_of) {
  auto record = internal::ReadRecordOfProcessing(*store_, *codec_);
  if (!record.ok()) return record.status();
  std::set<std::string> cases;
  for (uint64_t from = 1;;) {
    auto page = store_->ReadSubject(subject, from, 1024);
    if (!page.ok()) {
      if (page.status().IsNotFound()) return Status::NotFound("no data subject " + subject + " in this store");
      return page.status();
    }
    for (const auto& e : *page) {
      if (!e.stream.starts_with("case/")) continue;
      for (const auto& s : e.subjects) {
        if (s.id == subject && s.role == SubjectRole::kClient) cases.insert(e.stream);
      }
    }
    if (page->size() < 1024) break;
    from = page->back().position + 1;
  }
  if (cases.empty()) return Status::NotFound(subject + " is not the client of any case");
  domain::CaseFolder folder(codec_);
  std::vector<domain::CaseState> states;
  for (const auto& id : cases) {
    domain::CaseState c;
    c.case_id = id;
    for (uint64_t from = 1;;) {
      auto page = store_->ReadStream(id, from, Direction::kForward, 1024);
      if (!page.ok()) return page.status();
      for (const auto& e : *page) {
        Status s = folder.Apply(e, &c);
        if (!s.ok()) return s;
      }
      if (page->size() < 1024) break;
      from = page->back().stream_version + 1;
    }
    states.push_back(std::move(c));
  }
  return internal::RetentionOfCases(*record, states, subject, as_of);
}

Result<AppendResult> Rights::DecideErasure(const std::string& ref, const Actor& actor) {
  if (actor.role != kControllerRole) {
    return Status::PermissionDenied("only the controller role decides erasure (got role \"" +
                                    actor.role + "\")");
  }
  auto req = LoadRequest(ref);
  if (!req.ok()) return req.status();
  if (req->kind != "erasure") {
    return Status::InvalidArgument("rule rights-kind: request " + ref + " is a request for " +
                                   req->kind + ", not erasure");
  }
  if (req->closed()) {
    return Status::InvalidArgument("rule rights-request-closed: request " + ref + " was " + req->status +
                                   (req->closed_on ? " on " + FormatDate(*req->closed_on) : std::string()));
  }
  Date today = Today();
  std::string subject = req->subject;
  std::vector<SubjectRef> subjects{SubjectRef{subject, SubjectRole::kClient}};
  if (req->erasure_pending()) {
    // Decided earlier (its three writes were cut short, or the decision was
    // recorded by hand): the decision stands; complete what is missing.
    return CompleteErasure(ref, subject, actor, today);
  }
  if (req->identity_needed && !req->identity_verified_on) {
    return Status::InvalidArgument("rule rights-identity-before-fulfilment: verify the requester's "
                                   "identity before deciding request " + ref);
  }
  auto retention = RetentionOf(subject, today);
  if (!retention.ok() && !retention.status().IsNotFound()) return retention.status();
  bool hold = retention.ok() && retention->legal_hold && retention->action != "erase";
  std::string rule = retention.ok() ? retention->rule : std::string("none");
  if (hold) {
    bool open_case = retention->keep_until == today && retention->action == "keep";
    std::string exemption = "UK GDPR Art. 17(3)(b): " + retention->explanation;
    auto a = internal::MakeEvent(
        *codec_, "ErasureDecided",
        [&](cs::Facts::Builder f) {
          auto decided = f.initErasureDecided();
          decided.setDecidedOn(FormatDate(today));
          decided.setErase(false);
          decided.setRuleApplied(rule);
          decided.setReasonCode("legalObligation");
          if (!open_case) decided.setHoldUntil(FormatDate(retention->keep_until));
        },
        subjects, actor);
    if (!a.ok()) return a.status();
    auto b = internal::MakeEvent(
        *codec_, "RightsRequestRefused",
        [&](cs::Facts::Builder f) {
          auto refused = f.initRightsRequestRefused();
          refused.setRefusedOn(FormatDate(today));
          refused.setReasonCode("legalObligation");
          refused.setExemption(exemption);
        },
        subjects, actor);
    if (!b.ok()) return b.status();
    auto r = Record(ref, {*a, *b});
    if (!r.ok()) return r.status();
    return Status::PermissionDenied("rule legal-hold: erasure of " + subject + " refused: " + exemption);
  }
  auto a = internal::MakeEvent(
      *codec_, "ErasureDecided",
      [&](cs::Facts::Builder f) {
        auto decided = f.initErasureDecided();
        decided.setDecidedOn(FormatDate(today));
        decided.setErase(true);
        decided.setRuleApplied(rule);
        decided.setReasonCode(retention.ok() ? "retentionEnded" : "noLegalObligation");
      },
      subjects, actor);
  if (!a.ok()) return a.status();
  auto r = Record(ref, {*a});
  if (!r.ok()) return r.status();
  // A crash from here on leaves the request decided, not fulfilled: the next
  // DecideErasure completes it (RequestState::erasure_pending).
  return CompleteErasure(ref, subject, actor, today);
}

Result<AppendResult> Rights::CompleteErasure(const std::string& ref, const std::string& subject,
                                             const Actor& actor, Date today) {
  auto erased = store_->EraseSubject(subject, actor, "erasureRequest");
  if (!erased.ok()) return erased.status();
  auto c = internal::MakeEvent(
      *codec_, "RightsRequestFulfilled",
      [&](cs::Facts::Builder f) {
        auto done = f.initRightsRequestFulfilled();
        done.setFulfilledOn(FormatDate(today));
        done.setActionCode("erased");
      },
      {SubjectRef{subject, SubjectRole::kClient}}, actor);
  if (!c.ok()) return c.status();
  auto f = Record(ref, {*c});
  if (!f.ok()) return f.status();
  return *erased;
}

std::string DefaultProcessingRecordJson() { return std::string(internal::kDefaultProcessing); }

}  // namespace hearth::rights
