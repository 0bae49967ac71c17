"""A Docker-registry token service for tests (the Bearer flow of the distribution spec's token
authentication), so that docker-registry's own `auth: token` verifies what it issues.

Tokens are RS256 JWTs signed with a throwaway key through the openssl command line; the
certificate goes in the JWT header (x5c) and in the registry's rootcertbundle. Policy: the
user `tester` with password `s3cret` gets every action asked for; anyone else (or no one) gets
`pull` on repositories under `public/` only; a wrong password is a 401. Every request is
recorded (path, query, whether Basic credentials came) so that tests can check the scope and
service a client asked for."""
import base64
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse

USER, PASSWORD = "tester", "s3cret"
ISSUER, SERVICE = "swctr-test-issuer", "swctr-test-registry"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, tmp):
        self.key = os.path.join(tmp, "token.key")
        self.cert = os.path.join(tmp, "token.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=swctr-test-token", "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", self.cert, "-outform", "DER"], check=True,
                             capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def registry_auth_yaml(self):
        return (f"auth:\n  token:\n    realm: {self.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
                f"    rootcertbundle: {self.cert}\n")

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                             check=True, capture_output=True).stdout
        return signing_input + "." + _b64(sig)

    def handle(self, h):
        url = urllib.parse.urlparse(h.path)
        query = urllib.parse.parse_qs(url.query)
        user = None
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
            if (user, password) != (USER, PASSWORD):
                self.requests.append({"path": url.path, "query": query, "basic": True, "denied": True})
                h.send_response(401)
                h.send_header("Content-Type", "application/json")
                h.end_headers()
                h.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                return
        self.requests.append({"path": url.path, "query": query, "basic": user is not None, "denied": False})
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                kind, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                wanted = [a for a in actions.split(",") if a]
                granted = wanted if user == USER else [a for a in wanted if a == "pull" and name.startswith("public/")]
                if kind == "repository" and granted:
                    access.append({"type": "repository", "name": name, "actions": granted})
        now = int(time.time())
        token = self.sign({"iss": ISSUER, "sub": user or "", "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                           "iat": now, "jti": f"swctr-{now}-{len(self.requests)}", "access": access})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
