# device_flow.py
import time
import requests
from typing import Optional, Dict, Any

class DeviceFlowClient:
    def __init__(self, client_id: str, auth_server_url: str):
        self.client_id = client_id
        self.auth_server_url = auth_server_url

    def request_device_authorization(self, scope: Optional[str] = None) -> Dict[str, Any]:
        """Step 1: Request device authorization"""
        data = {'client_id': self.client_id}
        if scope:
            data['scope'] = scope

        response = requests.post(
            f"{self.auth_server_url}/oauth/device/code",
            data=data,
            headers={'Content-Type': 'application/x-www-form-urlencoded'}
        )
        response.raise_for_status()
        return response.json()

    def poll_for_token(self, device_code: str, interval: int = 5) -> Dict[str, Any]:
        """Step 2: Poll for access token"""
        while True:
            data = {
                'grant_type': 'urn:ietf:params:oauth:grant-type:device_code',
                'device_code': device_code,
                'client_id': self.client_id
            }

            response = requests.post(
                f"{self.auth_server_url}/oauth/token",
                data=data,
                headers={'Content-Type': 'application/x-www-form-urlencoded'}
            )

            result = response.json()

            if response.ok and 'access_token' in result:
                return result

            error = result.get('error')
            if error == 'authorization_pending':
                time.sleep(interval)
                continue
            elif error == 'slow_down':
                interval += 5
                time.sleep(interval)
                continue
            elif error in ['expired_token', 'access_denied']:
                raise Exception(f"Authorization {error}: {result.get('error_description')}")
            else:
                raise Exception(f"Unknown error: {error}")

    def authorize(self, scope: Optional[str] = None) -> Dict[str, Any]:
        """Complete device authorization flow"""
        print("Starting device authorization flow...")

        # Get device code
        device_auth = self.request_device_authorization(scope)

        print(f"\n Please visit: {device_auth['verification_uri']}")
        print(f" Enter code: {device_auth['user_code']}")

        if 'verification_uri_complete' in device_auth:
            print(f" Or visit: {device_auth['verification_uri_complete']}")

        print(f"  Code expires in {device_auth['expires_in'] // 60} minutes")
        print("Waiting for authorization...\n")

        # Poll for token
        return self.poll_for_token(device_auth['device_code'], device_auth['interval'])

# Usage
if __name__ == "__main__":
    client = DeviceFlowClient(
        client_id='01HPQS4VWXYZ01',
        auth_server_url='https://auth.rustaxum.dev'
    )

    try:
        token_response = client.authorize('read write')
        print(" Authorization successful!")
        print(f"Access Token: {token_response['access_token']}")
        print(f"Expires in: {token_response['expires_in']} seconds")
    except Exception as e:
        print(f" Authorization failed: {e}")
