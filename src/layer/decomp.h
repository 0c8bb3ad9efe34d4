/*
 * decomp.h - the layer blob as a pull stream of decompressed blocks.
 *
 * dd_decomp_new() reads the first bytes of the blob and detects its
 * compression by magic bytes: gzip (1f 8b: ISA-L, or zlib when the
 * environment says DRYDOCK_INFLATE=zlib), zstd (28 b5 2f fd), or none (the
 * first 512 bytes must then look like a tar header).  bzip2, xz, lz4 and
 * anything else are DD_EINPUT "unsupported layer compression".
 *
 * dd_decomp_next() hands out the decompressed stream in blocks of up to
 * DD_DECOMP_BLOCK bytes.  Blocks are the decoder's own output buffers
 * (zero copy); a block stays valid until the next call.  Every byte read from
 * the blob is hashed (blob digest) and every byte produced is hashed
 * (diff_id; for an uncompressed blob it is the blob digest).  After the first
 * 8 MiB each digest moves to a thread of its own, so hashing runs beside the
 * inflate (DRYDOCK_HASH_THREAD=0 keeps it in the caller's thread).
 *
 * Error messages do not name the layer (the caller prefixes it); they name
 * the compressed byte offset where the stream went wrong.
 *
 * Memory: dd_decomp_new() allocates; dd_decomp_free() releases everything.
 * The blob reader is borrowed and must outlive the decoder.
 */
#ifndef DD_LAYER_DECOMP_H
#define DD_LAYER_DECOMP_H

#include <stddef.h>
#include <stdint.h>

#include "layer/walker.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/reader.h"

#define DD_DECOMP_BLOCK ((size_t)256 << 10)

typedef struct dd_decomp dd_decomp;

/* Detect the compression and prepare decoding.  DD_EINPUT for an empty blob,
 * an unsupported compression or an uncompressed blob that is not a tar. */
int dd_decomp_new(dd_decomp **out, dd_reader *blob, dd_error *err);
void dd_decomp_free(dd_decomp *d);

enum dd_compression dd_decomp_compression(const dd_decomp *d);

/* Next block of decompressed bytes: *blk / *len (len 0 at the end of the
 * stream).  DD_EINPUT when the compressed data is truncated or corrupt;
 * reader errors pass through.  After an error every later call fails. */
int dd_decomp_next(dd_decomp *d, const void **blk, size_t *len, dd_error *err);

/* Bytes read from the blob / produced so far. */
uint64_t dd_decomp_in_bytes(const dd_decomp *d);
uint64_t dd_decomp_out_bytes(const dd_decomp *d);

/* Decompress the rest of the stream (discarding it, but hashing it), then
 * read the rest of the blob.  max_out bounds the total decompressed bytes
 * (0: unbounded); going past it is DD_EINPUT "exceeds". */
int dd_decomp_drain(dd_decomp *d, uint64_t max_out, dd_error *err);

/* Read the rest of the blob without decompressing it, only hashing it (to
 * tell a corrupt blob from a tampered one after an error). */
int dd_decomp_drain_raw(dd_decomp *d, dd_error *err);

/* Finish hashing: digest of every blob byte read, and of every decompressed
 * byte produced.  Call after dd_decomp_drain() or dd_decomp_drain_raw()
 * (diff_id is then unset, as it would be incomplete). */
void dd_decomp_digests(dd_decomp *d, dd_digest *digest, dd_digest *diff_id);

#endif
