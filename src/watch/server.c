/* server.c - see server.h. */
#include "watch/server.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

#define M_REQUESTS "drydock_webhook_requests_total"
#define M_REQUESTS_HELP "Webhook requests received, by HTTP status answered."
#define M_EVENTS "drydock_webhook_events_total"
#define M_EVENTS_HELP "Push events received by webhook and queued."
#define M_QUEUE "drydock_webhook_queue_events"
#define M_QUEUE_HELP "Push events queued and not yet taken by the watch loop."

#define HTTP_TOO_LARGE 413 /* spelled differently across libmicrohttpd versions */
#define SERVER_MAGIC 0x64647376u /* "ddsv" */

struct dd_server {
	unsigned magic;
	struct MHD_Daemon *daemon;
	int port;
	int has_secret;
	unsigned char secret_hash[32];
	dd_metrics *metrics;
	int own_metrics;
	pthread_mutex_t mu;
	dd_push_event *q;
	size_t qn, qcap;
	int wake[2]; /* self-pipe: a byte per enqueue or interrupt */
	atomic_int interrupted; /* lock-free: safe in a signal handler */
};

enum route { R_NONE, R_WEBHOOK };

/* Per-request state of a webhook POST, kept across the upload calls. */
typedef struct req {
	enum route route;
	dd_buf body;
	int too_big;
	int responded;
} req;

/* ---- small helpers ---- */

static int sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;
	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) DD_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	dd_debug("webhook server: %s", line);
}

static void count_request(dd_server *s, unsigned status)
{
	char l[32];
	snprintf(l, sizeof(l), "status=%u", status);
	(void)dd_metrics_counter_add(s->metrics, M_REQUESTS, M_REQUESTS_HELP, l, 1);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *ctype,
			       const char *body, const char *hname, const char *hval)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (hname)
		MHD_add_response_header(r, hname, hval);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A webhook answer: {"error":msg} or the given JSON, counted by status. */
static enum MHD_Result webhook_respond(dd_server *s, struct MHD_Connection *c, req *rq,
				       unsigned status, const char *error, const char *json)
{
	enum MHD_Result ret;
	char *text = NULL;

	if (rq)
		rq->responded = 1;
	count_request(s, status);
	if (error) {
		json_t *o = json_pack("{s:s}", "error", error);
		text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		json = text ? text : "{\"error\":\"out of memory\"}";
		dd_info("webhook: answered %u: %s", status, error);
	}
	ret = respond(c, status, "application/json", json,
		      status == MHD_HTTP_UNAUTHORIZED ? MHD_HTTP_HEADER_WWW_AUTHENTICATE : NULL,
		      "Bearer realm=\"drydock\"");
	free(text);
	return ret;
}

/* ---- authentication ---- */

static int secret_matches(const dd_server *s, const char *given)
{
	unsigned char h[32];

	if (!given || sha256(given, strlen(given), h) < 0)
		return 0;
	/* equal-length digests compared in constant time: neither the
	 * secret's length nor its prefix leaks through timing */
	return CRYPTO_memcmp(h, s->secret_hash, sizeof(h)) == 0;
}

static int authorized(const dd_server *s, struct MHD_Connection *c)
{
	const char *auth, *token;
	int ok = 0;

	if (!s->has_secret)
		return 1;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth && strncasecmp(auth, "Bearer", 6) == 0 && (auth[6] == ' ' || auth[6] == '\t')) {
		auth += 7;
		while (*auth == ' ' || *auth == '\t')
			auth++;
		ok |= secret_matches(s, auth);
	}
	token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (token)
		ok |= secret_matches(s, token);
	return ok;
}

/* ---- the queue ---- */

/* Append events (moved: their strings now belong to the queue). */
static int enqueue(dd_server *s, dd_push_event *ev, size_t n)
{
	size_t need, cap, bytes;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (dd_add_size(&need, s->qn, n) < 0 || need > DD_SERVER_MAX_QUEUED) {
		rc = DD_EINPUT;
		goto done;
	}
	if (need > s->qcap) {
		dd_push_event *nq;
		cap = s->qcap ? s->qcap : 16;
		while (cap < need)
			cap *= 2;
		if (dd_mul_size(&bytes, cap, sizeof(*nq)) < 0 || !(nq = realloc(s->q, bytes))) {
			rc = DD_EENV;
			goto done;
		}
		s->q = nq;
		s->qcap = cap;
	}
	memcpy(s->q + s->qn, ev, n * sizeof(*ev));
	s->qn = need;
	(void)dd_metrics_gauge_set(s->metrics, M_QUEUE, M_QUEUE_HELP, NULL, (double)s->qn);
done:
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && write(s->wake[1], "e", 1) < 0) {
		/* EAGAIN: the pipe is full of wake-ups already */
	}
	return rc;
}

/* ---- request handling ---- */

static int is_webhook_path(const char *url)
{
	static const char *const paths[] = { "/webhook", "/webhook/distribution", "/webhook/acr",
					     "/webhook/harbor" };
	size_t n = strlen(url);

	if (n > 1 && url[n - 1] == '/')
		n--; /* a trailing slash is fine */
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strlen(paths[i]) == n && strncmp(url, paths[i], n) == 0)
			return 1;
	return 0;
}

static enum MHD_Result serve_get(dd_server *s, struct MHD_Connection *c, const char *url,
				 const char *method)
{
	if (strcmp(url, "/healthz") != 0 && strcmp(url, "/metrics") != 0)
		return respond(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found\n", NULL, NULL);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			       "method not allowed\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (strcmp(url, "/healthz") == 0)
		return respond(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n", NULL, NULL);
	{
		dd_buf b = DD_BUF_INIT_MAX((size_t)64 << 20);
		enum MHD_Result ret;
		if (dd_metrics_render(s->metrics, &b) < 0) {
			dd_buf_release(&b);
			return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
				       "metrics unavailable\n", NULL, NULL);
		}
		ret = respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", dd_buf_cstr(&b),
			      NULL, NULL);
		dd_buf_release(&b);
		return ret;
	}
}

/* First call of a webhook request: decide what can be decided from the
 * headers alone, before any of the body is read. */
static enum MHD_Result webhook_begin(dd_server *s, struct MHD_Connection *c, const char *method,
				     void **con_cls)
{
	const char *cl, *ce;
	req *rq;

	if (strcmp(method, "POST") != 0) {
		count_request(s, MHD_HTTP_METHOD_NOT_ALLOWED);
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
			       "{\"error\":\"use POST\"}", MHD_HTTP_HEADER_ALLOW, "POST");
	}
	if (!authorized(s, c))
		return webhook_respond(s, c, NULL, MHD_HTTP_UNAUTHORIZED,
				       "missing or wrong secret (Authorization: Bearer ... or ?token=...)", NULL);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long v;
		errno = 0;
		v = strtoull(cl, &end, 10);
		if (errno || end == cl || v > DD_WEBHOOK_MAX)
			return webhook_respond(s, c, NULL, HTTP_TOO_LARGE,
					       "payload over the 1 MiB limit", NULL);
	}
	ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (ce && strcasecmp(ce, "identity") != 0)
		return webhook_respond(s, c, NULL, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				       "compressed payloads are not supported", NULL);
	if (!(rq = dd_calloc(1, sizeof(*rq))))
		return MHD_NO;
	rq->route = R_WEBHOOK;
	dd_buf_init(&rq->body, DD_WEBHOOK_MAX);
	*con_cls = rq;
	return MHD_YES;
}

/* The whole body is in: parse, queue, answer. */
static enum MHD_Result webhook_end(dd_server *s, struct MHD_Connection *c, req *rq)
{
	dd_error err = DD_ERROR_INIT;
	dd_push_event *ev = NULL;
	size_t n = 0;
	const char *ctype;
	char json[64];
	int rc;

	if (rq->too_big)
		return webhook_respond(s, c, rq, HTTP_TOO_LARGE, "payload over the 1 MiB limit", NULL);
	if (rq->body.failed)
		return webhook_respond(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
	ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	rc = dd_webhook_parse(rq->body.data, rq->body.len, ctype, &ev, &n, &err);
	if (rc == DD_EINPUT)
		return webhook_respond(s, c, rq, MHD_HTTP_BAD_REQUEST, err.msg, NULL);
	if (rc < 0)
		return webhook_respond(s, c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, err.msg, NULL);
	if (n > 0) {
		rc = enqueue(s, ev, n);
		if (rc < 0) {
			dd_push_events_free(ev, n);
			return webhook_respond(s, c, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
					       rc == DD_EINPUT ? "event queue full, retry later" : "out of memory",
					       NULL);
		}
		free(ev); /* the strings moved into the queue */
		(void)dd_metrics_counter_add(s->metrics, M_EVENTS, M_EVENTS_HELP, NULL, (double)n);
	}
	snprintf(json, sizeof(json), "{\"accepted\":%zu}", n);
	return webhook_respond(s, c, rq, MHD_HTTP_ACCEPTED, NULL, json);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	dd_server *s = cls;
	req *rq = *con_cls;

	(void)version;
	if (!rq) {
		if (is_webhook_path(url))
			return webhook_begin(s, c, method, con_cls);
		return serve_get(s, c, url, method);
	}
	if (*upload_data_size > 0) {
		size_t got = *upload_data_size;
		*upload_data_size = 0; /* consumed (or dropped) */
		if (rq->responded || rq->too_big)
			return MHD_YES;
		if (rq->body.len + got > DD_WEBHOOK_MAX) {
			rq->too_big = 1; /* keep reading and dropping; answer 413 at the end */
			dd_buf_release(&rq->body);
			return MHD_YES;
		}
		dd_buf_append(&rq->body, upload_data, got);
		return MHD_YES;
	}
	if (rq->responded)
		return MHD_YES;
	return webhook_end(s, c, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		dd_buf_release(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* ---- listen socket ---- */

/* Split "HOST:PORT" / "[V6]:PORT" / ":PORT" into host (NULL: any) and port. */
static int split_listen(const char *addr, char *host, size_t hn, char *port, size_t pn, dd_error *err)
{
	const char *colon, *h = addr;
	size_t hl;

	if (!addr || !*addr)
		return dd_error_set(err, DD_EUSAGE, "addr address: empty (want HOST:PORT)");
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':')
			return dd_error_set(err, DD_EUSAGE, "addr address '%s': want [IPV6]:PORT", addr);
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return dd_error_set(err, DD_EUSAGE, "addr address '%s': no port (want HOST:PORT)", addr);
		hl = (size_t)(colon - addr);
		if (memchr(addr, ':', hl))
			return dd_error_set(err, DD_EUSAGE, "addr address '%s': put an IPv6 address in brackets",
					    addr);
	}
	if (hl >= hn || strlen(colon + 1) >= pn || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strtoul(colon + 1, NULL, 10) > 65535)
		return dd_error_set(err, DD_EUSAGE, "addr address '%s': bad host or port", addr);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int bind_and_listen(int fd, const struct addrinfo *ai)
{
	return bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0;
}

static int open_listener(const char *addr, int *fd_out, int *port_out, dd_error *err)
{
	char host[256], port[8];
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, gai, saved = 0;

	*fd_out = -1;
	if ((rc = split_listen(addr, host, sizeof(host), port, sizeof(port), err)) < 0)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (gai != 0)
		return dd_error_set(err, DD_EENV, "addr %s: %s", addr, gai_strerror(gai));
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind_and_listen(fd, ai))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return dd_error_set(err, DD_EENV, "addr %s: %s", addr, strerror(saved ? saved : EADDRNOTAVAIL));
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
			saved = errno;
			close(fd);
			return dd_error_set(err, DD_EENV, "addr %s: %s", addr, strerror(saved));
		}
		*port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
						     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	*fd_out = fd;
	return 0;
}

/* ---- lifecycle ---- */

int dd_server_start(dd_server **out, const char *listen, const char *secret, dd_metrics *metrics,
		    dd_error *err)
{
	dd_server *s;
	int fd = -1, rc;

	*out = NULL;
	if (!(s = dd_calloc(1, sizeof(*s))))
		return dd_error_oom(err);
	s->magic = SERVER_MAGIC;
	s->wake[0] = s->wake[1] = -1;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return dd_error_set(err, DD_EENV, "webhook server: cannot create a mutex");
	}
	if (secret && *secret) {
		s->has_secret = 1;
		if (sha256(secret, strlen(secret), s->secret_hash) < 0) {
			rc = dd_error_set(err, DD_EENV, "webhook server: SHA-256 unavailable");
			goto fail;
		}
	}
	if (metrics) {
		s->metrics = metrics;
	} else {
		if ((rc = dd_metrics_new(&s->metrics, err)) < 0)
			goto fail;
		s->own_metrics = 1;
	}
	/* the families show up (at 0) before the first request */
	if (dd_metrics_counter_add(s->metrics, M_REQUESTS, M_REQUESTS_HELP, "status=202", 0) < 0 ||
	    dd_metrics_counter_add(s->metrics, M_EVENTS, M_EVENTS_HELP, NULL, 0) < 0 ||
	    dd_metrics_gauge_set(s->metrics, M_QUEUE, M_QUEUE_HELP, NULL, 0) < 0) {
		rc = dd_error_set(err, DD_EINTERNAL, "webhook server: cannot register its metrics");
		goto fail;
	}
	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = dd_error_set(err, DD_EENV, "webhook server: pipe: %s", strerror(errno));
		goto fail;
	}
	if ((rc = open_listener(listen, &fd, &s->port, err)) < 0)
		goto fail;
	s->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, s,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				     MHD_OPTION_END);
	if (!s->daemon) {
		close(fd);
		rc = dd_error_set(err, DD_EENV, "listen %s: libmicrohttpd did not start", listen);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	if (s->own_metrics)
		dd_metrics_free(s->metrics);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return rc;
}

int dd_server_port(const dd_server *s)
{
	return s && s->magic == SERVER_MAGIC ? s->port : -1;
}

dd_metrics *dd_server_metrics(dd_server *s)
{
	return s && s->magic == SERVER_MAGIC ? s->metrics : NULL;
}

void dd_server_interrupt(dd_server *s)
{
	int saved = errno;

	if (!s || s->magic != SERVER_MAGIC)
		return;
	atomic_store(&s->interrupted, 1);
	if (write(s->wake[1], "i", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = saved;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(int fd)
{
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int dd_server_wait(dd_server *s, int timeout_ms, dd_push_event **events, size_t *n)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	*events = NULL;
	*n = 0;
	if (!s || s->magic != SERVER_MAGIC)
		return DD_EINTERNAL;
	for (;;) {
		struct pollfd p = { s->wake[0], POLLIN, 0 };
		int wait_ms, pr;

		pthread_mutex_lock(&s->mu);
		if (s->qn > 0) {
			*events = s->q;
			*n = s->qn;
			s->q = NULL;
			s->qn = s->qcap = 0;
			(void)dd_metrics_gauge_set(s->metrics, M_QUEUE, M_QUEUE_HELP, NULL, 0);
		}
		pthread_mutex_unlock(&s->mu);
		if (*n > 0)
			return *n > (size_t)0x7fffffff ? 0x7fffffff : (int)*n;
		if (atomic_exchange(&s->interrupted, 0))
			return 0;
		if (deadline < 0) {
			wait_ms = -1;
		} else {
			long long left = deadline - now_ms();
			if (left <= 0)
				return 0;
			wait_ms = left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		pr = poll(&p, 1, wait_ms);
		if (pr < 0 && errno != EINTR)
			return DD_EENV;
		if (pr > 0)
			drain(s->wake[0]);
	}
}

void dd_server_stop(dd_server *s)
{
	if (!s || s->magic != SERVER_MAGIC)
		return;
	MHD_stop_daemon(s->daemon); /* joins the thread, closes the listen socket */
	dd_push_events_free(s->q, s->qn);
	close(s->wake[0]);
	close(s->wake[1]);
	if (s->own_metrics)
		dd_metrics_free(s->metrics);
	pthread_mutex_destroy(&s->mu);
	OPENSSL_cleanse(s->secret_hash, sizeof(s->secret_hash));
	s->magic = 0;
	free(s);
}
