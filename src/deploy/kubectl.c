/* kubectl.c - see kubectl.h. */
#include "deploy/kubectl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry/ref.h"
#include "util/digest.h"

#include "util/banned.h"

extern char **environ;

#define MAX_ARGS 16

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_target(const dd_fleet_kubectl *k, const dd_image_update *u, dd_error *err)
{
	dd_ref r;
	dd_digest d;
	if (!k || !k->resource || !*k->resource || !k->container || !*k->container)
		return dd_error_set(err, DD_EUSAGE, "kubectl: a target needs a resource and a container");
	if (strchr(k->container, '=') || k->resource[0] == '-' || k->container[0] == '-')
		return dd_error_set(err, DD_EUSAGE, "kubectl %s: bad container name '%s'", k->resource,
				    k->container);
	if (!u || !u->repository || !u->digest || dd_ref_parse(&r, u->repository, NULL) != 0 ||
	    strchr(u->repository, '@') || dd_digest_parse(&d, u->digest, "digest", NULL) != 0 ||
	    strcmp(d.s, u->digest))
		return dd_error_set(err, DD_EUSAGE, "kubectl %s: bad image '%s@%s'", k->resource,
				    u && u->repository ? u->repository : "",
				    u && u->digest ? u->digest : "");
	return 0;
}

/* Read the child's output until EOF or the deadline; 1 on timeout. */
static int drain(int fd, long deadline, dd_buf *out)
{
	char buf[4096];
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return 1;
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR)
			return 0;
		if (r <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		if (out->len + (size_t)n <= DD_KUBECTL_LOG_MAX)
			dd_buf_append(out, buf, (size_t)n);
	}
}

/* The last non-empty line of s, for the error message. */
static void last_line(const char *s, size_t n, char *line, size_t cap)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	size_t b = n;
	while (b && s[b - 1] != '\n')
		b--;
	size_t len = n - b < cap - 1 ? n - b : cap - 1;
	memcpy(line, s + b, len);
	line[len] = '\0';
}

static int run(char *const argv[], unsigned timeout, dd_buf *out, int *status, dd_error *err)
{
	posix_spawn_file_actions_t fa;
	int fds[2], rc = 0, timed_out;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return dd_error_set(err, DD_EENV, "kubectl: pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (e) {
		close(fds[0]);
		return dd_error_set(err, DD_EENV, "kubectl: cannot run %s: %s", argv[0], strerror(e));
	}
	timed_out = drain(fds[0], now_ms() + (long)timeout * 1000, out);
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			rc = dd_error_set(err, DD_EENV, "kubectl: wait: %s", strerror(errno));
			break;
		}
	}
	if (!rc && timed_out)
		rc = dd_error_set(err, DD_EENV, "%s: killed after %u s", argv[0], timeout);
	return rc;
}

int dd_deploy_kubectl(const dd_fleet_kubectl *k, const dd_image_update *u, const char *kubectl,
		      unsigned timeout, dd_buf *log, dd_error *err)
{
	char *argv[MAX_ARGS + 1];
	dd_buf image = DD_BUF_INIT, out = DD_BUF_INIT;
	int argc = 0, status = 0, rc;
	const char *ns = k && k->namespace && *k->namespace ? k->namespace : "default";

	if ((rc = check_target(k, u, err)))
		return rc;
	if (!kubectl || !*kubectl)
		kubectl = getenv("DRYDOCK_KUBECTL");
	if (!kubectl || !*kubectl)
		kubectl = "kubectl";
	dd_buf_printf(&image, "%s=%s@%s", k->container, u->repository, u->digest);
	if (image.failed) {
		rc = dd_buf_error(&image, err, "kubectl image");
		goto done;
	}
	argv[argc++] = (char *)kubectl;
	if (k->kubeconfig && *k->kubeconfig) {
		argv[argc++] = "--kubeconfig";
		argv[argc++] = k->kubeconfig;
	}
	if (k->context && *k->context) {
		argv[argc++] = "--context";
		argv[argc++] = k->context;
	}
	argv[argc++] = "-n";
	argv[argc++] = (char *)ns;
	argv[argc++] = "set";
	argv[argc++] = "image";
	argv[argc++] = k->resource;
	argv[argc++] = image.data;
	argv[argc] = NULL;
	rc = run(argv, timeout ? timeout : DD_KUBECTL_TIMEOUT, &out, &status, err);
	if (log && out.len)
		dd_buf_append(log, out.data, out.len);
	if (rc) {
		dd_error_prefix(err, "kubectl set image %s -n %s", k->resource, ns);
		goto done;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char line[300];
		last_line(dd_buf_cstr(&out), out.len, line, sizeof(line));
		rc = dd_error_set(err, DD_EENV, "kubectl set image %s -n %s: %s %d: %s", k->resource, ns,
				  WIFEXITED(status) ? "exit status" : "killed by signal",
				  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				  line[0] ? line : "(no output)");
	}
done:
	dd_buf_release(&image);
	dd_buf_release(&out);
	return rc;
}
