#!/usr/bin/env python3
"""bench/big-image.py OUTDIR [MIB] - an OCI layout with one big gzip layer.

The layer's tar holds 2000 small text files and one file of MIB (default
1024) MiB of random, incompressible bytes; it is compressed with `igzip -1`
(fast, standard gzip).  Used by bench/run for the peak-RSS and throughput
measurements on a 1 GiB layer; bench/run caches the result outside the repo.
"""
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile


def canon(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=True).encode()


def main():
    out = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs)
    tmp = os.path.join(blobs, ".layer")
    diff = hashlib.sha256()
    with open(tmp, "wb") as f:
        gz = subprocess.Popen(["igzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=f)

        def put(b):
            diff.update(b)
            gz.stdin.write(b)

        bio = io.BytesIO()
        tf = tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT)
        for i in range(2000):
            data = ("file %d of the drydock bench image\n" % i).encode() * 20
            t = tarfile.TarInfo("usr/share/bench/%02d/file-%04d.txt" % (i % 50, i))
            t.size, t.mtime = len(data), 1700000000
            tf.addfile(t, io.BytesIO(data))
        t = tarfile.TarInfo("data/random.bin")
        t.size, t.mtime = mib << 20, 1700000000
        hdr = t.tobuf(tarfile.PAX_FORMAT)
        put(bio.getvalue()[:tf.offset])
        put(hdr)
        for _ in range(mib):
            put(os.urandom(1 << 20))
        put(b"\0" * 1024)
        gz.stdin.close()
        if gz.wait() != 0:
            sys.exit("igzip failed")
    h = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    layer = "sha256:" + h.hexdigest()
    size = os.path.getsize(tmp)
    os.rename(tmp, os.path.join(blobs, layer[7:]))
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())

    def blob(b):
        d = "sha256:" + hashlib.sha256(b).hexdigest()
        with open(os.path.join(blobs, d[7:]), "wb") as f:
            f.write(b)
        return {"digest": d, "size": len(b)}
    cfg = blob(canon({"architecture": arch, "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]},
                      "config": {}, "history": [{"created_by": "bench/big-image.py"}]}))
    man = blob(canon({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": layer, "size": size}]}))
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(canon({"schemaVersion": 2, "manifests": [dict(
            man, mediaType="application/vnd.oci.image.manifest.v1+json",
            annotations={"org.opencontainers.image.ref.name": "big"})]}))
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


if __name__ == "__main__":
    main()
