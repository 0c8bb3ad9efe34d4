/* metrics.c - see metrics.h. */
#include "watch/metrics.h"

#include <math.h> /* isnan, isinf */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

enum mtype { M_COUNTER, M_GAUGE };

typedef struct series {
	char *labels; /* rendered: `{k="v",...}` or "" */
	double value;
} series;

typedef struct family {
	char *name, *help;
	enum mtype type;
	series *s;
	size_t n, cap;
} family;

struct dd_metrics {
	pthread_mutex_t mu;
	family *f;
	size_t n, cap;
	size_t total_series;
};

int dd_metrics_new(dd_metrics **out, dd_error *err)
{
	dd_metrics *m = dd_calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return dd_error_oom(err);
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return dd_error_set(err, DD_EENV, "metrics: cannot create a mutex");
	}
	*out = m;
	return 0;
}

void dd_metrics_free(dd_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t k = 0; k < m->f[i].n; k++)
			free(m->f[i].s[k].labels);
		free(m->f[i].s);
		free(m->f[i].name);
		free(m->f[i].help);
	}
	free(m->f);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static int valid_name(const char *s, int metric)
{
	if (!s || !*s)
		return 0;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (metric && c == ':') || (i > 0 && c >= '0' && c <= '9');
		if (!ok || i > 200)
			return 0;
	}
	return metric || strncmp(s, "__", 2) != 0;
}

/* Label value escaping of the text format: \\, \" and \n. */
static void put_escaped(dd_buf *b, const char *s, size_t n, int quote)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			dd_buf_puts(b, "\\\\");
		else if (s[i] == '\n')
			dd_buf_puts(b, "\\n");
		else if (quote && s[i] == '"')
			dd_buf_puts(b, "\\\"");
		else
			dd_buf_putc(b, s[i]);
	}
}

/* Render kv pairs as `{k="v",...}` into out (a detached string). */
static int render_kv(char **out, const char *const *kv, size_t nkv)
{
	dd_buf b = DD_BUF_INIT_MAX(64 * 1024);

	*out = NULL;
	if (nkv == 0) {
		*out = dd_strdup("");
		return *out ? 0 : DD_EENV;
	}
	dd_buf_putc(&b, '{');
	for (size_t i = 0; i < nkv; i++) {
		const char *k = kv[2 * i], *v = kv[2 * i + 1];
		if (!valid_name(k, 0) || !v) {
			dd_buf_release(&b);
			return DD_EINTERNAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(kv[2 * j], k) == 0) {
				dd_buf_release(&b);
				return DD_EINTERNAL; /* duplicate label name */
			}
		if (i)
			dd_buf_putc(&b, ',');
		dd_buf_printf(&b, "%s=\"", k);
		put_escaped(&b, v, strlen(v), 1);
		dd_buf_putc(&b, '"');
	}
	dd_buf_putc(&b, '}');
	if (b.failed) {
		int rc = b.failed;
		dd_buf_release(&b);
		return rc;
	}
	*out = dd_buf_detach(&b, NULL);
	return 0;
}

#define MAX_LABELS 16

/* "k=v,k=v" to rendered labels. */
static int render_text(char **out, const char *labels)
{
	const char *kv[2 * MAX_LABELS] = { NULL };
	char *copy, *p;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (!labels || !*labels)
		return render_kv(out, kv, 0);
	if (!(copy = dd_strdup(labels)))
		return DD_EENV;
	for (p = copy; p;) {
		char *comma = strchr(p, ','), *eq;
		if (comma)
			*comma = '\0';
		if (!(eq = strchr(p, '=')) || n >= MAX_LABELS) {
			free(copy);
			return DD_EINTERNAL;
		}
		*eq = '\0';
		kv[2 * n] = p;
		kv[2 * n + 1] = eq + 1;
		n++;
		p = comma ? comma + 1 : NULL;
	}
	rc = render_kv(out, kv, n);
	free(copy);
	return rc;
}

static family *find_family(dd_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->f[i].name, name) == 0)
			return &m->f[i];
	return NULL;
}

/* The series (created when absent) for name + rendered labels; takes
 * ownership of *labels on success.  Called with the mutex held. */
static int get_series(dd_metrics *m, const char *name, const char *help, enum mtype type,
		      char **labels, series **out)
{
	family *f = find_family(m, name);
	series *s;

	if (f && f->type != type)
		return DD_EINTERNAL;
	if (f)
		for (size_t k = 0; k < f->n; k++)
			if (strcmp(f->s[k].labels, *labels) == 0) {
				*out = &f->s[k];
				free(*labels);
				*labels = NULL;
				return 0;
			}
	if (m->total_series >= DD_METRICS_MAX_SERIES)
		return DD_EINPUT;
	if (!f) {
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 8;
			family *nf = realloc(m->f, cap * sizeof(*nf));
			if (!nf)
				return DD_EENV;
			m->f = nf;
			m->cap = cap;
		}
		f = &m->f[m->n];
		memset(f, 0, sizeof(*f));
		f->type = type;
		f->name = dd_strdup(name);
		f->help = dd_strdup(help);
		if (!f->name || (help && !f->help)) {
			free(f->name);
			free(f->help);
			return DD_EENV;
		}
		m->n++;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		series *ns = realloc(f->s, cap * sizeof(*ns));
		if (!ns)
			return DD_EENV;
		f->s = ns;
		f->cap = cap;
	}
	s = &f->s[f->n++];
	s->labels = *labels;
	s->value = 0;
	*labels = NULL;
	m->total_series++;
	*out = s;
	return 0;
}

enum op { OP_ADD, OP_SET };

static int update(dd_metrics *m, const char *name, const char *help, enum mtype type, char *labels,
		  enum op op, double v)
{
	series *s = NULL;
	int rc;

	if (!m || !labels || !valid_name(name, 1) || (type == M_COUNTER && !(v >= 0))) {
		free(labels);
		return DD_EINTERNAL;
	}
	pthread_mutex_lock(&m->mu);
	rc = get_series(m, name, help, type, &labels, &s);
	if (rc == 0) {
		if (op == OP_SET)
			s->value = v;
		else
			s->value += v;
	}
	pthread_mutex_unlock(&m->mu);
	free(labels);
	return rc;
}

static char *labels_of(const char *text, int *rc)
{
	char *r;
	*rc = render_text(&r, text);
	return r;
}

int dd_metrics_counter_add(dd_metrics *m, const char *name, const char *help, const char *labels,
			   double value)
{
	int rc;
	char *l = labels_of(labels, &rc);
	return rc < 0 ? rc : update(m, name, help, M_COUNTER, l, OP_ADD, value);
}

int dd_metrics_gauge_set(dd_metrics *m, const char *name, const char *help, const char *labels,
			 double value)
{
	int rc;
	char *l = labels_of(labels, &rc);
	return rc < 0 ? rc : update(m, name, help, M_GAUGE, l, OP_SET, value);
}

int dd_metrics_gauge_add(dd_metrics *m, const char *name, const char *help, const char *labels,
			 double delta)
{
	int rc;
	char *l = labels_of(labels, &rc);
	return rc < 0 ? rc : update(m, name, help, M_GAUGE, l, OP_ADD, delta);
}

int dd_metrics_counter_addv(dd_metrics *m, const char *name, const char *help,
			    const char *const *kv, size_t nkv, double value)
{
	char *l;
	int rc = nkv > MAX_LABELS ? DD_EINTERNAL : render_kv(&l, kv, nkv);
	return rc < 0 ? rc : update(m, name, help, M_COUNTER, l, OP_ADD, value);
}

int dd_metrics_gauge_setv(dd_metrics *m, const char *name, const char *help,
			  const char *const *kv, size_t nkv, double value)
{
	char *l;
	int rc = nkv > MAX_LABELS ? DD_EINTERNAL : render_kv(&l, kv, nkv);
	return rc < 0 ? rc : update(m, name, help, M_GAUGE, l, OP_SET, value);
}

int dd_metrics_get(dd_metrics *m, const char *name, const char *labels, double *value)
{
	family *f;
	char *l;
	int rc;

	*value = 0;
	if (!m || !name)
		return DD_EINTERNAL;
	if ((rc = render_text(&l, labels)) < 0)
		return rc;
	rc = DD_EINPUT;
	pthread_mutex_lock(&m->mu);
	if ((f = find_family(m, name)))
		for (size_t k = 0; k < f->n; k++)
			if (strcmp(f->s[k].labels, l) == 0) {
				*value = f->s[k].value;
				rc = 0;
				break;
			}
	pthread_mutex_unlock(&m->mu);
	free(l);
	return rc;
}

static void put_value(dd_buf *b, double v)
{
	if (isnan(v))
		dd_buf_puts(b, "NaN");
	else if (isinf(v))
		dd_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v)
		dd_buf_printf(b, "%lld", (long long)v);
	else
		dd_buf_printf(b, "%.17g", v);
}

int dd_metrics_render(dd_metrics *m, dd_buf *out)
{
	if (!m || !out)
		return DD_EINTERNAL;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		const family *f = &m->f[i];
		if (f->help) {
			dd_buf_printf(out, "# HELP %s ", f->name);
			put_escaped(out, f->help, strlen(f->help), 0);
			dd_buf_putc(out, '\n');
		}
		dd_buf_printf(out, "# TYPE %s %s\n", f->name, f->type == M_COUNTER ? "counter" : "gauge");
		for (size_t k = 0; k < f->n; k++) {
			dd_buf_printf(out, "%s%s ", f->name, f->s[k].labels);
			put_value(out, f->s[k].value);
			dd_buf_putc(out, '\n');
		}
	}
	pthread_mutex_unlock(&m->mu);
	return out->failed;
}
