#!/usr/bin/env python3
"""tests/hostile/gen.py - generate the hostile-image corpus.

    gen.py OUTDIR

writes OUTDIR/<case>/, one complete OCI image layout per case of cases.tsv
(cases named da-* are `docker save` archives instead: OUTDIR/<case>/image.tar).
Every layout is correct (digests, sizes, diff_ids, media types) except for
the ONE defect its case is about, so an image reader that rejects a case
rejects it for the intended reason.  `valid` is the control: no defect.

Python 3 standard library only; zstd cases use the `zstd` command.
Output is deterministic (fixed mtimes, gzip mtime 0): the same gen.py gives
byte-identical blobs.
"""
import bz2
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tarfile
import zlib

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = LAYER_TAR + "+gzip"
LAYER_ZSTD = LAYER_TAR + "+zstd"
MTIME = 1700000000
CANARY = "tmp/drydock-escape-canary"  # the test checks /CANARY never appears


def host_arch():
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
            "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x"}.get(m, m)


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def canon(obj):
    return json.dumps(obj, indent=None, separators=(",", ":"), sort_keys=True).encode()


# ---- tar building --------------------------------------------------------

def ti(name, typ=tarfile.REGTYPE, size=0, mode=0o644, link=""):
    t = tarfile.TarInfo(name)
    t.type = typ
    t.size = size
    t.mode = mode
    t.mtime = MTIME
    t.uid = t.gid = 0
    t.uname = t.gname = "root"
    t.linkname = link
    return t


def tar_body(entries):
    """entries: list of (TarInfo, bytes-or-None) -> the tar stream without
    its end-of-archive blocks.  PAX format, so long names go into pax
    headers instead of being refused."""
    bio = io.BytesIO()
    tf = tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT)
    for t, data in entries:
        if data is not None:
            t.size = len(data)
            tf.addfile(t, io.BytesIO(data))
        else:
            tf.addfile(t)
    end = tf.offset
    tf.close()
    return bio.getvalue()[:end]


def make_tar(entries):
    """A complete tar: the entries and two zero blocks."""
    return tar_body(entries) + b"\0" * 1024


def base_entries():
    """A small plausible root filesystem."""
    return [
        (ti("etc/", tarfile.DIRTYPE, mode=0o755), None),
        (ti("etc/os-release"), b'ID=hostile\nNAME="drydock hostile corpus"\n'),
        (ti("bin/", tarfile.DIRTYPE, mode=0o755), None),
        (ti("bin/sh", mode=0o755), b"#!hostile\n"),
        (ti("usr/", tarfile.DIRTYPE, mode=0o755), None),
        (ti("usr/bin/", tarfile.DIRTYPE, mode=0o755), None),
    ]


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


# ---- layout writing ------------------------------------------------------

class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"))
        with open(os.path.join(root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data, name=None):
        """Store data under its digest (or under `name`, a digest, to make a
        mismatch).  Returns the digest it is stored under."""
        d = name or sha256(data)
        with open(os.path.join(self.root, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
        return d

    def blob_stream(self, writer):
        """writer(f) writes the blob to f and returns its digest."""
        tmp = os.path.join(self.root, "blobs", "sha256", ".tmp")
        with open(tmp, "wb") as f:
            d = writer(f)
        size = os.path.getsize(tmp)
        os.rename(tmp, os.path.join(self.root, "blobs", "sha256", d[7:]))
        return d, size

    def index(self, manifests):
        with open(os.path.join(self.root, "index.json"), "wb") as f:
            f.write(canon({"schemaVersion": 2, "mediaType": OCI_INDEX,
                           "manifests": manifests}))


def desc(media_type, digest, size, **extra):
    d = {"mediaType": media_type, "digest": digest, "size": size}
    d.update(extra)
    return d


def config_json(diff_ids):
    return canon({
        "architecture": host_arch(), "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z",
                     "created_by": "tests/hostile/gen.py"} for _ in diff_ids],
    })


def image(root, layers, manifest_hook=None, index_hook=None):
    """Write a one-manifest layout.  layers: list of (blob, media_type,
    diff_id) or (digest, size, media_type, diff_id) for pre-stored blobs.
    Hooks may alter the manifest object and the index entry."""
    L = Layout(root)
    descs, diff_ids = [], []
    for layer in layers:
        if len(layer) == 3:
            blob, mt, diff_id = layer
            descs.append(desc(mt, L.blob(blob), len(blob)))
        else:
            dg, size, mt, diff_id = layer
            descs.append(desc(mt, dg, size))
        diff_ids.append(diff_id)
    cfg = config_json(diff_ids)
    man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": desc(OCI_CONFIG, L.blob(cfg), len(cfg)), "layers": descs}
    mbytes = canon(man)
    mname = None
    if manifest_hook:
        mbytes, mname = manifest_hook(man, mbytes)
    mdigest = L.blob(mbytes, mname)
    entry = desc(OCI_MANIFEST, mdigest, len(mbytes),
                 annotations={"org.opencontainers.image.ref.name": "latest"})
    if index_hook:
        entry = index_hook(L, entry)
    L.index([entry])
    return L


def plain_gzip_layer(entries):
    t = make_tar(entries)
    return (gz(t), LAYER_GZIP, sha256(t))


# ---- the cases -----------------------------------------------------------

def c_valid(d):
    image(d, [plain_gzip_layer(base_entries())])


def c_path_traversal(d):
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("etc/../../../../../../" + CANARY), b"escaped\n")])])


def c_absolute_path(d):
    # Docker and containerd treat "/etc/x" in a layer as "etc/x": accept.
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("/etc/absolute-path-entry"), b"absolute\n"),
        (ti("/" + CANARY + "-abs"), b"absolute\n")])])


def c_symlink_outside(d):
    # A symlink is data: its target is never followed.  A later file
    # "below" the link must not be written through it either.
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("etc/evil-link", tarfile.SYMTYPE, mode=0o777,
            link="../../../../../../../tmp"), None),
        (ti("etc/evil-abs-link", tarfile.SYMTYPE, mode=0o777,
            link="/" + CANARY + "-sym"), None)])])


def c_hardlink_missing(d):
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("bin/hl-missing-link", tarfile.LNKTYPE, link="bin/hl-missing-target"), None)])])


def c_hardlink_escape(d):
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("bin/hl-escape", tarfile.LNKTYPE, link="../../../../etc/passwd"), None)])])


def _device(kind, major, minor, name):
    t = ti(name, kind, mode=0o600)
    t.devmajor, t.devminor = major, minor
    return t


def c_device_char(d):
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("dev/", tarfile.DIRTYPE, mode=0o755), None),
        (_device(tarfile.CHRTYPE, 1, 3, "dev/null"), None),
        (_device(tarfile.CHRTYPE, 1, 1, "dev/mem"), None),
        (_device(tarfile.FIFOTYPE, 0, 0, "dev/hostile-fifo"), None)])])


def c_device_block(d):
    image(d, [plain_gzip_layer(base_entries() + [
        (ti("dev/", tarfile.DIRTYPE, mode=0o755), None),
        (_device(tarfile.BLKTYPE, 8, 0, "dev/sda"), None),
        (_device(tarfile.BLKTYPE, 7, 0, "dev/loop0"), None)])])


def c_long_name(d):
    # 5000-byte path: longer than PATH_MAX (4096), in a pax header.
    name = "usr/" + "/".join(["longname-" + "x" * 90] * 50) + "/file"
    image(d, [plain_gzip_layer(base_entries() + [(ti(name), b"deep\n")])])


def c_size_beyond_data(d):
    # The header declares 1 MiB, the stream ends after 100 bytes.
    t = tar_body(base_entries())
    hdr = ti("etc/short-file", size=1 << 20).tobuf(tarfile.USTAR_FORMAT)
    t += hdr + b"s" * 100
    image(d, [(gz(t), LAYER_GZIP, sha256(t))])


def c_truncated_gzip(d):
    t = make_tar(base_entries() + [(ti("etc/payload"), bytes(range(256)) * 400)])
    blob = gz(t)
    image(d, [(blob[:len(blob) // 2], LAYER_GZIP, sha256(t))])


def c_gzip_bad_crc(d):
    t = make_tar(base_entries())
    blob = bytearray(gz(t))
    blob[-8] ^= 0xff  # CRC32 in the gzip trailer
    image(d, [(bytes(blob), LAYER_GZIP, sha256(t))])


def c_truncated_zstd(d):
    t = make_tar(base_entries() + [(ti("etc/payload"), bytes(range(256)) * 400)])
    blob = zstd(t)
    image(d, [(blob[:len(blob) // 2], LAYER_ZSTD, sha256(t))])


def bomb_image(d, total, entries):
    """One gzip layer: `entries`, then (when total > 0) a file of `total`
    zero bytes.  Written as a hand-made gzip member whose deflate stream is
    a concatenation of independently compressed pieces (each ends with a
    full flush), so the 1 MiB zero chunk is compressed once and repeated:
    2 GiB take seconds, not a minute."""
    tmp_root = d + ".tmp"
    L = Layout(tmp_root)
    res = {}

    def piece(data, final=False):
        co = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate
        return co.compress(data) + co.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)

    def write(f):
        th, bh = hashlib.sha256(), hashlib.sha256()
        st = {"crc": 0, "isize": 0}

        def out(c):
            bh.update(c)
            f.write(c)

        def feed(data, c):
            th.update(data)
            st["crc"] = zlib.crc32(data, st["crc"])
            st["isize"] += len(data)
            out(c)
        out(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # gzip header, mtime 0
        head = tar_body(entries)
        if total:
            head += ti("zeros.bin", size=total).tobuf(tarfile.USTAR_FORMAT)
        feed(head, piece(head))
        chunk = b"\0" * (1 << 20)
        zc = piece(chunk)
        for _ in range(total // len(chunk)):
            feed(chunk, zc)
        tail = b"\0" * (total % len(chunk)) + b"\0" * (-total % 512) + b"\0" * 1024
        feed(tail, piece(tail, final=True))
        out(struct.pack("<II", st["crc"] & 0xffffffff, st["isize"] & 0xffffffff))
        res["diff_id"] = "sha256:" + th.hexdigest()
        return "sha256:" + bh.hexdigest()
    dg, size = L.blob_stream(write)
    blobpath = os.path.join(tmp_root, "blobs", "sha256", dg[7:])
    image(d, [(dg, size, LAYER_GZIP, res["diff_id"])])
    os.rename(blobpath, os.path.join(d, "blobs", "sha256", dg[7:]))
    shutil.rmtree(tmp_root)


def c_gzip_bomb(d):
    # 2 GiB of zeros in about 2 MiB; run with --max-image-size 100M.
    bomb_image(d, 2 << 30, base_entries())


def c_entry_bomb(d):
    # 5000 empty files; run with --max-entries 1000.
    bomb_image(d, 0, [(ti("f/%05d" % i), b"") for i in range(5000)])


def c_big_file(d):
    # One 2 MiB file; run with --max-file-size 1M.
    bomb_image(d, 2 << 20, base_entries())


def c_manifest_too_big(d):
    def hook(man, _):
        man["annotations"] = {"org.example.padding": "p" * (4 << 20)}
        return canon(man), None
    image(d, [plain_gzip_layer(base_entries())], manifest_hook=hook)


def c_malformed_json(d):
    def hook(_, mbytes):
        return mbytes[:len(mbytes) * 2 // 3], None  # cut mid-document
    image(d, [plain_gzip_layer(base_entries())], manifest_hook=hook)


def c_manifest_digest_mismatch(d):
    # Stored under the digest (and with the size) of the manifest the index
    # describes; one annotation value differs, same length.
    def hook(man, _):
        man["annotations"] = {"org.example.note": "original"}
        name = sha256(canon(man))
        man["annotations"] = {"org.example.note": "tampered"}
        return canon(man), name
    image(d, [plain_gzip_layer(base_entries())], manifest_hook=hook)


def c_layer_digest_mismatch(d):
    # Same tar, same size, only the gzip header's mtime differs: the blob
    # digest is wrong, the diff_id right.
    t = make_tar(base_entries())
    good = gzip.compress(t, compresslevel=6, mtime=0)
    bad = gzip.compress(t, compresslevel=6, mtime=1)
    assert len(good) == len(bad) and good != bad
    image(d, [(good, LAYER_GZIP, sha256(t))])
    with open(os.path.join(d, "blobs", "sha256", sha256(good)[7:]), "wb") as f:
        f.write(bad)


def c_diffid_mismatch(d):
    t = make_tar(base_entries())
    image(d, [(gz(t), LAYER_GZIP, sha256(t + b"\0" * 512))])


def c_index_cycle(d):
    # A nested index that names itself.  Content addressing makes a true
    # cycle impossible, so its digest cannot match: a reader must detect the
    # mismatch (or the loop) instead of recursing forever.
    def hook(L, entry):
        fake = sha256(b"index-cycle")
        nested = canon({"schemaVersion": 2, "mediaType": OCI_INDEX,
                        "manifests": [desc(OCI_INDEX, fake, 200)]})
        nested = nested + b" " * (200 - len(nested))
        L.blob(nested, name=fake)
        return desc(OCI_INDEX, fake, len(nested),
                    annotations={"org.opencontainers.image.ref.name": "latest"})
    image(d, [plain_gzip_layer(base_entries())], index_hook=hook)


def c_index_deep(d):
    # 100 nested indexes, each digest correct: a reader must bound the depth.
    def hook(L, entry):
        e = dict(entry)
        e.pop("annotations", None)
        e["platform"] = {"os": "linux", "architecture": host_arch()}
        for _ in range(100):
            b = canon({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [e]})
            e = desc(OCI_INDEX, L.blob(b), len(b))
        e["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
        return e
    image(d, [plain_gzip_layer(base_entries())], index_hook=hook)


def c_config_digest_mismatch(d):
    # The config is stored under the digest and size of another config of
    # the same length: one environment value differs.
    def hook(cfg):
        return cfg.replace(b"PATH=/usr/bin:/bin", b"PATH=/usr/bin:/bzn")
    t = make_tar(base_entries())
    image(d, [(gz(t), LAYER_GZIP, sha256(t))])
    man_d = json.load(open(os.path.join(d, "index.json")))["manifests"][0]["digest"]
    man = json.load(open(os.path.join(d, "blobs", "sha256", man_d[7:])))
    p = os.path.join(d, "blobs", "sha256", man["config"]["digest"][7:])
    with open(p, "rb") as f:
        cfg = f.read()
    with open(p, "wb") as f:
        f.write(hook(cfg))


def c_size_mismatch(d):
    # The manifest's descriptor in index.json understates its size.
    def hook(L, entry):
        entry["size"] -= 10
        return entry
    image(d, [plain_gzip_layer(base_entries())], index_hook=hook)


def c_digest_traversal(d):
    # A layer "digest" that is a path: a reader that builds blob paths from
    # digests without validating them would open /etc/passwd.
    t = make_tar(base_entries())
    image(d, [("sha256:../../../../../../../../etc/passwd", 100, LAYER_GZIP, sha256(t))])


def c_blob_symlink(d):
    # The layer blob is a symbolic link to a file outside the layout (with
    # the right content): a layout's blobs are regular files.
    t = make_tar(base_entries())
    blob = gz(t)
    image(d, [(blob, LAYER_GZIP, sha256(t))])
    p = os.path.join(d, "blobs", "sha256", sha256(blob)[7:])
    outside = d + ".outside-blob"
    with open(outside, "wb") as f:
        f.write(blob)
    os.remove(p)
    os.symlink(os.path.abspath(outside), p)


def c_whiteout_traversal(d):
    # Whiteouts whose target is ".." or climbs out: applying them naively
    # deletes the parent or a path outside the image.
    image(d, [plain_gzip_layer(base_entries()),
              plain_gzip_layer([(ti("etc/", tarfile.DIRTYPE, mode=0o755), None),
                                (ti("etc/.wh.."), b""),
                                (ti("usr/.wh.../../etc"), b"")])])


def c_schema1(d):
    L = Layout(d)
    t = make_tar(base_entries())
    blob = gz(t)
    lg = L.blob(blob)
    m = canon({"schemaVersion": 1, "name": "hostile/schema1", "tag": "latest",
               "architecture": host_arch(),
               "fsLayers": [{"blobSum": lg}],
               "history": [{"v1Compatibility": json.dumps(
                   {"id": "a" * 64, "os": "linux", "architecture": host_arch()})}]})
    mt = "application/vnd.docker.distribution.manifest.v1+json"
    L.index([desc(mt, L.blob(m), len(m),
                  annotations={"org.opencontainers.image.ref.name": "latest"})])


def c_bzip2_layer(d):
    t = make_tar(base_entries())
    image(d, [(bz2.compress(t), LAYER_TAR, sha256(t))])


def c_bad_tar_checksum(d):
    t = bytearray(make_tar(base_entries()))
    t[148:156] = b"0000000\0"  # first header's checksum field
    image(d, [(gz(bytes(t)), LAYER_GZIP, sha256(bytes(t)))])


# ---- docker-archive (`docker save`) cases: DIR/image.tar ------------------

def docker_archive(d, members, manifest=None, layer_names=None, config_name=None):
    """Write d/image.tar, a classic `docker save` archive of one image with
    the base layer.  members: extra (TarInfo, bytes-or-None) appended to the
    outer tar; manifest: replaces manifest.json; layer_names / config_name
    override what manifest.json names."""
    os.makedirs(d)
    layer = make_tar(base_entries())
    cfg = config_json([sha256(layer)])
    cname = sha256(cfg)[7:] + ".json"
    lname = sha256(layer)[7:] + "/layer.tar"
    if manifest is None:
        manifest = canon([{"Config": config_name or cname,
                           "RepoTags": ["hostile:latest"],
                           "Layers": layer_names or [lname]}])
    outer = [(ti(sha256(layer)[7:] + "/", tarfile.DIRTYPE, mode=0o755), None),
             (ti(lname), layer), (ti(cname), cfg)] + members + [(ti("manifest.json"), manifest)]
    with open(os.path.join(d, "image.tar"), "wb") as f:
        f.write(make_tar(outer))
    return lname, cname


def c_da_valid(d):
    docker_archive(d, [])


def c_da_symlink_layer(d):
    # `docker save` stores a layer shared by two images once and links the
    # other name to it: a relative symlink inside the archive is valid.
    docker_archive(d, [(ti("shared/", tarfile.DIRTYPE, mode=0o755), None),
                       (ti("shared/layer.tar", tarfile.SYMTYPE, mode=0o777,
                           link="../" + sha256(make_tar(base_entries()))[7:] + "/layer.tar"), None)],
                   layer_names=["shared/layer.tar"])


def c_da_symlink_escape(d):
    docker_archive(d, [(ti("evil/", tarfile.DIRTYPE, mode=0o755), None),
                       (ti("evil/layer.tar", tarfile.SYMTYPE, mode=0o777,
                           link="../../../../../../etc/passwd"), None)],
                   layer_names=["evil/layer.tar"])


def c_da_symlink_loop(d):
    docker_archive(d, [(ti("loop-a.tar", tarfile.SYMTYPE, mode=0o777, link="loop-b.tar"), None),
                       (ti("loop-b.tar", tarfile.SYMTYPE, mode=0o777, link="loop-a.tar"), None)],
                   layer_names=["loop-a.tar"])


def c_da_layer_traversal(d):
    docker_archive(d, [], layer_names=["../../../../../../etc/passwd"])


def c_da_config_traversal(d):
    docker_archive(d, [], config_name="/etc/passwd")


def c_da_config_digest_mismatch(d):
    # The config member's name is a digest its content does not have.
    fake = sha256(b"da-config")[7:] + ".json"
    docker_archive(d, [(ti(fake), config_json([sha256(make_tar(base_entries()))]) + b" ")],
                   config_name=fake)


def c_da_manifest_too_big(d):
    docker_archive(d, [], manifest=b"[" + b" " * (5 << 20) + b"]")


def c_da_duplicate_member(d):
    # manifest.json twice: which one a reader takes must not be a guess.
    docker_archive(d, [(ti("manifest.json"), b"[]")])


CASES = {
    "valid": c_valid,
    "path-traversal": c_path_traversal,
    "absolute-path": c_absolute_path,
    "symlink-outside": c_symlink_outside,
    "hardlink-missing": c_hardlink_missing,
    "hardlink-escape": c_hardlink_escape,
    "device-char": c_device_char,
    "device-block": c_device_block,
    "long-name": c_long_name,
    "size-beyond-data": c_size_beyond_data,
    "truncated-gzip": c_truncated_gzip,
    "gzip-bad-crc": c_gzip_bad_crc,
    "truncated-zstd": c_truncated_zstd,
    "gzip-bomb": c_gzip_bomb,
    "entry-bomb": c_entry_bomb,
    "big-file": c_big_file,
    "manifest-too-big": c_manifest_too_big,
    "malformed-json": c_malformed_json,
    "manifest-digest-mismatch": c_manifest_digest_mismatch,
    "layer-digest-mismatch": c_layer_digest_mismatch,
    "diffid-mismatch": c_diffid_mismatch,
    "index-cycle": c_index_cycle,
    "index-deep": c_index_deep,
    "config-digest-mismatch": c_config_digest_mismatch,
    "size-mismatch": c_size_mismatch,
    "digest-traversal": c_digest_traversal,
    "blob-symlink": c_blob_symlink,
    "whiteout-traversal": c_whiteout_traversal,
    "schema1": c_schema1,
    "bzip2-layer": c_bzip2_layer,
    "bad-tar-checksum": c_bad_tar_checksum,
    "da-valid": c_da_valid,
    "da-symlink-layer": c_da_symlink_layer,
    "da-symlink-escape": c_da_symlink_escape,
    "da-symlink-loop": c_da_symlink_loop,
    "da-layer-traversal": c_da_layer_traversal,
    "da-config-traversal": c_da_config_traversal,
    "da-config-digest-mismatch": c_da_config_digest_mismatch,
    "da-manifest-too-big": c_da_manifest_too_big,
    "da-duplicate-member": c_da_duplicate_member,
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in CASES.items():
        d = os.path.join(out, name)
        if os.path.exists(d):
            shutil.rmtree(d)
        fn(d)


if __name__ == "__main__":
    main()
