/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-lock.c: the lock's pure parts (who/why, metadata, ids, deadlines) and its FIFO registry in a temporary directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "status-json.h"
#include "tests.h"

static void test_who_why(void)
{
	static const struct {
		const char *s;
		int want;
	} who[] = {
		{ "virtualbox", 0 }, { "VMware Workstation", 0 }, { "a", 0 },
		{ "", -EINVAL }, { " lead", -EINVAL }, { "trail ", -EINVAL }, { "tab\there", -EINVAL },
		{ "new\nline", -EINVAL }, { "caf\xc3\xa9", -EINVAL }, { "del\x7f", -EINVAL },
		{ "0123456789012345678901234567890123456789012345678901234567890123", 0 },
		{ "01234567890123456789012345678901234567890123456789012345678901234", -EINVAL },
	};
	static const struct {
		const char *s;
		int want;
	} why[] = {
		{ "", 0 }, { "VBoxHeadless --startvm win11", 0 }, { "Windows VM \xe2\x80\x94 caf\xc3\xa9", 0 },
		{ "tab\t", -EINVAL }, { "nl\n", -EINVAL }, { "bad \xff utf8", -EINVAL }, { "overlong \xc0\xaf", -EINVAL },
		{ "surrogate \xed\xa0\x80", -EINVAL }, { "C1 \xc2\x85", -EINVAL }, { "truncated \xe2\x80", -EINVAL },
	};
	char err[160], long_why[LOCK_WHY_MAX + 2];

	for (size_t i = 0; i < ELEMENTSOF(who); i++) {
		err[0] = '\0';
		CHECK(lock_who_valid(who[i].s, err, sizeof(err)) == who[i].want, "who #%zu: %d %s", i, who[i].want, err);
	}
	CHECK(lock_who_valid(NULL, err, sizeof(err)) == -EINVAL, "who NULL refused: %s", err);
	for (size_t i = 0; i < ELEMENTSOF(why); i++) {
		err[0] = '\0';
		CHECK(lock_why_valid(why[i].s, err, sizeof(err)) == why[i].want, "why #%zu: %d %s", i, why[i].want, err);
	}
	memset(long_why, 'x', sizeof(long_why) - 1);
	long_why[LOCK_WHY_MAX] = '\0';
	CHECK(lock_why_valid(long_why, err, sizeof(err)) == 0, "why of %d bytes accepted", LOCK_WHY_MAX);
	long_why[LOCK_WHY_MAX] = 'x';
	long_why[LOCK_WHY_MAX + 1] = '\0';
	CHECK(lock_why_valid(long_why, err, sizeof(err)) == -EINVAL, "why of %d bytes refused: %s", LOCK_WHY_MAX + 1, err);
}

static void test_sanitize(void)
{
	char in[600];
	char *s;

	s = lock_who_sanitize("  VBox\tHeadless\xc3\xa9  ");
	CHECK_STR(s, "VBox?Headless?", "who sanitized: blanks trimmed, controls and non-ASCII replaced");
	CHECK(s && lock_who_valid(s, in, sizeof(in)) == 0, "sanitized who is valid");
	free(s);

	memset(in, 'a', 100);
	in[100] = '\0';
	s = lock_who_sanitize(in);
	CHECK(s && strlen(s) == LOCK_WHO_MAX && strcmp(s + LOCK_WHO_MAX - 3, "...") == 0, "long who cut to %d with ...",
	      LOCK_WHO_MAX);
	free(s);

	/* 300 bytes of two-byte characters: the cut must not split one. */
	for (size_t i = 0; i < 300; i += 2)
		memcpy(in + i, "\xc3\xa9", 2);
	in[300] = '\0';
	s = lock_why_sanitize(in);
	CHECK(s && strlen(s) <= LOCK_WHY_MAX && utf8_valid(s) && strstr(s, "...") && lock_why_valid(s, in, sizeof(in)) == 0,
	      "long why cut at a character boundary (%zu bytes)", s ? strlen(s) : 0);
	free(s);

	s = lock_why_sanitize("VBoxHeadless --startvm \"win 11\"\n\x1b[2J bad\xff");
	CHECK_STR(s, "VBoxHeadless --startvm \"win 11\"??[2J bad?", "why sanitized");
	free(s);
}

static void test_meta(void)
{
	const struct lock_info l = {
		.id = 3, .who = "virtualbox", .why = "VBoxHeadless --startvm win11", .pid = 1234, .uid = 0,
		.since_usec = UINT64_C(1700000000000000),
	};
	static const struct {
		const char *name, *text;
	} bad[] = {
		{ "empty", "" },
		{ "no who", "why=\npid=1\nuid=0\nsince=1\n" },
		{ "no why", "who=a\npid=1\nuid=0\nsince=1\n" },
		{ "no since", "who=a\nwhy=\npid=1\nuid=0\n" },
		{ "twice who", "who=a\nwho=b\nwhy=\npid=1\nuid=0\nsince=1\n" },
		{ "pid 0", "who=a\nwhy=\npid=0\nuid=0\nsince=1\n" },
		{ "pid negative", "who=a\nwhy=\npid=-5\nuid=0\nsince=1\n" },
		{ "pid leading zero", "who=a\nwhy=\npid=012\nuid=0\nsince=1\n" },
		{ "pid too big", "who=a\nwhy=\npid=2147483648\nuid=0\nsince=1\n" },
		{ "uid -1", "who=a\nwhy=\npid=1\nuid=4294967295\nsince=1\n" },
		{ "since overflow", "who=a\nwhy=\npid=1\nuid=0\nsince=18446744073709551616\n" },
		{ "since text", "who=a\nwhy=\npid=1\nuid=0\nsince=soon\n" },
		{ "line without =", "who=a\nwhy=\npid=1\nuid=0\nsince=1\ngarbage\n" },
		{ "empty who", "who=\nwhy=\npid=1\nuid=0\nsince=1\n" },
		{ "control in why", "who=a\nwhy=x\ry\npid=1\nuid=0\nsince=1\n" },
		{ "mode unknown", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nmode=both\n" },
		{ "mode empty", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nmode=\n" },
		{ "mode upper case", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nmode=SHARED\n" },
		{ "mode with a blank", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nmode=shared \n" },
		{ "mode twice", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nmode=shared\nmode=shared\n" },
		{ "mode alone", "mode=shared\n" },
		{ "handoff empty", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=\n" },
		{ "handoff without start", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=12\n" },
		{ "handoff start 0", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=12:0\n" },
		{ "handoff pid 0", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=0:5\n" },
		{ "handoff two blanks", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=1:2  3:4\n" },
		{ "handoff trailing blank", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=1:2 \n" },
		{ "handoff twice", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=1:2\nhandoff=3:4\n" },
		{ "handoff 17 processes", "who=a\nwhy=\npid=1\nuid=0\nsince=1\nhandoff=1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 "
					  "9:1 10:1 11:1 12:1 13:1 14:1 15:1 16:1 17:1\n" },
	};
	struct lock_info p, sh = l;
	char *text, long_text[1024];
	int r;

	text = lock_meta_render(&l);
	CHECK(text && strstr(text, "\nwho=virtualbox\nwhy=VBoxHeadless --startvm win11\npid=1234\nuid=0\n"
				   "since=1700000000000000\n"), "metadata rendered");
	r = lock_meta_parse(text, &p);
	CHECK(r == 0 && strcmp(p.who, l.who) == 0 && strcmp(p.why, l.why) == 0 && p.pid == l.pid && p.uid == l.uid &&
	      p.since_usec == l.since_usec && p.id == 0, "metadata round trip (id comes from the file name)");
	CHECK(text && strstr(text, "\nmode=exclusive\n"), "an exclusive holder rendered with mode=exclusive");
	CHECK(p.shared == false, "mode=exclusive reads as exclusive");
	free(text);

	sh.shared = true;
	text = lock_meta_render(&sh);
	CHECK(text && strstr(text, "\nsince=1700000000000000\nmode=shared\n"), "a shared holder rendered with mode=shared");
	r = lock_meta_parse(text, &p);
	CHECK(r == 0 && p.shared && strcmp(p.who, "virtualbox") == 0, "shared mode round trip");
	free(text);
	r = lock_meta_parse("who=virtualbox\nwhy=\npid=9\nuid=0\nsince=1\n", &p);
	CHECK(r == 0 && !p.shared, "a file without mode= (older virtd) reads as exclusive");
	r = lock_meta_parse("mode=shared\nwho=virtualbox\nwhy=\npid=9\nuid=0\nsince=1", &p);
	CHECK(r == 0 && p.shared, "mode= in any place");
	r = lock_meta_parse("who=virtualbox\nwhy=\npid=9\nuid=0\nsince=1\nmode=exclusive\n", &p);
	CHECK(r == 0 && !p.shared, "mode=exclusive");

	/* A hand-off lock names its processes, so that a restarted virtd holds it for them again. */
	sh.shared = false;
	sh.n_handoff = 2;
	sh.handoff[0] = (struct lock_proc) { .pid = 1234, .start = 98765 };
	sh.handoff[1] = (struct lock_proc) { .pid = 77, .start = 18446744073709551615ULL };
	text = lock_meta_render(&sh);
	CHECK(text && strstr(text, "\nmode=exclusive\nhandoff=1234:98765 77:18446744073709551615\n"),
	      "a hand-off lock rendered with handoff=: %s", text ? text : "(null)");
	r = lock_meta_parse(text, &p);
	CHECK(r == 0 && p.n_handoff == 2 && p.handoff[0].pid == 1234 && p.handoff[0].start == 98765 &&
	      p.handoff[1].pid == 77 && p.handoff[1].start == 18446744073709551615ULL, "handoff= round trip");
	free(text);
	CHECK(lock_meta_parse("who=a\nwhy=\npid=1\nuid=0\nsince=1\n", &p) == 0 && p.n_handoff == 0,
	      "no handoff=: not a hand-off lock");

	r = lock_meta_parse("# comment\n\nwho=vmware\nwhy=\nfuture=key\npid=7\nuid=1000\nsince=5", &p);
	CHECK(r == 0 && strcmp(p.who, "vmware") == 0 && p.why[0] == '\0' && p.uid == 1000 && p.since_usec == 5,
	      "comments, unknown keys, no final newline are fine");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		CHECK(lock_meta_parse(bad[i].text, &p) == -EBADMSG, "malformed metadata refused: %s", bad[i].name);
	CHECK(lock_meta_parse(NULL, &p) == -EBADMSG, "NULL metadata refused");
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memcpy(long_text, "why=", 4);
	CHECK(lock_meta_parse(long_text, &p) == -EBADMSG, "overlong line refused");
}

static void test_ids_and_time(void)
{
	const uint32_t used[] = { 4, 1, 9 }, wrapped[] = { UINT32_MAX, 1, 2, 4 };
	uint32_t id = 0;
	uint64_t u = 0;

	CHECK(lock_id_from_name("3.lock", ".lock", &id) == 0 && id == 3, "3.lock");
	CHECK(lock_id_from_name("4294967295.fifo", ".fifo", &id) == 0 && id == UINT32_MAX, "largest id");
	CHECK(lock_id_from_name("4294967296.fifo", ".fifo", &id) < 0, "id past u32 refused");
	CHECK(lock_id_from_name("0.lock", ".lock", &id) < 0, "id 0 refused");
	CHECK(lock_id_from_name("03.lock", ".lock", &id) < 0, "leading zero refused");
	CHECK(lock_id_from_name(".lock", ".lock", &id) < 0, "no digits refused");
	CHECK(lock_id_from_name("3.fifo", ".lock", &id) < 0, "other suffix refused");
	CHECK(lock_id_from_name(".3.lock.XXXXXX", ".lock", &id) < 0, "temporary file refused");
	CHECK(lock_id_from_name("x3.lock", ".lock", &id) < 0, "letters refused");

	CHECK(lock_id_next(NULL, 0) == 1, "first id is 1");
	CHECK(lock_id_next(used, ELEMENTSOF(used)) == 10, "next after the highest");
	CHECK(lock_id_next(wrapped, ELEMENTSOF(wrapped)) == 3, "wrapped: lowest free");

	CHECK(lock_deadline(1000, 0) == UINT64_MAX, "timeout 0: no deadline");
	CHECK(lock_deadline(1000, 500) == 1500, "deadline = now + timeout");
	CHECK(lock_deadline(UINT64_MAX - 10, 20) == UINT64_MAX, "overflow: no deadline");
	CHECK(lock_deadline(UINT64_MAX - 10, 10) == UINT64_MAX, "reaching the maximum: no deadline");

	CHECK(lock_parse_seconds("30", &u) == 0 && u == 30000000, "30 s");
	CHECK(lock_parse_seconds("1.5", &u) == 0 && u == 1500000, "1.5 s");
	CHECK(lock_parse_seconds("0.000001", &u) == 0 && u == 1, "1 us");
	CHECK(lock_parse_seconds("0", &u) == 0 && u == 0, "0");
	CHECK(lock_parse_seconds("0.0000001", &u) == -EINVAL, "below 1 us refused");
	CHECK(lock_parse_seconds("", &u) == -EINVAL, "empty refused");
	CHECK(lock_parse_seconds("-1", &u) == -EINVAL, "negative refused");
	CHECK(lock_parse_seconds("1.", &u) == -EINVAL, "dangling point refused");
	CHECK(lock_parse_seconds("10s", &u) == -EINVAL, "unit refused");
	CHECK(lock_parse_seconds("99999999999999999999", &u) == -ERANGE, "overflow refused");
}

/* --- the registry, with real FIFOs --------------------------------------- */

static unsigned n_released;
static struct lock_info last_released;

static void released(const struct lock_info *l, void *userdata)
{
	(void)userdata;
	n_released++;
	last_released = *l;
}

static const struct lock_callbacks callbacks = { .released = released };

static bool exists(const char *dir, uint32_t id, const char *suffix)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%" PRIu32 "%s", dir, id, suffix);
	return access(p, F_OK) == 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Runs the loop until something is released or 2 s pass; the time it took in usec. */
static uint64_t run_until_released(sd_event *e, unsigned want)
{
	uint64_t start = now_usec();

	while (n_released < want && now_usec() - start < 2000000)
		(void)sd_event_run(e, 100000);
	return now_usec() - start;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_registry(void)
{
	char tmpl[] = "/tmp/test-lock.XXXXXX", dir[300], p[512];
	_cleanup_(sd_event_unrefp) sd_event *e = NULL;
	lock_registry *r = NULL;
	struct lock_info a = { .who = "virtualbox", .why = "VBoxHeadless --startvm win11", .pid = 100 };
	struct lock_info b = { .who = "vmware", .why = "", .pid = 200 };
	struct lock_info c = { .who = "third", .why = "", .pid = 300 };
	int fa = -1, fb = -1, fc = -1, flags;
	uint64_t took;
	struct stat st;

	if (!mkdtemp(tmpl)) {
		CHECK(false, "mkdtemp: %s", strerror(errno));
		return;
	}
	/* A directory that does not exist yet: the registry makes it. */
	snprintf(dir, sizeof(dir), "%s/run/virtd/locks", tmpl);
	CHECK(sd_event_new(&e) >= 0, "event loop");
	CHECK(lock_registry_new(e, dir, &callbacks, NULL, &r) == 0, "registry created");
	CHECK(lock_registry_adopt(r) == 0, "nothing to adopt in a new directory");

	CHECK(lock_registry_grant(r, &a, &fa) == 0 && fa >= 0, "lock a granted (id %" PRIu32 ")", a.id);
	CHECK(lock_registry_grant(r, &b, &fb) == 0 && fb >= 0 && b.id == a.id + 1, "lock b granted (id %" PRIu32 ")", b.id);
	CHECK(lock_registry_n_held(r) == 2 && lock_registry_holders(r).n_held == 2, "two holders");
	flags = fcntl(fa, F_GETFD);
	CHECK(flags >= 0 && (flags & FD_CLOEXEC), "the write end is O_CLOEXEC");
	flags = fcntl(fa, F_GETFL);
	CHECK(flags >= 0 && (flags & O_ACCMODE) == O_WRONLY && !(flags & O_NONBLOCK), "the write end is a plain O_WRONLY");
	snprintf(p, sizeof(p), "%s/%" PRIu32 ".fifo", dir, a.id);
	CHECK(stat(p, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600, "FIFO %s, mode 0600", p);
	CHECK(exists(dir, a.id, ".lock"), "metadata file written");

	/* A copy keeps it held: the lock lasts while any copy is open. */
	{
		int dup_a = dup(fa);

		close(fa);
		(void)sd_event_run(e, 50000);
		CHECK(n_released == 0 && lock_registry_n_held(r) == 2, "a copy of the descriptor keeps the lock");
		fa = dup_a;
	}
	close(fb);
	took = run_until_released(e, 1);
	CHECK(n_released == 1 && last_released.id == b.id && strcmp(last_released.who, "vmware") == 0,
	      "closing b releases b (%" PRIu64 " us)", took);
	CHECK(took < 100000, "released within 100 ms (%" PRIu64 " us)", took);
	CHECK(!exists(dir, b.id, ".lock") && !exists(dir, b.id, ".fifo"), "b's files removed");
	CHECK(lock_registry_n_held(r) == 1 && strcmp(lock_registry_held(r, 0)->who, "virtualbox") == 0, "a still held");

	/* Restart: c's holder goes away while no virtd runs; a stays. */
	CHECK(lock_registry_grant(r, &c, &fc) == 0, "lock c granted (id %" PRIu32 ")", c.id);
	r = lock_registry_free(r);
	CHECK(exists(dir, a.id, ".lock") && exists(dir, a.id, ".fifo"), "a's files outlive the registry");
	close(fc);
	write_file(dir, "77.lock", "who=broken\npid=notanumber\n");
	write_file(dir, "78.lock", "who=nofifo\nwhy=\npid=5\nuid=0\nsince=1\n");
	snprintf(p, sizeof(p), "%s/90.fifo", dir);
	(void)mkfifo(p, 0600);

	n_released = 0;
	CHECK(lock_registry_new(e, dir, &callbacks, NULL, &r) == 0, "registry re-created");
	CHECK(lock_registry_adopt(r) == 1, "one lock adopted after the restart");
	CHECK(lock_registry_n_held(r) == 1 && lock_registry_held(r, 0)->id == a.id &&
	      strcmp(lock_registry_held(r, 0)->why, a.why) == 0 && lock_registry_held(r, 0)->pid == 100,
	      "the live holder's lock is the one adopted, metadata intact");
	CHECK(!exists(dir, c.id, ".lock") && !exists(dir, c.id, ".fifo"), "the stale lock c was dropped");
	CHECK(!exists(dir, 77, ".lock") && !exists(dir, 78, ".lock") && !exists(dir, 90, ".fifo"),
	      "malformed metadata, metadata without FIFO, FIFO without metadata: removed");
	(void)sd_event_run(e, 50000);
	CHECK(n_released == 0, "the adopted lock does not hang up while its holder lives");

	{
		struct lock_info d = { .who = "next", .why = "", .pid = 400 };
		int fd = -1;

		CHECK(lock_registry_grant(r, &d, &fd) == 0 && d.id > 78, "ids after a restart are new (%" PRIu32 ")", d.id);
		if (fd >= 0)
			close(fd);
		(void)run_until_released(e, 1);
		n_released = 0;
	}

	close(fa);
	took = run_until_released(e, 1);
	CHECK(n_released == 1 && last_released.id == a.id, "the adopted lock is released when its holder closes it");
	CHECK(took < 100000, "adopted lock released within 100 ms (%" PRIu64 " us)", took);
	CHECK(lock_registry_n_held(r) == 0 && lock_registry_holders(r).n_held == 0, "no holders left");
	r = lock_registry_free(r);

	snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	(void)!system(p);
}

/* Shared mode: recorded and released like any holder, counted apart for the policy. */
static void test_shared(void)
{
	char tmpl[] = "/tmp/test-lock-shared.XXXXXX", p[512];
	_cleanup_(sd_event_unrefp) sd_event *e = NULL;
	lock_registry *r = NULL;
	struct lock_info a = { .who = "vmware", .why = "", .pid = 100 };
	struct lock_info s = { .who = "virtualbox", .why = "VBoxHeadless", .pid = 200 };
	struct lock_holders h;
	int fa = -1, fs = -1;

	if (!mkdtemp(tmpl)) {
		CHECK(false, "mkdtemp: %s", strerror(errno));
		return;
	}
	CHECK(sd_event_new(&e) >= 0, "shared: event loop");
	CHECK(lock_registry_new(e, tmpl, &callbacks, NULL, &r) == 0, "shared: registry");
	CHECK(lock_registry_grant(r, &a, &fa) == 0, "shared: an exclusive lock");
	CHECK(lock_registry_grant_mode(r, &s, true, &fs) == 0 && fs >= 0 && s.id == a.id + 1, "shared: a shared lock");
	h = lock_registry_holders(r);
	CHECK(h.n_held == 1 && h.n_shared == 1 && lock_registry_n_held(r) == 2, "shared: one of each (%u, %u)", h.n_held,
	      h.n_shared);
	CHECK(!lock_registry_held_shared(r, 0) && lock_registry_held_shared(r, 1) && !lock_registry_held_shared(r, 2),
	      "shared: per holder");
	CHECK(exists(tmpl, s.id, ".lock") && exists(tmpl, s.id, ".fifo"), "shared: its files as any lock's");

	/* A restart (the holders keep their ends): each is adopted in the mode it was granted. */
	r = lock_registry_free(r);
	CHECK(lock_registry_new(e, tmpl, &callbacks, NULL, &r) == 0, "shared: registry re-created");
	CHECK(lock_registry_adopt(r) == 2, "shared: both adopted after the restart");
	for (size_t i = 0; i < lock_registry_n_held(r); i++) {
		const struct lock_info *l = lock_registry_held(r, i);

		CHECK(l && l->id == s.id ? lock_registry_held_shared(r, i) && l->shared :
				       !lock_registry_held_shared(r, i) && !l->shared,
		      "shared: lock %" PRIu32 " adopted as %s", l ? l->id : 0, l && l->id == s.id ? "shared" : "exclusive");
	}
	h = lock_registry_holders(r);
	CHECK(h.n_held == 1 && h.n_shared == 1, "shared: after the restart one of each (%u, %u)", h.n_held, h.n_shared);

	/* A file from before mode= was kept: the shared holder is adopted as exclusive, as it used to be. */
	r = lock_registry_free(r);
	snprintf(p, sizeof(p), "%" PRIu32 ".lock", s.id);
	write_file(tmpl, p, "who=virtualbox\nwhy=VBoxHeadless\npid=200\nuid=0\nsince=1\n");
	CHECK(lock_registry_new(e, tmpl, &callbacks, NULL, &r) == 0, "shared: registry re-created again");
	CHECK(lock_registry_adopt(r) == 2, "shared: both adopted from the old format");
	h = lock_registry_holders(r);
	CHECK(h.n_held == 2 && h.n_shared == 0, "shared: without mode= both exclusive (%u, %u)", h.n_held, h.n_shared);

	n_released = 0;
	close(fs);
	(void)run_until_released(e, 1);
	h = lock_registry_holders(r);
	CHECK(n_released == 1 && last_released.id == s.id && h.n_shared == 0 && h.n_held == 1,
	      "shared: released on close, the exclusive holder stays");
	close(fa);
	(void)run_until_released(e, 2);
	CHECK(lock_registry_n_held(r) == 0, "shared: none left");
	n_released = 0;
	r = lock_registry_free(r);
	snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	(void)!system(p);
}

static void test_status(void)
{
	const struct observed_cpu cpus[] = {
		{ .id = 0, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = true },
		{ .id = 1, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = false },
	};
	const struct lock_info list[] = {
		{ .id = 3, .who = "virtualbox", .why = "VBoxHeadless --startvm \"win11\"", .pid = 1234, .uid = 0,
		  .since_usec = UINT64_C(1700000000000000) },
	};
	struct kvm_observation k = {
		.obs = { .kvm = MODULE_LOADED, .vendor = MODULE_UNLOADED, .dropin = { .exists = true, .block_vendor = true,
			 .enable_virt_at_load = -1 }, .cpus = cpus, .n_cpus = 2 },
		.vendor_module = "kvm_amd",
	};
	const struct lock_holders held = { .n_held = 1, .n_waiting = 2 }, none = {};
	struct config cfg;
	struct status_input in = {
		.version = "0.1", .config_path = "/etc/virtd.conf", .cfg = &cfg, .state = STATE_LOCKED,
		.reason = "held by virtualbox (pid 1234)", .applied_policy = "never", .kobs = &k,
		.locks = &held, .lock_list = list, .n_lock_list = 1,
	};
	struct cpu_model model[2];
	_cleanup_free_ char *j = NULL;
	char words[300];

	config_init_defaults(&cfg);
	model_cpus(&cfg, &k.obs, &held, model);
	in.cpus = model;
	CHECK(status_json(&in, &j) == 0, "locked status JSON built");
	CHECK(j && strstr(j, ",\"locks\":[{\"id\":3,\"who\":\"virtualbox\",\"why\":\"VBoxHeadless --startvm \\\"win11\\\"\","
				"\"pid\":1234,\"uid\":0,\"since_usec\":1700000000000000,\"shared\":false,\"handoff\":false}],\"lock_waiting\":2,"),
	      "locks and lock_waiting in the JSON");
	CHECK(j && strstr(j, "\"state\":\"locked\""), "state locked");
	CHECK(j && strstr(j, "{\"cpu\":0,\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true,\"virt_on\":true,"
				"\"expected\":\"any\",\"owner\":\"lock\",\"ok\":true}"),
	      "a CPU on under the lock is the holder's, and as promised");
	CHECK_STR(model_cpu_owner(&k.obs, &held, &cpus[0]), "lock", "owner lock while held");
	CHECK_STR(model_cpu_owner(&k.obs, &none, &cpus[0]), "unknown", "owner unknown without a holder");
	CHECK_STR(model_cpu_owner(&k.obs, &held, &cpus[1]), "none", "off: no owner");

	status_words(&cfg, STATE_LOCKED, "held by virtualbox (pid 1234): KVM is unloaded", &k.obs, words, sizeof(words));
	CHECK_STR(words, "policy first-vm suspended by a foreign-hypervisor lock: held by virtualbox (pid 1234): "
			 "KVM is unloaded (1/2 CPUs on)", "locked words");
}

int main(void)
{
	test_who_why();
	test_shared();
	test_sanitize();
	test_meta();
	test_ids_and_time();
	test_registry();
	test_status();
	return tests_finish();
}
