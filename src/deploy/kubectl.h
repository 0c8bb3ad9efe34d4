/*
 * kubectl.h - direct redeploy: `kubectl set image` against a configured
 * context (docs/deploy.md).
 *
 * Runs, without a shell (posix_spawnp, stdin from /dev/null):
 *
 *   kubectl [--kubeconfig K] [--context C] -n NS set image RESOURCE CONTAINER=REPO@sha256:...
 *
 * and keeps its combined stdout and stderr (at most DD_KUBECTL_LOG_MAX
 * bytes) for the log.  Setting the image a deployment already runs is a
 * no-op in Kubernetes, so a repeated call changes nothing.
 *
 * Memory: the caller owns every argument and the log buffer.
 */
#ifndef DD_DEPLOY_KUBECTL_H
#define DD_DEPLOY_KUBECTL_H

#include "deploy/yamledit.h"
#include "util/buf.h"
#include "util/error.h"
#include "watch/fleet.h"

#define DD_KUBECTL_LOG_MAX ((size_t)64 << 10)
#define DD_KUBECTL_TIMEOUT 120 /* seconds, when the caller passes 0 */

/*
 * Set the image of k->container in k->resource to u->repository@u->digest.
 *
 * kubectl: the program to run; NULL means $DRYDOCK_KUBECTL, else "kubectl"
 *          found in PATH.
 * timeout: seconds before kubectl is killed (0: DD_KUBECTL_TIMEOUT).
 * log:     receives kubectl's output (may be NULL).
 *
 * Returns 0 when kubectl exited 0; DD_EUSAGE for a bad target or update;
 * DD_EENV when kubectl could not run, timed out, or exited non-zero (the
 * message names the resource, the exit status and kubectl's last line).
 */
int dd_deploy_kubectl(const dd_fleet_kubectl *k, const dd_image_update *u, const char *kubectl,
		      unsigned timeout, dd_buf *log, dd_error *err);

#endif
