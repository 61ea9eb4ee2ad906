#!/usr/bin/env python3
"""An HTTPS front for a loopback test server, signed by a private CA made on the spot.

Stands in for GitHub Enterprise Server (or a model endpoint) behind a company's own CA: the
tests check that ghillie-run refuses it by default and trusts it with GHILLIE_CA_BUNDLE.
Makes a CA and a certificate for 127.0.0.1 with the openssl command into FOLDER (ca.pem,
server.pem, server.key), listens on a free port of 127.0.0.1 with TLS, writes that port to
FOLDER/port once listening, and forwards every request as it came to TARGET (http://…),
answering with what TARGET answered. Runs until killed.

usage: tls-proxy.py TARGET FOLDER
"""
import http.client
import http.server
import os
import ssl
import subprocess
import sys
import urllib.parse

target = urllib.parse.urlsplit(sys.argv[1])
folder = sys.argv[2]


def openssl(*arguments):
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


def path(name):
    return os.path.join(folder, name)


openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"),
        "-days", "2", "-subj", "/CN=Ghillie test private CA")
openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"),
        "-subj", "/CN=127.0.0.1")
with open(path("server.ext"), "w", encoding="utf-8") as extensions:
    extensions.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                     "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
        "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"))

hop_by_hop = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
              "content-length", "host"}


class Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() not in hop_by_hop}
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except OSError as error:
            self.send_error(502, f"the server behind the proxy: {error}")
            return
        finally:
            connection.close()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in hop_by_hop:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def log_message(self, format, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(path("server.pem"), path("server.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(path("port.tmp"), "w", encoding="utf-8") as port:
    port.write(str(server.server_address[1]))
os.rename(path("port.tmp"), path("port"))
server.serve_forever()
