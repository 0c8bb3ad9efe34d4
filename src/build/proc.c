/*
 * proc.c - run a build step: posix_spawn (no shell), its own process
 * group, output into the build log, the group killed at the deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build/internal.h"
#include "util/banned.h"

extern char **environ;

#define STDOUT_KEEP ((size_t)64 << 10) /* stdout copy: its tail */
#define GRACE_S 2.0                     /* pipes held open after the exit */
#define TERM_S 5.0                      /* SIGTERM to SIGKILL */

double dd_build_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dd_build_sleep(double s)
{
	struct timespec ts;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* environ with the extra entries replacing same-named ones; the array is
 * malloc'd, the strings borrowed. */
static char **make_env(const char *const *extra)
{
	size_t n = 0, k = 0, ne = 0;
	char **v;

	while (environ && environ[n])
		n++;
	while (extra && extra[ne])
		ne++;
	v = dd_calloc(n + ne + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int replaced = 0;
		for (size_t j = 0; j < ne && !replaced; j++)
			replaced = !strncmp(extra[j], environ[i], nl) && extra[j][nl] == '=';
		if (!replaced)
			v[k++] = environ[i];
	}
	for (size_t j = 0; j < ne; j++)
		v[k++] = (char *)extra[j];
	v[k] = NULL;
	return v;
}

static void log_command(const dd_build_proc *p)
{
	dd_buf line = DD_BUF_INIT_MAX(64 << 10);

	dd_buf_puts(&line, "+ ");
	if (p->show)
		dd_buf_puts(&line, p->show);
	else
		for (size_t i = 0; p->argv[i]; i++) {
			const char *a = p->argv[i];
			if (i)
				dd_buf_putc(&line, ' ');
			if (*a && !a[strcspn(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!")])
				dd_buf_puts(&line, a);
			else
				dd_build_shell_quote(&line, a);
		}
	dd_buf_putc(&line, '\n');
	if (!line.failed)
		dd_build_log_append(p->log, line.data, line.len, DD_BUILD_LOG_MAX);
	dd_buf_release(&line);
}

/* Read what is there from *fd into the log (and out); close it at EOF. */
static void drain(int *fd, const dd_build_proc *p, int is_stdout)
{
	char buf[16384];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0) {
		dd_build_log_append(p->log, buf, (size_t)n, DD_BUILD_LOG_MAX);
		if (is_stdout && p->out)
			dd_build_log_append(p->out, buf, (size_t)n, STDOUT_KEEP);
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	close(*fd);
	*fd = -1;
}

static int start(const dd_build_proc *p, pid_t *pid, int *outfd, int *errfd, dd_error *err)
{
	static const int defaults[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM,
					SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ };
	int o[2] = { -1, -1 }, e[2] = { -1, -1 }, rc = 0, src;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def, mask;
	char **envp = NULL;

	if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC)) {
		rc = dd_error_set(err, DD_EENV, "pipe: %s", strerror(errno));
		goto done;
	}
	if (!(envp = make_env(p->env))) {
		rc = dd_error_oom(err);
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	if (p->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, p->cwd);
	sigemptyset(&def);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		sigaddset(&def, defaults[i]);
	sigemptyset(&mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setsigmask(&at, &mask);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSIGMASK);
	src = posix_spawnp(pid, p->argv[0], &fa, &at, (char *const *)p->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (src) {
		rc = dd_error_set(err, DD_EENV, "cannot run %s%s%s: %s", p->argv[0], p->cwd ? " in " : "",
				  p->cwd ? p->cwd : "", strerror(src));
		goto done;
	}
	*outfd = o[0];
	*errfd = e[0];
	o[0] = e[0] = -1;
done:
	for (int i = 0; i < 2; i++) {
		if (o[i] >= 0)
			close(o[i]);
		if (e[i] >= 0)
			close(e[i]);
	}
	free(envp);
	return rc;
}

/* Run; the last line of the log before our exit note into last. */
static int spawn(const dd_build_proc *p, int *status, char *last, size_t cap, dd_error *err)
{
	int fds[2] = { -1, -1 }, st = 0, reaped = 0, rc;
	double term_at = 0, grace_until = 0, t0 = dd_build_now();
	pid_t pid;

	*status = -1;
	log_command(p);
	if ((rc = start(p, &pid, &fds[0], &fds[1], err))) {
		dd_build_note(p->log, "%s", err ? err->msg : "cannot start");
		return rc;
	}
	if (p->rq && p->rq->on_process)
		p->rq->on_process(p->rq->on_process_ctx, (long)pid, p->argv[0], 1);
	for (;;) {
		int open_fds = (fds[0] >= 0) + (fds[1] >= 0);
		double now = dd_build_now(), wait_s = 0.25;

		if (!reaped) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid || (w < 0 && errno == ECHILD))
				reaped = 1;
		}
		if (reaped && !open_fds)
			break;
		if (reaped && open_fds) {
			/* Something in the group still holds the pipes. */
			if (!grace_until)
				grace_until = now + GRACE_S;
			else if (now >= grace_until) {
				kill(-pid, SIGKILL);
				for (int i = 0; i < 2; i++)
					if (fds[i] >= 0) {
						close(fds[i]);
						fds[i] = -1;
					}
				break;
			}
		}
		if (p->deadline > 0 && now >= p->deadline && !term_at) {
			dd_build_note(p->log, "timed out: stopping %s (process group %ld)", p->argv[0],
				      (long)pid);
			kill(-pid, SIGTERM);
			term_at = now;
		}
		if (term_at && now >= term_at + TERM_S)
			kill(-pid, SIGKILL);
		if (!open_fds) {
			dd_build_sleep(0.01);
			continue;
		}
		if (p->deadline > 0 && !term_at && p->deadline - now < wait_s)
			wait_s = p->deadline - now;
		struct pollfd pf[2];
		nfds_t n = 0;
		int which[2];
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0) {
				pf[n].fd = fds[i];
				pf[n].events = POLLIN;
				pf[n].revents = 0;
				which[n++] = i;
			}
		int pr = poll(pf, n, (int)(wait_s * 1000) + 1);
		if (pr < 0 && errno != EINTR) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			rc = dd_error_set(err, DD_EENV, "poll: %s", strerror(errno));
			if (p->rq && p->rq->on_process)
				p->rq->on_process(p->rq->on_process_ctx, (long)pid, p->argv[0], 0);
			goto done;
		}
		for (nfds_t i = 0; pr > 0 && i < n; i++)
			if (pf[i].revents)
				drain(&fds[which[i]], p, which[i] == 0);
	}
	if (WIFEXITED(st))
		*status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		*status = 128 + WTERMSIG(st);
	if (p->rq && p->rq->on_process)
		p->rq->on_process(p->rq->on_process_ctx, (long)pid, p->argv[0], 0);
	if (last)
		dd_build_last_line(dd_buf_cstr(p->log), p->log->len, last, cap);
	dd_build_note(p->log, "%s: exit %d after %.1f s", p->argv[0], *status, dd_build_now() - t0);
	if (term_at)
		rc = dd_error_set(err, DD_EENV, "%s timed out", p->argv[0]);
done:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

int dd_build_spawn(const dd_build_proc *p, int *status, dd_error *err)
{
	return spawn(p, status, NULL, 0, err);
}

int dd_build_spawn_ok(const dd_build_proc *p, const char *what, dd_error *err)
{
	int st, rc;
	char line[400] = "";

	if ((rc = spawn(p, &st, line, sizeof(line), err)))
		return rc;
	if (st == 0)
		return 0;
	if (st > 128)
		return dd_error_set(err, DD_EENV, "%s killed by signal %d: %s", what, st - 128, line);
	return dd_error_set(err, DD_EENV, "%s exited %d: %s", what, st, line);
}
