/*
 * notify.c - JSON reports to watch.notify_url (see notify.h).
 */
#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "watch/notify.h"
#include "util/banned.h"

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

int dd_notify_post(const char *url, const char *body, size_t len, dd_error *err)
{
	struct curl_slist *h = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc = CURLE_OK;
	CURL *c = curl_easy_init();

	if (!c)
		return dd_error_set(err, DD_EENV, "notify %s: cannot start libcurl", url);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: drydock/" DD_VERSION);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt) {
			struct timespec ts = { attempt, 0 };
			nanosleep(&ts, NULL);
		}
		cerr[0] = 0;
		status = 0;
		cc = curl_easy_perform(c);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK && status < 500)
			break;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		return dd_error_set(err, DD_EENV, "notify %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
	if (status < 200 || status > 299)
		return dd_error_set(err, DD_EENV, "notify %s: HTTP %ld", url, status);
	return 0;
}
