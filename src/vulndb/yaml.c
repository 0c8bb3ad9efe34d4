/* yaml.c - load the first YAML document into a jansson tree with libyaml's
 * event parser, for the YAML forms of OSV (PyPA) and Alpine secdb.  The
 * fast reader of yamlfast.c goes first; what it declines comes here. */
#include "vulndb/import_internal.h"

#include <string.h>
#include <yaml.h>

#include "util/banned.h"

#define MAX_DEPTH 64

struct frame {
	json_t *node; /* borrowed: owned by its parent (or by root) */
	json_t *key;  /* pending mapping key (owned), NULL when a key is expected */
};

static json_t *scalar_value(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (ev->data.scalar.plain_implicit &&
	    (n == 0 || (n == 1 && v[0] == '~') || (n == 4 && memcmp(v, "null", 4) == 0) ||
	     (n == 4 && memcmp(v, "Null", 4) == 0) || (n == 4 && memcmp(v, "NULL", 4) == 0)))
		return json_null();
	return json_stringn(v, n);
}

/* Attach v (a new reference, stolen) to the innermost container. */
static int attach(struct frame *st, int depth, json_t **root, json_t *v)
{
	if (depth == 0) {
		if (*root) {
			json_decref(v);
			return -1;
		}
		*root = v;
		return 0;
	}
	struct frame *f = &st[depth - 1];
	if (json_is_array(f->node))
		return json_array_append_new(f->node, v);
	/* The key was checked (UTF-8) when it became a json string. */
	int rc = json_object_setn_new_nocheck(f->node, json_string_value(f->key),
					      json_string_length(f->key), v);
	json_decref(f->key);
	f->key = NULL;
	return rc;
}

json_t *dd_vimport_yaml_load(const char *data, size_t len, const char *name, dd_error *err)
{
	json_t *root = dd_vimport_yaml_fast(data, len);
	return root ? root : dd_vimport_yaml_libyaml(data, len, name, err);
}

json_t *dd_vimport_yaml_libyaml(const char *data, size_t len, const char *name, dd_error *err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct frame st[MAX_DEPTH];
	int depth = 0, done = 0;
	json_t *root = NULL;
	const char *why = NULL;
	size_t line = 0;

	if (!yaml_parser_initialize(&p)) {
		dd_error_oom(err);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			why = p.problem ? p.problem : "syntax error";
			line = p.problem_mark.line + 1;
			break;
		}
		line = ev.start_mark.line + 1;
		int expecting_key = depth > 0 && json_is_object(st[depth - 1].node) &&
				    !st[depth - 1].key;
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			if (expecting_key) {
				st[depth - 1].key = json_stringn((const char *)ev.data.scalar.value,
								 ev.data.scalar.length);
				if (!st[depth - 1].key)
					why = "key is not valid UTF-8";
			} else {
				json_t *v = scalar_value(&ev);
				if (!v)
					why = "scalar is not valid UTF-8";
				else if (attach(st, depth, &root, v))
					why = "cannot build value";
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			json_t *v = ev.type == YAML_SEQUENCE_START_EVENT ? json_array() : json_object();
			if (expecting_key)
				why = "complex mapping keys are not supported";
			else if (depth >= MAX_DEPTH)
				why = "nested too deeply";
			else if (!v)
				why = "out of memory";
			if (why) {
				json_decref(v);
				break;
			}
			st[depth].node = v;
			st[depth].key = NULL;
			if (attach(st, depth, &root, v)) {
				why = "cannot build value";
				break;
			}
			depth++;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) {
				json_decref(st[depth - 1].key);
				depth--;
			}
			break;
		case YAML_ALIAS_EVENT:
			why = "YAML aliases are not supported";
			break;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (why)
			break;
	}
	for (int i = 0; i < depth; i++)
		json_decref(st[i].key);
	yaml_parser_delete(&p);
	if (why) {
		json_decref(root);
		dd_error_set(err, DD_EINPUT, "%s: YAML line %zu: %s", name, line, why);
		return NULL;
	}
	if (!root) {
		dd_error_set(err, DD_EINPUT, "%s: empty YAML document", name);
		return NULL;
	}
	return root;
}
