// KeepTlsBuffers: undo Boost.Asio's SSL_MODE_RELEASE_BUFFERS on one TLS connection.
//
// asio::ssl::stream sets that mode on every SSL object it makes. OpenSSL then frees a
// connection's read and write buffers (about 16 KiB each) whenever they are empty and
// allocates them again for the next record: two large malloc/free pairs per request, and
// each large malloc makes glibc consolidate its fast bins. In the vk's 1,000-pod burst that
// was about a tenth of its CPU (`perf`: _int_malloc and malloc_consolidate under
// engine::perform). Keeping the buffers costs those 32 KiB per open connection.
//
// The HTTP client uses it: its connections are few and busy. The server does not: any peer
// can open a listener's connections (up to its cap) and leave them idle, and the gain
// there was never measured.
#pragma once

#include <openssl/ssl.h>

namespace il::http {

inline void KeepTlsBuffers(SSL* ssl) { SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS); }

}  // namespace il::http
