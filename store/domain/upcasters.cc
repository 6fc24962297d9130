// The upcaster registry and the upcasters shipped with hearth.
#include "domain/tables.h"

namespace hearth::domain {

Status UpcasterRegistry::Add(const std::string& type, uint32_t from_version, UpcastFn fn) {
  if (!fn) return Status::InvalidArgument("upcaster for " + type + ": empty function");
  auto [it, inserted] = fns_.emplace(std::make_pair(type, from_version), std::move(fn));
  (void)it;
  if (!inserted) {
    return Status::InvalidArgument("an upcaster for " + type + " from schema version " +
                                   std::to_string(from_version) + " is already registered");
  }
  return Status::OK();
}

const UpcastFn* UpcasterRegistry::Find(const std::string& type, uint32_t from_version) const {
  auto it = fns_.find(std::make_pair(type, from_version));
  return it == fns_.end() ? nullptr : &it->second;
}

namespace {

// ContactRecorded version 1 kept the channel and the referrer as free codes
// and a boolean for "new enquiry"; version 2 has enums, a purpose and topics.
cs::Channel ChannelFromV1(std::string_view how) {
  if (how == "tel" || how == "phone") return cs::Channel::PHONE;
  if (how == "email") return cs::Channel::EMAIL;
  if (how == "post" || how == "letter") return cs::Channel::LETTER;
  if (how == "visit" || how == "office") return cs::Channel::IN_PERSON;
  if (how == "web") return cs::Channel::WEB;
  if (how == "interp") return cs::Channel::INTERPRETER;
  if (how == "family") return cs::Channel::FRIEND_OR_FAMILY;
  return cs::Channel::UNSPECIFIED;
}

cs::ReferrerType ReferrerFromV1(std::string_view source) {
  using R = cs::ReferrerType;
  if (source == "self") return R::SELF;
  if (source == "family") return R::FAMILY;
  if (source == "ot") return R::OCCUPATIONAL_THERAPIST;
  if (source == "gp") return R::GP;
  if (source == "hosp") return R::HOSPITAL;
  if (source == "cab") return R::CITIZENS_ADVICE;
  if (source == "fire") return R::FIRE_SERVICE;
  if (source == "police") return R::POLICE;
  if (source == "ageuk") return R::AGE_UK;
  if (source == "ts") return R::TRADING_STANDARDS;
  if (source == "asc") return R::SOCIAL_CARE;
  if (source.empty()) return R::UNSPECIFIED;
  return R::OTHER;
}

Status ContactRecordedV1ToV2(RecordedEvent* event) {
  PackedDecoder decoder;
  cs::Facts::Reader facts;
  Status s = decoder.Decode<cs::Facts>(event->facts, &facts);
  if (!s.ok()) return s;
  if (facts.which() != cs::Facts::CONTACT_RECORDED_V1) {
    return Status::Corruption("ContactRecorded version 1 facts do not hold contactRecordedV1");
  }
  auto v1 = facts.getContactRecordedV1();
  capnp::MallocMessageBuilder message(256);
  auto v2 = message.initRoot<cs::Facts>().initContactRecorded();
  v2.setContactedOn(v1.getReceivedOn());
  if (v1.getIsNew()) v2.setDistrict(v1.getDistrict());
  v2.setChannel(ChannelFromV1(v1.getHow().cStr()));
  v2.setReferrerType(ReferrerFromV1(v1.getSource().cStr()));
  v2.setPurpose(v1.getIsNew() ? cs::ContactPurpose::ENQUIRY : cs::ContactPurpose::FOLLOW_UP);
  event->facts = ToPacked(message);
  event->schema_version = 2;
  return Status::OK();
}

}  // namespace

void AddBuiltinUpcasters(UpcasterRegistry* registry) {
  // Registering into a fresh registry cannot fail; a duplicate means the
  // caller registered its own first, which then wins.
  (void)registry->Add("ContactRecorded", 1, ContactRecordedV1ToV2);
}

}  // namespace hearth::domain
