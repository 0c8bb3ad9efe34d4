/* decomp.c - see decomp.h. */
#include "layer/decomp.h"

#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/buf.h"
#include "util/banned.h"

#define NIN 4
#define NOUT 6
#define NJOB 16                          /* > NIN + NOUT: one job per buffer at most */
#define THREAD_AFTER ((uint64_t)8 << 20) /* start the hash thread after 8 MiB */

enum { H_BLOB, H_DIFF };

struct job {
	const unsigned char *p;
	size_t n;
};

/* One digest, computed in the caller's thread or in its own thread (jobs
 * are hashed in order; sub / done count submitted / hashed jobs). */
struct hasher {
	dd_sha256 h;
	int threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_job, cv_done;
	struct job q[NJOB];
	uint64_t sub, done;
	int stop;
};

struct dd_decomp {
	dd_reader *blob;
	enum dd_compression comp;
	int use_zlib;
	int failed;      /* sticky code */
	int reader_failed;
	dd_error ferr;   /* the sticky message */

	unsigned char *in[NIN];
	uint64_t in_job[NIN];   /* H_BLOB job that hashes the buffer */
	int in_cur;
	const unsigned char *next_in;
	size_t avail_in;
	int in_eof;

	unsigned char *out[NOUT];
	uint64_t out_job[NOUT]; /* H_DIFF job */
	int out_cur;

	uint64_t cbytes, ubytes;
	int stream_end;  /* every compressed byte decoded, blob at EOF */
	int member_end;  /* the current gzip member / zstd frame is complete */

	struct inflate_state *isal;
	z_stream *z;
	ZSTD_DStream *zs;

	struct hasher hs[2];
	int threads_tried;
};

static void *hash_main(void *arg)
{
	struct hasher *hs = arg;
	pthread_mutex_lock(&hs->mu);
	for (;;) {
		struct job j;
		while (hs->done == hs->sub && !hs->stop)
			pthread_cond_wait(&hs->cv_job, &hs->mu);
		if (hs->done == hs->sub)
			break;
		j = hs->q[hs->done % NJOB];
		pthread_mutex_unlock(&hs->mu);
		dd_sha256_update(&hs->h, j.p, j.n);
		pthread_mutex_lock(&hs->mu);
		hs->done++;
		pthread_cond_broadcast(&hs->cv_done);
	}
	pthread_mutex_unlock(&hs->mu);
	return NULL;
}

/* Big layers: each digest gets its own thread, beside the decoder. */
static void maybe_start_threads(dd_decomp *d)
{
	const char *env;
	if (d->threads_tried || d->ubytes + d->cbytes < THREAD_AFTER)
		return;
	d->threads_tried = 1;
	env = getenv("DRYDOCK_HASH_THREAD");
	if (env && strcmp(env, "0") == 0)
		return;
	for (int i = 0; i < 2; i++) {
		if (i == H_DIFF && d->comp == DD_COMP_NONE)
			continue; /* the diff_id is the blob digest */
		if (pthread_create(&d->hs[i].th, NULL, hash_main, &d->hs[i]) == 0)
			d->hs[i].threaded = 1;
	}
}

/* Queue p[0..n) for hashing; returns the job number (1-based). */
static uint64_t submit(dd_decomp *d, const unsigned char *p, size_t n, int which)
{
	struct hasher *hs = &d->hs[which];
	uint64_t seq;
	if (!hs->threaded) {
		dd_sha256_update(&hs->h, p, n);
		hs->done = ++hs->sub;
		return hs->sub;
	}
	pthread_mutex_lock(&hs->mu);
	while (hs->sub - hs->done >= NJOB)
		pthread_cond_wait(&hs->cv_done, &hs->mu);
	hs->q[hs->sub % NJOB] = (struct job){ p, n };
	seq = ++hs->sub;
	pthread_cond_signal(&hs->cv_job);
	pthread_mutex_unlock(&hs->mu);
	return seq;
}

/* Wait until job `seq` of `which` was hashed (its buffer may be reused). */
static void wait_job(dd_decomp *d, int which, uint64_t seq)
{
	struct hasher *hs = &d->hs[which];
	if (!hs->threaded)
		return;
	pthread_mutex_lock(&hs->mu);
	while (hs->done < seq)
		pthread_cond_wait(&hs->cv_done, &hs->mu);
	pthread_mutex_unlock(&hs->mu);
}

static void stop_threads(dd_decomp *d)
{
	for (int i = 0; i < 2; i++) {
		struct hasher *hs = &d->hs[i];
		if (!hs->threaded)
			continue;
		pthread_mutex_lock(&hs->mu);
		hs->stop = 1;
		pthread_cond_signal(&hs->cv_job);
		pthread_mutex_unlock(&hs->mu);
		pthread_join(hs->th, NULL);
		hs->threaded = 0;
	}
}

/* Record a sticky DD_EINPUT naming the compressed byte offset. */
static int fail(dd_decomp *d, dd_error *err, int truncated, unsigned long long off, const char *why)
{
	if (truncated)
		dd_error_set(&d->ferr, DD_EINPUT, "truncated %s stream at compressed byte %llu",
			     dd_compression_name(d->comp), off);
	else
		dd_error_set(&d->ferr, DD_EINPUT, "corrupt %s data at compressed byte %llu: %s",
			     dd_compression_name(d->comp), off, why);
	d->failed = DD_EINPUT;
	if (err)
		*err = d->ferr;
	return d->failed;
}

static int sticky(dd_decomp *d, dd_error *err)
{
	if (err)
		*err = d->ferr;
	return d->failed;
}

/* Read the next chunk of the blob into the next input slot. */
static int fill_input(dd_decomp *d, dd_error *err)
{
	int slot = (d->in_cur + 1) % NIN;
	ssize_t n;

	wait_job(d, H_BLOB, d->in_job[slot]);
	n = dd_reader_read(d->blob, d->in[slot], DD_DECOMP_BLOCK, &d->ferr);
	if (n < 0) {
		d->failed = (int)n;
		d->reader_failed = 1;
		return sticky(d, err);
	}
	if (n == 0) {
		d->in_eof = 1;
		return 0;
	}
	if ((size_t)n > DD_DECOMP_BLOCK)
		return fail(d, err, 0, d->cbytes, "the blob reader returned more than asked");
	d->cbytes += (uint64_t)n;
	d->in_job[slot] = submit(d, d->in[slot], (size_t)n, H_BLOB);
	d->in_cur = slot;
	d->next_in = d->in[slot];
	d->avail_in = (size_t)n;
	maybe_start_threads(d);
	return 0;
}

static int tar_plausible(const unsigned char *h)
{
	unsigned long sum = 0, want = 0;
	long ssum = 0;
	int i, zero = 1, digits = 0;

	for (i = 0; i < 512; i++) {
		if (h[i])
			zero = 0;
		if (i >= 148 && i < 156) {
			sum += ' ';
			ssum += ' ';
		} else {
			sum += h[i];
			ssum += (signed char)h[i];
		}
	}
	if (zero)
		return 1;
	for (i = 148; i < 156 && h[i] == ' '; i++)
		;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
		want = want * 8 + (unsigned long)(h[i] - '0');
	return digits > 0 && (want == sum || (long)want == ssum);
}

static int detect(dd_decomp *d, dd_error *err)
{
	const unsigned char *p = d->next_in;
	size_t n = d->avail_in;
	const char *other = NULL;

	if (n == 0)
		return dd_error_set(err, DD_EINPUT, "empty layer blob (not a tar archive)");
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		d->comp = DD_COMP_GZIP;
		return 0;
	}
	if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
		d->comp = DD_COMP_ZSTD;
		return 0;
	}
	if (n >= 3 && memcmp(p, "BZh", 3) == 0)
		other = "bzip2";
	else if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		other = "xz";
	else if (n >= 4 && memcmp(p, "\x04\x22\x4d\x18", 4) == 0)
		other = "lz4";
	else if (n >= 2 && p[0] == 0x1f && (p[1] == 0x9d || p[1] == 0xa0))
		other = "compress";
	if (other)
		return dd_error_set(err, DD_EINPUT, "unsupported layer compression (%s)", other);
	if (n >= 512 && tar_plausible(p)) {
		d->comp = DD_COMP_NONE;
		return 0;
	}
	return dd_error_set(err, DD_EINPUT,
			    "unsupported layer compression or not a tar archive (starts with %02x %02x %02x %02x)",
			    p[0], n > 1 ? p[1] : 0, n > 2 ? p[2] : 0, n > 3 ? p[3] : 0);
}

/* First read: at least 512 bytes (a tar header) unless the blob is shorter. */
static int first_fill(dd_decomp *d, dd_error *err)
{
	size_t len = 0;
	while (len < 512) {
		ssize_t n = dd_reader_read(d->blob, d->in[0] + len, DD_DECOMP_BLOCK - len, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		if ((size_t)n > DD_DECOMP_BLOCK - len)
			return dd_error_set(err, DD_EINTERNAL, "reader returned too much");
		len += (size_t)n;
	}
	if (len == 0)
		d->in_eof = 1;
	d->cbytes = len;
	d->in_job[0] = submit(d, d->in[0], len, H_BLOB);
	d->in_cur = 0;
	d->next_in = d->in[0];
	d->avail_in = len;
	return 0;
}

static int init_decoder(dd_decomp *d, dd_error *err)
{
	const char *env = getenv("DRYDOCK_INFLATE");
	if (d->comp == DD_COMP_NONE)
		return 0;
	for (int i = 0; i < NOUT; i++)
		if (!(d->out[i] = malloc(DD_DECOMP_BLOCK)))
			return dd_error_oom(err);
	d->out_cur = NOUT - 1;
	if (d->comp == DD_COMP_ZSTD) {
		d->zs = ZSTD_createDStream();
		if (!d->zs || ZSTD_isError(ZSTD_initDStream(d->zs)))
			return dd_error_oom(err);
		return 0;
	}
	d->use_zlib = env && strcmp(env, "zlib") == 0;
	if (d->use_zlib) {
		d->z = calloc(1, sizeof(*d->z));
		if (!d->z)
			return dd_error_oom(err);
		if (inflateInit2(d->z, 16 + 15) != Z_OK) {
			free(d->z);
			d->z = NULL;
			return dd_error_oom(err);
		}
		return 0;
	}
	d->isal = calloc(1, sizeof(*d->isal));
	if (!d->isal)
		return dd_error_oom(err);
	isal_inflate_init(d->isal);
	d->isal->crc_flag = ISAL_GZIP;
	return 0;
}

int dd_decomp_new(dd_decomp **out, dd_reader *blob, dd_error *err)
{
	dd_decomp *d;
	int rc;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return dd_error_oom(err);
	d->blob = blob;
	d->member_end = 0;
	for (int i = 0; i < 2; i++) {
		pthread_mutex_init(&d->hs[i].mu, NULL);
		pthread_cond_init(&d->hs[i].cv_job, NULL);
		pthread_cond_init(&d->hs[i].cv_done, NULL);
	}
	for (int i = 0; i < NIN; i++)
		if (!(d->in[i] = malloc(DD_DECOMP_BLOCK))) {
			rc = dd_error_oom(err);
			goto done;
		}
	if ((rc = dd_sha256_init(&d->hs[H_BLOB].h, err)) || (rc = dd_sha256_init(&d->hs[H_DIFF].h, err)))
		goto done;
	if ((rc = first_fill(d, err)) || (rc = detect(d, err)) || (rc = init_decoder(d, err)))
		goto done;
	*out = d;
	return 0;
done:
	dd_decomp_free(d);
	return rc;
}

void dd_decomp_free(dd_decomp *d)
{
	if (!d)
		return;
	stop_threads(d);
	for (int i = 0; i < 2; i++) {
		dd_sha256_release(&d->hs[i].h);
		pthread_mutex_destroy(&d->hs[i].mu);
		pthread_cond_destroy(&d->hs[i].cv_job);
		pthread_cond_destroy(&d->hs[i].cv_done);
	}
	for (int i = 0; i < NIN; i++)
		free(d->in[i]);
	for (int i = 0; i < NOUT; i++)
		free(d->out[i]);
	free(d->isal);
	if (d->z) {
		inflateEnd(d->z);
		free(d->z);
	}
	ZSTD_freeDStream(d->zs);
	free(d);
}

enum dd_compression dd_decomp_compression(const dd_decomp *d)
{
	return d->comp;
}

uint64_t dd_decomp_in_bytes(const dd_decomp *d)
{
	return d->cbytes;
}

uint64_t dd_decomp_out_bytes(const dd_decomp *d)
{
	return d->ubytes;
}

static const char *isal_why(int r)
{
	switch (r) {
	case ISAL_INVALID_BLOCK: return "invalid deflate block";
	case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
	case ISAL_INVALID_WRAPPER: return "bad gzip header or trailing garbage";
	case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
	case ISAL_INCORRECT_CHECKSUM: return "CRC mismatch";
	default: return "inflate error";
	}
}


static unsigned long long in_off(const dd_decomp *d)
{
	return (unsigned long long)(d->cbytes - d->avail_in);
}

/* One decoder call into o[*have..cap).  Sets member_end. */
static int step(dd_decomp *d, unsigned char *o, size_t *have, size_t cap, dd_error *err)
{
	if (d->isal) {
		struct inflate_state *st = d->isal;
		int r;
		st->next_in = (uint8_t *)d->next_in;
		st->avail_in = (uint32_t)d->avail_in;
		st->next_out = o + *have;
		st->avail_out = (uint32_t)(cap - *have);
		r = isal_inflate(st);
		if (r < 0) {
			unsigned long long off = in_off(d);
			if (st->avail_in <= d->avail_in)
				off += d->avail_in - st->avail_in;
			return fail(d, err, 0, off, isal_why(r));
		}
		/* trust nothing: the decoder must stay inside what it was given */
		if (st->avail_in > d->avail_in || st->avail_out > cap - *have ||
		    st->next_in != d->next_in + (d->avail_in - st->avail_in))
			return fail(d, err, 0, in_off(d), "inflate state out of bounds");
		d->next_in += d->avail_in - st->avail_in;
		d->avail_in = st->avail_in;
		*have = cap - st->avail_out;
		d->member_end = st->block_state == ISAL_BLOCK_FINISH;
	} else if (d->z) {
		z_stream *z = d->z;
		int r;
		z->next_in = (Bytef *)d->next_in;
		z->avail_in = (uInt)d->avail_in;
		z->next_out = o + *have;
		z->avail_out = (uInt)(cap - *have);
		r = inflate(z, Z_NO_FLUSH);
		if (z->avail_in > d->avail_in || z->avail_out > cap - *have)
			return fail(d, err, 0, in_off(d), "inflate state out of bounds");
		d->next_in += d->avail_in - z->avail_in;
		d->avail_in = z->avail_in;
		*have = cap - z->avail_out;
		if (r == Z_STREAM_END)
			d->member_end = 1;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			return fail(d, err, 0, in_off(d),
				    r == Z_MEM_ERROR ? "out of memory" : z->msg ? z->msg : "inflate error");
	} else {
		ZSTD_inBuffer ib = { d->next_in, d->avail_in, 0 };
		ZSTD_outBuffer ob = { o, cap, *have };
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		if (ZSTD_isError(r))
			return fail(d, err, 0, in_off(d), ZSTD_getErrorName(r));
		if (ib.pos > d->avail_in || ob.pos > cap || ob.pos < *have)
			return fail(d, err, 0, in_off(d), "zstd state out of bounds");
		d->next_in += ib.pos;
		d->avail_in -= ib.pos;
		*have = ob.pos;
		d->member_end = r == 0;
	}
	return 0;
}

/* Start the next gzip member after one ended with input left. */
static void next_member(dd_decomp *d)
{
	if (d->isal) {
		isal_inflate_reset(d->isal);
		d->isal->crc_flag = ISAL_GZIP;
	} else if (d->z) {
		inflateReset(d->z);
	}
	d->member_end = 0;
}

static int decode_block(dd_decomp *d, unsigned char *o, size_t *have, dd_error *err)
{
	int rc;
	for (;;) {
		size_t h0 = *have, a0 = d->avail_in;
		if (*have == DD_DECOMP_BLOCK)
			return 0;
		if (d->avail_in == 0 && !d->in_eof) {
			if ((rc = fill_input(d, err)))
				return rc;
			continue;
		}
		if (d->avail_in == 0 && d->member_end) {
			d->stream_end = 1;
			return 0;
		}
		if (d->member_end && d->comp == DD_COMP_GZIP) {
			if (d->next_in[0] != 0x1f || (d->avail_in > 1 && d->next_in[1] != 0x8b))
				return fail(d, err, 0, in_off(d), "trailing garbage after the gzip stream");
			next_member(d);
		}
		if ((rc = step(d, o, have, DD_DECOMP_BLOCK, err)))
			return rc;
		if (*have == h0 && d->avail_in == a0 && !d->member_end) {
			if (d->avail_in == 0)
				return fail(d, err, 1, d->cbytes, NULL);
			return fail(d, err, 0, in_off(d), "decoder made no progress");
		}
	}
}

int dd_decomp_next(dd_decomp *d, const void **blk, size_t *len, dd_error *err)
{
	int slot, rc;
	size_t have = 0;

	*blk = NULL;
	*len = 0;
	if (d->failed)
		return sticky(d, err);
	if (d->stream_end)
		return 0;
	if (d->comp == DD_COMP_NONE) {
		if (d->avail_in == 0 && !d->in_eof && (rc = fill_input(d, err)))
			return rc;
		if (d->avail_in == 0) {
			d->stream_end = 1;
			return 0;
		}
		*blk = d->next_in; /* the diff_id is the blob digest: no second hash */
		*len = d->avail_in;
		d->ubytes += d->avail_in;
		d->next_in += d->avail_in;
		d->avail_in = 0;
		return 0;
	}
	slot = (d->out_cur + 1) % NOUT;
	wait_job(d, H_DIFF, d->out_job[slot]);
	if ((rc = decode_block(d, d->out[slot], &have, err)))
		return rc;
	if (have == 0)
		return 0;
	d->out_job[slot] = submit(d, d->out[slot], have, H_DIFF);
	d->out_cur = slot;
	d->ubytes += have;
	maybe_start_threads(d);
	*blk = d->out[slot];
	*len = have;
	return 0;
}

int dd_decomp_drain(dd_decomp *d, uint64_t max_out, dd_error *err)
{
	for (;;) {
		const void *p;
		size_t n;
		int rc = dd_decomp_next(d, &p, &n, err);
		if (rc)
			return rc;
		if (n == 0)
			return 0;
		if (max_out && d->ubytes > max_out)
			return dd_error_set(err, DD_EINPUT, "uncompressed size exceeds %llu bytes",
					    (unsigned long long)max_out);
	}
}

int dd_decomp_drain_raw(dd_decomp *d, dd_error *err)
{
	int rc;
	if (d->reader_failed)
		return sticky(d, err);
	d->stream_end = 0; /* the decompressed stream stays incomplete */
	d->avail_in = 0;
	while (!d->in_eof)
		if ((rc = fill_input(d, err))) {
			d->avail_in = 0;
			return rc;
		}
	d->avail_in = 0;
	if (!d->failed) {
		d->failed = DD_EINPUT;
		dd_error_set(&d->ferr, DD_EINPUT, "stream was abandoned");
	}
	return 0;
}

void dd_decomp_digests(dd_decomp *d, dd_digest *digest, dd_digest *diff_id)
{
	dd_digest blob = { "" };
	stop_threads(d);
	if (d->in_eof)
		dd_sha256_final(&d->hs[H_BLOB].h, &blob);
	if (digest)
		*digest = blob;
	if (diff_id) {
		diff_id->s[0] = '\0';
		if (d->stream_end && !d->failed) {
			if (d->comp == DD_COMP_NONE)
				*diff_id = blob;
			else
				dd_sha256_final(&d->hs[H_DIFF].h, diff_id);
		}
	}
}
