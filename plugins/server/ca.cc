// The local certificate authority (ca.h), on OpenSSL 3's C API.
#include "ca.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace hearth::server {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(X509_REVOKED* p) const { X509_REVOKED_free(p); }
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }  // times, integers
  void operator()(char* p) const { OPENSSL_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string SslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + buf;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return Status::InvalidArgument(SslError("extension " + value));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return Status::IOError(SslError("adding " + value));
  return Status::OK();
}

Owned<EVP_PKEY> NewKey() { return Owned<EVP_PKEY>(EVP_EC_gen("P-256")); }

// A new certificate with a random serial, the validity and the subject set.
Owned<X509> NewCert(EVP_PKEY* key, const std::string& cn, int64_t not_before_s,
                    int64_t not_after_s) {
  Owned<X509> cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);  // v3
  Owned<BIGNUM> serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), long(not_before_s));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), long(not_after_s));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("hearth local CA"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

Status WriteCert(const std::string& path, X509* cert) {
  Owned<FILE> f(std::fopen(path.c_str(), "w"));
  if (!f) return Status::IOError("cannot write " + path);
  if (PEM_write_X509(f.get(), cert) != 1) return Status::IOError(SslError("writing " + path));
  return Status::OK();
}

// Private keys: created with mode 0600, never over an existing file.
Status WriteKey(const std::string& path, EVP_PKEY* key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::InvalidArgument(path + " already exists: not overwritten");
    return Status::IOError("cannot create " + path);
  }
  Owned<FILE> f(::fdopen(fd, "w"));
  if (!f) {
    ::close(fd);
    return Status::IOError("cannot open " + path);
  }
  if (PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::IOError(SslError("writing " + path));
  }
  return Status::OK();
}

Result<Owned<X509>> ReadCert(const std::string& path, const char* what = "CA certificate") {
  Owned<FILE> f(std::fopen(path.c_str(), "r"));
  if (!f) {
    return Status::NotFound("no " + std::string(what) + " at " + path +
                            (std::string(what) == "CA certificate" ? " (run `hearth ca init` first)" : ""));
  }
  Owned<X509> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::InvalidArgument(SslError("reading " + path));
  return cert;
}

Result<Owned<EVP_PKEY>> ReadKey(const std::string& path) {
  Owned<FILE> f(std::fopen(path.c_str(), "r"));
  if (!f) return Status::NotFound("no CA key at " + path);
  Owned<EVP_PKEY> key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::InvalidArgument(SslError("reading " + path));
  return key;
}

}  // namespace

Status CreateCa(const std::string& dir, const std::string& name, int days) {
  if (name.empty()) return Status::InvalidArgument("the CA needs a name");
  if (days < 1) return Status::InvalidArgument("days must be at least 1");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  std::string cert_path = dir + "/ca.pem", key_path = dir + "/ca.key";
  if (std::filesystem::exists(cert_path)) {
    return Status::InvalidArgument(cert_path + " already exists: not overwritten");
  }
  Owned<EVP_PKEY> key = NewKey();
  if (!key) return Status::IOError(SslError("generating the CA key"));
  Owned<X509> cert = NewCert(key.get(), name, -300, int64_t(days) * 86400);
  if (!cert) return Status::IOError(SslError("creating the CA certificate"));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status s = AddExtension(cert.get(), cert.get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Status::IOError(SslError("signing the CA certificate"));
  }
  if (Status s = WriteKey(key_path, key.get()); !s.ok()) return s;
  return WriteCert(cert_path, cert.get());
}

Status IssueCertificate(const std::string& ca_dir, const CertRequest& request,
                        const std::string& cert_path, const std::string& key_path) {
  if (request.common_name.empty()) return Status::InvalidArgument("the certificate needs a name (CN)");
  if (request.not_after_s <= request.not_before_s) {
    return Status::InvalidArgument("notAfter must lie after notBefore");
  }
  if (request.server && request.dns_names.empty() && request.ip_addresses.empty()) {
    return Status::InvalidArgument("a server certificate needs at least one DNS name or IP address");
  }
  auto ca_cert = ReadCert(ca_dir + "/ca.pem");
  if (!ca_cert.ok()) return ca_cert.status();
  auto ca_key = ReadKey(ca_dir + "/ca.key");
  if (!ca_key.ok()) return ca_key.status();

  Owned<EVP_PKEY> key = NewKey();
  if (!key) return Status::IOError(SslError("generating a key"));
  Owned<X509> cert = NewCert(key.get(), request.common_name, request.not_before_s, request.not_after_s);
  if (!cert) return Status::IOError(SslError("creating the certificate"));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get()));
  std::string san;
  for (const std::string& d : request.dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const std::string& ip : request.ip_addresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  std::vector<std::pair<int, std::string>> exts = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, request.server ? "serverAuth" : "clientAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (!san.empty()) exts.emplace_back(NID_subject_alt_name, san);
  for (const auto& [nid, value] : exts) {
    if (Status s = AddExtension(cert.get(), ca_cert->get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), ca_key->get(), EVP_sha256()) == 0) {
    return Status::IOError(SslError("signing the certificate"));
  }
  if (Status s = WriteKey(key_path, key.get()); !s.ok()) return s;
  return WriteCert(cert_path, cert.get());
}

Status RevokeCertificate(const std::string& ca_dir, const std::string& cert_path, int days) {
  if (days < 1) return Status::InvalidArgument("days must be at least 1");
  auto ca_cert = ReadCert(ca_dir + "/ca.pem");
  if (!ca_cert.ok()) return ca_cert.status();
  auto ca_key = ReadKey(ca_dir + "/ca.key");
  if (!ca_key.ok()) return ca_key.status();

  // The list so far: serial (hex) -> revocation time (Unix seconds).
  const std::string list_path = ca_dir + "/revoked.txt";
  std::map<std::string, int64_t> revoked;
  {
    std::ifstream in(list_path);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string serial;
      int64_t when = 0;
      if (!(fields >> serial >> when)) {
        return Status::InvalidArgument(list_path + ": malformed line '" + line.substr(0, 80) + "'");
      }
      revoked.emplace(serial, when);
    }
  }
  if (!cert_path.empty()) {
    auto cert = ReadCert(cert_path, "certificate");
    if (!cert.ok()) return cert.status();
    if (X509_check_issued(ca_cert->get(), cert->get()) != X509_V_OK) {
      return Status::InvalidArgument(cert_path + " was not issued by the CA in " + ca_dir);
    }
    Owned<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get_serialNumber(cert->get()), nullptr));
    Owned<char> hex(BN_bn2hex(bn.get()));
    if (!hex) return Status::IOError(SslError("reading the serial of " + cert_path));
    revoked.emplace(hex.get(), int64_t(std::time(nullptr)));
  }

  Owned<X509_CRL> crl(X509_CRL_new());
  if (!crl) return Status::IOError(SslError("creating the CRL"));
  X509_CRL_set_version(crl.get(), 1);  // v2
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert->get()));
  Owned<ASN1_TIME> now(ASN1_TIME_adj(nullptr, std::time(nullptr), 0, 0));
  Owned<ASN1_TIME> next(ASN1_TIME_adj(nullptr, std::time(nullptr), days, 0));
  X509_CRL_set1_lastUpdate(crl.get(), now.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const auto& [serial, when] : revoked) {
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, serial.c_str()) == 0) {
      return Status::InvalidArgument(list_path + ": '" + serial + "' is not a hexadecimal serial");
    }
    Owned<BIGNUM> bn(raw);
    Owned<ASN1_INTEGER> number(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    Owned<ASN1_TIME> date(ASN1_TIME_adj(nullptr, time_t(when), 0, 0));
    Owned<X509_REVOKED> entry(X509_REVOKED_new());
    if (!number || !date || !entry || X509_REVOKED_set_serialNumber(entry.get(), number.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), date.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
      return Status::IOError(SslError("adding serial " + serial + " to the CRL"));
    }
    entry.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), ca_key->get(), EVP_sha256()) == 0) {
    return Status::IOError(SslError("signing the CRL"));
  }

  // The list, then the CRL, each replaced whole.
  {
    const std::string tmp = list_path + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [serial, when] : revoked) out << serial << " " << when << "\n";
    out.close();
    if (!out) return Status::IOError("cannot write " + tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, list_path, ec);
    if (ec) return Status::IOError("cannot write " + list_path + ": " + ec.message());
  }
  const std::string crl_path = ca_dir + "/crl.pem", tmp = crl_path + ".tmp";
  {
    Owned<FILE> f(std::fopen(tmp.c_str(), "w"));
    if (!f) return Status::IOError("cannot write " + tmp);
    if (PEM_write_X509_CRL(f.get(), crl.get()) != 1) return Status::IOError(SslError("writing " + tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, crl_path, ec);
  if (ec) return Status::IOError("cannot write " + crl_path + ": " + ec.message());
  return Status::OK();
}

}  // namespace hearth::server
