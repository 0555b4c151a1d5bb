// dpop-client.ts
import { createHash } from 'crypto';

interface JWK {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

interface DPoPHeader {
  alg: string;
  typ: string;
  jwk: JWK;
}

interface DPoPClaims {
  jti: string;
  htm: string;
  htu: string;
  iat: number;
  ath?: string; // Access token hash
  nonce?: string;
}

class DPoPClient {
  private keyPair: CryptoKeyPair;
  private jwk: JWK;

  constructor() {
    // Will be initialized in init()
  }

  async init(): Promise<void> {
    // Generate EC P-256 key pair for DPoP
    this.keyPair = await crypto.subtle.generateKey(
      {
        name: 'ECDSA',
        namedCurve: 'P-256',
      },
      false, // extractable
      ['sign', 'verify']
    );

    // Export JWK for DPoP proof header
    const publicKeyJwk = await crypto.subtle.exportKey('jwk', this.keyPair.publicKey);
    this.jwk = {
      kty: publicKeyJwk.kty!,
      crv: publicKeyJwk.crv!,
      x: publicKeyJwk.x!,
      y: publicKeyJwk.y!,
    };
  }

  private async createDPoPProof(
    httpMethod: string,
    httpUrl: string,
    accessToken?: string,
    nonce?: string
  ): Promise<string> {
    const jti = crypto.getRandomValues(new Uint8Array(16));
    const jtiB64 = btoa(String.fromCharCode(...jti));

    const header: DPoPHeader = {
      alg: 'ES256',
      typ: 'dpop+jwt',
      jwk: this.jwk,
    };

    const claims: DPoPClaims = {
      jti: jtiB64,
      htm: httpMethod,
      htu: httpUrl,
      iat: Math.floor(Date.now() / 1000),
    };

    // Add access token hash if provided
    if (accessToken) {
      const encoder = new TextEncoder();
      const tokenBytes = encoder.encode(accessToken);
      const hashBuffer = await crypto.subtle.digest('SHA-256', tokenBytes);
      const hashArray = new Uint8Array(hashBuffer);
      claims.ath = btoa(String.fromCharCode(...hashArray))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=/g, '');
    }

    if (nonce) {
      claims.nonce = nonce;
    }

    // Create JWT
    const headerB64 = btoa(JSON.stringify(header))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '');
    const claimsB64 = btoa(JSON.stringify(claims))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '');

    const signingInput = `${headerB64}.${claimsB64}`;
    const encoder = new TextEncoder();
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      this.keyPair.privateKey,
      encoder.encode(signingInput)
    );

    const signatureArray = new Uint8Array(signature);
    const signatureB64 = btoa(String.fromCharCode(...signatureArray))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '');

    return `${signingInput}.${signatureB64}`;
  }

  async requestToken(
    authCode: string,
    clientId: string,
    redirectUri: string,
    codeVerifier: string,
    tokenEndpoint: string
  ): Promise<any> {
    const dpopProof = await this.createDPoPProof('POST', tokenEndpoint);

    const params = new URLSearchParams({
      grant_type: 'authorization_code',
      code: authCode,
      client_id: clientId,
      redirect_uri: redirectUri,
      code_verifier: codeVerifier,
    });

    const response = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'DPoP': dpopProof,
      },
      body: params.toString(),
    });

    if (!response.ok) {
      throw new Error(`Token request failed: ${response.statusText}`);
    }

    return response.json();
  }

  async makeAuthenticatedRequest(
    method: string,
    url: string,
    accessToken: string,
    body?: any,
    nonce?: string
  ): Promise<Response> {
    const dpopProof = await this.createDPoPProof(method, url, accessToken, nonce);

    const headers: Record<string, string> = {
      'Authorization': `DPoP ${accessToken}`,
      'DPoP': dpopProof,
    };

    if (body) {
      headers['Content-Type'] = 'application/json';
    }

    return fetch(url, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
  }
}

// Usage example
async function main() {
  const dpopClient = new DPoPClient();
  await dpopClient.init();

  try {
    // 1. Get DPoP-bound access token
    const tokenResponse = await dpopClient.requestToken(
      'auth_code_here',
      '01HPQS4VWXYZ01',
      'https://myapp.example.com/callback',
      'code_verifier_here',
      'https://auth.rustaxum.dev/oauth/token'
    );

    console.log('Token Type:', tokenResponse.token_type); // Should be "DPoP"
    console.log('Access Token:', tokenResponse.access_token);

    // 2. Make authenticated API requests
    const apiResponse = await dpopClient.makeAuthenticatedRequest(
      'GET',
      'https://api.example.com/user/profile',
      tokenResponse.access_token
    );

    if (apiResponse.ok) {
      const userData = await apiResponse.json();
      console.log('User Data:', userData);
    } else {
      console.error('API request failed:', apiResponse.statusText);
    }
  } catch (error) {
    console.error('DPoP flow failed:', error);
  }
}

main();
