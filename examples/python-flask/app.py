"""A small Flask API that logs users in and protects routes with the auth service.

The browser never sees the access token: POST /login puts it in an HttpOnly; Secure;
SameSite=Strict cookie, and every protected route asks the service (Validate) whether
the cookie's token is still good. Generate the stubs first (see README.md).

Settings (environment):
  AUTH_TARGET            host:port of the auth service's gRPC port (default 127.0.0.1:50051)
  AUTH_CA_FILE           PEM file of the CA that signed the service's certificate; unset means plaintext
  AUTH_DEADLINE_SECONDS  deadline of Validate and Revoke (default 2); Login gets five times as long
  AUTH_STUBS_DIR         where the generated stubs are (default: ./generated next to this file)
  HOST, PORT             where this API listens (default 127.0.0.1:5000)
"""
import logging
import os
import sys
from datetime import datetime, timezone

import grpc
from flask import Flask, jsonify, request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("AUTH_STUBS_DIR") or os.path.join(HERE, "generated"))
from auth.v1 import auth_pb2, auth_pb2_grpc  # noqa: E402  (generated; needs the path above)

COOKIE = "access_token"
DEADLINE = float(os.environ.get("AUTH_DEADLINE_SECONDS", "2"))
LOGIN_DEADLINE = 5 * DEADLINE  # Login hashes a password (Argon2id): slower by design
# The service cannot be asked: the caller should retry later, not log in again.
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

log = logging.getLogger("example")


def channel(target):
    ca_file = os.environ.get("AUTH_CA_FILE")
    if not ca_file:
        return grpc.insecure_channel(target)
    with open(ca_file, "rb") as pem:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=pem.read()))


def message(status, text):
    response = jsonify({"message": text})
    response.status_code = status
    return response


def unreachable(error):
    # the code only: an RPC error's details never carry a token, but there is no need to find out
    log.warning("auth service unreachable: %s", error.code().name)
    return message(503, "Authentication service unavailable")


def create_app(auth):
    app = Flask(__name__)

    @app.post("/login")
    def login():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("username"), str) \
                or not isinstance(body.get("password"), str):
            return message(400, "Send JSON {\"username\": ..., \"password\": ...}")
        try:
            answer = auth.Login(auth_pb2.LoginRequest(username=body["username"], password=body["password"]),
                                timeout=LOGIN_DEADLINE)
        except grpc.RpcError as error:
            if error.code() in UNREACHABLE:
                return unreachable(error)
            if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                return message(401, "Invalid username or password")
            if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                return message(429, "Too many attempts; try again later")
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                return message(400, error.details())
            log.warning("login failed: %s", error.code().name)
            return message(502, "Authentication failed")
        # the token id (jti) is safe to log and finds the service's audit events; the token is not
        log.info("login %s token_id=%s", body["username"], answer.token_id)
        response = jsonify({"username": body["username"]})
        # the refresh token is dropped: this example does not refresh, so it keeps no long-lived secret
        response.set_cookie(COOKIE, answer.access_token, httponly=True, secure=True, samesite="Strict", path="/",
                            expires=datetime.fromtimestamp(answer.expires_at.seconds, tz=timezone.utc))
        return response

    @app.get("/protected")
    def protected():
        token = request.cookies.get(COOKIE)
        if not token:
            return message(401, "Invalid token")
        try:
            answer = auth.Validate(auth_pb2.ValidateRequest(token=token), timeout=DEADLINE)
        except grpc.RpcError as error:
            if error.code() in UNREACHABLE:
                return unreachable(error)
            # INVALID_ARGUMENT: a cookie value no token can have (too long, say)
            return message(401, "Invalid token")
        if answer.active:
            return jsonify({"username": answer.username})
        if answer.failure == auth_pb2.VALIDATION_FAILURE_EXPIRED:
            return message(401, "Expired token")
        return message(401, "Invalid token")

    @app.post("/logout")
    def logout():
        token = request.cookies.get(COOKIE)
        if token:
            try:
                auth.Revoke(auth_pb2.RevokeRequest(token=token,
                                                   token_type_hint=auth_pb2.TOKEN_TYPE_HINT_ACCESS_TOKEN),
                            timeout=DEADLINE)
            except grpc.RpcError as error:
                if error.code() in UNREACHABLE:
                    # keep the cookie: the token still works, so the user must be able to try again
                    return unreachable(error)
                # anything else (a cookie no token can have) has nothing left to revoke
        response = app.response_class(status=204)
        response.delete_cookie(COOKIE, httponly=True, secure=True, samesite="Strict", path="/")
        return response

    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stub = auth_pb2_grpc.AuthServiceStub(channel(os.environ.get("AUTH_TARGET", "127.0.0.1:50051")))
    create_app(stub).run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
