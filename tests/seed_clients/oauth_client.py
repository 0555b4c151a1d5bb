# oauth_client.py
import requests
import time
import json
from typing import Optional, Dict, Any
from dataclasses import dataclass
from urllib.parse import urljoin

@dataclass
class TokenResponse:
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    expires_at: float = 0

    def __post_init__(self):
        self.expires_at = time.time() + self.expires_in - 300  # 5 min buffer

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

class OAuth2ClientCredentialsClient:
    """OAuth 2.1 Client Credentials Grant implementation."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        auth_server_url: str,
        scopes: Optional[list] = None,
        timeout: int = 30
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.auth_server_url = auth_server_url.rstrip('/')
        self.scopes = scopes or []
        self.timeout = timeout
        self.session = requests.Session()
        self._token: Optional[TokenResponse] = None

    def authenticate(self) -> TokenResponse:
        """Obtain access token using client credentials grant."""
        token_url = urljoin(self.auth_server_url + '/', 'oauth/token')

        data = {
            'grant_type': 'client_credentials',
            'client_id': self.client_id,
            'client_secret': self.client_secret,
        }

        if self.scopes:
            data['scope'] = ' '.join(self.scopes)

        try:
            response = self.session.post(
                token_url,
                data=data,
                headers={'Content-Type': 'application/x-www-form-urlencoded'},
                timeout=self.timeout
            )
            response.raise_for_status()

            token_data = response.json()
            self._token = TokenResponse(**token_data)

            return self._token

        except requests.exceptions.RequestException as e:
            raise OAuth2Error(f"Authentication failed: {e}") from e

    def get_valid_token(self) -> str:
        """Get a valid access token, refreshing if necessary."""
        if self._token is None or self._token.is_expired():
            self.authenticate()

        return self._token.access_token

    def make_request(
        self,
        method: str,
        url: str,
        **kwargs
    ) -> requests.Response:
        """Make authenticated API request."""
        token = self.get_valid_token()

        headers = kwargs.get('headers', {})
        headers['Authorization'] = f'Bearer {token}'
        kwargs['headers'] = headers

        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)

            # If token expired, try once more with new token
            if response.status_code == 401:
                self._token = None  # Force re-authentication
                token = self.get_valid_token()
                headers['Authorization'] = f'Bearer {token}'
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)

            return response

        except requests.exceptions.RequestException as e:
            raise OAuth2Error(f"API request failed: {e}") from e

    def get(self, url: str, **kwargs) -> requests.Response:
        """Make authenticated GET request."""
        return self.make_request('GET', url, **kwargs)

    def post(self, url: str, **kwargs) -> requests.Response:
        """Make authenticated POST request."""
        return self.make_request('POST', url, **kwargs)

    def put(self, url: str, **kwargs) -> requests.Response:
        """Make authenticated PUT request."""
        return self.make_request('PUT', url, **kwargs)

    def delete(self, url: str, **kwargs) -> requests.Response:
        """Make authenticated DELETE request."""
        return self.make_request('DELETE', url, **kwargs)

    def introspect_token(self, token: Optional[str] = None) -> Dict[str, Any]:
        """Introspect access token to get metadata."""
        token = token or self.get_valid_token()
        introspect_url = urljoin(self.auth_server_url + '/', 'oauth/introspect')

        data = {
            'token': token,
            'token_type_hint': 'access_token'
        }

        try:
            response = self.session.post(
                introspect_url,
                data=data,
                headers={'Content-Type': 'application/x-www-form-urlencoded'},
                timeout=self.timeout
            )
            response.raise_for_status()

            return response.json()

        except requests.exceptions.RequestException as e:
            raise OAuth2Error(f"Token introspection failed: {e}") from e

    def revoke_token(self, token: Optional[str] = None) -> bool:
        """Revoke access token."""
        token = token or (self._token.access_token if self._token else None)
        if not token:
            return True  # No token to revoke

        revoke_url = urljoin(self.auth_server_url + '/', 'oauth/revoke')

        data = {'token': token}

        try:
            response = self.session.post(
                revoke_url,
                data=data,
                headers={'Content-Type': 'application/x-www-form-urlencoded'},
                timeout=self.timeout
            )

            # OAuth spec says revoke should return 200 even for invalid tokens
            self._token = None
            return response.status_code == 200

        except requests.exceptions.RequestException as e:
            raise OAuth2Error(f"Token revocation failed: {e}") from e

class OAuth2Error(Exception):
    """OAuth 2.1 related errors."""
    pass

# Usage examples
if __name__ == "__main__":
    # Initialize client
    oauth_client = OAuth2ClientCredentialsClient(
        client_id="your-server-client-id",
        client_secret="your-server-client-secret",
        auth_server_url="https://auth.yourcompany.com",
        scopes=["read", "write", "admin"]
    )

    try:
        # Authenticate
        token = oauth_client.authenticate()
        print(f"Authenticated successfully. Token expires at: {time.ctime(token.expires_at)}")

        # Make API requests
        response = oauth_client.get("https://api.yourcompany.com/users")
        if response.status_code == 200:
            users = response.json()
            print(f"Retrieved {len(users)} users")

        # Create new user
        new_user_data = {
            "name": "John Doe",
            "email": "john@example.com"
        }

        response = oauth_client.post(
            "https://api.yourcompany.com/users",
            json=new_user_data
        )

        if response.status_code == 201:
            user = response.json()
            print(f"Created user: {user['id']}")

        # Introspect token
        token_info = oauth_client.introspect_token()
        print(f"Token info: {json.dumps(token_info, indent=2)}")

        # Revoke token when done
        oauth_client.revoke_token()
        print("Token revoked successfully")

    except OAuth2Error as e:
        print(f"OAuth error: {e}")
    except Exception as e:
        print(f"Unexpected error: {e}")
