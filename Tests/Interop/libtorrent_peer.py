#!/usr/bin/python3
"""A libtorrent-rasterbar DHT peer on loopback, driven by JSON lines on stdin/stdout.

keyway's interop tests start it with Debian's /usr/bin/python3 (python3-libtorrent 2.0.8).

    /usr/bin/python3 libtorrent_peer.py [--port N] [--rate-limits-off] [--lifetime SECONDS]

It listens on 127.0.0.1:PORT (0 picks a free port) with no bootstrap nodes, no LSD, UPnP or
NAT-PMP, so it contacts nothing but the nodes it is told about, and prints one line

    {"event":"ready","port":P,"node_id":"<40 hex>"}

Then it reads one command a line (space-separated words, or a JSON list of words) and answers
each with exactly one JSON object line (with "ok": true|false and "cmd"):

    add_node HOST PORT             ses.add_dht_node; libtorrent pings it (as get_peers)
    table [TIMEOUT]                {"nodes":[{"id":hex,"host":..,"port":..}]}, the live routing table
    get_item PK_HEX SALT_HEX [TIMEOUT]
                                   {"found","seq","value_hex","sig_hex","sig_valid","authoritative"};
                                   value_hex is the bencoded v; sig_valid is checked here with an
                                   independent Ed25519 (RFC 8032) over BEP 44's signed buffer
    put_item SEED_HEX SALT_HEX VALUE [SEQ] [TIMEOUT]
                                   puts the byte string VALUE (utf-8) signed by the key of the
                                   32-byte seed; {"num_success","seq","public_key_hex","target"}.
                                   libtorrent picks seq itself (newest found + 1); SEQ, if given,
                                   is only checked against it ("seq_matches")
    put_record SEED_HEX ENDPOINTS [TIMEOUT]
                                   puts a keyway endpoint record (Docs/PROTOCOL.md "Endpoint
                                   records": the pkarr DNS packet, built here, with an A record
                                   per address at <z32 key> and TXT "ep=HOST:PORT" at
                                   _keyway.<z32 key>; ENDPOINTS comma-separated IPv4 HOST:PORT)
                                   signed by the seed's key, with seq = the time in microseconds.
                                   The bindings cannot choose seq (libtorrent puts the newest it
                                   finds + 1), so the peer first stores the same record with
                                   seq = now - 1 on every node of its table by raw KRPC get+put
                                   from its own socket ("primed_seq", "primed_on"); libtorrent's
                                   own put then carries seq = now. {"num_success","seq",
                                   "primed_seq","primed_on","public_key_hex","key_z32","packet_hex"}
    krpc HOST PORT MESSAGE_HEX [TIMEOUT]
                                   sends the datagram MESSAGE_HEX from a fresh UDP socket on
                                   127.0.0.1 (not libtorrent's) and returns the reply HOST:PORT
                                   sends back (same transaction ID) as {"reply_hex"}: for queries
                                   encoded by keyway's codec in a test, and for methods libtorrent
                                   never sends. Mark them read-only ("ro": 1, BEP 43), or the
                                   short-lived socket may land in routing tables
    get_peers INFOHASH_HEX [TIMEOUT]
                                   {"peers":["host:port"...],"queried":["host:port"...]}, collected
                                   for TIMEOUT (default 3) s: libtorrent only reports replies with peers
    sample HOST PORT [TIMEOUT]     dht_sample_infohashes sent directly to HOST:PORT (BEP 51):
                                   {"answered","num_nodes",...}; a node without BEP 51 answers
                                   error 204, which libtorrent reports as answered=false
    direct HOST PORT QUERY_HEX [TIMEOUT]
                                   dht_direct_request with the bencoded query dict; the response
                                   as {"response_hex"}. NOT in Debian's 2.0.8 bindings: answers
                                   ok=false, "unsupported" there
    traffic                        {"in":{method:count}, "out":{...}, "responses_in":{...},
                                    "queries_in_from":{endpoint:{method:count}}, "queries_out_to":{...}}:
                                   KRPC packets libtorrent sent and received (dht_pkt_alert),
                                   by query method, responses received by source endpoint
                                   ("HOST:PORT r" or "HOST:PORT e"), and queries by endpoint
    quit                           exits

SALT_HEX "-" means no salt. Every command has a timeout (default 10 s, at most 60 s); the process exits when stdin closes,
on "quit", or after --lifetime seconds (default 300) whatever happens. Loopback only: every
HOST must be in 127.0.0.0/8.
"""
import argparse
import hashlib
import json
import os
import re
import select
import socket
import struct
import sys
import time

import libtorrent as lt

# ---------------------------------------------------------------- Ed25519 (RFC 8032, reference)
# Independent of libtorrent and libsodium: the peer derives libtorrent's 64-byte expanded secret
# from a seed, and checks signatures itself. Slow (pure Python), used a few times per test.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_I = pow(2, (_P - 1) // 4, _P)


def _inv(x):
    return pow(x, _P - 2, _P)


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * 2 * _D * t2 % _P
    d = z1 * 2 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inv(_D * y * y + 1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _I % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * _inv(5) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _compress(p):
    zinv = _inv(p[2])
    x, y = p[0] * zinv % _P, p[1] * zinv % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def ed25519_keypair(seed):
    """(public key, libtorrent's 64-byte expanded secret) for a 32-byte seed."""
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    a = int.from_bytes(bytes(h[:32]), "little")
    return _compress(_mul(a, _G)), bytes(h)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


def bep44_signed_buffer(salt, seq, encoded_value):
    out = b""
    if salt:
        out += b"4:salt%d:" % len(salt) + salt
    return out + b"3:seqi%de1:v" % seq + encoded_value


def ed25519_sign(public, expanded, message):
    """RFC 8032 signature with libtorrent's 64-byte expanded secret (from ed25519_keypair)."""
    a = int.from_bytes(expanded[:32], "little")
    r = int.from_bytes(hashlib.sha512(expanded[32:] + message).digest(), "little") % _L
    big_r = _compress(_mul(r, _G))
    h = int.from_bytes(hashlib.sha512(big_r + public + message).digest(), "little") % _L
    return big_r + int.to_bytes((r + h * a) % _L, 32, "little")


# ---------------------------------------------------------------- bencode, z-base-32, DNS

def bencode(value):
    """Bencodes bytes, str, int, list and dict (keys sorted as bytes)."""
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:" % len(value) + value
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError("cannot bencode %r" % type(value))


_ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"


def zbase32(data):
    """z-base-32 (the pkarr key text): 5 bits a character, most significant first."""
    bits = int.from_bytes(data, "big") << ((5 - len(data) * 8 % 5) % 5)
    count = (len(data) * 8 + 4) // 5
    return "".join(_ZBASE32[(bits >> (5 * (count - 1 - i))) & 31] for i in range(count))


def keyway_record_packet(public, endpoints, ttl=300):
    """A keyway endpoint record's DNS packet, written independently of keyway (RFC 1035, names
    compressed): A <key> per distinct address, TXT _keyway.<key> "ep=HOST:PORT" per endpoint."""
    key = zbase32(public).encode()
    origin, pointer = bytes([len(key)]) + key + b"\x00", b"\xc0\x0c"  # the first name sits at 12
    answers, addresses = [], []
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) or not 0 < int(port) < 65536:
            raise ValueError("not an IPv4 HOST:PORT: %s" % endpoint)
        if host not in addresses:
            addresses.append(host)
            rdata = bytes(int(part) for part in host.split("."))
            answers.append((origin if not answers else pointer) + struct.pack(">HHIH", 1, 1, ttl, len(rdata)) + rdata)
    for endpoint in endpoints:
        text = b"ep=" + endpoint.encode()
        rdata = bytes([len(text)]) + text
        answers.append(b"\x07_keyway" + pointer + struct.pack(">HHIH", 16, 1, ttl, len(rdata)) + rdata)
    return struct.pack(">HHHHHH", 0, 0x8000, 0, len(answers), 0, 0) + b"".join(answers)


# ---------------------------------------------------------------- the peer

MAX_TIMEOUT = 60.0


def reply(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def seconds(timeout):
    """A command's timeout in seconds, bounded to (0, MAX_TIMEOUT]."""
    return min(max(float(timeout), 0.01), MAX_TIMEOUT)


def loopback(host):
    if not re.fullmatch(r"127\.\d{1,3}\.\d{1,3}\.\d{1,3}", host):
        raise ValueError("not a loopback address: %s" % host)
    return host


def hexarg(text):
    """Hex bytes from a command word; "-" (or nothing) is the empty string."""
    return b"" if text in ("-", "") else bytes.fromhex(text)


def raw(value):
    """Bytes from a binding that returns str for some std::string fields (salt)."""
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


def snapshot(a):
    """The fields of an alert the commands use, as plain Python values; None for other alerts."""
    if isinstance(a, lt.dht_mutable_item_alert):
        # A not-found item has an all-zero signature, and reading its value throws.
        sig, encoded = raw(a.signature), b""
        if any(sig):
            try:
                item = a.item
                encoded = lt.bencode(item.get("value") if isinstance(item, dict) else item)
            except RuntimeError:
                sig = bytes(64)
        return {"type": "mutable", "key": raw(a.key), "salt": raw(a.salt), "seq": a.seq, "sig": sig,
                "encoded": encoded, "authoritative": a.authoritative}
    if isinstance(a, lt.dht_put_alert):
        return {"type": "put", "key": raw(a.public_key), "salt": raw(a.salt), "seq": a.seq,
                "num_success": a.num_success}
    if isinstance(a, lt.dht_live_nodes_alert):
        return {"type": "live", "nodes": [{"id": str(n["nid"]), "host": n["endpoint"][0], "port": n["endpoint"][1]}
                                          for n in a.nodes]}
    if isinstance(a, lt.dht_get_peers_reply_alert):
        return {"type": "peers", "info_hash": str(a.info_hash), "peers": ["%s:%d" % tuple(p) for p in a.peers()]}
    if isinstance(a, lt.dht_outgoing_get_peers_alert):
        return {"type": "outgoing_get_peers", "info_hash": str(a.info_hash), "endpoint": "%s:%d" % tuple(a.endpoint)}
    if isinstance(a, lt.dht_sample_infohashes_alert):
        return {"type": "sample", "endpoint": "%s:%d" % tuple(a.endpoint), "num_nodes": a.num_nodes,
                "num_samples": a.num_samples}
    direct = getattr(lt, "dht_direct_response_alert", None)
    if direct is not None and isinstance(a, direct):
        response = a.response()
        return {"type": "direct", "response": lt.bencode(response) if response else b""}
    return None


class Peer:
    def __init__(self, port, rate_limits_off):
        cat = lt.alert.category_t
        settings = {
            "listen_interfaces": "127.0.0.1:%d" % port,
            "outgoing_interfaces": "",
            "enable_dht": True,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_incoming_tcp": False,
            "enable_outgoing_tcp": False,
            "dht_bootstrap_nodes": "",
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_block_ratelimit": 1_000_000,
            "dht_block_timeout": 1,
            "alert_queue_size": 100_000,
            "alert_mask": cat.dht_notification | cat.dht_operation_notification | cat.status_notification
            | cat.error_notification | cat.dht_log_notification,
        }
        if rate_limits_off:
            settings["dht_upload_rate_limit"] = 1 << 30
        self.ses = lt.session(settings)
        self.node_id = None
        self.port = 0
        self.queue = []  # alerts not yet consumed by a command
        self.traffic = {"in": {}, "out": {}, "responses_in": {}, "queries_in_from": {}, "queries_out_to": {}}
        deadline = time.monotonic() + 15
        while (self.node_id is None or self.port == 0) and time.monotonic() < deadline:
            self.pump(0.1)
            if self.port == 0 and self.ses.is_listening():
                self.port = self.ses.listen_port()
        if self.node_id is None or self.port == 0:
            raise RuntimeError("libtorrent did not start its DHT on 127.0.0.1")
        if rate_limits_off:
            # Under load, logging every packet would cost more than answering it.
            self.ses.apply_settings({"alert_mask": cat.error_notification | cat.status_notification})

    # Alerts: log alerts update the traffic counters and are dropped; others wait in the queue
    # as snapshots (an alert object is invalid after the next pop_alerts).
    _pkt = re.compile(r"^(<==|==>) (\S+) .*?'q': '([a-z_]+)'|^(<==|==>) (\S+) .*?'y': '(r|e)'")
    _node_id = re.compile(r"node id: ([0-9a-f]{40})")

    def pump(self, wait):
        if wait > 0:
            self.ses.wait_for_alert(int(wait * 1000))
        for a in self.ses.pop_alerts():
            if isinstance(a, lt.dht_pkt_alert):
                self.count_packet(a)
            elif isinstance(a, lt.dht_log_alert):
                m = self._node_id.search(a.message())
                if m and self.node_id is None:
                    self.node_id = m.group(1)
            else:
                snap = snapshot(a)
                if snap is not None:
                    self.queue.append(snap)

    def count_packet(self, alert):
        try:
            msg = lt.bdecode(alert.pkt_buf)
        except Exception:
            return
        if not isinstance(msg, dict):
            return
        text = alert.message()
        incoming = text.startswith("<==")
        m = re.search(r"(127\.\d+\.\d+\.\d+:\d+)", text)
        where = m.group(1) if m else "?"
        y = msg.get(b"y")
        if y == b"q":
            method = (msg.get(b"q") or b"?").decode("latin-1")
            bucket = self.traffic["in" if incoming else "out"]
            bucket[method] = bucket.get(method, 0) + 1
            by_endpoint = self.traffic["queries_in_from" if incoming else "queries_out_to"].setdefault(where, {})
            by_endpoint[method] = by_endpoint.get(method, 0) + 1
        elif incoming and y in (b"r", b"e"):
            key = "%s %s" % (where, "r" if y == b"r" else "e")
            self.traffic["responses_in"][key] = self.traffic["responses_in"].get(key, 0) + 1

    def wait_for(self, kind, timeout, accept=lambda a: True):
        deadline = time.monotonic() + timeout
        while True:
            for i, a in enumerate(self.queue):
                if a["type"] == kind and accept(a):
                    del self.queue[i]
                    return a
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.2))
        
    def discard_queue(self):
        # Status alerts nobody waits for must not pile up.
        if len(self.queue) > 1000:
            self.queue = self.queue[-1000:]

    # ------------------------------------------------------------ commands

    def cmd_add_node(self, host, port):
        self.ses.add_dht_node((loopback(host), int(port)))
        return {}

    def cmd_table(self, timeout="5"):
        self.ses.dht_live_nodes(lt.sha1_hash(bytes.fromhex(self.node_id)))
        a = self.wait_for("live", seconds(timeout))
        if a is None:
            raise TimeoutError("no dht_live_nodes_alert")
        return {"nodes": a["nodes"]}

    def cmd_get_item(self, pk_hex, salt_hex="-", timeout="10"):
        pk, salt = bytes.fromhex(pk_hex), hexarg(salt_hex)
        self.ses.dht_get_mutable_item(pk, salt)
        a = self.wait_for("mutable", seconds(timeout),
                          lambda a: a["key"] == pk and a["salt"] == salt and a["authoritative"])
        if a is None:
            raise TimeoutError("no authoritative dht_mutable_item_alert")
        found = any(a["sig"])
        valid = found and ed25519_verify(pk, bep44_signed_buffer(salt, a["seq"], a["encoded"]), a["sig"])
        return {"found": found, "seq": a["seq"], "value_hex": a["encoded"].hex(), "sig_hex": a["sig"].hex(),
                "sig_valid": valid}

    def cmd_put_item(self, seed_hex, salt_hex, value, seq=None, timeout="15"):
        pk, sk = ed25519_keypair(bytes.fromhex(seed_hex))
        out = self.put_mutable(pk, sk, hexarg(salt_hex), value.encode(), timeout)
        if seq is not None:
            out["seq_matches"] = int(seq) == out["seq"]
        return out

    def put_mutable(self, pk, sk, salt, value, timeout):
        """libtorrent's dht_put_mutable_item of the byte string value; waits for its dht_put_alert."""
        self.ses.dht_put_mutable_item(sk, pk, value, salt)
        a = self.wait_for("put", seconds(timeout), lambda a: a["key"] == pk and a["salt"] == salt)
        if a is None:
            raise TimeoutError("no dht_put_alert")
        return {"num_success": a["num_success"], "seq": a["seq"], "public_key_hex": pk.hex()}

    def cmd_get_peers(self, infohash_hex, timeout="3"):
        # libtorrent reports a get_peers only when some node returned peers, so this collects
        # replies until the timeout, and names the endpoints the lookup queried.
        ih = bytes.fromhex(infohash_hex)
        self.ses.dht_get_peers(lt.sha1_hash(ih))
        peers, queried = set(), set()
        deadline = time.monotonic() + seconds(timeout)
        while time.monotonic() < deadline:
            self.pump(0.1)
            keep = []
            for a in self.queue:
                if a["type"] == "peers" and a["info_hash"] == ih.hex():
                    peers.update(a["peers"])
                elif a["type"] == "outgoing_get_peers" and a["info_hash"] == ih.hex():
                    queried.add(a["endpoint"])
                else:
                    keep.append(a)
            self.queue = keep
        return {"peers": sorted(peers), "queried": sorted(queried)}

    def cmd_sample(self, host, port, timeout="10"):
        ep = (loopback(host), int(port))
        self.ses.dht_sample_infohashes(ep, lt.sha1_hash(os.urandom(20)))
        a = self.wait_for("sample", seconds(timeout))
        if a is None:
            return {"answered": False}
        return {"answered": True, "num_nodes": a["num_nodes"], "num_samples": a["num_samples"]}

    def cmd_direct(self, host, port, query_hex, timeout="10"):
        if not hasattr(self.ses, "dht_direct_request"):
            raise NotImplementedError("unsupported: these libtorrent bindings lack dht_direct_request")
        self.ses.dht_direct_request((loopback(host), int(port)), lt.bdecode(bytes.fromhex(query_hex)))
        a = self.wait_for("direct", seconds(timeout))
        if a is None:
            raise TimeoutError("no dht_direct_response_alert")
        return {"response_hex": a["response"].hex()}

    def cmd_put_record(self, seed_hex, endpoints, timeout="15"):
        pk, sk = ed25519_keypair(bytes.fromhex(seed_hex))
        packet = keyway_record_packet(pk, endpoints.split(","))
        primed_seq = time.time_ns() // 1000 - 1
        signature = ed25519_sign(pk, sk, bep44_signed_buffer(b"", primed_seq, bencode(packet)))
        target, me = hashlib.sha1(pk).digest(), os.urandom(20)
        primed_on = 0
        for node in self.cmd_table()["nodes"]:
            where = (loopback(node["host"]), node["port"])
            # Read-only (BEP 43, "ro"), so no node adds this short-lived socket to its table.
            got = self.krpc_exchange(where, {"t": "g0", "y": "q", "q": "get", "ro": 1, "a": {"id": me, "target": target}}, 3)
            token = got.get(b"r", {}).get(b"token") if got else None
            if not token:
                continue
            put = {"t": "p0", "y": "q", "q": "put", "ro": 1,
                   "a": {"id": me, "k": pk, "seq": primed_seq, "sig": signature, "token": token, "v": packet}}
            answer = self.krpc_exchange(where, put, 3)
            primed_on += 1 if answer and answer.get(b"y") == b"r" else 0
        out = self.put_mutable(pk, sk, b"", packet, timeout)
        out.update({"primed_seq": primed_seq, "primed_on": primed_on, "key_z32": zbase32(pk), "packet_hex": packet.hex()})
        return out

    def krpc_exchange(self, where, message, timeout):
        """One KRPC query from a fresh socket; the decoded reply (a dict) or None."""
        reply = self.raw_exchange(where, bencode(message), timeout)
        try:
            decoded = lt.bdecode(reply) if reply else None
        except Exception:
            return None
        return decoded if isinstance(decoded, dict) else None

    def raw_exchange(self, where, datagram, timeout):
        """Sends datagram to where from a fresh socket; the first reply from there carrying the
        datagram's transaction ID (queries the other side sends meanwhile are not replies)."""
        try:
            sent = lt.bdecode(datagram)
            transaction = sent.get(b"t") if isinstance(sent, dict) else None
        except Exception:
            transaction = None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.sendto(datagram, where)
            deadline = time.monotonic() + seconds(timeout)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(min(left, 0.1))
                try:
                    data, source = sock.recvfrom(65536)
                except socket.timeout:
                    self.pump(0)  # keep libtorrent's alerts flowing meanwhile
                    continue
                if source != where:
                    continue
                try:
                    got = lt.bdecode(data)
                except Exception:
                    got = None
                if transaction is None or (isinstance(got, dict) and got.get(b"t") == transaction
                                           and got.get(b"y") in (b"r", b"e")):
                    return data

    def cmd_krpc(self, host, port, message_hex, timeout="5"):
        reply = self.raw_exchange((loopback(host), int(port)), bytes.fromhex(message_hex), timeout)
        if reply is None:
            raise TimeoutError("no reply from %s:%s" % (host, port))
        return {"reply_hex": reply.hex()}

    def cmd_traffic(self):
        self.pump(0)
        return dict(self.traffic)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate-limits-off", action="store_true",
                        help="for load tests: raise dht_upload_rate_limit too, and stop logging packets")
    parser.add_argument("--lifetime", type=float, default=300, help="exit after this many seconds")
    args = parser.parse_args()
    end = time.monotonic() + args.lifetime
    peer = Peer(args.port, args.rate_limits_off)
    reply({"event": "ready", "port": peer.port, "node_id": peer.node_id})
    buffered = b""
    while time.monotonic() < end:
        readable, _, _ = select.select([sys.stdin], [], [], 0.1)
        peer.pump(0)
        peer.discard_queue()
        if not readable:
            continue
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            return  # stdin closed
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            line = line.decode().strip()
            if not line:
                continue
            words = json.loads(line) if line.startswith("[") else line.split()
            name = words[0]
            if name == "quit":
                reply({"ok": True, "cmd": "quit"})
                return
            handler = getattr(peer, "cmd_" + name, None)
            try:
                if handler is None:
                    raise ValueError("unknown command")
                result = handler(*words[1:])
                result.update({"ok": True, "cmd": name})
                reply(result)
            except Exception as error:  # one bad command never ends the peer
                reply({"ok": False, "cmd": name, "error": "%s: %s" % (type(error).__name__, error)})


if __name__ == "__main__":
    main()
