// Which certificates may speak for a plugin beyond its CN: pins by SHA-256
// fingerprint and by subject alternative name, and revocation through the
// CA's CRL (docs/plugins.md section 2).
#include <openssl/pem.h>

#include <cstdio>

#include "raw_tls.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

constexpr int kAlertBadCertificate = 42;
constexpr int kAlertCertificateRevoked = 44;

// The SHA-256 fingerprint of a PEM certificate, as `openssl x509
// -fingerprint -sha256` prints it (upper case, colons).
std::string Fingerprint(const std::string& pem) {
  FILE* f = std::fopen(pem.c_str(), "r");
  if (f == nullptr) return {};
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  unsigned char md[32];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  X509_free(cert);
  std::string out;
  char buf[4];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, i == 0 ? "%02X" : ":%02X", md[i]);
    out += buf;
  }
  return out;
}

class PinningTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    // More certificates named `portal`, from the same CA (once per process).
    static bool issued = [&] {
      pki_->Issue("ca", "portal-twin", "portal");
      pki_->Issue("ca", "portal-revoked", "portal");
      server::CertRequest req;
      req.common_name = "portal";
      req.dns_names = {"portal.agency.example"};
      Status s = server::IssueCertificate(pki_->dir.sub("ca"), req, pki_->cert("portal-san"),
                                          pki_->key("portal-san"));
      EXPECT_TRUE(s.ok()) << s.ToString();
      return true;
    }();
    (void)issued;
    // A copy of the CA per test, so that revocations stay in the test.
    std::filesystem::copy(pki_->dir.sub("ca"), dir_.sub("ca"));
  }

  std::string Ca() { return dir_.sub("ca"); }

  // Whether `cert` gets through the handshake and hello; the alert it saw
  // otherwise.
  bool Speaks(const std::string& cert, int* alert = nullptr) {
    raw::Connection c;
    if (!c.Connect(server_->port(), pki_->ca(), pki_->cert(cert), pki_->key(cert)).empty()) {
      if (alert) *alert = c.alert();
      return false;
    }
    c.Write(raw::Hello(1, "u-0042", "caseworker"));
    auto f = c.ReadFrame(10000);
    if (alert) *alert = c.alert();
    return f && f->Root().isHelloResult();
  }
};

TEST_F(PinningTest, ARevokedCertificateIsRefused) {
  Status s = server::RevokeCertificate(Ca(), pki_->cert("portal-revoked"), 30);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto config = Config();
  config.crl_file = dir_.sub("ca/crl.pem");
  Start(config);
  int alert = -1;
  EXPECT_FALSE(Speaks("portal-revoked", &alert));
  EXPECT_EQ(alert, kAlertCertificateRevoked);
  EXPECT_TRUE(Eventually([&] { return LogContains("certificate revoked"); })) << Log();
  // Certificates the CRL does not name still speak.
  EXPECT_TRUE(Speaks("portal"));
  EXPECT_TRUE(Speaks("portal-twin"));
}

TEST_F(PinningTest, RevocationListsKeepEverySerialAndRefuseACertificateOfAnotherCa) {
  const std::string ca = Ca();
  ASSERT_TRUE(server::RevokeCertificate(ca, pki_->cert("portal-revoked"), 30).ok());
  ASSERT_TRUE(server::RevokeCertificate(ca, pki_->cert("portal-twin"), 30).ok());
  // Renewal keeps both.
  ASSERT_TRUE(server::RevokeCertificate(ca, "", 30).ok());
  Status other = server::RevokeCertificate(ca, pki_->cert("portal-other-ca"), 30);
  EXPECT_EQ(other.code(), Status::Code::kInvalidArgument) << other.ToString();
  auto config = Config();
  config.crl_file = dir_.sub("ca/crl.pem");
  Start(config);
  EXPECT_FALSE(Speaks("portal-revoked"));
  EXPECT_FALSE(Speaks("portal-twin"));
  EXPECT_TRUE(Speaks("portal"));
}

TEST_F(PinningTest, TheRightCnWithAnotherFingerprintIsRefusedWhenPinned) {
  auto config = Config();
  config.plugins["portal"].pin_sha256 = {[&] {
    std::string hex;
    for (char c : Fingerprint(pki_->cert("portal"))) {
      if (c != ':') hex += char(std::tolower(static_cast<unsigned char>(c)));
    }
    return hex;
  }()};
  Start(config);
  EXPECT_TRUE(Speaks("portal"));
  int alert = -1;
  EXPECT_FALSE(Speaks("portal-twin", &alert));
  EXPECT_EQ(alert, kAlertBadCertificate);
  EXPECT_TRUE(Eventually([&] { return LogContains("plugins.portal.pin.sha256"); })) << Log();
}

TEST_F(PinningTest, ACertificateWithoutThePinnedSubjectAltNameIsRefused) {
  auto config = Config();
  config.plugins["portal"].pin_san = {"DNS:portal.agency.example"};
  Start(config);
  EXPECT_TRUE(Speaks("portal-san"));
  int alert = -1;
  EXPECT_FALSE(Speaks("portal", &alert));
  EXPECT_EQ(alert, kAlertBadCertificate);
  EXPECT_TRUE(Eventually([&] { return LogContains("plugins.portal.pin.san"); })) << Log();
}

TEST_F(PinningTest, PinsAndTheCrlAreReadFromTheConfiguration) {
  std::string print = Fingerprint(pki_->cert("portal"));
  auto json = [&](const std::string& pin, const std::string& tls_extra) {
    return R"({"tls": {"ca": "ca.pem", "cert": "s.pem", "key": "s.key")" + tls_extra + R"(},
      "plugins": {"portal": {"scopes": {}, "pin": )" + pin + "}}}";
  };
  auto ok = server::ServerConfig::FromJson(
      json(R"({"sha256": [")" + print + R"("], "san": ["DNS:portal.agency.example"]})",
           R"(, "crl": "crl.pem")"),
      "/etc/hearth");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  const auto& portal = ok->plugins.at("portal");
  ASSERT_EQ(portal.pin_sha256.size(), 1u);
  EXPECT_EQ(portal.pin_sha256[0].size(), 64u);
  EXPECT_EQ(portal.pin_sha256[0].find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(portal.pin_san, std::vector<std::string>{"DNS:portal.agency.example"});
  EXPECT_EQ(ok->crl_file, "/etc/hearth/crl.pem");

  auto bad_print = server::ServerConfig::FromJson(json(R"({"sha256": ["AB:CD"]})", ""), "");
  ASSERT_FALSE(bad_print.ok());
  EXPECT_NE(bad_print.status().message().find("plugins.portal.pin.sha256"), std::string::npos)
      << bad_print.status().ToString();
  auto bad_san = server::ServerConfig::FromJson(json(R"({"san": ["portal.agency.example"]})", ""), "");
  ASSERT_FALSE(bad_san.ok());
  EXPECT_NE(bad_san.status().message().find("plugins.portal.pin.san"), std::string::npos);
  auto unknown = server::ServerConfig::FromJson(json(R"({"cn": ["portal"]})", ""), "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'cn'"), std::string::npos);
}

TEST_F(PinningTest, AServerWithAnUnreadableCrlDoesNotStart) {
  auto config = Config();
  config.crl_file = pki_->dir.sub("no-such-crl.pem");
  auto server = server::Server::Start(store_.get(), &models_, config, [](const std::string&) {});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("no-such-crl.pem"), std::string::npos);
}

}  // namespace
}  // namespace hearth::testing
