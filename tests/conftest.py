"""Test-wide settings: fake AWS credentials, fail-fast retries, no stray endpoints."""

import os

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    # A moto 500 should fail the test at once, not after retries.
    DYNAMODB_MAX_ATTEMPTS="1",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ISSUER"):
    os.environ.pop(variable, None)
