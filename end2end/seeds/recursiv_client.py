# recursiv's published Flask client (shared/seeds/000_…, "Flask code to obtain token in the PKCE
# flow"), as published: the paste lost its indentation, which is restored here, and nothing else
# is changed. end2end/tests/seeds.spec.ts replaces only the four constants below (client id,
# authorize and token URLs, redirect URI) with this test's values, as a merchant would, and runs
# it under Flask on its own origin.
from flask import Flask, redirect, request, jsonify, session
import requests
import base64
import os
import hashlib
app = Flask(__name__)
app.secret_key = 'your_flask_secret_key' # Necessary for session management
CLIENT_ID = "your_client_id"
AUTHORIZATION_BASE_URL = 'https://recursiv.io/o/authorize/'
TOKEN_URL = 'https://recursiv.io/o/token/'
REDIRECT_URI = 'your_redirect_uri'
def generate_pkce_verifier():
    return base64.urlsafe_b64encode(os.urandom(30)).rstrip(b'=').decode('utf-8')
def generate_pkce_challenge(verifier):
    challenge = hashlib.sha256(verifier.encode('utf-8')).digest()
    return base64.urlsafe_b64encode(challenge).rstrip(b'=').decode('utf-8')
@app.route('/')
def index():
    pkce_verifier = generate_pkce_verifier()
    pkce_challenge = generate_pkce_challenge(pkce_verifier)
    authorization_url = f"{AUTHORIZATION_BASE_URL}?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT_URI}&code_challenge={pkce_challenge}&code_challenge_method=S256&approval_prompt=auto"
    session['pkce_verifier'] = pkce_verifier # Store the PKCE verifier in the session
    html_content = f"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>OAuth2 Authorization</title>
<link href="https://cdn.jsdelivr.net/npm/[email protected]/dist/tailwind.min.css" rel="stylesheet">
</head>
<body class="bg-black flex items-center justify-center h-screen">
<div class="absolute top-0 left-0 p-8 text-left w-full max-w-md">
<h1 class="text-2xl text-white font-bold mb-4">OAuth2 Authorization</h1>
<p class="mb-6 text-white font-bold">Click the button below to authorize:</p>
<a href="{authorization_url}" class="bg-indigo-500 text-white py-2 px-4 rounded hover:bg-blue-600">Authorize</a>
</div>
</body>
</html>
"""
    return html_content
@app.route('/callback/')
def callback():
    code = request.args.get('code')
    pkce_verifier = session.get('pkce_verifier') # Retrieve the PKCE verifier from the session
    token_data = {
        'code': code,
        'redirect_uri': REDIRECT_URI,
        'client_id': CLIENT_ID,
        'code_verifier': pkce_verifier,
        'grant_type': 'authorization_code',
    }
    headers = {
        'Cache-Control': 'no-cache',
        'Content-Type': 'application/x-www-form-urlencoded'
    }
    response = requests.post(TOKEN_URL, data=token_data, headers=headers)
    return jsonify(response.json())
if __name__ == '__main__':
    app.run(debug=True)
