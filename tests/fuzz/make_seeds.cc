// Writes the seed corpora of the fuzz targets in this folder, from the
// product's own encoders, so the seeds follow the formats as they change:
//   make_seeds DIR  ->  DIR/record/*  DIR/case_state/*  DIR/proof_json/*
// Records are sealed under the keys the record fuzzer uses (bytes
// 0x11.. for the store key, 0x5a.. for the data key), each prefixed by the
// 8-byte big-endian position it is read at.
#include <sodium.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "crypto/secret.h"
#include "hearth/readmodels.h"
#include "log/record.h"
#include "merkle/proof_json.h"

namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) {
    std::cerr << "make_seeds: cannot write " << path << "\n";
    std::exit(1);
  }
}

hearth::crypto::SecretKey KeyFilledFrom(uint8_t first) {
  uint8_t bytes[hearth::crypto::kKeyBytes];
  for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = uint8_t(first + i);
  return hearth::crypto::SecretKey::FromBytes(bytes);
}

std::string PositionPrefix(uint64_t position) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[size_t(i)] = char(position & 0xff);
    position >>= 8;
  }
  return out;
}

hearth::NewEvent SyntheticEvent(int variant) {
  hearth::NewEvent e;
  e.id = hearth::Id128::Random();
  e.type = variant == 0 ? "ContactRecorded" : "NoteAdded";
  e.occurred_at = 1'700'000'000'000'000 + variant;
  e.actor = {"S-0042", "caseworker", "cli"};
  e.correlation_id = hearth::Id128::Random();
  e.subjects = {{"P-000001", hearth::SubjectRole::kClient}};
  e.facts = std::string("\x00\x00\x00\x00\x01\x00\x00\x00", 8) + "synthetic facts";
  if (variant >= 1) {
    e.personal.push_back({"P-000001", "synthetic personal section", {}, false});
  }
  if (variant >= 2) {
    e.subjects.push_back({"erased", hearth::SubjectRole::kCarer});
    e.personal.push_back({"erased", "sealed under a key since destroyed", {}, false});
  }
  return e;
}

void RecordSeeds(const fs::path& dir) {
  fs::create_directories(dir);
  auto store_key = KeyFilledFrom(0x11);
  auto data_key = KeyFilledFrom(0x5a);
  hearth::log::SectionSealer seal = [&](const std::string&, std::string_view aad,
                                        std::string_view plain, std::string* out) {
    hearth::crypto::Seal(data_key, aad, plain, out);
    return hearth::Status::OK();
  };
  int n = 0;
  for (int variant = 0; variant < 3; ++variant) {
    for (bool sealed_facts : {false, true}) {
      hearth::NewEvent e = SyntheticEvent(variant);
      uint64_t position = 17 + uint64_t(n);
      hearth::log::EncodeInput in{position, "case/D1/000017", uint64_t(variant + 1),
                                  1'700'000'100'000'000, &e, "digest-bytes",
                                  sealed_facts ? &store_key : nullptr};
      auto record = hearth::log::EncodeRecord(in, seal);
      if (!record.ok()) {
        std::cerr << "make_seeds: " << record.status().ToString() << "\n";
        std::exit(1);
      }
      Write(dir / ("record-" + std::to_string(n++)), PositionPrefix(position) + *record);
    }
  }
}

void CaseStateSeeds(const fs::path& dir) {
  fs::create_directories(dir);
  using hearth::domain::Date;
  hearth::domain::CaseState empty;
  Write(dir / "empty", hearth::readmodels::EncodeCaseState(empty));

  hearth::domain::CaseState s;
  s.case_id = "case/D1/000017";
  s.version = 12;
  s.last_position = 4711;
  s.client = "P-000001";
  s.people = {{"P-000001", "client"}, {"P-000002", "carer"}};
  s.district = "D1";
  s.tenure = "ownerOccupier";
  s.enquiry_on = Date(std::chrono::days(17'800));
  s.consents = {{"referOn", "", Date(std::chrono::days(17'801))}};
  hearth::domain::ServiceLine line;
  line.line = 1;
  line.element = "mandatoryDfg";
  line.service = "dfg";
  line.opened_on = Date(std::chrono::days(17'802));
  line.urgency = "urgent";
  line.ot_priority = 2;
  line.approved_on = Date(std::chrono::days(17'850));
  line.approved_pence = 1'250'000;
  s.lines.push_back(line);
  s.outcomes = {"remainAtHome"};
  hearth::domain::Complaint complaint;
  complaint.number = 1;
  complaint.stage = "stage1";
  complaint.received_on = complaint.stage_on = Date(std::chrono::days(17'860));
  complaint.responded_on = Date(std::chrono::days(17'870));
  complaint.result = "upheld";
  s.complaint_list = {complaint};
  s.closed = true;
  s.closed_on = Date(std::chrono::days(17'900));
  Write(dir / "dfg", hearth::readmodels::EncodeCaseState(s));
}

void ProofSeeds(const fs::path& dir) {
  fs::create_directories(dir);
  hearth::SignedCheckpoint cp;
  cp.size = 1000;
  cp.time = 1'700'000'000'000'000;
  for (size_t i = 0; i < cp.root.size(); ++i) cp.root[i] = uint8_t(i);
  for (size_t i = 0; i < cp.signature.size(); ++i) cp.signature[i] = uint8_t(0xff - i);
  Write(dir / "checkpoint.json", hearth::merkle::CheckpointToJson(cp).dump());

  hearth::merkle::InclusionProofDoc inc;
  inc.position = 7;
  inc.tree_size = 1000;
  inc.record = "stored record bytes";
  inc.path.resize(10);
  for (size_t i = 0; i < inc.path.size(); ++i) inc.path[i][0] = uint8_t(i);
  Write(dir / "inclusion.json", hearth::merkle::InclusionToJson(inc).dump());

  hearth::merkle::ConsistencyProofDoc con;
  con.from = 7;
  con.to = 1000;
  con.path = inc.path;
  Write(dir / "consistency.json", hearth::merkle::ConsistencyToJson(con).dump());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds DIR\n";
    return 2;
  }
  if (sodium_init() < 0) return 1;
  fs::path out = argv[1];
  RecordSeeds(out / "record");
  CaseStateSeeds(out / "case_state");
  ProofSeeds(out / "proof_json");
  return 0;
}
