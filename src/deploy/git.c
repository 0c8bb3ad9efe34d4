/* git.c - see git.h.  libgit2: an anonymous remote for the configured URL,
 * explicit refspecs, trees rebuilt with git_tree_create_updated(). */
#include "deploy/git.h"

#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"

#include "util/banned.h"

#define MAX_FILES 100000
#define PUSH_REF "refs/drydock/push"
#define TRAILER "Drydock-Change: "

struct file {
	char *path;
	git_oid id;
	git_filemode_t mode;
};

struct run {
	const dd_fleet_git *g;
	const char *branch, *push_branch;
	const dd_image_update *u;
	size_t n;
	git_repository *repo;
	git_remote *remote;
	int cred_tries;
	int rejected;
	char push_status[256];
	struct file *files;
	size_t nfiles, capfiles;
	int walk_err;
	dd_error *err;
};

const char *dd_deploy_outcome_name(enum dd_deploy_outcome o)
{
	switch (o) {
	case DD_DEPLOY_NO_CHANGE:
		return "no change";
	case DD_DEPLOY_COMMITTED:
		return "committed";
	case DD_DEPLOY_ALREADY:
		return "already committed";
	}
	return "?";
}

static int git_fail(struct run *R, const char *what)
{
	const git_error *e = git_error_last();
	return dd_error_set(R->err, DD_EENV, "git %s (%s): %s: %s", R->g->url, R->branch, what,
			    e && e->message ? e->message : "failed");
}

/* ---- remote ------------------------------------------------------------- */

static int cred_cb(git_credential **out, const char *url, const char *user_from_url,
		   unsigned int allowed, void *payload)
{
	struct run *R = payload;
	const char *token = getenv("DRYDOCK_GIT_TOKEN");
	const char *user = getenv("DRYDOCK_GIT_USERNAME");
	(void)url;
	if (R->cred_tries++ > 0)
		return GIT_EUSER; /* offered once and refused: stop */
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && token && *token)
		return git_credential_userpass_plaintext_new(
			out, user && *user ? user : user_from_url ? user_from_url : "x-access-token",
			token);
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return git_credential_ssh_key_from_agent(out, user_from_url ? user_from_url : "git");
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	return GIT_PASSTHROUGH;
}

static int fetch(struct run *R)
{
	char a[512], b[512];
	char *specs[2] = { a, b };
	git_strarray arr = { specs, 1 };
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;

	snprintf(a, sizeof(a), "+refs/heads/%s:refs/remotes/origin/%s", R->branch, R->branch);
	if (strcmp(R->branch, R->push_branch)) {
		snprintf(b, sizeof(b), "+refs/heads/%s:refs/remotes/origin/%s", R->push_branch,
			 R->push_branch);
		arr.count = 2;
	}
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.payload = R;
	fo.prune = GIT_FETCH_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	R->cred_tries = 0;
	if (git_remote_fetch(R->remote, &arr, &fo, "drydock: fetch") < 0)
		return git_fail(R, "fetch");
	return 0;
}

/* The remote's tip of refs/heads/<name> as seen by the last fetch; 0 when
 * found, 1 when the branch does not exist. */
static int remote_tip(struct run *R, const char *name, git_oid *out)
{
	const git_remote_head **heads;
	size_t n;
	char ref[512];
	snprintf(ref, sizeof(ref), "refs/heads/%s", name);
	if (git_remote_ls(&heads, &n, R->remote) < 0)
		return git_fail(R, "list remote branches");
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(heads[i]->name, ref)) {
			git_oid_cpy(out, &heads[i]->oid);
			return 0;
		}
	}
	return 1;
}

static int push_cb(const char *refname, const char *status, void *data)
{
	struct run *R = data;
	(void)refname;
	if (status) {
		R->rejected = 1;
		snprintf(R->push_status, sizeof(R->push_status), "%s", status);
	}
	return 0;
}

/* Push PUSH_REF to the push branch, fast-forward only.  0 pushed, 1 refused
 * (the remote moved), <0 error. */
static int push(struct run *R)
{
	char spec[512];
	char *specs[1] = { spec };
	git_strarray arr = { specs, 1 };
	git_push_options po = GIT_PUSH_OPTIONS_INIT;

	snprintf(spec, sizeof(spec), PUSH_REF ":refs/heads/%s", R->push_branch);
	po.callbacks.credentials = cred_cb;
	po.callbacks.push_update_reference = push_cb;
	po.callbacks.payload = R;
	R->rejected = 0;
	R->push_status[0] = '\0';
	R->cred_tries = 0;
	if (git_remote_push(R->remote, &arr, &po) < 0) {
		const git_error *e = git_error_last();
		snprintf(R->push_status, sizeof(R->push_status), "%s",
			 e && e->message ? e->message : "push failed");
		return 1;
	}
	return R->rejected ? 1 : 0;
}

/* ---- history ------------------------------------------------------------ */

static int has_trailer(const char *msg, const char *id)
{
	size_t tl = strlen(TRAILER), il = strlen(id);
	for (const char *l = msg; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, TRAILER, tl) && !strncmp(l + tl, id, il) &&
		    (l[tl + il] == '\n' || l[tl + il] == '\0' || l[tl + il] == '\r'))
			return 1;
	}
	return 0;
}

/* Search the last DD_DEPLOY_GIT_HISTORY commits from each tip for the
 * trailer.  1 found (*found set), 0 not, <0 error. */
static int find_change(struct run *R, const git_oid *tips, size_t ntips, const char *id,
		       git_oid *found)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int rc = 0;
	for (size_t t = 0; t < ntips && !rc; t++) {
		size_t seen = 0;
		if (git_revwalk_new(&w, R->repo) < 0 || git_revwalk_push(w, &tips[t]) < 0) {
			rc = git_fail(R, "walk history");
			break;
		}
		git_revwalk_sorting(w, GIT_SORT_TIME); /* incremental: no full-graph sort */
		while (!rc && seen++ < DD_DEPLOY_GIT_HISTORY && git_revwalk_next(&oid, w) == 0) {
			git_commit *c = NULL;
			if (git_commit_lookup(&c, R->repo, &oid) < 0) {
				rc = git_fail(R, "read commit");
				break;
			}
			if (has_trailer(git_commit_message(c), id)) {
				git_oid_cpy(found, &oid);
				rc = 1;
			}
			git_commit_free(c);
		}
		git_revwalk_free(w);
		w = NULL;
	}
	return rc;
}

/* ---- files -------------------------------------------------------------- */

/* p without "./" prefixes and '/' at either end; "" means everything. */
static size_t norm_path(const char **p)
{
	const char *s = *p;
	size_t n;
	for (;;) {
		if (s[0] == '.' && s[1] == '/')
			s += 2;
		else if (s[0] == '/')
			s++;
		else
			break;
	}
	if (s[0] == '.' && s[1] == '\0')
		s++;
	n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	*p = s;
	return n;
}

static int in_scope(const dd_fleet_git *g, const char *path, int is_dir)
{
	size_t pl = strlen(path);
	if (!g->n_paths)
		return 1;
	for (size_t i = 0; i < g->n_paths; i++) {
		const char *p = g->paths[i];
		size_t n = norm_path(&p);
		if (!n)
			return 1;
		if (pl >= n && !strncmp(path, p, n) && (path[n] == '\0' || path[n] == '/'))
			return 1; /* the path itself or something under it */
		if (is_dir && n > pl && !strncmp(p, path, pl) && p[pl] == '/')
			return 1; /* a directory on the way to it */
	}
	return 0;
}

static int is_yaml_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct run *R = payload;
	char path[4096];
	git_filemode_t mode = git_tree_entry_filemode(e);
	int n = snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(e));
	if (n < 0 || (size_t)n >= sizeof(path))
		return 1; /* absurdly long: skip */
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
		return in_scope(R->g, path, 1) ? 0 : 1;
	if ((mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
	    !is_yaml_name(path) || !in_scope(R->g, path, 0))
		return 0;
	if (R->nfiles >= MAX_FILES) {
		R->walk_err = dd_error_set(R->err, DD_EINPUT, "git %s: more than %d YAML files",
					   R->g->url, MAX_FILES);
		return -1;
	}
	if (R->nfiles == R->capfiles) {
		size_t cap = R->capfiles ? R->capfiles * 2 : 64;
		struct file *f = realloc(R->files, cap * sizeof(*f));
		if (!f)
			goto oom;
		R->files = f;
		R->capfiles = cap;
	}
	struct file *f = &R->files[R->nfiles];
	if (!(f->path = dd_strdup(path)))
		goto oom;
	git_oid_cpy(&f->id, git_tree_entry_id(e));
	f->mode = mode;
	R->nfiles++;
	return 0;
oom:
	R->walk_err = dd_error_oom(R->err);
	return -1;
}

static void free_files(struct run *R)
{
	for (size_t i = 0; i < R->nfiles; i++)
		free(R->files[i].path);
	free(R->files);
	R->files = NULL;
	R->nfiles = R->capfiles = 0;
}

/* Edit one file; *id set to the new blob when it changed (*changed 1). */
static int edit_file(struct run *R, const struct file *f, git_oid *id, size_t *changes)
{
	git_blob *blob = NULL;
	dd_buf out = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;
	int rc = 0;
	*changes = 0;
	if (git_blob_lookup(&blob, R->repo, &f->id) < 0)
		return git_fail(R, f->path);
	git_object_size_t size = git_blob_rawsize(blob);
	if (size > DD_YAMLEDIT_MAX) {
		dd_warn("git %s: %s: larger than %zu MiB, skipped", R->g->url, f->path,
			DD_YAMLEDIT_MAX >> 20);
		goto done;
	}
	rc = dd_yamledit_apply(git_blob_rawcontent(blob), (size_t)size, f->path, R->u, R->n, &out,
			       changes, &e);
	if (rc == DD_EINPUT) {
		dd_warn("git %s: skipped %s", R->g->url, e.msg);
		rc = 0;
		*changes = 0;
	} else if (rc) {
		dd_error_set(R->err, rc, "git %s: %s", R->g->url, e.msg);
	} else if (*changes && git_blob_create_from_buffer(id, R->repo, out.data, out.len) < 0) {
		rc = git_fail(R, "write blob");
	}
done:
	dd_buf_release(&out);
	git_blob_free(blob);
	return rc;
}

/* Apply the updates to the tree of commit base; *tree_out set and *files
 * > 0 when something changed. */
static int edit_tree(struct run *R, const git_oid *base, git_oid *tree_out, size_t *files,
		     size_t *changes)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_update *upd = NULL;
	git_oid *ids = NULL;
	size_t nupd = 0;
	int rc = 0;

	*files = *changes = 0;
	free_files(R);
	R->walk_err = 0;
	if (git_commit_lookup(&c, R->repo, base) < 0 || git_commit_tree(&tree, c) < 0) {
		rc = git_fail(R, "read the branch tip");
		goto done;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, R) < 0) {
		rc = R->walk_err ? R->walk_err : git_fail(R, "walk tree");
		goto done;
	}
	if (R->nfiles && (!(upd = dd_calloc(R->nfiles, sizeof(*upd))) ||
			  !(ids = dd_calloc(R->nfiles, sizeof(*ids))))) {
		rc = dd_error_oom(R->err);
		goto done;
	}
	for (size_t i = 0; i < R->nfiles; i++) {
		size_t ch = 0;
		if ((rc = edit_file(R, &R->files[i], &ids[nupd], &ch)))
			goto done;
		if (!ch)
			continue;
		upd[nupd].action = GIT_TREE_UPDATE_UPSERT;
		upd[nupd].id = ids[nupd];
		upd[nupd].filemode = R->files[i].mode;
		upd[nupd].path = R->files[i].path;
		nupd++;
		*changes += ch;
	}
	if (nupd && git_tree_create_updated(tree_out, R->repo, tree, nupd, upd) < 0)
		rc = git_fail(R, "write tree");
	*files = rc ? 0 : nupd;
done:
	free(upd);
	free(ids);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* ---- commit ------------------------------------------------------------- */

static int make_commit(struct run *R, const git_oid *parent_id, const git_oid *tree_id,
		       const char *message, const char *change_id, git_oid *out)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_reference *ref = NULL;
	dd_buf msg = DD_BUF_INIT;
	size_t ml = strlen(message);
	int rc = 0;

	while (ml && (message[ml - 1] == '\n' || message[ml - 1] == ' ' || message[ml - 1] == '\r'))
		ml--;
	if (ml)
		dd_buf_append(&msg, message, ml);
	else
		dd_buf_puts(&msg, "drydock: pin image digests");
	dd_buf_printf(&msg, "\n\n" TRAILER "%s\n", change_id);
	if (msg.failed) {
		rc = dd_buf_error(&msg, R->err, "commit message");
		goto done;
	}
	if (git_signature_now(&sig, R->g->author_name ? R->g->author_name : "drydock",
			      R->g->author_email ? R->g->author_email : "drydock@localhost") < 0) {
		rc = git_fail(R, "author");
		goto done;
	}
	if (git_tree_lookup(&tree, R->repo, tree_id) < 0 ||
	    git_commit_lookup(&parent, R->repo, parent_id) < 0) {
		rc = git_fail(R, "read objects");
		goto done;
	}
	const git_commit *parents[1] = { parent };
	if (git_commit_create(out, R->repo, NULL, sig, sig, NULL, msg.data, tree, 1, parents) < 0 ||
	    git_reference_create(&ref, R->repo, PUSH_REF, out, 1, "drydock: commit") < 0)
		rc = git_fail(R, "commit");
done:
	git_reference_free(ref);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	dd_buf_release(&msg);
	return rc;
}

/* ---- the work directory ------------------------------------------------- */

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

static int open_workdir(struct run *R, const char *workdir)
{
	if (git_repository_open_ext(&R->repo, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH |
				    GIT_REPOSITORY_OPEN_BARE, NULL) == 0)
		return 0;
	if (!dir_is_empty(workdir))
		return dd_error_set(R->err, DD_EENV,
				    "git work directory %s exists and is not a git repository", workdir);
	int rc = dd_mkdir_p(workdir, 0700, R->err);
	if (rc)
		return rc;
	if (git_repository_init(&R->repo, workdir, 1) < 0)
		return git_fail(R, workdir);
	return 0;
}

static int check_args(const dd_fleet_git *g, const char *workdir, const char *branch,
		      const char *push_branch, const char *change_id, dd_error *err)
{
	char ref[512];
	int valid = 0;
	if (!g || !g->url || !*g->url || !workdir || !*workdir)
		return dd_error_set(err, DD_EUSAGE, "git deploy: no repository URL or work directory");
	if (!change_id || !*change_id || strlen(change_id) > DD_DEPLOY_CHANGE_ID_MAX)
		return dd_error_set(err, DD_EUSAGE, "git %s: a change id of 1..%d bytes is required",
				    g->url, DD_DEPLOY_CHANGE_ID_MAX);
	for (const char *p = change_id; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dd_error_set(err, DD_EUSAGE, "git %s: change id '%s' is not one printable line",
					    g->url, change_id);
	const char *names[2] = { branch, push_branch };
	for (int i = 0; i < 2; i++) {
		if (strlen(names[i]) > 400)
			return dd_error_set(err, DD_EUSAGE, "git %s: branch name too long", g->url);
		snprintf(ref, sizeof(ref), "refs/heads/%s", names[i]);
		if (git_reference_name_is_valid(&valid, ref) < 0 || !valid)
			return dd_error_set(err, DD_EUSAGE, "git %s: bad branch name '%s'", g->url, names[i]);
	}
	return 0;
}

/* One attempt: 0 done (*out filled), 1 the push was refused, <0 error. */
static int attempt(struct run *R, const char *message, const char *change_id,
		   dd_deploy_result *out)
{
	git_oid tips[2], base, found, tree, commit;
	size_t ntips = 0;
	int rc;

	if ((rc = fetch(R)))
		return rc;
	if ((rc = remote_tip(R, R->branch, &tips[0])) < 0)
		return rc;
	if (rc == 1)
		return dd_error_set(R->err, DD_EENV, "git %s: branch '%s' not found", R->g->url,
				    R->branch);
	ntips = 1;
	base = tips[0];
	if (strcmp(R->branch, R->push_branch)) {
		if ((rc = remote_tip(R, R->push_branch, &tips[1])) < 0)
			return rc;
		if (rc == 0) {
			base = tips[1];
			ntips = 2;
		}
	}
	if ((rc = find_change(R, tips, ntips, change_id, &found)) < 0)
		return rc;
	if (rc == 1) {
		out->outcome = DD_DEPLOY_ALREADY;
		git_oid_tostr(out->commit, sizeof(out->commit), &found);
		return 0;
	}
	if ((rc = edit_tree(R, &base, &tree, &out->files, &out->changes)))
		return rc;
	if (!out->files) {
		out->outcome = DD_DEPLOY_NO_CHANGE;
		return 0;
	}
	if ((rc = make_commit(R, &base, &tree, message ? message : "", change_id, &commit)))
		return rc;
	if ((rc = push(R)) == 1)
		return 1;
	out->outcome = DD_DEPLOY_COMMITTED;
	git_oid_tostr(out->commit, sizeof(out->commit), &commit);
	return 0;
}

int dd_deploy_git(const dd_fleet_git *g, const char *workdir, const dd_image_update *u,
		  size_t n, const char *message, const char *change_id, dd_deploy_result *out,
		  dd_error *err)
{
	struct run R = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	git_libgit2_init();
	R.g = g;
	R.branch = g && g->branch && *g->branch ? g->branch : "main";
	R.push_branch = g && g->push_branch && *g->push_branch ? g->push_branch : R.branch;
	R.u = u;
	R.n = n;
	R.err = err;
	if ((rc = check_args(g, workdir, R.branch, R.push_branch, change_id, err)) ||
	    (rc = open_workdir(&R, workdir)))
		goto done;
	/* url.*.insteadOf is not applied: the fleet file's URL is used as is
	 * (and libgit2 1.5 leaks the regex match data of that lookup) */
	git_remote_create_options ro = GIT_REMOTE_CREATE_OPTIONS_INIT;
	ro.repository = R.repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&R.remote, g->url, &ro) < 0) {
		rc = git_fail(&R, "remote");
		goto done;
	}
	for (int i = 0; i < 2; i++) {
		memset(out, 0, sizeof(*out));
		rc = attempt(&R, message, change_id, out);
		if (rc != 1)
			break;
		dd_info("git %s: push to %s failed (%s); fetching and trying again", g->url,
			R.push_branch, R.push_status);
	}
	if (rc == 1)
		rc = dd_error_set(err, DD_EENV, "git %s: push to %s failed twice: %s", g->url,
				  R.push_branch, R.push_status);
done:
	if (rc)
		memset(out, 0, sizeof(*out));
	free_files(&R);
	git_remote_free(R.remote);
	git_repository_free(R.repo);
	git_libgit2_shutdown();
	return rc;
}
