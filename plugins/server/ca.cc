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
#include <filesystem>
#include <memory>

namespace hearth::server {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
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

Result<Owned<X509>> ReadCert(const std::string& path) {
  Owned<FILE> f(std::fopen(path.c_str(), "r"));
  if (!f) return Status::NotFound("no CA certificate at " + path + " (run `hearth ca init` first)");
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

}  // namespace hearth::server
