/*
 * fleet.h - the fleet file: what `drydock watch` tracks, how it rebuilds,
 * where it deploys, and the gate in between (docs/watch.md).
 *
 * A YAML file (libyaml) with five top-level keys:
 *
 *   registries:  per-registry settings: credentials *by reference* (an
 *                environment variable or a file, never inline), insecure,
 *                poll interval and jitter.
 *   images:      every image drydock knows: bases it only watches, and
 *                images it builds (those with a `build:`).  An image's base
 *                comes from its Dockerfile (or `base:` to override).
 *   deploy:      GitOps repositories and kubectl targets to update.
 *   policy:      the gate a rebuilt image must pass before it is deployed.
 *   watch:       state file, webhook/metrics listener, debounce, notify URL.
 *
 * Durations are "30s", "5m", "1h" or plain seconds.  Relative paths
 * (build contexts, Dockerfiles, state, credential files) are taken
 * relative to the fleet file's directory.
 *
 * Memory: dd_fleet_load()/dd_fleet_parse() allocate the whole tree
 * (every string and array); dd_fleet_free() releases it.  Nothing in it is
 * borrowed from the input.
 */
#ifndef DD_WATCH_FLEET_H
#define DD_WATCH_FLEET_H

#include <stddef.h>

#include "util/error.h"

#define DD_FLEET_MAX ((size_t)4 << 20) /* largest fleet file read */

typedef struct dd_fleet_registry {
	char *host;          /* "registry.example.com", "127.0.0.1:5000" */
	char *username;      /* literal user name, or NULL */
	char *password_env;  /* name of an environment variable holding the password/token */
	char *password_file; /* path of a file holding it (absolute after load) */
	int insecure;        /* 1: TLS without verification / plain HTTP */
	char *ca_file;       /* absolute, or NULL */
	unsigned poll_interval; /* seconds, default 300 */
	unsigned jitter_pct;    /* 0..100, default 10 */
} dd_fleet_registry;

enum dd_build_backend {
	DD_BUILD_NONE = 0,   /* not built by drydock (a watched base) */
	DD_BUILD_BUILDAH,    /* buildah bud --isolation chroot, then push */
	DD_BUILD_COMMAND,    /* a command template (sh -c) */
	DD_BUILD_JENKINS,    /* POST {url}/buildWithParameters */
	DD_BUILD_AZURE,      /* POST Azure Pipelines runs API */
	DD_BUILD_GITHUB,     /* POST /repos/{o}/{r}/dispatches (repository_dispatch) */
};

typedef struct dd_fleet_kv {
	char *key, *value;
} dd_fleet_kv;

typedef struct dd_fleet_build {
	enum dd_build_backend backend;
	char *context;       /* directory (absolute after load), or NULL with git_url */
	char *git_url;       /* a git URL to clone instead of a context dir */
	char *git_ref;       /* branch/tag/commit, default "HEAD" */
	char *dockerfile;    /* path relative to the context, default "Dockerfile" */
	char *target;        /* the --target stage, or NULL */
	dd_fleet_kv *args;   /* build args */
	size_t n_args;
	char *command;       /* DD_BUILD_COMMAND: template with {image} {tag} {context}
				{dockerfile} {base} {base_digest} placeholders */
	char *url;           /* CI backends: endpoint (Jenkins job URL, Azure
				pipeline runs URL, GitHub API base) */
	char *token_env;     /* CI backends: env var holding the token */
	char *user;          /* Jenkins: user for Basic auth with the token */
	char *event_type;    /* GitHub: repository_dispatch event_type, default "drydock-rebuild" */
	unsigned timeout;    /* seconds to wait for the build / new digest, default 3600 */
} dd_fleet_build;

typedef struct dd_fleet_image {
	char *name;          /* short name, unique ("app"); default: the repository */
	char *image;         /* repository reference without tag ("reg:5000/team/app") */
	char *tag;           /* the tag watched / pushed, default "latest" */
	char **platforms;    /* "linux/amd64"...; empty = every platform of the index */
	size_t n_platforms;
	char *base;          /* explicit base ("reg/base:12" or a name of images[]), or NULL */
	dd_fleet_build build; /* backend DD_BUILD_NONE when not built here */
} dd_fleet_image;

typedef struct dd_fleet_git {
	char *url;           /* repository URL or path (a bare repo is fine) */
	char *branch;        /* the branch to read, default "main" */
	char *push_branch;   /* the branch to push to, default = branch */
	char **paths;        /* files/directories to edit; empty = whole tree */
	size_t n_paths;
	char *author_name;   /* default "drydock" */
	char *author_email;  /* default "drydock@localhost" */
} dd_fleet_git;

typedef struct dd_fleet_kubectl {
	char *image;         /* name of images[] this target runs */
	char *context;       /* kubeconfig context, or NULL for the current */
	char *kubeconfig;    /* path, or NULL */
	char *namespace;     /* default "default" */
	char *resource;      /* "deployment/app" */
	char *container;     /* container name in the pod template */
} dd_fleet_kubectl;

typedef struct dd_fleet_policy {
	int fail_on;         /* lowest severity that blocks (enum dd_severity), -1 none */
	int fail_on_new;     /* 1: block on any finding the running image did not have */
	char **ignore;       /* vulnerability IDs never blocking */
	size_t n_ignore;
	char *db;            /* vulnerability DB path (absolute), or NULL for the default */
} dd_fleet_policy;

typedef struct dd_fleet_watch {
	char *state;         /* state DB path (absolute), or NULL for the default */
	char *listen;        /* "127.0.0.1:9095" for webhooks + /metrics, or NULL */
	char *webhook_secret_env; /* env var with a shared secret (Bearer / ?token=), or NULL */
	unsigned debounce;   /* seconds a burst of changes is gathered, default 10 */
	char *notify_url;    /* POST JSON reports here, or NULL */
} dd_fleet_watch;

typedef struct dd_fleet {
	char *path;          /* the file loaded, absolute (or "<memory>") */
	dd_fleet_registry *registries;
	size_t n_registries;
	dd_fleet_image *images;
	size_t n_images;
	dd_fleet_git *gits;
	size_t n_gits;
	dd_fleet_kubectl *kubectls;
	size_t n_kubectls;
	dd_fleet_policy policy;
	dd_fleet_watch watch;
	size_t *by_name;     /* private: images[] indices sorted by name, for
				dd_fleet_image_named(); NULL means a linear
				search.  Code that edits images[] after parsing
				must free it and set it to NULL. */
} dd_fleet;

/*
 * Parse a fleet file of len bytes; dir is the directory relative paths are
 * taken from (NULL: the current directory).  Unknown keys, wrong types,
 * duplicate names, an inline password, or a `build:` without a backend's
 * required fields are errors: DD_EINPUT with "FILE:LINE: what" and *out NULL.
 */
int dd_fleet_parse(dd_fleet **out, const char *text, size_t len, const char *name,
		   const char *dir, dd_error *err);
/* Read and parse the file at path. */
int dd_fleet_load(dd_fleet **out, const char *path, dd_error *err);
void dd_fleet_free(dd_fleet *f);

/* The settings for a registry host (exact match), or NULL. */
const dd_fleet_registry *dd_fleet_registry_for(const dd_fleet *f, const char *host);
/* The password or token a registry entry refers to (malloc'd; the caller
 * wipes and frees it), read from its password_env variable or its
 * password_file (symlinks followed, as Kubernetes secret mounts are; at most
 * DD_FLEET_SECRET_MAX bytes; trailing newlines dropped); *out NULL when the
 * entry names none.  DD_EENV when the variable is unset or the file
 * unreadable. */
#define DD_FLEET_SECRET_MAX ((size_t)64 << 10)
int dd_fleet_password(const dd_fleet_registry *r, char **out, dd_error *err);
/* The image with that name, or NULL. */
const dd_fleet_image *dd_fleet_image_named(const dd_fleet *f, const char *name);
/* "duration" text to seconds: "90", "30s", "5m", "2h", "1d"; -1 when invalid. */
long dd_fleet_duration(const char *s);
/* Backend name ("buildah", "command", "jenkins", "azure", "github"). */
const char *dd_build_backend_name(enum dd_build_backend b);

#endif
