// A local certificate authority for plugin and server certificates
// (`hearth ca init|issue`, docs/plugins.md). For a single agency's own
// deployment and for tests: keys are ECDSA P-256, written unencrypted with
// mode 0600, never to be committed anywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hearth/status.h"

namespace hearth::server {

// Creates `dir`/ca.pem and `dir`/ca.key: a self-signed CA named `name`,
// valid for `days`. InvalidArgument when either file already exists.
Status CreateCa(const std::string& dir, const std::string& name, int days);

struct CertRequest {
  // The subject CN: a plugin's name (its key in the server configuration), or
  // the server's host name.
  std::string common_name;
  // A server certificate (serverAuth, with the names below as
  // subjectAltName); otherwise a client (plugin) certificate.
  bool server = false;
  std::vector<std::string> dns_names;     // server: e.g. localhost
  std::vector<std::string> ip_addresses;  // server: e.g. 127.0.0.1
  // Validity relative to now, in seconds: notBefore = now + not_before_s,
  // notAfter = now + not_after_s. An expired certificate (for tests) has
  // both in the past.
  int64_t not_before_s = -300;
  int64_t not_after_s = 365 * 86400;
};

// Issues a certificate signed by the CA in `ca_dir` (ca.pem, ca.key) and
// writes it to `cert_path` and its new key to `key_path` (mode 0600).
// InvalidArgument (request, existing key file), NotFound (no CA), IOError.
Status IssueCertificate(const std::string& ca_dir, const CertRequest& request,
                        const std::string& cert_path, const std::string& key_path);

// Revocation: adds the certificate at `cert_path` (issued by the CA in
// `ca_dir`) to the CA's list of revoked serials (`ca_dir`/revoked.txt, one
// hexadecimal serial and its revocation time per line) and writes
// `ca_dir`/crl.pem: a v2 CRL of every serial on the list, signed by the CA
// and valid for `days` from now. An empty `cert_path` only writes the CRL
// again (renewal: a server with tls.crl refuses every certificate once the
// CRL has expired). InvalidArgument for a certificate of another CA, NotFound
// (no CA, no certificate), IOError.
Status RevokeCertificate(const std::string& ca_dir, const std::string& cert_path, int days);

}  // namespace hearth::server
