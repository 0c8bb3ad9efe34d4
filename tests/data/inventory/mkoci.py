#!/usr/bin/env python3
"""mkoci.py OUTDIR SPEC.json - write a small OCI image layout for tests.

Manifest annotations are optional; the tag is added to OUTDIR's
index.json when it exists, so one layout can hold several images sharing
layers.  Prints the manifest digest.

SPEC: {"tag": "t", "annotations": {...}, "layers": [[entry, ...], ...]}
where an entry is
  {"path": "etc/x", "data": "text"}            regular file
  {"path": "etc/x", "link": "../usr/lib/x"}    symlink
  {"path": "etc/.wh.x"}                         whiteout (empty file)
Layers are plain (uncompressed) tars; digests are computed here.
"""
import hashlib, io, json, os, sys, tarfile

def blob(out, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d

def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for e in entries:
            parts = e["path"].split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
                    t.addfile(ti)
            ti = tarfile.TarInfo(e["path"]); ti.mode = 0o644; ti.mtime = 1700000000
            if "link" in e:
                ti.type = tarfile.SYMTYPE; ti.linkname = e["link"]; t.addfile(ti)
            else:
                data = e.get("data", "").encode()
                ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def main():
    out, spec = sys.argv[1], json.load(open(sys.argv[2]))
    os.makedirs(out, exist_ok=True)
    layers, diff_ids = [], []
    for entries in spec["layers"]:
        data = layer_tar(entries)
        d = blob(out, data)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": d, "size": len(data)})
        diff_ids.append(d)
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    m = {"schemaVersion": 2,
         "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": blob(out, cfg), "size": len(cfg)},
         "layers": layers}
    if spec.get("annotations"):
        m["annotations"] = spec["annotations"]
    man = json.dumps(m).encode()
    tag = spec.get("tag", "t")
    ipath = os.path.join(out, "index.json")
    idx = json.load(open(ipath)) if os.path.exists(ipath) else {"schemaVersion": 2, "manifests": []}
    idx["manifests"] = [d for d in idx["manifests"]
                        if d.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    idx["manifests"].append({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": blob(out, man), "size": len(man),
        "annotations": {"org.opencontainers.image.ref.name": tag}})
    json.dump(idx, open(ipath, "w"))
    print(blob(out, man))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))

main()
