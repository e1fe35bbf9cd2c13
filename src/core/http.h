// Plain HTTP message types shared by HttpServer and HttpClient.
//
// They carry no Boost types so that domain code (handlers, backends) does not pull
// Beast into every translation unit.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::http {

// Header names compare case-insensitively; stored lower-case.
class Headers {
 public:
  void Set(std::string_view name, std::string value);
  void Add(std::string_view name, std::string value);
  // Empty when absent.
  std::string Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// The client certificate a TLS peer presented and the server verified against its
// client CA (ServerOptions::tls.ca_file). Empty when none was presented or TLS is off.
struct PeerCertificate {
  bool verified = false;                   // chain checked against the client CA
  std::string common_name;                 // subject CN (Kubernetes: the user name)
  std::vector<std::string> organizations;  // subject O values (Kubernetes: the groups)
};

// Who a request was authenticated as (filled by the server's authenticator).
struct Identity {
  std::string user;
  std::vector<std::string> groups;
  std::string method;  // "token", "oidc", "x509", "proxy", "anonymous", ...
};

struct Request {
  std::string method = "GET";
  std::string target = "/";  // path plus query, as sent
  std::string path = "/";    // decoded path
  std::map<std::string, std::string> query;
  Headers headers;
  std::string body;
  std::string peer;             // "127.0.0.1:5555", "unix", ...
  PeerCertificate client_cert;  // TLS listeners only
  Identity identity;            // set by the filter / authenticator before the handler runs
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
};

// Where a client connects or a server listens.
//   http://host:port  https://host:port  unix:///abs/path  http+unix:///abs/path
struct Endpoint {
  enum class Scheme { kHttp, kHttps, kUnix };
  Scheme scheme = Scheme::kHttp;
  std::string host;       // tcp only
  std::string port;       // tcp only
  std::string unix_path;  // unix only
  std::string ToString() const;
};

// Parses a URL. `default_port` fills in a missing port for tcp schemes.
Result<Endpoint> ParseEndpoint(std::string_view url, std::string_view default_port = "");
// Joins the seed's two-part form ("http://localhost" + "3000") into an endpoint.
// A port already in the URL wins; unix:// ignores the port.
Result<Endpoint> EndpointFromUrlAndPort(std::string_view url, std::string_view port);

// Percent-encoding and -decoding, and query parsing for targets. UrlEncode keeps RFC 3986's
// unreserved characters (A-Z a-z 0-9 - . _ ~) and those in `also_keep`, and writes every
// other byte as %XX (upper-case hex): a query value or, with the pchar sub-delims kept, a
// path segment. The one percent-encoder of the code base.
std::string UrlEncode(std::string_view s, std::string_view also_keep = "");
std::string UrlDecode(std::string_view s, bool plus_as_space = false);
void SplitTarget(std::string_view target, std::string* path,
                 std::map<std::string, std::string>* query);

// TLS material, all PEM files. Server: cert+key, plus ca_file for mTLS.
// Client: ca_file to verify the server, cert+key for mTLS, insecure to skip verification.
struct TlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string ca_pem;  // inline CA (kubeconfig certificate-authority-data)
  std::string cert_pem;
  std::string key_pem;
  bool insecure_skip_verify = false;
  std::string server_name;  // SNI / verification name override
};

}  // namespace il::http
