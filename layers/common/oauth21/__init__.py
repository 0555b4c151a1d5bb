"""oauth21: the shared layer of a serverless OAuth 2.1 authorization server."""

__version__ = "0.1.0"
