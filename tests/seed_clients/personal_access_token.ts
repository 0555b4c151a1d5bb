// Create personal access token via API
async function createPersonalAccessToken(
  name: string,
  scopes: string[],
  expiresIn?: number
): Promise<string> {
  const response = await fetch('/oauth/personal-access-tokens', {
    method: 'POST',
    headers: {
      'Authorization': `Bearer ${userAccessToken}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({
      name,
      scopes,
      expires_in: expiresIn,
    }),
  });

  if (!response.ok) {
    throw new Error('Failed to create personal access token');
  }

  const result = await response.json();
  return result.access_token;
}

// Usage
const apiToken = await createPersonalAccessToken('My API Token', ['read', 'write'], 86400);
console.log('Your API token:', apiToken);
