"""Moved to test/harness (harness.integration). Kept only for docker_harness.py and
test_docker_sd*.py, which are being rewritten: delete once they import `harness`."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness.integration import *  # noqa: E402,F401,F403
from harness.integration import free_port  # noqa: E402,F401
