# hearth: the case domain of a Home Improvement Agency / independent-living
# service (DESIGN.md section 2, docs/domain.md).
#
# Every domain event stores two kinds of payload (api/include/hearth/event.h):
#  - its facts: one `Facts` message whose union member names the event type
#    (`contactRecorded` is type "ContactRecorded"). Facts hold codes, ISO dates
#    ("2018-04-03"), money in pence and opaque references only, never a name,
#    address, contact detail, free text or health detail. They are sealed under
#    the store key and feed every projection and the anonymised exports.
#  - its personal sections: one `Personal` message per data subject, sealed
#    under that subject's own key, so erasing one person leaves the others and
#    every fact readable.
# Both are stored in Cap'n Proto's packed encoding (single segment).
#
# Evolution: fields are never renumbered and only ever added at the end. A
# change that cannot be made compatibly gives the event type a new schema
# version: the old union member is renamed `<name>V<n>` (which does not change
# the bytes), annotated `$olderVersionOf`, and a new member carries the current
# struct with `$version`. Upcasters (store/domain/upcasters.cc) turn old
# versions into the current one when events are read.
@0xc6f1b0a4e2d39758;

$import "/capnp/c++.capnp".namespace("hearth::schema::domain");

# --- annotations read by the codec and the recorder ---

annotation date @0x9e5bfeadd835eeb7 (field) :Void;
# A Text field holding an ISO date (YYYY-MM-DD) that may lie in the future
# (a date something is due or booked for).

annotation pastDate @0xf8eedcac944853e6 (field) :Void;
# A Text field holding an ISO date on which something happened: it cannot lie
# in the future (rule `date-in-future`).

annotation version @0x8cbd7b2a56205a21 (field) :UInt32;
# On a member of Facts: the schema version of the event type it holds.
# Absent means 1.

annotation olderVersionOf @0xf12bb9aecd1fb78d (field) :Text;
# On a member of Facts: this member holds an older schema version of the named
# event type; it is read through an upcaster and never written by new code.

# --- codes ---

enum Channel {
  unspecified @0;     # not recorded
  phone @1;           # telephone call
  email @2;           # email
  letter @3;          # letter or form by post
  inPerson @4;        # face to face (office, drop-in, visit)
  web @5;             # online form
  interpreter @6;     # through an interpreter (spoken or BSL)
  friendOrFamily @7;  # a friend or relative contacted on the person's behalf
  videoCall @8;       # video call
  textMessage @9;     # SMS or messaging
}

enum ReferrerType {
  unspecified @0;            # not recorded
  self @1;                   # the person themselves
  family @2;                 # a relative or friend
  occupationalTherapist @3;  # an OT (an OT's request for a DFG is always a referral)
  gp @4;                     # a GP practice
  hospital @5;               # hospital discharge team or ward
  citizensAdvice @6;         # Citizens Advice (CAB)
  fireService @7;            # fire and rescue service (safe and well visit)
  police @8;                 # police
  ageUk @9;                  # Age UK or another older people's charity
  tradingStandards @10;      # trading standards
  socialCare @11;            # adult social care
  housingProvider @12;       # council housing or a housing association
  other @13;                 # any other organisation
}

enum ContactPurpose {
  unspecified @0;  # not recorded
  enquiry @1;      # a new enquiry: opens a case (counts as an enquiry, docs/domain.md)
  followUp @2;     # a further contact on an open case
  chaser @3;       # the person or a professional chasing progress
  review @4;       # a review contact
}

enum Tenure {
  unspecified @0;         # not recorded
  ownerOccupier @1;       # owns the home (outright or mortgaged)
  privateRented @2;       # rents from a private landlord
  councilTenant @3;       # rents from the council
  housingAssociation @4;  # rents from a registered provider
  livingWithFamily @5;    # lives in a relative's home
  sharedOwnership @6;     # shared ownership
  other @7;               # any other tenure
}

enum Gender {
  unspecified @0;      # not recorded
  female @1;           # female
  male @2;             # male
  other @3;            # another gender
  preferNotToSay @4;   # declined to say
}

# The eight service elements of the service specification (DESIGN section 2);
# the ordinal is the element's number.
enum ServiceElement {
  unspecified @0;                   # not recorded
  informationAdvice @1;             # 1 information, advice, signposting
  housingOptions @2;                # 2 housing options
  minorAdaptationsHandyperson @3;   # 3 minor adaptations and handyperson
  healthierSaferHomes @4;           # 4 healthier and safer homes
  mandatoryDfg @5;                  # 5 mandatory Disabled Facilities Grant
  otTrustedAssessor @6;             # 6 OT / trusted assessor
  assistiveTechnology @7;           # 7 assistive technology
  ableToPay @8;                     # 8 able to pay (self-funded works)
}

# The service delivered within an element (each belongs to exactly one
# element; docs/domain.md has the table).
enum Service {
  unspecified @0;             # not recorded
  informationAdvice @1;       # element 1: information and advice
  signposting @2;             # element 1: signposting to another service
  housingOptions @3;          # element 2: housing options advice and moves
  minorAdaptation @4;         # element 3: minor adaptation (rails, ramps, key safes ...)
  handyperson @5;             # element 3: handyperson job
  repairs @6;                 # element 4: repairs
  dementiaDwellingGrant @7;   # element 4: dementia dwelling grant
  homeFromHospital @8;        # element 4: home from hospital
  homeRepairsAssistance @9;   # element 4: home repairs assistance
  sanctuaryGrant @10;         # element 4: sanctuary grant
  standardAdaptation @11;     # element 4: standard adaptation
  mandatoryDfg @12;           # element 5: mandatory Disabled Facilities Grant
  otAssessment @13;           # element 6: OT assessment
  trustedAssessment @14;      # element 6: trusted assessor assessment
  assistiveTechnology @15;    # element 7: assistive technology
  ableToPay @16;              # element 8: able-to-pay works
}

enum Urgency {
  unspecified @0;  # not decided
  urgent @1;       # urgent (DFG target 55 working days end to end)
  nonUrgent @2;    # not urgent (DFG target 150 working days end to end)
}

enum NeedLevel {
  unspecified @0;  # not assessed
  none @1;         # no need found
  low @2;          # low need
  medium @3;       # medium need
  high @4;         # high need
}

enum ConsentScope {
  unspecified @0;             # not recorded
  referOn @1;                 # refer the person on to another service
  shareWithReferrer @2;       # tell the referrer what happened
  involveNamedPerson @3;      # involve a named carer or relative
  identifiableMonitoring @4;  # name the person in monitoring returns
  actOnMyBehalf @5;           # act on the person's behalf with other agencies (003 Element 1)
  shareHealthInformation @6;  # share information about their health (a disclosure of "health" on consent needs it)
}

enum ConsentMethod {
  unspecified @0;            # not recorded
  verbal @1;                 # said so (in person or by phone)
  written @2;                # signed form or letter
  electronic @3;             # email, web form or e-signature
  throughRepresentative @4;  # given by an attorney or deputy
}

enum MeansTestResult {
  unspecified @0;      # not done
  passported @1;       # on a passporting benefit: no contribution
  nilContribution @2;  # assessed: no contribution
  contribution @3;     # assessed: a contribution is due
  notEligible @4;      # income or savings over the limit
}

enum GrantType {
  unspecified @0;             # not recorded
  mandatoryDfg @1;            # mandatory Disabled Facilities Grant (capped at £30,000)
  discretionaryDfg @2;        # discretionary DFG assistance
  dementiaDwellingGrant @3;   # dementia dwelling grant
  homeRepairsAssistance @4;   # home repairs assistance
  sanctuaryGrant @5;          # sanctuary grant
  homeFromHospital @6;        # home from hospital grant
  other @7;                   # any other grant
}

enum RefusalReason {
  unspecified @0;                 # not recorded
  notEligible @1;                 # the person or the property is not eligible
  notNecessaryAndAppropriate @2;  # works not necessary and appropriate
  notReasonableAndPracticable @3; # works not reasonable and practicable
  overMeansTest @4;               # means test: contribution covers the cost
  incompleteApplication @5;       # the application was never completed
  other @6;                       # any other reason
}

enum FundingSource {
  unspecified @0;      # not recorded
  mandatoryDfg @1;     # Better Care Fund DFG allocation, mandatory grant
  discretionary @2;    # the council's discretionary policy
  charity @3;          # a charity or benevolent fund
  selfFunded @4;       # the person pays
  landlord @5;         # the landlord pays
  socialCare @6;       # adult social care budget
  health @7;           # NHS funding
}

enum Outcome {
  unspecified @0;                 # not recorded
  promoteIndependentLiving @1;    # promote independent living
  preventUnplannedAdmission @2;   # prevent an unplanned hospital admission
  timelyHospitalDischarge @3;     # timely discharge from hospital
  reducePressureOnCarers @4;      # reduce pressure on carers
  remainAtHome @5;                # remain living at home
  delayCarePackage @6;            # delay the need for a care package
  reduceOrPreventFall @7;         # reduce or prevent a fall
}

enum ComplaintStage {
  unspecified @0;  # not recorded
  informal @1;     # resolved informally
  stage1 @2;       # formal stage 1
  stage2 @3;       # formal stage 2 (review)
  ombudsman @4;    # Local Government and Social Care Ombudsman
}

enum ComplaintResult {
  unspecified @0;   # not recorded
  upheld @1;        # upheld
  partlyUpheld @2;  # partly upheld
  notUpheld @3;     # not upheld
  withdrawn @4;     # withdrawn by the complainant
}

enum SafeguardingCategory {
  unspecified @0;     # not recorded
  physical @1;        # physical abuse
  sexual @2;          # sexual abuse
  psychological @3;   # psychological or emotional abuse
  financial @4;       # financial or material abuse
  neglect @5;         # neglect or acts of omission
  selfNeglect @6;     # self-neglect (including hoarding)
  domestic @7;        # domestic abuse
  discriminatory @8;  # discriminatory abuse
  organisational @9;  # organisational abuse
  modernSlavery @10;  # modern slavery
  childSexualExploitation @11;   # child sexual exploitation (a child only)
  childCriminalExploitation @12; # child criminal exploitation, county lines (a child only)
  prevent @13;        # radicalisation (the Prevent duty)
}

enum ClosureReason {
  unspecified @0;            # not recorded
  servicesCompleted @1;      # all service elements delivered
  adviceOnly @2;             # advice or signposting given, nothing further
  noLongerRequired @3;       # the need has gone
  withdrawnByClient @4;      # the person withdrew
  ineligible @5;             # not eligible for any service
  movedAway @6;              # moved out of the area
  died @7;                   # the person died
  enteredResidentialCare @8; # moved into residential or nursing care
  unableToContact @9;        # could not be contacted
  referredElsewhere @10;     # referred to another organisation
  other @11;                 # any other reason
}

# The DFG pathway's monitored stages (DESIGN section 2).
enum Stage {
  unspecified @0;  # not recorded
  firstContact @1; # from first contact to assessment
  assessment @2;   # from assessment to application
  application @3;  # from application to approval
  approval @4;     # from approval to completion of works
  works @5;        # works on site
  payment @6;      # from completion to payment
}

enum DelayReason {
  unspecified @0;                 # not recorded
  clientUnavailable @1;           # the person was not available
  clientInHospital @2;            # the person was in hospital
  awaitingLandlordConsent @3;     # waiting for the landlord's consent
  awaitingContractor @4;          # waiting for a contractor
  awaitingFunding @5;             # waiting for budget or funding
  awaitingOtAssessment @6;        # waiting for an OT
  awaitingDocuments @7;           # waiting for proof of income, title ...
  planningOrBuildingControl @8;   # planning or building control
  other @9;                       # any other reason
}

enum NoteCategory {
  unspecified @0;   # not recorded
  general @1;       # general note
  phoneCall @2;     # record of a call
  visit @3;         # record of a visit
  decision @4;      # a decision and its reasons
  safeguarding @5;  # safeguarding
  finance @6;       # finance and grants
}

enum RecipientType {
  unspecified @0;    # not recorded
  gp @1;             # a GP practice
  hospital @2;       # an NHS trust
  socialCare @3;     # adult social care
  police @4;         # police
  contractor @5;     # a contractor doing works
  landlord @6;       # the landlord
  charity @7;        # a charity
  ombudsman @8;      # an ombudsman or regulator
  legal @9;          # a court or solicitor
  dataSubject @10;   # the person themselves (subject access)
  other @11;         # anyone else
}

enum LawfulBasis {
  unspecified @0;        # not recorded
  consent @1;            # Art. 6(1)(a) consent
  contract @2;           # Art. 6(1)(b) contract
  legalObligation @3;    # Art. 6(1)(c) legal obligation
  vitalInterests @4;     # Art. 6(1)(d) vital interests
  publicTask @5;         # Art. 6(1)(e) public task
  legitimateInterests @6;# Art. 6(1)(f) legitimate interests
}

enum VisitMode {
  unspecified @0;  # not recorded
  home @1;         # at the person's home
  virtual @2;      # by video
  clinic @3;       # at an office or clinic
  hospital @4;     # in hospital, before discharge (003 Element 1)
}

enum ElementResult {
  unspecified @0;  # not recorded
  delivered @1;    # the service was delivered
  withdrawn @2;    # withdrawn by the person
  refused @3;      # refused by the agency or council
  referredOn @4;   # passed to another provider
  lapsed @5;       # lapsed (no contact, moved, died)
}

# How the agency may act on a referral (DESIGN section 2): the person's
# consent, or a basis that stands without it.
struct ConsentBasis {
  union {
    none @0 :Void;                  # no basis recorded (a referral is then refused)
    given :group {                  # the person consented
      givenOn @1 :Text $pastDate;   # when consent was given; fact
      method @2 :ConsentMethod;     # how it was given; fact
      scopes @3 :List(ConsentScope);# what it covers; fact
    }
    bestInterests :group {          # a Mental Capacity Act best-interests decision
      decidedOn @4 :Text $pastDate; # date of the decision; fact
      decisionMaker @5 :Text;       # role code of the decision maker (e.g. "ot", "socialWorker"); fact
    }
    riskOfHarm :group {             # safeguarding: risk of harm to the person or others
      assessedOn @6 :Text $pastDate;   # date the risk was assessed; fact
      safeguardingRaised @7 :Bool;     # a safeguarding concern was raised too; fact
    }
  }
}

# One action of a support plan: what, by whom, when.
struct PlanAction {
  service @0 :Service;     # what is to be provided; fact
  byRole @1 :Text;         # role code of who does it (e.g. "technicalOfficer"); fact
  dueOn @2 :Text $date;    # target date; fact
}

# --- the event types (one struct each; the union member in Facts names it) ---

struct PersonRegistered {
  registeredOn @0 :Text $pastDate;  # date the person's details were taken on this case; fact
  ageBand @1 :Text;                 # age band on that date: 0-17, 18-24, 25-34, ..., 75-84, 85+; fact
  gender @2 :Gender;                # gender code; fact
  tenure @3 :Tenure;                # tenure of the home; fact
  livesAlone @4 :Bool;              # lives alone; fact
  hasCarer @5 :Bool;                # has an unpaid carer; fact
  # Target groups and equality monitoring (docs/domain.md, "Equality codes"):
  # codes, like ageBand and gender, so the monitoring figures survive an
  # erasure. Each can be declined (preferNotToSay), which is not the same as
  # unspecified (not asked or not recorded, and what older events read as).
  disability @6 :Disability;        # day-to-day activities limited by a long-term condition or disability (census 2021 question); fact
  ethnicity @7 :Ethnicity;          # ethnic group, the ONS 2021 census categories for England and Wales; fact
  mainLanguage @8 :MainLanguage;    # main language; fact
  interpreterNeeded @9 :YesNo;      # needs an interpreter (spoken or BSL) to use the service; fact
  unpaidCarer @10 :YesNo;           # the person is an unpaid carer for someone else; fact
  mentalHealth @11 :YesNo;          # has a mental health condition; fact
  learningDisability @12 :YesNo;    # has a learning disability; fact
}
# Personal: the person's section (name, date of birth, address, contacts,
# NHS number, communication needs; for a carer or relative, the relationship).

struct PersonDetailsRectified {
  rectifiedOn @0 :Text $pastDate;   # date of the correction; fact
  fields @1 :List(Text);            # names of the Personal fields corrected (e.g. "postcode"); fact
  ageBand @2 :Text;                 # corrected age band, or empty when unchanged; fact
  tenure @3 :Tenure;                # corrected tenure, or unspecified when unchanged; fact
  requestedBySubject @4 :Bool;      # the person asked for it (UK GDPR Art. 16); fact
  # Corrected equality codes (PersonRegistered): unspecified when unchanged.
  disability @5 :Disability;        # corrected disability code; fact
  ethnicity @6 :Ethnicity;          # corrected ethnic group; fact
  mainLanguage @7 :MainLanguage;    # corrected main language; fact
  interpreterNeeded @8 :YesNo;      # corrected interpreter need; fact
  unpaidCarer @9 :YesNo;            # corrected carer status; fact
  mentalHealth @10 :YesNo;          # corrected mental health flag; fact
  learningDisability @11 :YesNo;    # corrected learning disability flag; fact
}
# Personal: the corrected fields only.

# Version 1 of ContactRecorded, superseded by version 2 (kept for its upcaster).
struct ContactRecordedV1 {
  district @0 :Text;      # district code; fact
  receivedOn @1 :Text;    # date of the contact; fact
  how @2 :Text;           # channel as free code: tel, email, post, visit, web, interp, family; fact
  source @3 :Text;        # who made it as free code: self, family, ot, gp, hosp, cab, fire, police, ageuk, ts, asc, other; fact
  isNew @4 :Bool;         # a new enquiry (true) or a follow-up (false); fact
}

struct ContactRecorded {
  contactedOn @0 :Text $pastDate;   # date of the contact; fact
  district @1 :Text;                # district code (D1..D6, or any county's code) of a new enquiry; empty on later contacts; fact
  channel @2 :Channel;              # how the contact came in; fact
  referrerType @3 :ReferrerType;    # who made it; fact
  purpose @4 :ContactPurpose;       # a new enquiry or a further contact; fact
  topics @5 :List(Service);         # what the contact was about; fact
  referrerOrganisation @6 :Text;    # code of a referring organisation (never a private person's name); fact
}
# Personal: the client's section (what they asked, contact details), and for a
# private referrer (family, neighbour) the referrer's own section.

struct ConsultationHeld {
  heldOn @0 :Text $pastDate;        # date of the consultation; fact
  channel @1 :Channel;              # how it was held; fact
  minutes @2 :UInt16;               # its length in minutes; fact
  adviceGiven @3 :List(Service);    # advice and signposting given; fact
  referralNeeded @4 :Bool;          # the consultation found a need for a referral; fact
  followUpOn @5 :Text $date;        # information and advice to be followed up by this day (Care Act guidance 004 s.3), or empty; due in the worklist until a later contact or consultation (rule `follow-up-date`); fact
}
# Personal: notes of the conversation.

struct ReferralMade {
  referredOn @0 :Text $pastDate;    # date of the referral; fact
  referrerType @1 :ReferrerType;    # who referred; fact
  service @2 :Service;              # the service referred for; fact
  consentBasis @3 :ConsentBasis;    # consent or the basis that stands without it (rule `referral-consent-basis`); fact
  selfReferral @4 :Bool;            # the person referred themselves (first visit then needs no written confirmation); fact
}
# Personal: the reason for referral in the referrer's words.

struct ConsentGiven {
  givenOn @0 :Text $pastDate;       # date consent was given; fact
  scope @1 :ConsentScope;           # what it covers; fact
  method @2 :ConsentMethod;         # how it was given; fact
  namedPerson @3 :Text;             # for involveNamedPerson: the subject ref of the carer or relative (also in the event's subjects); fact
}
# Personal: none, or notes.

struct ConsentWithdrawn {
  withdrawnOn @0 :Text $pastDate;   # date consent was withdrawn; fact
  scope @1 :ConsentScope;           # which consent (rule `consent-not-active`); fact
  namedPerson @2 :Text;             # for involveNamedPerson: which named person; fact
}
# Personal: none, or notes.

struct FirstVisitScheduled {
  scheduledOn @0 :Text $pastDate;   # date the visit was booked; fact
  visitOn @1 :Text $date;           # date booked for; fact
  mode @2 :VisitMode;               # where; fact
}

struct FirstVisitConfirmedInWriting {
  sentOn @0 :Text $pastDate;        # date the confirmation was sent; fact
  channel @1 :Channel;              # letter or email; fact
}

struct FirstVisitCompleted {
  completedOn @0 :Text $pastDate;   # date of the visit (rule `visit-before-enquiry`); fact
  mode @1 :VisitMode;               # where; fact
  visitorRole @2 :Text;             # role code of the visitor (caseworker, ot, technicalOfficer); fact
}
# Personal: notes of the visit.

struct AssessmentRecorded {
  assessedOn @0 :Text $pastDate;    # date of the assessment; fact
  healthAndWellbeing @1 :NeedLevel; # need found: health and wellbeing; fact
  abilityToManage @2 :NeedLevel;    # need found: ability to manage the home; fact
  incomeAndSavings @3 :NeedLevel;   # need found: income and savings (financial help); fact
  propertyCondition @4 :NeedLevel;  # need found: condition of the property; fact
  socialSupport @5 :NeedLevel;      # need found: social support; fact
  wishesRecorded @6 :Bool;          # the person's own wishes were recorded; fact
  hazards @7 :UInt8;                # number of HHSRS hazards found; fact
}
# Personal: health details, the person's wishes, income notes.

struct RightsConfirmed {
  confirmedOn @0 :Text $pastDate;   # date the person confirmed; fact
  review @1 :Bool;                  # knows how their case is reviewed; fact
  termination @2 :Bool;             # knows how the service can end; fact
  privacy @3 :Bool;                 # was given the privacy notice; fact
  access @4 :Bool;                  # knows how to see their information; fact
  handbook @5 :Bool;                # received the client handbook; fact
}

struct SupportPlanAgreed {
  agreedOn @0 :Text $pastDate;      # date agreed with the person; fact
  actions @1 :List(PlanAction);     # what, by whom, when; fact
  reviewOn @2 :Text $date;          # review due date; fact
}
# Personal: the plan in words.

struct SupportPlanChanged {
  changedOn @0 :Text $pastDate;     # date of the change; fact
  actions @1 :List(PlanAction);     # the plan's actions after the change; fact
  reasonCode @2 :Text;              # why (e.g. "needChanged", "clientRequest"); fact
  reviewOn @3 :Text $date;          # review due date after the change; fact
}

struct SupportPlanReviewed {
  reviewedOn @0 :Text $pastDate;    # date of the review; fact
  changed @1 :Bool;                 # the review changed the plan; fact
  nextReviewOn @2 :Text $date;      # next review due, or empty when none; fact
}

struct ServiceElementOpened {
  openedOn @0 :Text $pastDate;      # date the element was opened (counts, docs/domain.md); fact
  line @1 :UInt16;                  # its number within the case: 1, 2, ... (rule `service-line`); fact
  element @2 :ServiceElement;       # the element (1..8); fact
  service @3 :Service;              # the service within it (rule `element-service`); fact
}

struct ServiceElementClosed {
  closedOn @0 :Text $pastDate;      # date closed; fact
  line @1 :UInt16;                  # which element of the case; fact
  result @2 :ElementResult;         # how it ended; fact
}

struct PriorityAssessed {
  assessedOn @0 :Text $pastDate;    # date of the decision; fact
  line @1 :UInt16;                  # which element of the case; fact
  otPriority @2 :UInt8;             # OT priority 1 (highest) to 3 (rule `ot-priority`); fact
  urgency @3 :Urgency;              # urgent or not (sets the DFG target); fact
}

struct EligibilityDecided {
  decidedOn @0 :Text $pastDate;     # date of the decision; fact
  line @1 :UInt16;                  # which element of the case; fact
  eligible @2 :Bool;                # the decision; fact
  reason @3 :RefusalReason;         # when not eligible: why; fact
  appealRightsGiven @4 :Bool;       # when not eligible: the right to appeal was explained (rule `refusal-appeal-rights`); fact
}

struct MeansTestCompleted {
  completedOn @0 :Text $pastDate;   # date of the result; fact
  line @1 :UInt16;                  # which element of the case; fact
  result @2 :MeansTestResult;       # the result; fact
  contributionPence @3 :UInt32;     # the person's assessed contribution, in pence; fact
}
# Personal: income, savings and benefit details.

struct GrantApplicationMade {
  submittedOn @0 :Text $pastDate;   # date the application was submitted; fact
  line @1 :UInt16;                  # which element of the case; fact
  grantType @2 :GrantType;          # the grant applied for; fact
  validOn @3 :Text $pastDate;       # date the application became valid (statutory 6-month clock); fact
  requestedPence @4 :UInt32;        # amount applied for, in pence; fact
}

struct GrantApproved {
  approvedOn @0 :Text $pastDate;    # date of approval; fact
  line @1 :UInt16;                  # which element of the case; fact
  grantType @2 :GrantType;          # the grant approved; fact
  amountPence @3 :UInt32;           # total approved, in pence, top-up included (rule `dfg-mandatory-cap`); fact
  discretionaryTopUpPence @4 :UInt32; # part of the amount that is a discretionary top-up over the mandatory cap; fact
  fundingSource @5 :FundingSource;  # where the money comes from; fact
  rationaleCode @6 :Text;           # why this amount (e.g. "lowestQuote", "policyTopUp"); fact
  clientContributionPence @7 :UInt32; # the client's own contribution to the works under this approval, in pence (a DFG whose means test assessed a contribution records it: rule `client-contribution`); 0 on approvals recorded before it was kept; fact
}

struct GrantRefused {
  refusedOn @0 :Text $pastDate;     # date of refusal; fact
  line @1 :UInt16;                  # which element of the case; fact
  grantType @2 :GrantType;          # the grant refused; fact
  reasons @3 :List(RefusalReason);  # why; fact
  appealRightsGiven @4 :Bool;       # the right to appeal was explained (rule `refusal-appeal-rights`); fact
  appealBy @5 :Text $date;          # last date to appeal; fact
}

struct FundingDecided {
  decidedOn @0 :Text $pastDate;     # date of the decision; fact
  line @1 :UInt16;                  # which element of the case; fact
  source @2 :FundingSource;         # who pays; fact
  amountPence @3 :UInt32;           # amount, in pence; fact
  rationaleCode @4 :Text;           # why (policy code); fact
}

struct WorksSpecified {
  specifiedOn @0 :Text $pastDate;   # date the specification was issued; fact
  line @1 :UInt16;                  # which element of the case; fact
  workCodes @2 :List(Text);         # items of work (e.g. "stairlift", "levelAccessShower", "grabRail"); fact
  estimatePence @3 :UInt32;         # estimated cost, in pence; fact
}

struct QuoteReceived {
  receivedOn @0 :Text $pastDate;    # date received; fact
  line @1 :UInt16;                  # which element of the case; fact
  contractorRef @2 :Text;           # opaque contractor reference (a business); fact
  amountPence @3 :UInt32;           # quoted price, in pence; fact
}

struct ContractorChosen {
  chosenOn @0 :Text $pastDate;      # date of the choice; fact
  line @1 :UInt16;                  # which element of the case; fact
  contractorRef @2 :Text;           # the contractor; fact
  amountPence @3 :UInt32;           # contract price, in pence; fact
  reasonCode @4 :Text;              # why (e.g. "lowestQuote", "clientChoice"); fact
}

struct WorksStarted {
  startedOn @0 :Text $pastDate;     # date works began on site; fact
  line @1 :UInt16;                  # which element of the case; fact
}

struct WorksCompleted {
  completedOn @0 :Text $pastDate;   # date works were completed and signed off (DFG end of pathway); fact
  line @1 :UInt16;                  # which element of the case; fact
  finalCostPence @2 :UInt32;        # final cost, in pence; fact
}

struct WorksPaid {
  paidOn @0 :Text $pastDate;        # date of payment; fact
  line @1 :UInt16;                  # which element of the case; fact
  amountPence @2 :UInt32;           # amount paid, in pence (on a grant line, all payments at most the approved amount plus variations: rule `payment-over-approved`); fact
  payee @3 :Payee;                  # who was paid (rule `payment-payee`; unspecified on payments recorded before it was kept); fact
  payeeRef @4 :Text;                # the payee's reference: the contractor's (the line's chosen contractor when paid to one) or the agent's code; empty for the client; fact
}

struct OutcomeRecorded {
  recordedOn @0 :Text $pastDate;    # date recorded; fact
  line @1 :UInt16;                  # the element it follows, or 0 for the case as a whole; fact
  outcomes @2 :List(Outcome);       # the Better Care Fund outcomes achieved; fact
}

struct SatisfactionRecorded {
  recordedOn @0 :Text $pastDate;    # date of the survey answer; fact
  score @1 :UInt8;                  # 1 (very dissatisfied) to 5 (very satisfied) (rule `satisfaction-score`); fact
  wouldRecommend @2 :Bool;          # would recommend the service; fact
  channel @3 :Channel;              # how the answer came; fact
  line @4 :UInt16;                  # the service line the answers are about, 0 for the case as a whole (rule `service-line`); the return of that line's questionnaire when one was sent (rule `questionnaire-return`); fact
  qualityOfLife @5 :QualityOfLifeChange; # "has the help made a difference to your quality of life?" (unspecified: not answered); fact
  impacts @6 :List(ImpactReported); # the impacts the person says the help had (rule `satisfaction-impacts`); fact
}
# Personal: comments in the person's words.

struct ComplaintReceived {
  receivedOn @0 :Text $pastDate;    # date received; fact
  complaint @1 :UInt16;             # its number within the case: 1, 2, ...; fact
  stage @2 :ComplaintStage;         # the stage it entered at; fact
  channel @3 :Channel;              # how it came; fact
  categoryCode @4 :Text;            # what about (e.g. "delay", "contractor", "staff", "decision"); fact
  district @5 :Text;                # on a complaint's own stream (complaint/K-<n>, a complaint with no case): the district it is about, a code; empty on a case, whose district it takes (rule `complaint-district`); fact
}
# Personal: the complaint in the complainant's words.

struct ComplaintResolved {
  resolvedOn @0 :Text $pastDate;    # date of the response at its stage (a later escalation takes it on); fact
  complaint @1 :UInt16;             # which complaint of the case; fact
  stage @2 :ComplaintStage;         # the stage it was answered at: the stage it stands at (rule `complaint-stage`); fact
  result @3 :ComplaintResult;       # the finding; fact
}

struct ComplaintEscalated {
  escalatedOn @0 :Text $pastDate;   # the day the complaint reached the next stage: the complainant asked for it, or the Ombudsman told the agency it is looking into it; fact
  complaint @1 :UInt16;             # which complaint of the case (1 on a complaint's own stream) (rule `complaint-number`); fact
  toStage @2 :ComplaintStage;       # stage1, stage2 or ombudsman, above the stage it stands at (rule `complaint-escalation`); fact
}
# Personal: why the complainant is not satisfied, in their words.

struct ComplimentReceived {
  receivedOn @0 :Text $pastDate;    # date received; fact
  channel @1 :Channel;              # how it came; fact
  aboutService @2 :Service;         # which service it praises; fact
}
# Personal: the compliment's words.

struct SafeguardingConcernRaised {
  raisedOn @0 :Text $pastDate;      # date raised; fact
  category @1 :SafeguardingCategory;# the kind of abuse or neglect; fact
  referredToSocialCare @2 :Bool;    # a safeguarding referral went to adult social care; fact
  urgent @3 :Bool;                  # immediate risk; fact
  personType @4 :SafeguardingPersonType; # an adult or a child at risk (rule `safeguarding-person`); fact
  concern @5 :UInt16;               # its number within the case: 1, 2, ... (rule `safeguarding-concern-number`); fact
  referredTo @6 :SafeguardingAgency;# to whom it was referred, or unspecified when not referred (rule `safeguarding-referral`); fact
  referredOn @7 :Text $pastDate;    # when it was referred (rule `safeguarding-referral`); fact
}
# Personal: what was seen or said.

struct CaseNoteAdded {
  writtenOn @0 :Text $pastDate;     # date of the note; fact
  authorRef @1 :Text;               # staff reference of the author (professional capacity); fact
  category @2 :NoteCategory;        # what kind of note; fact
  mentionsThirdParty @3 :Bool;      # the text names someone other than the client (for subject-access review); fact
}
# Personal: the note's text, in the client's section.

struct CaseTransferred {
  transferredOn @0 :Text $pastDate; # date of the transfer; fact
  fromTeam @1 :Text;                # team code it left; fact
  toTeam @2 :Text;                  # team code it joined; fact
  toDistrict @3 :Text;              # new district code, or empty when unchanged; fact
  reasonCode @4 :Text;              # why (e.g. "moved", "workload", "specialism"); fact
}

struct DelayRecorded {
  recordedOn @0 :Text $pastDate;    # date recorded; fact
  line @1 :UInt16;                  # which element of the case; fact
  stage @2 :Stage;                  # the stage held up; fact
  reason @3 :DelayReason;           # why; fact
  expectedUntil @4 :Text $date;     # when it is expected to clear, or empty; fact
}

struct PersonalDataDisclosed {
  disclosedOn @0 :Text $pastDate;   # date of the disclosure; fact
  recipientType @1 :RecipientType;  # who received it; fact
  recipientRef @2 :Text;            # opaque reference of the recipient organisation; fact
  purposeCode @3 :Text;             # why (e.g. "referral", "works", "safeguarding"); fact
  lawfulBasis @4 :LawfulBasis;      # Art. 6 basis; fact
  categories @5 :List(Text);        # data categories disclosed (e.g. "contact", "health"); fact
  consentScope @6 :ConsentScope;    # when lawfulBasis is consent: the active consent it rests on (rule `disclosure-consent`); fact
}
# The subjects whose data was disclosed are the event's subjects.

# A local land charge securing a grant's repayment conditions (DFG: for an
# owner-occupier's grant of £5,000 or more, the part over £5,000 up to
# £10,000 is repayable if the home is sold within 10 years of the certified
# completion date). Recorded on the case whose line it secures; allowed on a
# closed case (a charge outlives the casework). The retention rule's
# completion clause runs only while a charge registered by this event is not
# released (docs/rights.md, "Retention").
struct LandChargeRegistered {
  registeredOn @0 :Text $pastDate;  # date the charge was entered in the local land charges register; fact
  line @1 :UInt16;                  # the service line whose grant it secures; its works must be certified complete (rule `land-charge-after-completion`); fact
  amountPence @2 :UInt32;           # the amount the charge secures, in pence; fact
  registerRef @3 :Text;             # the register's reference for the entry (an opaque code, never an address); fact
}

struct LandChargeReleased {
  releasedOn @0 :Text $pastDate;    # date the charge was removed from the register; fact
  line @1 :UInt16;                  # the line whose charge it was (rule `land-charge-not-registered`); fact
  reasonCode @2 :Text;              # why (e.g. "expired", "repaid", "waived") (rule `land-charge-release-reason`); fact
}

struct CaseClosed {
  closedOn @0 :Text $pastDate;      # date closed; fact
  reason @1 :ClosureReason;         # why; fact
}

struct CaseReopened {
  reopenedOn @0 :Text $pastDate;    # date reopened; fact
  reasonCode @1 :Text;              # why (e.g. "newNeed", "closedInError", "complaint"); fact
}

# --- onward referrals and signposting (issue 17.3) ---

# Where the person was referred or signposted on to (000 "referred or
# signposted"; Appendix E "referrals to specified services").
enum OnwardDestination {
  unspecified @0;            # not recorded (refused by rule `onward-referral-destination`)
  fallsPrevention @1;        # a falls prevention service
  benefitsAdvice @2;         # welfare benefits advice (income maximisation)
  energyEfficiency @3;       # energy efficiency, insulation and heating schemes
  communityEquipment @4;     # the community equipment service
  equityReleaseAndLoans @5;  # equity release and home improvement loans
  fireSafetyCheck @6;        # a fire and rescue home fire safety check
  occupationalTherapy @7;    # an occupational therapist
  socialCare @8;             # adult social care (a needs or carer's assessment)
  housingOptions @9;         # housing options (a move, sheltered or extra care housing)
  carersSupport @10;         # a carers' support service
  debtAdvice @11;            # debt advice
  telecare @12;              # telecare and community alarms
  healthService @13;         # a GP, community nursing or another NHS service
  other @14;                 # any other service
}

enum OnwardReferralOutcome {
  unspecified @0;        # not yet known
  accepted @1;           # the service accepted the referral
  serviceProvided @2;    # the person received the service
  declinedByService @3;  # the service declined it (not eligible, no capacity)
  declinedByPerson @4;   # the person decided not to go ahead
  noResponse @5;         # no answer from the service or the person
}

struct OnwardReferralMade {
  referredOn @0 :Text $pastDate;           # date of the referral or signposting; fact
  referral @1 :UInt16;                     # its number within the case: 1, 2, ... (rule `onward-referral-number`); fact
  destination @2 :OnwardDestination;       # the service referred or signposted to (rule `onward-referral-destination`); fact
  organisationRef @3 :Text;                # code of the receiving organisation, or empty; fact
  signposted @4 :Bool;                     # signposting only: the person was given the service's details and nothing was passed on (then no consent basis is needed); fact
  consentBasis @5 :ConsentBasis;           # the consent the referral rests on, or the basis that stands without it (rule `onward-referral-consent`); fact
  confirmedInWritingOn @6 :Text $pastDate; # date the referral was confirmed to the person in writing, or empty (rule `onward-referral-confirmation`); fact
  confirmationChannel @7 :Channel;         # how it was confirmed: letter, email, web or textMessage; fact
  outcome @8 :OnwardReferralOutcome;       # the outcome when already known; fact
}
# Personal: what was passed on, in the client's section.

struct OnwardReferralOutcomeRecorded {
  recordedOn @0 :Text $pastDate;           # date the outcome (or the written confirmation) was recorded; fact
  referral @1 :UInt16;                     # which onward referral of the case (rule `onward-referral-number`); fact
  outcome @2 :OnwardReferralOutcome;       # the outcome, or unspecified when only the confirmation is recorded; fact
  confirmedInWritingOn @3 :Text $pastDate; # date the written confirmation was sent, or empty (rule `onward-referral-confirmation`); fact
  confirmationChannel @4 :Channel;         # how it was confirmed; fact
}

# --- safeguarding referrals (issue 17.2; 003 9.1 "reported and handled
# appropriately") ---

enum SafeguardingPersonType {
  unspecified @0;  # not recorded (refused by rule `safeguarding-person`)
  adult @1;        # an adult at risk (Care Act 2014 s.42)
  child @2;        # a child (Children Act 1989 s.47)
}

enum SafeguardingAgency {
  unspecified @0;        # not referred
  adultSocialCare @1;    # the council's adult social care (safeguarding adults)
  childrensServices @2;  # children's services (the front door / MASH)
  police @3;             # the police
  other @4;              # another agency (e.g. the Prevent team, a domestic abuse service)
}

enum SafeguardingOutcome {
  unspecified @0;           # not recorded (refused by rule `safeguarding-outcome`)
  enquiryOpened @1;         # an enquiry opened (Care Act s.42, Children Act s.47)
  servicesArranged @2;      # support or services arranged without an enquiry
  adviceAndInformation @3;  # advice and information given
  policeAction @4;          # the police took action
  noFurtherAction @5;       # no further action
  other @6;                 # any other outcome
}

struct SafeguardingReferralAcknowledged {
  acknowledgedOn @0 :Text $pastDate; # the day the agency acknowledged the referral (rule `safeguarding-acknowledgement`); fact
  concern @1 :UInt16;                # which concern of the case (rule `safeguarding-concern-number`); fact
  agencyRef @2 :Text;                # the agency's reference for the referral (an opaque code), or empty; fact
}

struct SafeguardingOutcomeRecorded {
  recordedOn @0 :Text $pastDate;     # date the outcome was learnt; fact
  concern @1 :UInt16;                # which concern of the case (rule `safeguarding-concern-number`); fact
  outcome @2 :SafeguardingOutcome;   # what was done (rule `safeguarding-outcome`); fact
}
# Personal: what the agency said, in the client's section.

# The facts of one event. The active union member is the event type.
struct Facts {
  union {
    unset @0 :Void;                                      # no event: never valid
    personRegistered @1 :PersonRegistered;               # a person's details taken on a case
    personDetailsRectified @2 :PersonDetailsRectified;   # a correction of a person's details
    contactRecordedV1 @3 :ContactRecordedV1 $version(1) $olderVersionOf("ContactRecorded");
                                                         # version 1 of ContactRecorded (read only)
    consultationHeld @4 :ConsultationHeld;               # a consultation
    referralMade @5 :ReferralMade;                       # a referral, with its consent basis
    consentGiven @6 :ConsentGiven;                       # consent given for a scope
    consentWithdrawn @7 :ConsentWithdrawn;               # consent withdrawn for a scope
    firstVisitScheduled @8 :FirstVisitScheduled;         # first visit booked
    firstVisitConfirmedInWriting @9 :FirstVisitConfirmedInWriting; # first visit confirmed in writing
    firstVisitCompleted @10 :FirstVisitCompleted;        # first visit made
    assessmentRecorded @11 :AssessmentRecorded;          # holistic assessment
    rightsConfirmed @12 :RightsConfirmed;                # the person confirmed they know their rights
    supportPlanAgreed @13 :SupportPlanAgreed;            # support plan agreed
    supportPlanChanged @14 :SupportPlanChanged;          # support plan changed
    supportPlanReviewed @15 :SupportPlanReviewed;        # support plan reviewed
    serviceElementOpened @16 :ServiceElementOpened;      # a service element opened on the case
    serviceElementClosed @17 :ServiceElementClosed;      # a service element ended
    priorityAssessed @18 :PriorityAssessed;              # OT priority and urgency
    eligibilityDecided @19 :EligibilityDecided;          # eligibility decision
    meansTestCompleted @20 :MeansTestCompleted;          # means test result
    grantApplicationMade @21 :GrantApplicationMade;      # grant application submitted
    grantApproved @22 :GrantApproved;                    # grant approved
    grantRefused @23 :GrantRefused;                      # grant refused
    fundingDecided @24 :FundingDecided;                  # funding decision
    worksSpecified @25 :WorksSpecified;                  # schedule of works issued
    quoteReceived @26 :QuoteReceived;                    # a contractor's quote
    contractorChosen @27 :ContractorChosen;              # contractor appointed
    worksStarted @28 :WorksStarted;                      # works began
    worksCompleted @29 :WorksCompleted;                  # works completed
    worksPaid @30 :WorksPaid;                            # contractor or grant paid
    outcomeRecorded @31 :OutcomeRecorded;                # outcomes achieved
    satisfactionRecorded @32 :SatisfactionRecorded;      # satisfaction answer
    complaintReceived @33 :ComplaintReceived;            # a complaint
    complaintResolved @34 :ComplaintResolved;            # a complaint's resolution
    complimentReceived @35 :ComplimentReceived;          # a compliment
    safeguardingConcernRaised @36 :SafeguardingConcernRaised; # a safeguarding concern
    caseNoteAdded @37 :CaseNoteAdded;                    # a case note
    caseTransferred @38 :CaseTransferred;                # a transfer between teams or districts
    delayRecorded @39 :DelayRecorded;                    # a delay and its reason
    personalDataDisclosed @40 :PersonalDataDisclosed;    # personal data disclosed outside the agency
    caseClosed @41 :CaseClosed;                          # case closed
    caseReopened @42 :CaseReopened;                      # case reopened
    contactRecorded @43 :ContactRecorded $version(2);    # a contact (version 2; an enquiry opens the case)
    rightsRequestReceived @44 :RightsRequestReceived;    # a data-protection rights request received (docs/rights.md)
    rightsIdentityVerified @45 :RightsIdentityVerified;  # the requester's identity checked
    rightsClockPaused @46 :RightsClockPaused;            # the response clock stopped (waiting for identity, authority, fee or clarification)
    rightsClockResumed @47 :RightsClockResumed;          # the response clock restarted
    rightsRequestExtended @48 :RightsRequestExtended;    # the response time extended (complex or numerous requests)
    rightsRequestFulfilled @49 :RightsRequestFulfilled;  # the request answered or carried out
    rightsRequestRefused @50 :RightsRequestRefused;      # the request refused, with reason and exemption
    erasureDecided @51 :ErasureDecided;                  # the controller's decision on an erasure request
    restrictionApplied @52 :RestrictionApplied;          # processing of a person's data restricted (Art. 18)
    restrictionLifted @53 :RestrictionLifted;            # a restriction lifted
    thirdPartyDisclosureDecided @54 :ThirdPartyDisclosureDecided; # a reviewer's decision on releasing a third party's data in a subject-access pack
    processingRecordSet @55 :ProcessingRecordSet;        # the record of processing (Art. 30) and retention rules, as configuration
    landChargeRegistered @56 :LandChargeRegistered;      # a local land charge registered for a line's grant
    landChargeReleased @57 :LandChargeReleased;          # that land charge released (expired, repaid, waived)
    onwardReferralMade @58 :OnwardReferralMade;          # a referral or signposting on to another service
    onwardReferralOutcomeRecorded @59 :OnwardReferralOutcomeRecorded; # an onward referral's outcome or written confirmation
    safeguardingReferralAcknowledged @60 :SafeguardingReferralAcknowledged; # a safeguarding referral acknowledged by the agency
    safeguardingOutcomeRecorded @61 :SafeguardingOutcomeRecorded; # the outcome of a safeguarding concern
    timescalesSet @62 :TimescalesSet;                    # the monitored timescales' targets, as configuration
    allocationSet @63 :AllocationSet;                    # a district's annual allocation of one fund, as configuration
    kpiReturnReleased @64 :KpiReturnReleased;            # a KPI return released to a recipient: the release ledger
    breachRecorded @65 :BreachRecorded;                  # a personal data breach discovered (UK GDPR Art. 33(5) register)
    breachAssessed @66 :BreachAssessed;                  # a breach's risk to people assessed
    breachNotifiedToIco @67 :BreachNotifiedToIco;        # a breach notified to the ICO (Art. 33(1))
    breachNotNotified @68 :BreachNotNotified;            # the decision not to notify the ICO, with its reason
    breachPeopleInformed @69 :BreachPeopleInformed;      # whether and when the people affected were informed (Art. 34)
    questionnaireSent @70 :QuestionnaireSent;            # a satisfaction and impact questionnaire sent about a service line
    caseAllocated @71 :CaseAllocated;                    # a case allocated (or reallocated) to a named responsible worker
    caseDeallocated @72 :CaseDeallocated;                # a case's worker taken off it (e.g. they left): awaiting allocation again
    documentAttached @73 :DocumentAttached;              # a document (letter, form, quote, certificate) kept on the case, its body sealed under its subject's key
    urgentWorksExemptionRecorded @74 :UrgentWorksExemptionRecorded; # the authority agreed that a DFG line's works may start before approval (urgent works)
    grantVariationApproved @75 :GrantVariationApproved;  # a grant's approved amount varied (increased or decreased)
    contractorVetted @76 :ContractorVetted;              # a contractor put on (or renewed on) the vetted list: configuration
    contractorRemoved @77 :ContractorRemoved;            # a contractor taken off the vetted list: configuration
    complaintEscalated @78 :ComplaintEscalated;          # a complaint taken to the next stage (stage 1, stage 2, the Ombudsman)
  }
}

# The personal section of one data subject in one event. Every field is
# optional (absent when not given) and personal.
struct Personal {
  title @0 :Text;               # title (Mr, Ms, Dr ...); personal
  givenName @1 :Text;           # given name; personal (indexed as identifier "name" with familyName)
  familyName @2 :Text;          # family name; personal
  preferredName @3 :Text;       # the name they like to be called; personal
  dateOfBirth @4 :Text $date;   # date of birth, YYYY-MM-DD; personal
  addressLines @5 :List(Text);  # address lines without the postcode; personal
  postcode @6 :Text;            # postcode; personal (indexed as identifier "postcode")
  phone @7 :Text;               # telephone; personal
  email @8 :Text;               # email address; personal
  nhsNumber @9 :Text;           # NHS number, 10 digits; personal (indexed as identifier "nhs")
  relationship @10 :Text;       # for a carer or relative: relationship to the client; personal
  freeText @11 :Text;           # free text: notes, what the person said; personal
  healthDetails @12 :Text;      # health conditions, disabilities, medication; personal
  communicationNeeds @13 :Text; # language, interpreter, BSL, large print; personal
  organisation @14 :Text;       # for a professional referrer: their organisation's name; personal
  documentSha256 @15 :Text;     # DocumentAttached: the SHA-256 of the document's body, 64 lowercase hex digits; personal (a known letter's hash would confirm who received it)
  documentFileName @16 :Text;   # DocumentAttached: the document's file name as given; personal
}

# --- data-protection rights (UK GDPR Arts. 15-21, docs/rights.md) ---
# A rights request is one stream "rights/<ref>" whose events name the person
# the request is about (role client) among their subjects. Restrictions live
# in "restriction/<subject>", the record of processing in "config/processing".

enum RightsKind {
  unspecified @0;    # not recorded (refused by rule `rights-kind`)
  access @1;         # Art. 15 subject access
  rectification @2;  # Art. 16 rectification
  erasure @3;        # Art. 17 erasure
  restriction @4;    # Art. 18 restriction of processing
  portability @5;    # Art. 20 data portability
  objection @6;      # Art. 21 objection
}

enum RequesterKind {
  unspecified @0;     # not recorded
  self @1;            # the person themselves
  representative @2;  # someone acting for them (needs authority)
}

enum AuthorityKind {
  none @0;                      # no authority needed (the person asked)
  writtenConsent @1;            # the person's signed consent
  lastingPowerOfAttorney @2;    # a registered LPA (health and welfare or property)
  courtOfProtection @3;         # a Court of Protection deputyship order
  parentalResponsibility @4;    # for a child
  solicitor @5;                 # a solicitor's letter of instruction
  other @6;                     # any other documented authority
}

enum IdentityMethod {
  unspecified @0;        # not recorded
  documentSeen @1;       # photo ID or a utility bill seen
  knownToStaff @2;       # the person is known to the staff member (e.g. a visit)
  detailsMatched @3;     # answered questions only the person could (case facts)
  authorityChecked @4;   # a representative's identity and authority checked
  other @5;              # another method
}

enum PauseReason {
  unspecified @0;    # not recorded
  identity @1;       # waiting for identity evidence: the month restarts when it arrives
  authority @2;      # waiting for a representative's authority: the month restarts when it arrives
  fee @3;            # waiting for a fee (manifestly unfounded or excessive): the month restarts when it arrives
  clarification @4;  # waiting for clarification: the paused days are added to the due date
}

enum DisclosureBasis {
  unspecified @0;               # not recorded
  thirdPartyConsented @1;       # the third party consented to disclosure
  reasonableWithoutConsent @2;  # a reviewer decided disclosure is reasonable without consent (DPA 2018 Sch. 2 para 16)
  withhold @3;                  # a reviewer decided to withhold
  releaseRedacted @4;           # a held note: released with the other person's details removed; the redacted text is the decision's section for the person asking
}

struct RightsRequestReceived {
  receivedOn @0 :Text $pastDate;      # the day the request arrived (rule `rights-receipt-date`); fact
  kind @1 :RightsKind;                # which right; fact
  channel @2 :Channel;                # how it came in; fact
  requestedBy @3 :RequesterKind;      # the person or a representative; fact
  representativeRef @4 :Text;         # subject ref of the representative (also in the event's subjects), or empty; fact
  authority @5 :AuthorityKind;        # the representative's authority; fact
  authorityReceivedOn @6 :Text $date; # the day the authority arrived, or empty when not yet (or not needed); fact
  identityNeeded @7 :Bool;            # identity must be verified before fulfilment (rule `rights-identity-before-fulfilment`); fact
  requestRef @8 :Text;                # the request's reference (the stream is rights/<requestRef>); fact
}
# Personal: the request in the requester's words, in the person's section.

struct RightsIdentityVerified {
  verifiedOn @0 :Text $pastDate;      # date the identity was verified; fact
  method @1 :IdentityMethod;          # how; fact
  verifiedBy @2 :Text;                # staff reference of who checked (professional capacity); fact
}

struct RightsClockPaused {
  pausedOn @0 :Text $pastDate;        # the day the agency asked for what it waits for; fact
  reason @1 :PauseReason;             # what it waits for; fact
}

struct RightsClockResumed {
  resumedOn @0 :Text $pastDate;       # the day what was waited for arrived; fact
}

struct RightsRequestExtended {
  extendedOn @0 :Text $pastDate;      # date of the decision; fact
  months @1 :UInt8;                   # months added, 1 or 2 (at most 2 in all; rule `rights-extension`); fact
  reasonCode @2 :Text;                # why (e.g. "complex", "numerous"); fact
  personToldOn @3 :Text $pastDate;    # the day the person was told, within the first month (rule `rights-extension`); fact
}

struct RightsRequestFulfilled {
  fulfilledOn @0 :Text $pastDate;     # date the request was answered or carried out; fact
  actionCode @1 :Text;                # what was done (e.g. "packSent", "rectified", "restricted", "erased"); fact
}

struct RightsRequestRefused {
  refusedOn @0 :Text $pastDate;       # date of the refusal; fact
  reasonCode @1 :Text;                # why (e.g. "legalObligation", "manifestlyUnfounded", "excessive"); fact
  exemption @2 :Text $prose;          # the exemption or rule relied on (e.g. "retention rule dfg-file until 2031-05-01"); fact
}

struct ErasureDecided {
  decidedOn @0 :Text $pastDate;       # date of the decision; fact
  erase @1 :Bool;                     # true: erase; false: refused; fact
  ruleApplied @2 :Text;               # the retention rule (record of processing) that decided it; fact
  holdUntil @3 :Text $date;           # when refused under a legal hold: the day the hold ends; fact
  reasonCode @4 :Text;                # why (e.g. "legalObligation", "noLongerNeeded", "consentWithdrawn"); fact
}

struct RestrictionApplied {
  appliedOn @0 :Text $pastDate;       # date the restriction started; fact
  requestRef @1 :Text;                # the rights request it answers, or empty; fact
  reasonCode @2 :Text;                # why (e.g. "accuracyContested", "objectionPending"); fact
}

struct RestrictionLifted {
  liftedOn @0 :Text $pastDate;        # date the restriction ended; fact
  reasonCode @1 :Text;                # why (e.g. "accuracyVerified", "objectionDecided"); fact
}

struct ThirdPartyDisclosureDecided {
  decidedOn @0 :Text $pastDate;       # date of the decision; fact
  thirdParty @1 :Text;                # subject ref of the third party (also in the event's subjects); fact
  basis @2 :DisclosureBasis;          # consent, reasonable without it, or withhold; fact
  reasonCode @3 :Text;                # the recorded reason as a code (e.g. "alreadyKnownToRequester"); fact
  reviewerRef @4 :Text;               # staff reference of the reviewer (professional capacity); fact
  notePosition @5 :UInt64;            # a note held for review (CaseNoteAdded with mentionsThirdParty) that this decision is about, by log position; 0: a third party's own sections (rule `rights-held-note`); fact
}
# Personal: for basis releaseRedacted, the redacted text of the note
# (freeText) in the section of the person asking.

# One purpose in the record of processing (Art. 30(1)(b)-(e)).
struct ProcessingPurpose {
  code @0 :Text;                      # short code (e.g. "dfgCaseFile"); fact
  description @1 :Text $prose;        # plain-English description; fact
  lawfulBasis @2 :LawfulBasis;        # Art. 6 basis; fact
  basisDetail @3 :Text $prose;        # the law or task relied on; fact
  specialCategoryCondition @4 :Text $prose; # Art. 9 condition for health data, or empty; fact
  categories @5 :List(Text) $prose;   # data categories processed (e.g. "contact", "health"); fact
  recipients @6 :List(Text) $prose;   # categories of recipient; fact
  retentionRule @7 :Text;             # name of the retention rule that applies; fact
  consentScope @8 :ConsentScope;      # for consent-based purposes: the consent scope that switches it on; fact
}

# One retention rule: how long a record class is kept (Art. 5(1)(e)).
struct RetentionRule {
  name @0 :Text;                      # rule name (e.g. "dfg-file"); fact
  recordClass @1 :Text;               # housingGrant, careRecord or adviceOnly (docs/rights.md); fact
  afterClosureYears @2 :UInt16;       # kept this many years after case closure (0: not used); fact
  afterCompletionYears @3 :UInt16;    # ... after certified completion while a land charge registered on the line (LandChargeRegistered) is not released (0: not used); fact
  afterLastContactYears @4 :UInt16;   # ... after the last contact (0: not used); fact
  legalHold @5 :Bool;                 # while the rule runs, erasure is refused (a legal obligation to keep); fact
  source @6 :Text $prose;             # where the period comes from; fact
}

struct ProcessingRecordSet {
  effectiveOn @0 :Text $pastDate;     # date this version of the record took effect; fact
  controller @1 :Text $prose;         # the controller organisation's name and contact (not a private person); fact
  dpoContact @2 :Text $prose;         # how to reach the data protection officer (role mailbox); fact
  complaintAuthority @3 :Text $prose; # where to complain (the ICO's address and website); fact
  automatedDecisions @4 :Text $prose; # automated decision-making and profiling ("none"); fact
  purposes @5 :List(ProcessingPurpose); # every purpose; fact
  retention @6 :List(RetentionRule);  # every retention rule; fact
  landChargeThresholdPence @7 :UInt32;# no longer used (kept for old records): retention follows LandChargeRegistered / LandChargeReleased events; fact
  transfers @8 :Text $prose;          # transfers outside the UK ("none"); fact
  rightsStatement @9 :List(Text) $prose; # the person's rights in plain English, one per item (access, rectification, erasure, restriction, objection, portability); fact
}

annotation prose @0xb5e3c1d2a4f60718 (field) :Void;
# A Text field of facts holding organisational prose (the record of
# processing, the exemption a refusal relies on): plain English about the
# controller, never about a person. Every other Text field of facts is a date
# ($date, $pastDate) or a code or reference: empty, or 1 to 64 of
# A-Z a-z 0-9 . _ : @ / + - (the codec and the recorder refuse anything else,
# naming the field: docs/domain.md, "Codes, not free text").

# The targets of the monitored timescales (service specification 9.0), kept
# in the store (stream config/timescales) so that the return and the worklist
# read the same ones; the last one recorded at or before a position applies
# (docs/exports.md, "Timescales"). Until one is recorded the specification's
# own targets apply: 28, 55, 150, 6.
struct TimescalesSet {
  effectiveOn @0 :Text $pastDate;     # date these targets took effect; fact
  firstVisitDays @1 :UInt16;          # first visit within this many calendar days of the first contact (the referral when the case came by referral), 1..366; fact
  dfgUrgentWorkingDays @2 :UInt16;    # an urgent DFG end to end within this many working days, 1..1000; fact
  dfgNonUrgentWorkingDays @3 :UInt16; # a non-urgent (or not yet decided) DFG end to end, 1..1000; fact
  dfgDecisionMonths @4 :UInt8;        # the statutory decision on a valid DFG application within this many months, 1..12; fact
}

# A district's annual allocation of one fund (Appendix E: "the level of spend
# against annual allocated budget ... 95% committed or spend at year end"),
# kept in the store (stream config/allocations, a controller's stream). A
# later AllocationSet for the same district, financial year and fund
# supersedes the earlier one (docs/exports.md, "Money"). Rules
# `allocation-district`, `allocation-year`, `allocation-fund`,
# `allocation-amount` (docs/domain.md).
struct AllocationSet {
  setOn @0 :Text $pastDate;           # date the allocation was decided; fact
  district @1 :Text;                  # the district (a district of the log's cases); fact
  financialYear @2 :Text;             # "2018/19": 1 April 2018 to 31 March 2019; fact
  fund @3 :GrantType;                 # the fund: the grant type whose approvals and payments draw on it; fact
  amountPence @4 :Int32;              # the allocation, in pence, 0..2,000,000,000 (£20m; signed so that a negative one is refused by name); fact
}

# A KPI return released to a recipient, cell by cell as the recipient got it
# (the release ledger, stream release/<recipient>; docs/exports.md,
# "Coordination across returns"). A later return to the same recipient is
# suppressed with every earlier one in view. Counts only: nothing personal.
struct KpiReturnReleased {
  recipient @0 :Text;                 # who received it (a code; the stream is release/<recipient>); fact
  period @1 :Text;                    # the return's period, e.g. 2018/19 or 2018/19-Q1; fact
  position @2 :Text;                  # the log position the return is as of, in decimal digits; fact
  policy @3 :Text;                    # the disclosure-control policy: nhs, ons or threshold:N; fact
  areas @4 :List(Text);               # the areas, in order: the districts, then county; fact
  tables @5 :List(ReleasedTable);     # what was released, table by table; fact
  money @6 :List(ReleasedMoney);      # the money table as released (absent in releases recorded before it was kept); fact
}

struct ReleasedMoney {
  id @0 :Text;                        # the figure, e.g. money.mandatoryDfg.spent; fact
  values @1 :List(Int64);             # per area, pence as released; -1 where it was suppressed; fact
}

struct ReleasedTable {
  id @0 :Text;                        # the table, e.g. enquiries; fact
  figures @1 :List(ReleasedFigure);   # its figures; fact
  partitions @2 :List(ReleasedPartition); # its breakdowns (members add up to the total in every area); fact
}

struct ReleasedFigure {
  id @0 :Text;                        # the figure, e.g. enquiries.channel.phone; fact
  values @1 :List(Int32);             # per area, the value as released; -1 where it was suppressed; fact
  overQuarters @2 :OverQuarters;      # how the year's value relates to its quarters'; fact
  grows @3 :Bool;                     # the count can only grow as the log grows (at a later position); fact
}

struct ReleasedPartition {
  total @0 :Text;                     # the total figure; fact
  members @1 :List(Text);             # the member figures; fact
}

# How a figure of a year relates to the same figure of its four quarters
# taken at the same position (docs/exports.md).
enum OverQuarters {
  sum @0;          # the year is the sum of its quarters (counts of dated events)
  distinct @1;     # distinct people or households: between the largest quarter and the sum
  lastQuarter @2;  # a count on the period's last day: the year equals its fourth quarter
  unrelated @3;    # no relation a reader could use
}

# --- equality codes (PersonRegistered; docs/domain.md, "Equality codes") ---
# Each list has unspecified (not asked, not recorded: what an event written
# before the field existed reads as) and preferNotToSay (asked, and the person
# declined), which the KPI return counts as two different categories.

# A yes/no question that the person may decline to answer.
enum YesNo {
  unspecified @0;      # not asked or not recorded
  yes @1;              # yes
  no @2;               # no
  preferNotToSay @3;   # declined to say
}

# The census 2021 disability question: are day-to-day activities limited
# because of a health problem or disability that has lasted or is expected to
# last 12 months or more? (the Equality Act 2010 definition of disability).
enum Disability {
  unspecified @0;      # not asked or not recorded
  limitedALot @1;      # yes, limited a lot (disabled)
  limitedALittle @2;   # yes, limited a little (disabled)
  notLimited @3;       # no (not disabled)
  preferNotToSay @4;   # declined to say
}

# Ethnic group: the ONS 2021 census categories for England and Wales, 19
# categories in 5 groups, in the ONS order. The KPI return counts the groups.
enum Ethnicity {
  unspecified @0;                   # not asked or not recorded
  asianBangladeshi @1;              # Asian, Asian British or Asian Welsh: Bangladeshi
  asianChinese @2;                  # Asian, Asian British or Asian Welsh: Chinese
  asianIndian @3;                   # Asian, Asian British or Asian Welsh: Indian
  asianPakistani @4;                # Asian, Asian British or Asian Welsh: Pakistani
  asianOther @5;                    # Asian, Asian British or Asian Welsh: any other Asian background
  blackAfrican @6;                  # Black, Black British, Black Welsh, Caribbean or African: African
  blackCaribbean @7;                # Black, Black British, Black Welsh, Caribbean or African: Caribbean
  blackOther @8;                    # Black, Black British, Black Welsh, Caribbean or African: any other Black, Black British or Caribbean background
  mixedWhiteAndAsian @9;            # Mixed or Multiple ethnic groups: White and Asian
  mixedWhiteAndBlackAfrican @10;    # Mixed or Multiple ethnic groups: White and Black African
  mixedWhiteAndBlackCaribbean @11;  # Mixed or Multiple ethnic groups: White and Black Caribbean
  mixedOther @12;                   # Mixed or Multiple ethnic groups: any other Mixed or Multiple background
  whiteBritish @13;                 # White: English, Welsh, Scottish, Northern Irish or British
  whiteIrish @14;                   # White: Irish
  whiteGypsyOrIrishTraveller @15;   # White: Gypsy or Irish Traveller
  whiteRoma @16;                    # White: Roma
  whiteOther @17;                   # White: any other White background
  otherArab @18;                    # Other ethnic group: Arab
  otherAny @19;                     # Other ethnic group: any other ethnic group
  preferNotToSay @20;               # declined to say
}

# Main language: English, Welsh and British Sign Language, then main languages
# other than English among the most common in England and Wales at the 2021
# census (Polish, Romanian, Panjabi and Urdu the four largest), then any other
# (docs/domain.md says why this list).
enum MainLanguage {
  unspecified @0;      # not asked or not recorded
  english @1;          # English
  welsh @2;            # Welsh (Cymraeg)
  bsl @3;              # British Sign Language
  polish @4;           # Polish
  romanian @5;         # Romanian
  punjabi @6;          # Punjabi (Panjabi)
  urdu @7;             # Urdu
  portuguese @8;       # Portuguese
  spanish @9;          # Spanish
  arabic @10;          # Arabic
  bengali @11;         # Bengali (with Sylheti and Chatgaya)
  gujarati @12;        # Gujarati
  other @13;           # any other language
  preferNotToSay @14;  # declined to say
}

# --- the breach register (UK GDPR Art. 33(5); docs/domain.md, "The breach
# register") ---
# One stream per breach, "breach/<ref>" (a controller's stream: appending
# needs the controller scope), opened by BreachRecorded. Facts hold codes,
# dates and counts only; what happened, the reasoning of an assessment and
# the reasons not to notify are free text in a personal section (freeText),
# normally of the staff member who recorded it (role staff). The 72 hours
# of Art. 33(1) run from discoveredOn.

enum BreachKind {
  unspecified @0;      # not recorded (refused by rule `breach-kind`)
  confidentiality @1;  # unauthorised or accidental disclosure of, or access to, personal data
  integrity @2;        # unauthorised or accidental alteration of personal data
  availability @3;     # loss of access to, or destruction of, personal data (missing files)
}

enum BreachCause {
  unspecified @0;            # not recorded (refused by rule `breach-kind`)
  lostOrStolenPaperwork @1;  # a paper file, letter or form lost or stolen (000: missing files)
  lostOrStolenDevice @2;     # a laptop, phone or storage device lost or stolen
  sentToWrongRecipient @3;   # letter, email or form sent to the wrong person
  unauthorisedAccess @4;     # someone looked at records they had no reason to
  cyberAttack @5;            # malware, ransomware, phishing, hacking
  alteredInError @6;         # data changed or deleted in error
  systemFailure @7;          # a system or its backup failed
  verbalDisclosure @8;       # said to the wrong person
  other @9;                  # any other cause
}

enum BreachDataCategory {
  unspecified @0;   # never valid in a list (rule `breach-categories`)
  identity @1;      # names, dates of birth, NHS numbers
  contact @2;       # addresses, telephone numbers, email
  health @3;        # health and disability (special category)
  financial @4;     # income, savings, means tests, bank details
  housing @5;       # the home, tenure, works and grants
  safeguarding @6;  # safeguarding concerns
  equality @7;      # ethnicity and other equality codes (special category)
  caseNotes @8;     # case notes and correspondence
  children @9;      # data about children
  other @10;        # any other category
}

enum BreachRisk {
  unspecified @0;   # not assessed (refused by rule `breach-risk`)
  unlikely @1;      # unlikely to result in a risk to people's rights and freedoms: no notification needed
  risk @2;          # a risk: notify the ICO within 72 hours
  highRisk @3;      # a high risk: notify the ICO and inform the people affected (Art. 34)
}

struct BreachRecorded {
  discoveredOn @0 :Text $pastDate;    # the day the agency became aware of it: the 72 hours start; fact
  breachRef @1 :Text;                 # the breach's reference, e.g. B-1 (the stream is breach/<breachRef>); fact
  discoveredTime @2 :Text;            # the time of day it was discovered, HH:MM (UK), or empty (rule `breach-time`); fact
  occurredOn @3 :Text $pastDate;      # the day it happened when known (not after discoveredOn), or empty; fact
  kind @4 :BreachKind;                # confidentiality, integrity or availability; fact
  cause @5 :BreachCause;              # what happened, as a code; fact
  categories @6 :List(BreachDataCategory); # the categories of data affected, at least one; fact
  approxPeople @7 :UInt32;            # approximate number of people affected (0: not yet known); fact
  approxRecords @8 :UInt32;           # approximate number of records affected (0: not yet known); fact
  contained @9 :Bool;                 # the breach is contained (e.g. the file recovered, the email recalled); fact
}
# Personal: what happened, in the section of the staff member who recorded it.

struct BreachAssessed {
  assessedOn @0 :Text $pastDate;      # date of the assessment (not before discovery); fact
  risk @1 :BreachRisk;                # the risk to people's rights and freedoms; fact
  assessorRef @2 :Text;               # staff reference of the assessor (e.g. the DPO); fact
}
# Personal: the reasoning, in the assessor's section.

struct BreachNotifiedToIco {
  notifiedOn @0 :Text $pastDate;      # the day the ICO was notified (not before discovery); fact
  icoReference @1 :Text;              # the ICO's case reference (a code), or empty until it is given; fact
  lateReasonCode @2 :Text;            # when notified more than 72 hours (3 days) after discovery: why (rule `breach-late-reason`); fact
}
# Personal: none, or the reasons for a late notification in full.

struct BreachNotNotified {
  decidedOn @0 :Text $pastDate;       # date of the decision not to notify (not before discovery); fact
  reasonCode @1 :Text;                # why, as a code (e.g. "unlikelyToResultInRisk", "dataEncrypted", "recoveredUnread"); fact
}
# Personal: the reasons in full, in the decision maker's section.

struct BreachPeopleInformed {
  decidedOn @0 :Text $pastDate;       # the day the people were informed, or the decision not to inform them (not before discovery); fact
  informed @1 :Bool;                  # the people affected were informed (Art. 34(1)); fact
  channel @2 :Channel;                # how they were informed; fact
  peopleInformed @3 :UInt32;          # how many were informed; fact
  reasonCode @4 :Text;                # when not informed: the Art. 34(3) ground, e.g. "unintelligible", "riskNoLongerLikely", "disproportionateEffort" (rule `breach-informed`); fact
}
# Personal: none, or the wording of what people were told.

# --- satisfaction and impact (service specification 7.6; docs/domain.md,
# "Satisfaction and impact") ---

# The answer to "has the help made a difference to your quality of life?".
enum QualityOfLifeChange {
  unspecified @0;   # not answered (and every answer recorded before the question was asked)
  muchBetter @1;    # much better
  better @2;        # a little better
  noChange @3;      # no different
  worse @4;         # worse
}

# An impact the person says the help had (the questionnaire's "since the
# work was done ..." questions).
enum ImpactReported {
  unspecified @0;          # never valid in a list (rule `satisfaction-impacts`)
  saferAtHome @1;          # feels safer in their home
  moreIndependent @2;      # does more for themselves
  easierToMoveAround @3;   # moves around the home more easily and with more confidence
  lessHelpNeeded @4;       # needs less help from family, carers or services
  easierForCarers @5;      # caring for them is easier
  fewerFalls @6;           # has fallen less, or is less afraid of falling
  betterHealth @7;         # physical or mental health is better
  canStayAtHome @8;        # able to go on living at home
  warmerHome @9;           # the home is warmer or cheaper to heat
}

# A satisfaction and impact questionnaire sent "on completion of these works"
# (003 7.6), one per service line (or one for the case as a whole, line 0).
# Its return is the SatisfactionRecorded of the same line. Allowed on a
# closed case.
struct QuestionnaireSent {
  sentOn @0 :Text $pastDate;        # date sent; not before the line's works were completed or the line closed (rule `questionnaire-sent`); fact
  line @1 :UInt16;                  # the service line it asks about, 0 for the case as a whole (rule `service-line`); fact
  channel @2 :Channel;              # how it was sent (letter, email, textMessage ...); fact
}
# Personal: none.
# --- allocation of cases to workers (issue 17.7; 000 "Responsibility for
# files": every open case has a named responsible worker) ---
# A case is allocated by CaseAllocated; a reallocation is another
# CaseAllocated naming the new worker; CaseDeallocated takes the worker off
# (they left, or went on long leave) and the case awaits allocation again.
# The worker is a staff reference, never a name.

struct CaseAllocated {
  allocatedOn @0 :Text $pastDate;     # date the case was allocated (not before the enquiry, not before the current allocation: rule `case-allocation-date`); fact
  workerRef @1 :Text;                 # staff reference of the responsible worker, S- then 1 to 30 of A-Z a-z 0-9 - (rule `case-allocation-worker`); fact
  teamCode @2 :Text;                  # team code of the worker, or empty; fact
  roleCode @3 :Text;                  # role code of the worker (caseworker, ot, technicalOfficer ...), or empty; fact
  reasonCode @4 :Text;                # why (e.g. "newCase", "workload", "workerLeft", "specialism"), or empty; fact
}
# Personal: none (the client is named among the subjects).

struct CaseDeallocated {
  deallocatedOn @0 :Text $pastDate;   # date the worker was taken off the case (not before their allocation: rule `case-allocation-date`); fact
  workerRef @1 :Text;                 # the worker taken off: the case's current worker (rule `case-deallocation`); fact
  reasonCode @2 :Text;                # why (e.g. "workerLeft", "longTermLeave"), or empty; fact
}
# Personal: none (the client is named among the subjects).
# --- documents (003 8.3 "Scanned copies of all correspondence and documents
# will be kept in accordance with GDPR"; docs/domain.md "Documents") ---
# The body of a document is no field of an event: it is stored beside the
# event that refers to it, in the same atomic batch, sealed under the data key
# of the person it concerns (docs/format.md, "documents"). The event's facts
# hold codes and its size; its SHA-256 and file name are in that person's
# personal section, so the event's Merkle leaf covers the body's hash.

enum DocumentKind {
  unspecified @0;     # not recorded (refused by rule `document-kind`)
  letter @1;          # a letter sent or received
  applicationForm @2; # an application form (e.g. a DFG application)
  quote @3;           # a contractor's quote
  certificate @4;     # a certificate (e.g. electrical, gas safety, completion)
  decisionLetter @5;  # a decision letter (approval, refusal, means test)
  photo @6;           # a photograph (e.g. of the property before works)
  other @7;           # any other document
}

enum MediaType {
  unspecified @0;     # not recorded (refused by rule `document-kind`)
  pdf @1;             # application/pdf
  png @2;             # image/png
  jpeg @3;            # image/jpeg
  tiff @4;            # image/tiff (scanned pages)
  plainText @5;       # text/plain
  html @6;            # text/html
  wordDocument @7;    # application/vnd.openxmlformats-officedocument.wordprocessingml.document
  other @8;           # application/octet-stream
}

struct DocumentAttached {
  attachedOn @0 :Text $pastDate;      # the day the document was kept on the case; fact
  kind @1 :DocumentKind;              # what the document is; fact
  sizeBytes @2 :UInt32;               # the body's size in bytes (rule `document-size`: at most 16 MiB); fact
  mediaType @3 :MediaType;            # the body's format; fact
  subjectRef @4 :Text;                # the person the document concerns (named in the event's subjects, on the case): the body is sealed under their data key; fact
}
# Personal: documentSha256 and documentFileName, in the section of subjectRef.

# --- DFG order and money rules (issue 17.8) ---

enum Payee {
  unspecified @0;   # not recorded (payments recorded before the payee was kept)
  contractor @1;    # the contractor who did the works (payeeRef: the line's chosen contractor)
  client @2;        # the client (e.g. reimbursing works the client paid for)
  agent @3;         # the client's agent (e.g. the HIA as agent; payeeRef: its code)
  supplier @4;      # a supplier of equipment (e.g. a stairlift company; payeeRef: its code)
  other @5;         # anyone else (payeeRef: a code)
}

struct UrgentWorksExemptionRecorded {
  recordedOn @0 :Text $pastDate;    # date the authority agreed that works may start before approval; fact
  line @1 :UInt16;                  # which element of the case (a DFG line); fact
  reasonCode @2 :Text;              # why, as a code (e.g. "endOfLife", "hospitalDischarge", "imminentRisk") (rule `urgent-exemption`); fact
  authorisedByRole @3 :Text;        # role code of who agreed it (e.g. "manager", "grantsOfficer") (rule `urgent-exemption`); fact
}
# Personal: none, or the circumstances in full in the client's section.

struct GrantVariationApproved {
  approvedOn @0 :Text $pastDate;    # date the variation was approved; fact
  line @1 :UInt16;                  # which element of the case (a line with a grant approved: rule `grant-variation`); fact
  amountPence @2 :Int32;            # the change to the approved amount, in pence: positive an increase, negative a decrease, never 0 (rules `grant-variation`, `payment-over-approved`); fact
  reasonCode @3 :Text;              # why, as a code (e.g. "unforeseenWorks", "revisedQuote", "worksReduced") (rule `grant-variation`); fact
}
# Personal: none.

enum ContractorCheck {
  unspecified @0;          # not recorded (refused by rule `contractor-vetting`)
  publicLiability @1;      # public liability insurance seen
  employersLiability @2;   # employers' liability insurance seen
  references @3;           # references taken up
  dbsChecked @4;           # staff entering homes DBS checked
  tradeAccreditation @5;   # trade accreditation (e.g. TrustMark, NICEIC)
  gasSafe @6;              # Gas Safe registered
  healthAndSafety @7;      # health and safety policy seen
}

struct ContractorVetted {
  vettedOn @0 :Text $pastDate;        # date the contractor was vetted (the list takes it from this day); fact
  contractorRef @1 :Text;             # the contractor's reference, as in QuoteReceived and ContractorChosen (a business's code, never a person's name) (rule `contractor-vetting`); fact
  trades @2 :List(Text);              # the trades it is vetted for, as codes (e.g. "stairlift", "bathroom", "ramp"); fact
  checks @3 :List(ContractorCheck);   # the checks made, at least one (rule `contractor-vetting`); fact
  expiresOn @4 :Text $date;           # the last day the vetting holds (insurance expiry, review date), after vettedOn (rule `contractor-vetting`); fact
}
# Personal: none (a contractor is a business; a personal section is refused).

struct ContractorRemoved {
  removedOn @0 :Text $pastDate;       # date the contractor was taken off the list (not vetted from this day); fact
  contractorRef @1 :Text;             # which contractor (rule `contractor-not-listed`); fact
  reasonCode @2 :Text;                # why, as a code (e.g. "insuranceLapsed", "poorWork", "ceasedTrading") (rule `contractor-removal-reason`); fact
}
# Personal: none.
