// Moved to testing/fake_command_runner.h (il_testing). This forwarder remains only for
// src/sidecars/docker, whose tests are being rewritten; delete it once they include
// "testing/fake_command_runner.h".
#pragma once

#include "testing/fake_command_runner.h"  // IWYU pragma: export
