/* Unit tests for src/lineage/dockerfile.c: FROM lines of realistic
 * Dockerfiles, ARG expansion, multi-stage, directives, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage.h"

static dd_dockerfile *parse_args(const char *text, const char *const *args, size_t n)
{
	dd_dockerfile *df = NULL;
	dd_error e = DD_ERROR_INIT;
	int rc = dd_dockerfile_parse(&df, text, strlen(text), args, n, &e);
	if (rc)
		fail_msg("parse failed: %s", e.msg);
	assert_non_null(df);
	return df;
}

static dd_dockerfile *parse(const char *text)
{
	return parse_args(text, NULL, 0);
}

/* The error message for text (which must fail). */
static void expect_error(const char *text, const char *want)
{
	dd_dockerfile *df = (dd_dockerfile *)1;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_dockerfile_parse(&df, text, strlen(text), NULL, 0, &e), DD_EINPUT);
	assert_null(df);
	if (!strstr(e.msg, want))
		fail_msg("error '%s' lacks '%s'", e.msg, want);
	assert_null(strchr(e.msg, '\n'));
}

static const char *runtime_base(const dd_dockerfile *df)
{
	return df->stages[dd_dockerfile_target(df, NULL)].base;
}

static void test_go_multistage(void **state)
{
	(void)state;
	dd_dockerfile *df = parse(
		"# syntax=docker/dockerfile:1.7\n"
		"ARG GO_VERSION=1.22\n"
		"FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build\n"
		"WORKDIR /src\n"
		"COPY go.mod go.sum ./\n"
		"RUN --mount=type=cache,target=/go/pkg/mod \\\n"
		"    go mod download\n"
		"COPY . .\n"
		"ARG TARGETOS TARGETARCH\n"
		"RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app\n"
		"\n"
		"FROM gcr.io/distroless/static-debian12:nonroot\n"
		"COPY --from=build /out/app /app\n"
		"USER nonroot:nonroot\n"
		"ENTRYPOINT [\"/app\"]\n");
	assert_int_equal(df->n_stages, 2);
	assert_string_equal(df->syntax, "docker/dockerfile:1.7");
	assert_string_equal(df->stages[0].from, "golang:1.22-bookworm");
	assert_string_equal(df->stages[0].name, "build");
	assert_string_equal(df->stages[0].platform, "linux/amd64");
	assert_int_equal(df->stages[0].line, 3);
	assert_string_equal(df->stages[1].from, "gcr.io/distroless/static-debian12:nonroot");
	assert_null(df->stages[1].name);
	assert_int_equal(df->stages[1].line, 12);
	assert_string_equal(runtime_base(df), "gcr.io/distroless/static-debian12:nonroot");
	dd_dockerfile_free(df);
}

static void test_node_stage_chain(void **state)
{
	(void)state;
	/* deps -> build -> final all rest on node:20-alpine; final names a stage. */
	dd_dockerfile *df = parse(
		"ARG NODE=20\n"
		"ARG VARIANT\n"
		"from node:${NODE}-${VARIANT:-alpine} as deps\n"
		"WORKDIR /app\n"
		"COPY package.json package-lock.json ./\n"
		"RUN npm ci --omit=dev\n"
		"\n"
		"FROM deps AS Build\n"
		"COPY . .\n"
		"RUN npm run build\n"
		"\n"
		"FROM DEPS AS runtime\n"
		"COPY --from=build /app/dist ./dist\n"
		"CMD [\"node\", \"dist/server.js\"]\n");
	assert_int_equal(df->n_stages, 3);
	assert_string_equal(df->stages[0].from, "node:20-alpine");
	assert_string_equal(df->stages[1].name, "build");
	assert_int_equal(df->stages[1].parent, 0);
	assert_int_equal(df->stages[2].parent, 0);
	assert_string_equal(runtime_base(df), "node:20-alpine");
	assert_int_equal(dd_dockerfile_target(df, "BUILD"), 1);
	assert_int_equal(dd_dockerfile_target(df, "nope"), -1);
	dd_dockerfile_free(df);
}

static void test_build_args_override(void **state)
{
	(void)state;
	const char *args[] = { "REGISTRY=registry.example.com:5000", "TAG=12.5", "UNUSED=x",
			       "TARGETPLATFORM=linux/arm64/v8" };
	dd_dockerfile *df = parse_args(
		"ARG REGISTRY=docker.io\n"
		"ARG IMAGE=library/debian\n"
		"ARG TAG=12\n"
		"ARG REF=${REGISTRY}/${IMAGE}:${TAG}\n"
		"FROM $REF\n"
		"FROM ${UNUSED:-alpine}:${TARGETARCH}${TARGETVARIANT:+-}${TARGETVARIANT}\n",
		args, 4);
	assert_string_equal(df->stages[0].from, "registry.example.com:5000/library/debian:12.5");
	/* UNUSED was never declared: the build arg does not apply. */
	assert_string_equal(df->stages[1].from, "alpine:arm64-v8");
	dd_dockerfile_free(df);
}

static void test_expansion_forms(void **state)
{
	(void)state;
	dd_dockerfile *df = parse(
		"ARG EMPTY=\n"
		"ARG SET=x\n"
		"ARG Q=\"quoted value\"\n"
		"FROM a${EMPTY:-dflt}b${EMPTY-nodflt}c${UNSET-u}\n"
		"FROM ${SET:+plus}${EMPTY:+no}'$SET'\"$SET\"\\$SET\n"
		"FROM img:${NOPE:-${SET:-z}}\n"
		"FROM $SET$\n");
	assert_string_equal(df->stages[0].from, "adfltbcu");
	assert_string_equal(df->stages[1].from, "plus$SETx$SET");
	assert_string_equal(df->stages[2].from, "img:x");
	assert_string_equal(df->stages[3].from, "x$"); /* a lone '$' is literal */
	dd_dockerfile_free(df);
	expect_error("ARG SET=x\nFROM $SET$ x:1\n", "line 2");
	df = parse("ARG Q=\"quoted value\"\nFROM \"${Q}\"\n");
	assert_string_equal(df->stages[0].from, "quoted value");
	dd_dockerfile_free(df);
}

static void test_continuations_comments_crlf(void **state)
{
	(void)state;
	dd_dockerfile *df = parse(
		"\xef\xbb\xbf# a comment, not a directive\r\n"
		"# escape=`\r\n" /* too late: a comment */
		"  FrOm \\\r\n"
		"# comment inside the continuation\r\n"
		"\r\n"
		"     ubuntu:24.04 \\\r\n"
		"   AS    base\r\n"
		"RUN apt-get update && \\\n"
		"    apt-get install -y curl\n");
	assert_int_equal(df->n_stages, 1);
	assert_string_equal(df->stages[0].from, "ubuntu:24.04");
	assert_string_equal(df->stages[0].name, "base");
	assert_int_equal(df->stages[0].line, 3);
	assert_int_equal(df->escape, '\\');
	dd_dockerfile_free(df);
}

static void test_escape_directive_windows(void **state)
{
	(void)state;
	dd_dockerfile *df = parse(
		"# escape=`\n"
		"# syntax = docker/dockerfile:1\n"
		"\n"
		"ARG WIN=ltsc2022\n"
		"FROM mcr.microsoft.com/windows/servercore:$WIN `\n"
		"  AS build\n"
		"RUN powershell -Command `\n"
		"    New-Item -ItemType Directory C:\\app\n"
		"COPY . C:\\app\\\n"
		"FROM mcr.microsoft.com/windows/nanoserver:${WIN}\n");
	assert_int_equal(df->escape, '`');
	assert_string_equal(df->syntax, "docker/dockerfile:1");
	assert_int_equal(df->n_stages, 2);
	assert_string_equal(df->stages[0].from, "mcr.microsoft.com/windows/servercore:ltsc2022");
	assert_string_equal(df->stages[0].name, "build");
	assert_string_equal(runtime_base(df), "mcr.microsoft.com/windows/nanoserver:ltsc2022");
	dd_dockerfile_free(df);
}

static void test_heredoc_skipped(void **state)
{
	(void)state;
	dd_dockerfile *df = parse(
		"FROM python:3.12-slim\n"
		"RUN <<EOF\n"
		"FROM not-an-image\n"
		"pip install flask\n"
		"EOF\n"
		"COPY <<-\"CONF\" /etc/app.conf\n"
		"\tFROM also-not\n"
		"\tCONF\n"
		"RUN cat <<A <<'B' > /x\n"
		"FROM a\n"
		"A\n"
		"FROM b\n"
		"B\n"
		"RUN w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 \\\n"
		" w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 w40 w41 w42 \\\n"
		" w43 w44 w45 w46 w47 w48 w49 w50 w51 w52 w53 w54 w55 w56 w57 w58 w59 w60 w61 w62 \\\n"
		" w63 w64 w65 w66 w67 <<LATE\n"
		"FROM late\n"
		"LATE\n"
		"FROM scratch\n"
		"COPY --from=0 / /\n");
	assert_int_equal(df->n_stages, 2);
	assert_string_equal(df->stages[1].from, "scratch");
	assert_null(df->stages[1].base);
	assert_null(runtime_base(df));
	dd_dockerfile_free(df);
}

static void test_digest_pinned_and_platform(void **state)
{
	(void)state;
	dd_dockerfile *df = parse(
		"FROM --platform=linux/arm64 alpine:3.20@sha256:"
		"beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\n");
	assert_string_equal(df->stages[0].platform, "linux/arm64");
	assert_string_equal(df->stages[0].from, "alpine:3.20@sha256:"
			    "beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d");
	assert_int_equal(dd_dockerfile_is_scratch("SCRATCH"), 1);
	assert_int_equal(dd_dockerfile_is_scratch("scratchy"), 0);
	dd_dockerfile_free(df);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("", "no FROM");
	expect_error("# only a comment\n", "no FROM");
	expect_error("ARG A=1\n", "no FROM");
	expect_error("RUN echo hi\nFROM x\n", "line 1: only ARG may come before the first FROM");
	expect_error("FROM a\nFORM b\n", "line 2: unknown instruction 'FORM'");
	expect_error("FROM\n", "line 1: FROM needs an image");
	expect_error("FROM a b\n", "line 1: FROM takes IMAGE or IMAGE AS NAME");
	expect_error("FROM a AS b c\n", "line 1");
	expect_error("FROM a IS b\n", "line 1: FROM: expected AS NAME");
	expect_error("FROM a AS 1bad\n", "invalid stage name");
	expect_error("FROM a AS x\nFROM b AS X\n", "line 2: FROM: duplicate stage name 'x'");
	expect_error("FROM --pull=always a\n", "unknown flag '--pull'");
	expect_error("FROM --platform linux/amd64 a\n", "--platform needs =VALUE");
	expect_error("FROM --platform=1 --platform=2 --platform=3 --platform=4 --platform=5 --platform=6 --platform=7 --platform=8 x\n", "line 1: FROM takes");
	expect_error("FROM a b c d e f g h i j\n", "line 1: FROM takes");
	expect_error("ARG E\nFROM ${E}\n", "line 2: FROM: the image is empty");
	expect_error("FROM ${A\n", "line 1: missing '}'");
	expect_error("FROM ${}\n", "bad substitution");
	expect_error("FROM ${A/x/y}\n", "unsupported substitution");
	expect_error("ARG A\nFROM ${A:?required}\n", "line 2: A: required");
	expect_error("FROM ${A?}\n", "line 1: A: is not set");
	expect_error("FROM 'unterminated\n", "unterminated quote");
	expect_error("ARG 9X=1\nFROM a\n", "ARG: bad name");
	expect_error("FROM a\nRUN <<EOF\necho\n", "line 2: heredoc is not terminated");
	expect_error("# escape=x\nFROM a\n", "escape directive");
	expect_error("# escape=`\n# escape=\\\nFROM a\n", "only one escape directive");
	expect_error("FROM ${a:-${b:-${c:-${d:-${e:-${f:-${g:-${h:-${i:-${j:-${k:-${l:-${m:-"
		     "${n:-${o:-${p:-${q:-${r:-x}}}}}}}}}}}}}}}}}}\n", "nested too deeply");
	dd_dockerfile *df = (dd_dockerfile *)1;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_dockerfile_parse(&df, "FROM a\0b", 8, NULL, 0, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_null(df);
}

static void test_line_numbers_in_errors(void **state)
{
	(void)state;
	expect_error("FROM a\n\n# c\nRUN x \\\n  y\nBOGUS z\n", "Dockerfile line 6: unknown instruction");
	expect_error("FROM a\nRUN x \\\n\\\n  y\nFROM ${\n", "Dockerfile line 5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_multistage),
		cmocka_unit_test(test_node_stage_chain),
		cmocka_unit_test(test_build_args_override),
		cmocka_unit_test(test_expansion_forms),
		cmocka_unit_test(test_continuations_comments_crlf),
		cmocka_unit_test(test_escape_directive_windows),
		cmocka_unit_test(test_heredoc_skipped),
		cmocka_unit_test(test_digest_pinned_and_platform),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_line_numbers_in_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
