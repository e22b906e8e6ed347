#!/usr/bin/env python3
"""A loopback stand-in for Amazon ECR's GetAuthorizationToken, for tests.

Every request is checked the way ECR would check it, with botocore's own code: the X-Amz-Target
and Content-Type against botocore's ecr model (AWS JSON 1.1), the body against the operation's
input shape (botocore.validate), and the SigV4 signature recomputed by botocore.auth.SigV4Auth
(the signing algorithm of AWS's SDK) from the signed headers, the body and the key pair the test
gave. Each verdict is appended to STATE_DIR/requests.jsonl.

usage: ecr_stand_in.py STATE_DIR [--tunnel-to HOST:PORT]
STATE_DIR/config.json (read at every request):
  {"access_key_id": ..., "secret_access_key": ..., "password": ..., "expires_in": SECONDS,
   "mode": "ok" | "access-denied" | "other-secret", "username": "AWS", "numbered": true}
The answer's token is base64(username + ":" + password + N), N counting the requests answered
(without N when "numbered" is false). The port it listens on (127.0.0.1) is written to
STATE_DIR/port once it listens.

With --tunnel-to, it is also an HTTPS proxy (HTTP CONNECT) on another port of 127.0.0.1, written
to STATE_DIR/tunnel_port, that connects every CONNECT to HOST:PORT whatever host it names: a
container runtime given HTTPS_PROXY then reaches "ACCOUNT.dkr.ecr.REGION.amazonaws.com:443" at a
registry on loopback, and authenticates as it would to ECR (with that host's credentials).
"""
import base64
import datetime
import hmac
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.validate import ParamValidator

STATE_DIR = sys.argv[1]
MODEL = botocore.session.get_session().get_service_model("ecr")
LOCK = threading.Lock()
ANSWERED = [0]


def config():
    with open(os.path.join(STATE_DIR, "config.json")) as f:
        return json.load(f)


def record(verdict):
    with LOCK, open(os.path.join(STATE_DIR, "requests.jsonl"), "a") as f:
        f.write(json.dumps(verdict) + "\n")


def check_signature(method, path, headers, body, settings):
    """'' when the Authorization header is SigV4 by the test's key pair, else why not."""
    authorization = headers.get("authorization", "")
    prefix = "AWS4-HMAC-SHA256 "
    if not authorization.startswith(prefix):
        return "no AWS4-HMAC-SHA256 Authorization header"
    fields = dict(
        part.strip().split("=", 1) for part in authorization[len(prefix):].split(","))
    access_key, day, region, service, terminal = fields["Credential"].split("/")
    if access_key != settings["access_key_id"]:
        return "unknown access key " + access_key
    if service != MODEL.signing_name or terminal != "aws4_request":
        return "scope names service %r, not %r" % (service, MODEL.signing_name)
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(day):
        return "X-Amz-Date %r is not of the scope's day %r" % (amz_date, day)
    signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)
    if abs(time.time() - signed_at.timestamp()) > 300:
        return "X-Amz-Date %r is too far from now" % amz_date
    signed_names = fields["SignedHeaders"].split(";")
    for required in ("host", "x-amz-date", "x-amz-target", "content-type"):
        if required not in signed_names:
            return "header %r is not signed" % required
    request = AWSRequest(
        method=method, url="http://" + headers["host"] + path, data=body,
        headers={name: headers[name] for name in signed_names})
    request.context["timestamp"] = amz_date
    secret = settings["secret_access_key"]
    if settings.get("mode") == "other-secret":  # the key pair ECR knows is not the client's
        secret += "-rotated"
    signer = SigV4Auth(
        Credentials(settings["access_key_id"], secret,
                    headers.get("x-amz-security-token")), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, fields["Signature"]):
        # As AWS words it, quoting the canonical request (the session token's header included).
        return ("The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.\n\nThe Canonical String for this request should "
                "have been\n'%s'" % canonical)
    return ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, document):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        settings = config()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        target = headers.get("x-amz-target", "")
        prefix, _, operation = target.partition(".")
        verdict = {"target": target, "content_type": headers.get("content-type", ""),
                   "body": body.decode("utf-8", "replace"), "model_errors": "",
                   "signature_error": "", "region": ""}
        error = None
        if (self.path != "/" or prefix != MODEL.metadata["targetPrefix"]
                or operation not in MODEL.operation_names):
            error = (400, "UnknownOperationException", "unknown target " + target)
        elif verdict["content_type"] != "application/x-amz-json-" + MODEL.metadata["jsonVersion"]:
            error = (400, "SerializationException", "content type " + verdict["content_type"])
        else:
            try:
                params = json.loads(body or b"{}")
                report = ParamValidator().validate(
                    params, MODEL.operation_model(operation).input_shape)
                verdict["model_errors"] = report.generate_report() if report.has_errors() else ""
            except ValueError as e:
                verdict["model_errors"] = "body is not JSON: %s" % e
            if verdict["model_errors"]:
                error = (400, "InvalidParameterException", verdict["model_errors"])
        if error is None:
            verdict["signature_error"] = check_signature(
                "POST", self.path, headers, body, settings)
            credential = headers.get("authorization", "").split("Credential=")[-1].split("/")
            verdict["region"] = credential[2] if len(credential) > 2 else ""
            if verdict["signature_error"]:
                error = (400, "InvalidSignatureException", verdict["signature_error"])
        record(verdict)
        if error is None and settings.get("mode") == "access-denied":
            error = (400, "AccessDeniedException",
                     "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
                     "ecr:GetAuthorizationToken on resource: * because no identity-based "
                     "policy allows the ecr:GetAuthorizationToken action")
        if error is not None:
            status, code, message = error
            self.answer(status, {"__type": code, "message": message})
            return
        with LOCK:
            ANSWERED[0] += 1
            n = ANSWERED[0]
        # Without registryIds (as `aws ecr get-login-password` asks), the caller's own registry.
        account = json.loads(body).get("registryIds", ["123456789012"])[0]
        password = settings["password"] + (str(n) if settings.get("numbered", True) else "")
        token = base64.b64encode(
            ("%s:%s" % (settings.get("username", "AWS"), password)).encode()).decode()
        self.answer(200, {"authorizationData": [{
            "authorizationToken": token,
            "expiresAt": time.time() + settings.get("expires_in", 43200),
            "proxyEndpoint": "https://%s.dkr.ecr.%s.amazonaws.com" % (account, verdict["region"]),
        }]})


def write_port(name, port):
    path = os.path.join(STATE_DIR, name)
    with open(path + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(path + ".tmp", path)


def pipe(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def tunnel(client, target):
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(4096)
        if not data:
            client.close()
            return
        head += data
    line = head.split(b"\r\n")[0].decode("latin-1")
    with LOCK, open(os.path.join(STATE_DIR, "tunnels.log"), "a") as f:
        f.write(line + "\n")
    if not line.startswith("CONNECT "):
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    upstream = socket.create_connection(target)
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    pipe(upstream, client)


def serve_tunnel(target):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    write_port("tunnel_port", listener.getsockname()[1])
    while True:
        client, _ = listener.accept()
        threading.Thread(target=tunnel, args=(client, target), daemon=True).start()


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "--tunnel-to":
        host, port = sys.argv[3].rsplit(":", 1)
        threading.Thread(target=serve_tunnel, args=((host, int(port)),), daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    write_port("port", server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
