"""Moved to test/harness (harness.k8s_names). Kept only for test_docker_sd*.py, which are
being rewritten: delete once they import `harness.k8s_names`."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness.k8s_names import *  # noqa: E402,F401,F403
from harness.k8s_names import MAX_LABEL, long_pod_names  # noqa: E402,F401
