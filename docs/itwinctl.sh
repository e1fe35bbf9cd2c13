#!/usr/bin/env bash
# The seed's name for the login-node helper: `source docs/itwinctl.sh start|stop|restart`
# (or run it). Everything is done by scripts/interlinkctl (docs/operations.md); unlike the
# seed's script, `install` downloads nothing (an OAuth2 proxy is deployed separately,
# docs/oidc.md).
"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/interlinkctl" "$@"
