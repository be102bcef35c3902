"""Decoding of the Kubernetes protobuf request bodies that kubectl (>= 1.33) sends for built-in
types in `kubectl create namespace|secret|configmap`: the `k8s\\x00` + runtime.Unknown envelope
and the few fields of Namespace, Secret and ConfigMap those commands set. Field numbers are from
k8s.io/api core/v1 generated.proto and apimachinery runtime/generated.proto and meta/v1.
Anything else raises ValueError (the server then answers 415, as for an unknown media type).
"""
import base64

MAGIC = b"k8s\x00"


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield num, v


def _map_entry(buf):
    k = v = b""
    for num, val in _fields(buf):
        if num == 1:
            k = val
        elif num == 2:
            v = val
    return k.decode(), v


def _meta(buf):
    meta = {}
    names = {1: "name", 2: "generateName", 3: "namespace"}
    for num, v in _fields(buf):
        if num in names and v:
            meta[names[num]] = v.decode()
        elif num in (11, 12):
            k, val = _map_entry(v)
            meta.setdefault("labels" if num == 11 else "annotations", {})[k] = val.decode()
    return meta


def decode(body):
    """The JSON-equivalent object of a protobuf request body."""
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf envelope")
    api_version = kind = ""
    raw = b""
    for num, v in _fields(body[len(MAGIC):]):
        if num == 1:
            for n2, v2 in _fields(v):
                if n2 == 1:
                    api_version = v2.decode()
                elif n2 == 2:
                    kind = v2.decode()
        elif num == 2:
            raw = v
    obj = {"apiVersion": api_version, "kind": kind}
    if kind not in ("Namespace", "Secret", "ConfigMap") or api_version != "v1":
        raise ValueError("protobuf body of %s/%s is not supported by the fake" % (api_version, kind))
    for num, v in _fields(raw):
        if num == 1:
            obj["metadata"] = _meta(v)
        elif kind == "Namespace" and num == 2:
            fins = [f.decode() for n, f in _fields(v) if n == 1]
            obj["spec"] = {"finalizers": fins} if fins else {}
        elif kind == "Secret" and num in (2, 4):
            k, val = _map_entry(v)
            if num == 2:
                obj.setdefault("data", {})[k] = base64.b64encode(val).decode()
            else:
                obj.setdefault("stringData", {})[k] = val.decode()
        elif kind == "Secret" and num == 3 and v:
            obj["type"] = v.decode()
        elif kind == "ConfigMap" and num in (2, 3):
            k, val = _map_entry(v)
            if num == 2:
                obj.setdefault("data", {})[k] = val.decode()
            else:
                obj.setdefault("binaryData", {})[k] = base64.b64encode(val).decode()
        elif num in (4, 5) and kind != "Namespace" and isinstance(v, int):
            obj["immutable"] = bool(v)
    return obj
