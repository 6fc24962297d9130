// Small OpenSSL helpers shared by the plugin server and the web console,
// which use the same TLS context and certificates.
#pragma once

#include <openssl/x509.h>

#include <string>

namespace hearth::server {

// The oldest error on this thread's OpenSSL error queue, as text (the queue
// is cleared); "unknown OpenSSL error" when it is empty.
std::string OpenSslError();

// The certificate subject's common name (UTF-8), or empty.
std::string CommonName(X509* cert);

}  // namespace hearth::server
