"""Loaded with `-p tests.environment` before Django reads its settings (a conftest is too late).

Tests run the production settings module with production defaults, except for what a test
process cannot have: a real secret, HTTPS in front of it, a huey consumer, and a phone for the
second factor.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-never-used-in-production-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("HUEY_IMMEDIATE", "1")
# The admin's tests log staff in without a phone; the second factor's own tests
# (tests/inventory/mfa) switch the production default back on.
os.environ.setdefault("MFA_REQUIRED", "0")
if "VAR_DIR" not in os.environ:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="toolcrib-tests-")
    atexit.register(shutil.rmtree, os.environ["VAR_DIR"], ignore_errors=True)
