// oauth-client.ts
interface PKCEChallenge {
  codeVerifier: string;
  codeChallenge: string;
}

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope: string;
}

class OAuth2Client {
  private clientId: string;
  private redirectUri: string;
  private authServerUrl: string;

  constructor(clientId: string, redirectUri: string, authServerUrl: string) {
    this.clientId = clientId;
    this.redirectUri = redirectUri;
    this.authServerUrl = authServerUrl;
  }

  // Generate PKCE challenge according to RFC 7636
  private async generatePKCE(): Promise<PKCEChallenge> {
    const codeVerifier = this.base64URLEncode(
      crypto.getRandomValues(new Uint8Array(32))
    );

    const encoder = new TextEncoder();
    const data = encoder.encode(codeVerifier);
    const digest = await crypto.subtle.digest('SHA-256', data);

    const codeChallenge = this.base64URLEncode(new Uint8Array(digest));

    return { codeVerifier, codeChallenge };
  }

  private base64URLEncode(buffer: Uint8Array): string {
    return btoa(String.fromCharCode(...buffer))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=/g, '');
  }

  // Step 1: Redirect to authorization server
  async authorize(scopes: string[] = ['read']): Promise<void> {
    const { codeVerifier, codeChallenge } = await this.generatePKCE();
    const state = this.base64URLEncode(crypto.getRandomValues(new Uint8Array(16)));

    // Store PKCE verifier and state for callback
    sessionStorage.setItem('oauth_code_verifier', codeVerifier);
    sessionStorage.setItem('oauth_state', state);

    const authUrl = new URL('/oauth/authorize', this.authServerUrl);
    authUrl.searchParams.set('response_type', 'code');
    authUrl.searchParams.set('client_id', this.clientId);
    authUrl.searchParams.set('redirect_uri', this.redirectUri);
    authUrl.searchParams.set('code_challenge', codeChallenge);
    authUrl.searchParams.set('code_challenge_method', 'S256');
    authUrl.searchParams.set('scope', scopes.join(' '));
    authUrl.searchParams.set('state', state);

    window.location.href = authUrl.toString();
  }

  // Step 2: Handle callback and exchange code for tokens
  async handleCallback(): Promise<TokenResponse> {
    const urlParams = new URLSearchParams(window.location.search);
    const code = urlParams.get('code');
    const state = urlParams.get('state');
    const error = urlParams.get('error');

    if (error) {
      throw new Error(`OAuth error: ${error} - ${urlParams.get('error_description')}`);
    }

    if (!code) {
      throw new Error('Authorization code not found in callback');
    }

    const savedState = sessionStorage.getItem('oauth_state');
    if (state !== savedState) {
      throw new Error('State parameter mismatch - possible CSRF attack');
    }

    const codeVerifier = sessionStorage.getItem('oauth_code_verifier');
    if (!codeVerifier) {
      throw new Error('PKCE code verifier not found');
    }

    // Exchange code for tokens
    const response = await fetch('/oauth/token', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: this.clientId,
        redirect_uri: this.redirectUri,
        code_verifier: codeVerifier,
      }),
    });

    if (!response.ok) {
      const error = await response.json();
      throw new Error(`Token exchange failed: ${error.error_description}`);
    }

    const tokens: TokenResponse = await response.json();

    // Store tokens securely
    this.storeTokens(tokens);

    // Clean up temporary storage
    sessionStorage.removeItem('oauth_code_verifier');
    sessionStorage.removeItem('oauth_state');

    return tokens;
  }

  // Refresh access token
  async refreshToken(): Promise<TokenResponse> {
    const refreshToken = this.getRefreshToken();
    if (!refreshToken) {
      throw new Error('No refresh token available');
    }

    const response = await fetch('/oauth/token', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: this.clientId,
      }),
    });

    if (!response.ok) {
      const error = await response.json();
      if (response.status === 400 && error.error === 'invalid_grant') {
        // Refresh token expired, need to reauthorize
        this.clearTokens();
        await this.authorize();
        throw new Error('Refresh token expired, redirecting to login');
      }
      throw new Error(`Token refresh failed: ${error.error_description}`);
    }

    const tokens: TokenResponse = await response.json();
    this.storeTokens(tokens);
    return tokens;
  }

  // Make authenticated API request with automatic token refresh
  async apiRequest(url: string, options: RequestInit = {}): Promise<Response> {
    let token = this.getAccessToken();

    if (!token) {
      throw new Error('No access token available');
    }

    // First attempt
    let response = await fetch(url, {
      ...options,
      headers: {
        'Authorization': `Bearer ${token}`,
        'Content-Type': 'application/json',
        ...options.headers,
      },
    });

    // If unauthorized, try to refresh token
    if (response.status === 401) {
      try {
        await this.refreshToken();
        token = this.getAccessToken();

        // Retry with new token
        response = await fetch(url, {
          ...options,
          headers: {
            'Authorization': `Bearer ${token}`,
            'Content-Type': 'application/json',
            ...options.headers,
          },
        });
      } catch (error) {
        // Refresh failed, redirect to login
        await this.authorize();
        throw error;
      }
    }

    return response;
  }

  private storeTokens(tokens: TokenResponse): void {
    const expiresAt = Date.now() + (tokens.expires_in * 1000);

    sessionStorage.setItem('oauth_access_token', tokens.access_token);
    sessionStorage.setItem('oauth_refresh_token', tokens.refresh_token);
    sessionStorage.setItem('oauth_token_expires_at', expiresAt.toString());
    sessionStorage.setItem('oauth_scope', tokens.scope);
  }

  private getAccessToken(): string | null {
    const token = sessionStorage.getItem('oauth_access_token');
    const expiresAt = sessionStorage.getItem('oauth_token_expires_at');

    if (!token || !expiresAt) {
      return null;
    }

    // Check if token is expired (with 5 minute buffer)
    const now = Date.now();
    const expires = parseInt(expiresAt, 10);

    if (now >= expires - 300000) { // 5 minutes buffer
      return null;
    }

    return token;
  }

  private getRefreshToken(): string | null {
    return sessionStorage.getItem('oauth_refresh_token');
  }

  private clearTokens(): void {
    sessionStorage.removeItem('oauth_access_token');
    sessionStorage.removeItem('oauth_refresh_token');
    sessionStorage.removeItem('oauth_token_expires_at');
    sessionStorage.removeItem('oauth_scope');
  }

  // Check if user is authenticated
  isAuthenticated(): boolean {
    return this.getAccessToken() !== null;
  }

  // Logout
  async logout(): Promise<void> {
    const token = this.getAccessToken();

    if (token) {
      // Revoke token on server
      try {
        await fetch('/oauth/revoke', {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            token,
          }),
        });
      } catch (error) {
        console.warn('Token revocation failed:', error);
      }
    }

    this.clearTokens();
    window.location.href = '/login';
  }
}

// Usage example
const oauth = new OAuth2Client(
  'your-client-id',
  'https://yourapp.com/oauth/callback',
  'https://auth.yourcompany.com'
);

// On login page
document.getElementById('login-btn')?.addEventListener('click', () => {
  oauth.authorize(['read', 'write']);
});

// On callback page
if (window.location.pathname === '/oauth/callback') {
  oauth.handleCallback()
    .then(() => {
      window.location.href = '/dashboard';
    })
    .catch(error => {
      console.error('OAuth callback failed:', error);
      window.location.href = '/login?error=oauth_failed';
    });
}

// Making API requests
async function loadUserData() {
  try {
    const response = await oauth.apiRequest('/api/user');
    const userData = await response.json();
    return userData;
  } catch (error) {
    console.error('Failed to load user data:', error);
    throw error;
  }
}
